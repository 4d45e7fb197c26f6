/* SPDX-License-Identifier: MIT */
/*
 * The failure rate limit (receive-auth-limit.h): a hash table of at most
 * AUTH_LIMIT_ADDRESSES_MAX entries, chained through indices, and a list
 * of the same entries by their last failure, so that the oldest is the
 * one evicted. Entries live in one array that grows up to the bound;
 * entries freed by a success are reused first.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <xxhash.h>

#include "services/receive/receive-auth-limit.h"
#include "shared/macro.h"

#define NONE (-1)
/* a power of two, so the hash is masked */
#define BUCKETS AUTH_LIMIT_ADDRESSES_MAX

typedef struct AddrKey {
        uint8_t family;         /* 4, 6 (the /64), or 0: text that is no address */
        uint8_t bytes[16];
} AddrKey;

typedef struct Entry {
        AddrKey key;
        uint64_t last;          /* the last failure */
        unsigned failures;      /* in the window before last */
        int32_t hash_next;      /* the next in its bucket, or the next free entry */
        int32_t newer, older;   /* the list by last failure */
} Entry;

struct AuthLimit {
        Entry *entries;
        size_t n_entries, cap;
        int32_t buckets[BUCKETS];
        int32_t newest, oldest;
        int32_t free;           /* entries forgotten by a success */
};

_Static_assert((BUCKETS & (BUCKETS - 1)) == 0, "BUCKETS must be a power of two");

static AddrKey addr_key(const char *addr) {
        static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
        AddrKey k = {};
        uint8_t a6[16];

        if (inet_pton(AF_INET, addr, k.bytes) == 1)
                k.family = 4;
        else if (inet_pton(AF_INET6, addr, a6) == 1) {
                if (memcmp(a6, v4_mapped, sizeof(v4_mapped)) == 0) {
                        k.family = 4;
                        memcpy(k.bytes, a6 + 12, 4);
                } else {
                        k.family = 6;
                        memcpy(k.bytes, a6, 8);
                }
        } else
                memcpy(k.bytes, addr, strnlen(addr, sizeof(k.bytes)));
        return k;
}

static size_t bucket_of(const AddrKey *k) {
        return (size_t) XXH3_64bits(k, sizeof(*k)) & (BUCKETS - 1);
}

int auth_limit_new(AuthLimit **ret) {
        AuthLimit *l;

        l = calloc(1, sizeof(AuthLimit));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < BUCKETS; i++)
                l->buckets[i] = NONE;
        l->newest = l->oldest = l->free = NONE;
        *ret = l;
        return 0;
}

AuthLimit *auth_limit_free(AuthLimit *l) {
        if (!l)
                return NULL;
        free(l->entries);
        free(l);
        return NULL;
}

static int32_t entry_find(const AuthLimit *l, const AddrKey *k) {
        for (int32_t i = l->buckets[bucket_of(k)]; i != NONE; i = l->entries[i].hash_next)
                if (memcmp(&l->entries[i].key, k, sizeof(*k)) == 0)
                        return i;
        return NONE;
}

static void list_unlink(AuthLimit *l, int32_t i) {
        Entry *e = &l->entries[i];

        if (e->newer != NONE)
                l->entries[e->newer].older = e->older;
        else
                l->newest = e->older;
        if (e->older != NONE)
                l->entries[e->older].newer = e->newer;
        else
                l->oldest = e->newer;
        e->newer = e->older = NONE;
}

static void list_push_newest(AuthLimit *l, int32_t i) {
        Entry *e = &l->entries[i];

        e->newer = NONE;
        e->older = l->newest;
        if (l->newest != NONE)
                l->entries[l->newest].newer = i;
        l->newest = i;
        if (l->oldest == NONE)
                l->oldest = i;
}

static void hash_unlink(AuthLimit *l, int32_t i) {
        int32_t *p = &l->buckets[bucket_of(&l->entries[i].key)];

        while (*p != i)
                p = &l->entries[*p].hash_next;
        *p = l->entries[i].hash_next;
}

/* Forgets entry @i: it goes to the free list. */
static void entry_remove(AuthLimit *l, int32_t i) {
        hash_unlink(l, i);
        list_unlink(l, i);
        l->entries[i].hash_next = l->free;
        l->free = i;
}

/* A new entry for @k: a free one, a new one while below the bound, or
 * the one whose last failure is oldest. */
static int32_t entry_add(AuthLimit *l, const AddrKey *k) {
        size_t b = bucket_of(k);
        int32_t i;

        if (l->free != NONE) {
                i = l->free;
                l->free = l->entries[i].hash_next;
        } else if (l->n_entries < AUTH_LIMIT_ADDRESSES_MAX) {
                if (ARRAY_GROW(l->entries, l->cap, l->n_entries, 64) < 0)
                        return NONE;
                i = (int32_t) l->n_entries++;
        } else {
                i = l->oldest;
                hash_unlink(l, i);
                list_unlink(l, i);
        }
        l->entries[i] = (Entry) { .key = *k, .hash_next = l->buckets[b], .newer = NONE, .older = NONE };
        l->buckets[b] = i;
        list_push_newest(l, i);
        return i;
}

static bool decayed(const Entry *e, uint64_t now) {
        return now > e->last && now - e->last >= AUTH_LIMIT_WINDOW_USEC;
}

static uint64_t delay_for(unsigned failures) {
        uint64_t d = AUTH_LIMIT_DELAY_FIRST_USEC;

        if (failures <= 1)
                return 0;
        for (unsigned n = 2; n < failures && d < AUTH_LIMIT_DELAY_MAX_USEC; n++)
                d *= 2;
        return d < AUTH_LIMIT_DELAY_MAX_USEC ? d : AUTH_LIMIT_DELAY_MAX_USEC;
}

uint64_t auth_limit_failed(AuthLimit *l, const char *addr, uint64_t now) {
        AddrKey k = addr_key(addr);
        int32_t i;
        Entry *e;

        i = entry_find(l, &k);
        if (i == NONE) {
                i = entry_add(l, &k);
                if (i == NONE)
                        /* out of memory: this failure is not counted, but
                         * is still not answered at once */
                        return AUTH_LIMIT_DELAY_MAX_USEC;
        } else {
                list_unlink(l, i);
                list_push_newest(l, i);
        }
        e = &l->entries[i];
        if (decayed(e, now))
                e->failures = 0;
        if (e->failures < UINT_MAX)
                e->failures++;
        if (now > e->last)
                e->last = now;
        return delay_for(e->failures);
}

bool auth_limit_blocked(AuthLimit *l, const char *addr, uint64_t now) {
        AddrKey k = addr_key(addr);
        int32_t i;

        i = entry_find(l, &k);
        if (i == NONE)
                return false;
        if (decayed(&l->entries[i], now)) {
                entry_remove(l, i);
                return false;
        }
        return l->entries[i].failures >= AUTH_LIMIT_BLOCK_FAILURES;
}

void auth_limit_succeeded(AuthLimit *l, const char *addr) {
        AddrKey k = addr_key(addr);
        int32_t i;

        i = entry_find(l, &k);
        if (i != NONE)
                entry_remove(l, i);
}
