/* SPDX-License-Identifier: MIT */
/*
 * Client access by network prefix. Parsed once at start from the config
 * (a bad entry fails the start, naming it); checked on every accept,
 * before the first byte is written.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "services/receive/receive-access.h"
#include "shared/macro.h"

static int rule_parse(const char *s, AccessRule *ret) {
        _cleanup_free_ char *addr = NULL;
        const char *slash = strchr(s, '/');
        AccessRule rule = {};
        unsigned maxbits;

        addr = slash ? strndup(s, (size_t) (slash - s)) : strdup(s);
        if (!addr)
                return -ENOMEM;
        if (inet_pton(AF_INET, addr, rule.addr) == 1) {
                rule.family = AF_INET;
                maxbits = 32;
        } else if (inet_pton(AF_INET6, addr, rule.addr) == 1) {
                rule.family = AF_INET6;
                maxbits = 128;
        } else
                return -EINVAL;
        rule.prefix = maxbits;
        if (slash) {
                char *end;
                unsigned long v;

                if (slash[1] < '0' || slash[1] > '9')
                        return -EINVAL;
                errno = 0;
                v = strtoul(slash + 1, &end, 10);
                if (errno != 0 || *end != 0 || v > maxbits)
                        return -EINVAL;
                rule.prefix = (unsigned) v;
        }
        *ret = rule;
        return 0;
}

/**
 * access_list_parse() - parse the allow entries. On -EINVAL *ret_bad
 * points at the entry that is not a valid address or prefix.
 */
int access_list_parse(char * const *entries, AccessList *ret, const char **ret_bad) {
        AccessList l = {};
        size_t n = 0;
        int r;

        while (entries && entries[n])
                n++;
        if (n > 0) {
                l.rules = calloc(n, sizeof(AccessRule));
                if (!l.rules)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                r = rule_parse(entries[i], &l.rules[i]);
                if (r < 0) {
                        if (ret_bad)
                                *ret_bad = entries[i];
                        free(l.rules);
                        return r;
                }
        }
        l.n_rules = n;
        *ret = l;
        return 0;
}

void access_list_done(AccessList *l) {
        free(l->rules);
        *l = (AccessList) {};
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits) {
        unsigned bytes = bits / 8, rest = bits % 8;

        if (memcmp(a, b, bytes) != 0)
                return false;
        if (rest == 0)
                return true;
        return ((a[bytes] ^ b[bytes]) & (uint8_t) (0xff << (8 - rest))) == 0;
}

/* The client's address and family from what accept() gave; an
 * IPv4-mapped IPv6 peer (::ffff:a.b.c.d, an IPv4 client of a dual-stack
 * socket such as ListenStream=587 binds) is the IPv4 address it is. */
static int peer_address(const struct sockaddr *sa, socklen_t len, uint8_t addr[static 16]) {
        static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

        if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
                memcpy(addr, &((const struct sockaddr_in *) sa)->sin_addr, 4);
                return AF_INET;
        }
        if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
                const uint8_t *a6 = ((const struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;

                if (memcmp(a6, v4mapped, 12) == 0) {
                        memcpy(addr, a6 + 12, 4);
                        return AF_INET;
                }
                memcpy(addr, a6, 16);
                return AF_INET6;
        }
        return -EAFNOSUPPORT;   /* AF_UNIX and others: not a network client we know */
}

bool access_list_allows(const AccessList *l, const struct sockaddr *sa, socklen_t len) {
        uint8_t addr[16];
        int family;

        family = peer_address(sa, len, addr);
        if (family < 0)
                return false;
        for (size_t i = 0; i < l->n_rules; i++)
                if (l->rules[i].family == family && prefix_match(addr, l->rules[i].addr, l->rules[i].prefix))
                        return true;
        return false;
}

int access_peer_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size) {
        uint8_t addr[16];
        int family;

        family = peer_address(sa, len, addr);
        if (family < 0)
                return family;
        if (size > INT32_MAX)
                size = INT32_MAX;
        if (!inet_ntop(family, addr, buf, (socklen_t) size))
                return -ENOSPC;
        return 0;
}
