/* SPDX-License-Identifier: MIT */
/*
 * DNS through libresolv, the only file that includes <resolv.h>.
 * Answers are parsed with ns_initparse()/ns_parserr() only. res_nquery()
 * blocks, so lookups run on a small pool of worker threads, each with
 * its own res_state; a finished lookup is queued and an eventfd wakes the
 * sd-event loop, which calls the callback. The loop itself never waits
 * for DNS. Workers touch only their request and the two locked lists.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <pthread.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "services/deliver/deliver-mx.h"
#include "shared/address.h"
#include "shared/log.h"

#define MX_WORKERS 4
#define DNS_ANSWER_MAX 65536

static MxOutcome rcode_outcome(ns_msg *msg) {
        switch (ns_msg_getflag(*msg, ns_f_rcode)) {
        case ns_r_noerror:
                return MX_OK;
        case ns_r_nxdomain:
                return MX_NOTFOUND;
        default:
                return MX_RETRY;
        }
}

static int pref_cmp(const void *a, const void *b) {
        const MxName *x = a, *y = b;

        return (int) x->pref - (int) y->pref;
}

/*
 * The exchange of one MX record into @name. dn_expand() needs the whole
 * message for compression pointers, but the bytes it consumed in place
 * must be exactly this record's RDATA after the preference: a name that
 * runs on into the next record, or leaves trailing bytes, is malformed.
 */
static int mx_exchange(ns_msg *msg, const ns_rr *rr, char *name, size_t size) {
        int n;

        n = ns_name_uncompress(ns_msg_base(*msg), ns_msg_end(*msg), ns_rr_rdata(*rr) + 2, name, size);
        if (n < 0 || (size_t) n != (size_t) ns_rr_rdlen(*rr) - 2)
                return -EBADMSG;
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
        ns_msg msg;
        MxOutcome o;
        bool null_mx = false, malformed = false;
        MxNames l = {};

        if (len > DNS_ANSWER_MAX || ns_initparse(answer, (int) len, &msg) < 0)
                return MX_RETRY;
        o = rcode_outcome(&msg);
        if (o != MX_OK)
                return o;
        for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
                ns_rr rr;
                char name[NS_MAXDNAME];
                size_t n;

                if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
                        return MX_RETRY;
                if (ns_rr_type(rr) != ns_t_mx || ns_rr_class(rr) != ns_c_in)
                        continue;
                if (ns_rr_rdlen(rr) < 3 || mx_exchange(&msg, &rr, name, sizeof(name)) < 0) {
                        malformed = true;
                        continue;
                }
                n = strlen(name);
                if (n == 0 || (n == 1 && name[0] == '.')) {
                        null_mx = true;
                        continue;
                }
                if (n > DNS_NAME_MAX || domain_valid(name, n, 0) < 0 || l.n >= MX_NAMES_MAX)
                        continue;
                l.names[l.n].pref = ns_get16(ns_rr_rdata(rr));
                memcpy(l.names[l.n].name, name, n + 1);
                l.n++;
        }
        if (l.n == 0)
                return malformed ? MX_RETRY : null_mx ? MX_NULLMX : MX_NODATA;
        /* qsort is not stable; sort by (pref, index) to keep answer order */
        for (size_t i = 1; i < l.n; i++)
                for (size_t j = i; j > 0 && pref_cmp(&l.names[j - 1], &l.names[j]) > 0; j--) {
                        MxName t = l.names[j];

                        l.names[j] = l.names[j - 1];
                        l.names[j - 1] = t;
                }
        *ret = l;
        return MX_OK;
}

/* ns_parserr() already keeps RDATA inside the message; an A record's is
 * exactly 4 bytes, and one that is not is skipped like a malformed MX. */
MxOutcome mx_parse_a(const uint8_t *answer, size_t len, struct in_addr *ret, size_t max, size_t *ret_n) {
        ns_msg msg;
        MxOutcome o;
        size_t n = 0;
        bool malformed = false;

        if (len > DNS_ANSWER_MAX || ns_initparse(answer, (int) len, &msg) < 0)
                return MX_RETRY;
        o = rcode_outcome(&msg);
        if (o != MX_OK)
                return o;
        for (int i = 0; i < ns_msg_count(msg, ns_s_an) && n < max; i++) {
                ns_rr rr;

                if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
                        return MX_RETRY;
                if (ns_rr_type(rr) != ns_t_a || ns_rr_class(rr) != ns_c_in)
                        continue;
                if (ns_rr_rdlen(rr) != 4) {
                        malformed = true;
                        continue;
                }
                memcpy(&ret[n++], ns_rr_rdata(rr), 4);
        }
        *ret_n = n;
        return n > 0 ? MX_OK : malformed ? MX_RETRY : MX_NODATA;
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

/* One query; the outcome from libresolv's h_errno when there is no answer. */
static MxOutcome query(res_state rs, const char *name, int type, uint8_t *buf, size_t *ret_len) {
        int n = res_nquery(rs, name, ns_c_in, type, buf, DNS_ANSWER_MAX);

        if (n < 0)
                switch (rs->res_h_errno) {
                case HOST_NOT_FOUND:
                        return MX_NOTFOUND;
                case NO_DATA:
                        return MX_NODATA;
                default:        /* TRY_AGAIN, NO_RECOVERY (SERVFAIL), timeouts */
                        return MX_RETRY;
                }
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

static void add_addresses(res_state rs, const char *host, uint16_t port, uint8_t *buf, MxList *out,
                          bool *retry) {
        struct in_addr a[MX_HOSTS_MAX];
        size_t len = 0, n = 0;
        MxOutcome o;

        o = query(rs, host, ns_t_a, buf, &len);
        if (o == MX_OK)
                o = mx_parse_a(buf, len, a, MX_HOSTS_MAX - out->n, &n);
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
        struct __res_state rs = {};
        _cleanup_free_ uint8_t *buf = NULL;
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
        buf = malloc(DNS_ANSWER_MAX);
        if (!buf || res_ninit(&rs) < 0)
                return;
        if (literal)
                o = MX_NODATA;
        else {
                o = query(&rs, domain, ns_t_mx, buf, &len);
                if (o == MX_OK)
                        o = mx_parse_mx(buf, len, &names);
        }
        if (o == MX_OK) {
                shuffle_equal(&names);
                for (size_t i = 0; i < names.n && out->n < MX_HOSTS_MAX; i++)
                        add_addresses(&rs, names.names[i].name, port, buf, out, &retry);
                out->outcome = out->n > 0 ? MX_OK : retry ? MX_RETRY : MX_NODATA;
        } else if (o == MX_NODATA) {
                /* RFC 5321 §5.1: no MX, so the domain itself is the host */
                o = query(&rs, domain, ns_t_a, buf, &len);
                if (o == MX_OK) {
                        add_addresses(&rs, domain, port, buf, out, &retry);
                        o = out->n > 0 ? MX_OK : retry ? MX_RETRY : MX_NODATA;
                }
                out->outcome = o;
        } else
                out->outcome = o;
        res_nclose(&rs);
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
