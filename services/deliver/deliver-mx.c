/* SPDX-License-Identifier: MIT */
/*
 * Where deliver sends a domain's mail: its MX policy on top of dns/ (the
 * answers are read by dns_answer_parse(), the queries go through
 * dns_query()). res_nquery() blocks, so lookups run on a small pool of
 * worker threads, each lookup with its own resolver handle; a finished
 * lookup is queued and an eventfd wakes the sd-event loop, which calls
 * the callback. The loop itself never waits for DNS. Workers touch only
 * their request and the two locked lists.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "dns/dns-answer.h"
#include "dns/dns-query.h"
#include "services/deliver/deliver-mx.h"
#include "shared/address.h"
#include "shared/log.h"

#define MX_WORKERS 4

/*
 * What a failed query or answer means for the mail: NXDOMAIN bounces,
 * "no such records" falls back or bounces, and everything else (SERVFAIL,
 * timeouts, an answer that does not parse) must not bounce: defer.
 */
static MxOutcome mx_outcome(int r) {
        switch (r) {
        case -ENXIO:
                return MX_NOTFOUND;
        case -ENODATA:
                return MX_NODATA;
        default:
                return MX_RETRY;
        }
}

static int pref_cmp(const void *a, const void *b) {
        const MxName *x = a, *y = b;

        return (int) x->pref - (int) y->pref;
}

typedef struct MxParse {
        MxNames names;
        bool null_mx, malformed;
} MxParse;

static int mx_visit(const DnsRR *rr, void *userdata) {
        MxParse *p = userdata;
        size_t n;

        if (rr->malformed) {
                p->malformed = true;
                return 0;
        }
        n = strlen(rr->name);
        if (n == 0) {
                p->null_mx = true;
                return 0;
        }
        if (n > DNS_NAME_MAX || domain_valid(rr->name, n, 0) < 0 || p->names.n >= MX_NAMES_MAX)
                return 0;
        p->names.names[p->names.n].pref = rr->pref;
        memcpy(p->names.names[p->names.n].name, rr->name, n + 1);
        p->names.n++;
        return 0;
}

/**
 * mx_parse_mx() - MX records of an answer. Names that are not valid
 * domains are skipped, and so are records whose RDATA is malformed; if
 * no usable name is left, a malformed record makes the answer MX_RETRY:
 * it does not show that the domain has no MX, nor that its only MX is
 * the null one, so it must not bounce. A lone "." exchange
 * is a null MX (RFC 7505 §3); next to real MX records it is ignored.
 * Returns MX_OK with at least one name, MX_NODATA, MX_NULLMX,
 * MX_NOTFOUND or MX_RETRY.
 */
MxOutcome mx_parse_mx(const uint8_t *answer, size_t len, MxNames *ret) {
        MxParse p = {};
        MxNames *l = &p.names;
        int r;

        r = dns_answer_parse(answer, len, DNS_TYPE_MX, mx_visit, &p);
        if (r < 0)
                return mx_outcome(r);
        if (l->n == 0)
                return p.malformed ? MX_RETRY : p.null_mx ? MX_NULLMX : MX_NODATA;
        /* qsort is not stable; sort by (pref, index) to keep answer order */
        for (size_t i = 1; i < l->n; i++)
                for (size_t j = i; j > 0 && pref_cmp(&l->names[j - 1], &l->names[j]) > 0; j--) {
                        MxName t = l->names[j];

                        l->names[j] = l->names[j - 1];
                        l->names[j - 1] = t;
                }
        *ret = *l;
        return MX_OK;
}

typedef struct AParse {
        struct in_addr *addrs;
        size_t max, n;
        bool malformed;
} AParse;

static int a_visit(const DnsRR *rr, void *userdata) {
        AParse *p = userdata;

        if (p->n >= p->max)
                return DNS_VISIT_STOP;
        if (rr->malformed)
                p->malformed = true;
        else
                p->addrs[p->n++] = rr->addr;
        return p->n < p->max ? 0 : DNS_VISIT_STOP;
}

/* An A record whose RDATA is not exactly 4 bytes is skipped like a
 * malformed MX. */
MxOutcome mx_parse_a(const uint8_t *answer, size_t len, struct in_addr *ret, size_t max, size_t *ret_n) {
        AParse p = { .addrs = ret, .max = max };
        int r;

        r = dns_answer_parse(answer, len, DNS_TYPE_A, a_visit, &p);
        if (r < 0)
                return mx_outcome(r);
        *ret_n = p.n;
        return p.n > 0 ? MX_OK : p.malformed ? MX_RETRY : MX_NODATA;
}

int mx_outcome_dsn(MxOutcome o, const char *domain, Dsn *d) {
        char text[DNS_NAME_MAX + 128];

        switch (o) {
        case MX_NOTFOUND:
                (void) snprintf(text, sizeof(text), "Host or domain name not found: %s (NXDOMAIN)", domain);
                return dsn_set(d, DELIVERY_BOUNCED, "5.1.2", text, false);
        case MX_NULLMX:
                (void) snprintf(text, sizeof(text), "Domain %s does not accept mail (null MX, RFC 7505)", domain);
                return dsn_set(d, DELIVERY_BOUNCED, "5.1.10", text, false);
        case MX_NODATA:
                (void) snprintf(text, sizeof(text), "Host or domain name not found: %s has no MX or A record",
                                domain);
                return dsn_set(d, DELIVERY_BOUNCED, "5.4.4", text, false);
        default:
                (void) snprintf(text, sizeof(text), "Host or domain name not found: temporary failure looking up %s",
                                domain);
                return dsn_set(d, DELIVERY_DEFERRED, "4.4.3", text, false);
        }
}

/* One query and its answer, or the outcome of its failure. */
static MxOutcome query(DnsResolver *res, const char *name, DnsType type, const uint8_t **ret_answer,
                       size_t *ret_len) {
        int n = dns_query(res, name, type, ret_answer);

        if (n < 0)
                return mx_outcome(n);
        *ret_len = (size_t) n;
        return MX_OK;
}

static void shuffle_equal(MxNames *l) {
        for (size_t i = 0; i < l->n;) {
                size_t j = i;

                while (j < l->n && l->names[j].pref == l->names[i].pref)
                        j++;
                /* RFC 5321 §5.1: equal preferences are tried in random order */
                for (size_t k = j - 1; k > i; k--) {
                        size_t m = i + arc4random_uniform((uint32_t) (k - i + 1));
                        MxName t = l->names[k];

                        l->names[k] = l->names[m];
                        l->names[m] = t;
                }
                i = j;
        }
}

static void add_addresses(DnsResolver *res, const char *host, uint16_t port, MxList *out, bool *retry) {
        struct in_addr a[MX_HOSTS_MAX];
        const uint8_t *answer = NULL;
        size_t len = 0, n = 0;
        MxOutcome o;

        o = query(res, host, DNS_TYPE_A, &answer, &len);
        if (o == MX_OK)
                o = mx_parse_a(answer, len, a, MX_HOSTS_MAX - out->n, &n);
        if (o == MX_RETRY)
                *retry = true;
        for (size_t i = 0; i < n && out->n < MX_HOSTS_MAX; i++) {
                MxHost *h = &out->hosts[out->n++];

                (void) snprintf(h->name, sizeof(h->name), "%s", host);
                h->addr = a[i];
                h->port = port;
        }
}

static void lookup(const char *domain, bool literal, uint16_t port, MxList *out) {
        _cleanup_(dns_resolver_freep) DnsResolver *res = NULL;
        const uint8_t *answer = NULL;
        MxNames names = {};
        size_t len = 0;
        bool retry = false;
        MxOutcome o;

        *out = (MxList) { .outcome = MX_RETRY };
        /* relayhost = [203.0.113.40]:587: an address, no DNS at all */
        if (literal && inet_pton(AF_INET, domain, &out->hosts[0].addr) == 1) {
                (void) snprintf(out->hosts[0].name, sizeof(out->hosts[0].name), "%s", domain);
                out->hosts[0].port = port;
                out->n = 1;
                out->outcome = MX_OK;
                return;
        }
        if (dns_resolver_new(&res) < 0)
                return;
        if (literal)
                o = MX_NODATA;
        else {
                o = query(res, domain, DNS_TYPE_MX, &answer, &len);
                if (o == MX_OK)
                        o = mx_parse_mx(answer, len, &names);
        }
        if (o == MX_OK) {
                shuffle_equal(&names);
                for (size_t i = 0; i < names.n && out->n < MX_HOSTS_MAX; i++)
                        add_addresses(res, names.names[i].name, port, out, &retry);
                out->outcome = out->n > 0 ? MX_OK : retry ? MX_RETRY : MX_NODATA;
        } else if (o == MX_NODATA) {
                /* RFC 5321 §5.1: no MX, so the domain itself is the host */
                o = query(res, domain, DNS_TYPE_A, &answer, &len);
                if (o == MX_OK) {
                        add_addresses(res, domain, port, out, &retry);
                        o = out->n > 0 ? MX_OK : retry ? MX_RETRY : MX_NODATA;
                }
                out->outcome = o;
        } else
                out->outcome = o;
}

typedef struct MxRequest {
        char *domain;
        bool literal;
        uint16_t port;
        MxDoneFn done;
        void *userdata;
        MxList result;
        struct MxRequest *next;
} MxRequest;

struct MxResolver {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        pthread_t threads[MX_WORKERS];
        size_t n_threads;
        bool stop;
        MxRequest *todo_head, *todo_tail, *done;
        int efd;
        sd_event_source *source;
};

static void *worker(void *userdata) {
        MxResolver *r = userdata;

        for (;;) {
                MxRequest *q;
                uint64_t one = 1;

                pthread_mutex_lock(&r->lock);
                while (!r->stop && !r->todo_head)
                        pthread_cond_wait(&r->cond, &r->lock);
                if (r->stop) {
                        pthread_mutex_unlock(&r->lock);
                        return NULL;
                }
                q = r->todo_head;
                r->todo_head = q->next;
                if (!r->todo_head)
                        r->todo_tail = NULL;
                pthread_mutex_unlock(&r->lock);

                lookup(q->domain, q->literal, q->port, &q->result);

                pthread_mutex_lock(&r->lock);
                q->next = r->done;
                r->done = q;
                pthread_mutex_unlock(&r->lock);
                (void) write(r->efd, &one, sizeof(one));
        }
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        MxResolver *r = userdata;
        MxRequest *list;
        uint64_t v;

        (void) read(r->efd, &v, sizeof(v));
        pthread_mutex_lock(&r->lock);
        list = r->done;
        r->done = NULL;
        pthread_mutex_unlock(&r->lock);
        while (list) {
                MxRequest *q = list;

                list = q->next;
                log_debug("DNS: %s: outcome %d, %zu address(es)", q->domain, q->result.outcome, q->result.n);
                q->done(&q->result, q->userdata);
                free(q->domain);
                free(q);
        }
        return 0;
}

int mx_resolver_new(sd_event *e, MxResolver **ret) {
        _cleanup_(mx_resolver_freep) MxResolver *r = NULL;
        int k;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        pthread_mutex_init(&r->lock, NULL);
        pthread_cond_init(&r->cond, NULL);
        r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (r->efd < 0)
                return -errno;
        k = sd_event_add_io(e, &r->source, r->efd, EPOLLIN, on_done, r);
        if (k < 0)
                return k;
        for (size_t i = 0; i < MX_WORKERS; i++) {
                k = -pthread_create(&r->threads[i], NULL, worker, r);
                if (k < 0)
                        return k;
                r->n_threads++;
        }
        *ret = TAKE_PTR(r);
        return 0;
}

static void request_list_free(MxRequest *q) {
        while (q) {
                MxRequest *n = q->next;

                free(q->domain);
                free(q);
                q = n;
        }
}

MxResolver *mx_resolver_free(MxResolver *r) {
        if (!r)
                return NULL;
        pthread_mutex_lock(&r->lock);
        r->stop = true;
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
        /* a worker in res_nquery finishes within the resolver timeout */
        for (size_t i = 0; i < r->n_threads; i++)
                pthread_join(r->threads[i], NULL);
        request_list_free(r->todo_head);
        request_list_free(r->done);
        sd_event_source_disable_unref(r->source);
        safe_close(r->efd);
        pthread_mutex_destroy(&r->lock);
        pthread_cond_destroy(&r->cond);
        free(r);
        return NULL;
}

int mx_resolve(MxResolver *r, const char *domain, bool literal, uint16_t port, MxDoneFn done, void *userdata) {
        MxRequest *q;

        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        q->domain = strdup(domain);
        if (!q->domain) {
                free(q);
                return -ENOMEM;
        }
        q->literal = literal;
        q->port = port;
        q->done = done;
        q->userdata = userdata;
        pthread_mutex_lock(&r->lock);
        if (r->todo_tail)
                r->todo_tail->next = q;
        else
                r->todo_head = q;
        r->todo_tail = q;
        pthread_cond_signal(&r->cond);
        pthread_mutex_unlock(&r->lock);
        return 0;
}
