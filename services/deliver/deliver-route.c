/* SPDX-License-Identifier: MIT */
/*
 * Destinations and connection scheduling for mode = mx and mode = relay.
 * A destination is a recipient domain (or the relay host); it owns a FIFO
 * of jobs and up to max_per_destination clients. A new client is started
 * while more jobs wait than clients are still connecting, within the
 * global limit. When a client cannot reach any host and no other client
 * of the destination has a session, every waiting job of the destination
 * is deferred at once (Postfix's "dead destination"), so a dead domain
 * costs one connection timeout per retry, not one per message.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "services/deliver/deliver-client.h"
#include "services/deliver/deliver-loop.h"
#include "services/deliver/deliver-mx.h"
#include "services/deliver/deliver-relay.h"
#include "services/deliver/deliver-route.h"
#include "shared/address.h"
#include "shared/limits.h"
#include "shared/log.h"

/* tls_policy_map lines */
#define POLICY_LINE_MAX 1024
#define POLICY_ENTRIES_MAX 100000

typedef struct Destination Destination;

typedef struct Conn {
        Destination *dest;
        Client *client;
        bool connecting;        /* has not pulled a job yet */
        bool resolving;
        bool idle;              /* its last pull found no job: client_wake() it */
        struct Conn *next;
} Conn;

typedef struct PolicyEntry {
        char *domain;
        TlsPolicy policy;
} PolicyEntry;

struct Destination {
        Route *route;
        char *name;
        TlsPolicy policy;
        ClientJob *head, *tail;
        unsigned n_jobs, n_conns, n_connecting;
        Conn *conns;
        Destination *next;
};

struct Route {
        sd_event *event;
        const DeliverConfig *cfg;
        MxResolver *resolver;
        TlsContext *tls;
        TlsPolicy default_policy;
        PolicyEntry *policies;
        size_t n_policies;
        struct in_addr bind;
        bool has_bind;
        char *relay_host;
        char *relay_password;
        TlsPolicy relay_policy;
        uint16_t relay_port;
        bool relay_literal;
        LoopSelf self;                  /* mode = mx: where receive listens */
        Destination *dests;
        unsigned n_conns;
};

int relayhost_parse(const char *s, char **ret_host, uint16_t *ret_port, bool *ret_literal) {
        const char *end = s + strlen(s), *colon, *h = s, *he;
        bool literal = false;
        unsigned long port = 25;
        char *host;

        if (*s == '[') {
                he = strchr(s, ']');
                if (!he)
                        return -EINVAL;
                h = s + 1;
                colon = he[1] == ':' ? he + 1 : he[1] == 0 ? NULL : (const char *) -1;
                if (colon == (const char *) -1)
                        return -EINVAL;
                literal = true;
        } else {
                colon = strrchr(s, ':');
                he = colon ? colon : end;
        }
        if (colon) {
                char *e;

                errno = 0;
                port = strtoul(colon + 1, &e, 10);
                if (errno || *e || e == colon + 1 || port == 0 || port > 65535)
                        return -EINVAL;
        }
        if (he == h || domain_valid(h, (size_t) (he - h), 0) < 0)
                return -EINVAL;
        host = strndup(h, (size_t) (he - h));
        if (!host)
                return -ENOMEM;
        *ret_host = host;
        *ret_port = (uint16_t) port;
        *ret_literal = literal;
        return 0;
}

int tls_policy_line_parse(const char *p, size_t n, char **ret_domain, TlsPolicy *ret_policy) {
        size_t i = 0, ds, de, ps, pe;
        TlsPolicy pol;

        while (i < n && isspace((unsigned char) p[i]))
                i++;
        if (i == n || p[i] == '#')
                return 0;
        ds = i;
        while (i < n && !isspace((unsigned char) p[i]))
                i++;
        de = i;
        while (i < n && isspace((unsigned char) p[i]))
                i++;
        ps = i;
        while (i < n && !isspace((unsigned char) p[i]))
                i++;
        pe = i;
        while (i < n && isspace((unsigned char) p[i]))
                i++;
        if (i != n || pe == ps || domain_valid(p + ds, de - ds, 0) < 0)
                return -EINVAL;
        pol = tls_policy_from_string(p + ps, pe - ps);
        if (pol < 0)
                return -EINVAL;
        *ret_domain = strndup(p + ds, de - ds);
        if (!*ret_domain)
                return -ENOMEM;
        for (char *c = *ret_domain; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        *ret_policy = pol;
        return 1;
}

static int policy_map_load(Route *r, const char *path) {
        _cleanup_fclose_ FILE *f = NULL;
        char line[POLICY_LINE_MAX + 2];
        unsigned lineno = 0;

        f = fopen(path, "re");
        if (!f)
                return log_error_errno(-errno, "Failed to open tls_policy_map '%s': %m", path);
        while (fgets(line, sizeof(line), f)) {
                size_t n = strlen(line);
                char *domain = NULL;
                TlsPolicy pol;
                int k;

                lineno++;
                if (n > POLICY_LINE_MAX)
                        return log_error_errno(-EINVAL, "%s:%u: line too long", path, lineno);
                while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                        n--;
                k = tls_policy_line_parse(line, n, &domain, &pol);
                if (k < 0)
                        return log_error_errno(k, "%s:%u: expected 'domain none|may|encrypt|verify'", path, lineno);
                if (k == 0)
                        continue;
                if (r->n_policies >= POLICY_ENTRIES_MAX) {
                        free(domain);
                        return log_error_errno(-E2BIG, "%s: too many entries", path);
                }
                PolicyEntry *t = reallocarray(r->policies, r->n_policies + 1, sizeof(PolicyEntry));
                if (!t) {
                        free(domain);
                        return log_oom();
                }
                r->policies = t;
                r->policies[r->n_policies++] = (PolicyEntry) { domain, pol };
        }
        return 0;
}

static TlsPolicy policy_for(Route *r, const char *domain) {
        for (size_t i = 0; i < r->n_policies; i++)
                if (strcasecmp(r->policies[i].domain, domain) == 0)
                        return r->policies[i].policy;
        return r->default_policy;
}

/*
 * The relay's TLS policy and login. With relay_user the relay gets verify
 * whatever tls_policy or tls_policy_map say (relay_tls_policy()); a
 * policy of none there contradicts the login and stops the start.
 */
static int relay_setup(Route *r) {
        const DeliverConfig *cfg = r->cfg;
        int k;

        r->relay_policy = relay_tls_policy(policy_for(r, r->relay_host), cfg->relay_user != NULL,
                                           cfg->relay_password_to_unverified_host);
        if (r->relay_policy < 0)
                return log_error_errno(-EINVAL, "relay_user is set, but the TLS policy for %s is none (tls_policy "
                                       "or tls_policy_map): its password would go in clear text. relay_user "
                                       "implies verify for the relay; remove that none, or relay_user.",
                                       r->relay_host);
        if (!cfg->relay_user)
                return 0;
        k = relay_password_load(cfg->relay_password_file, &r->relay_password);
        if (k < 0)
                return k;
        if (r->relay_policy != TLS_POLICY_VERIFY)
                log_warning("relay_password_to_unverified_host = yes: the password of relay_user %s goes to %s "
                            "over TLS without checking its certificate; anyone on the path can take it.",
                            cfg->relay_user, r->relay_host);
        return 0;
}

static int route_is_self(struct in_addr a, void *userdata) {
        Route *r = userdata;

        return loop_self_has(&r->self, a);
}

/* [receive] listen is receive's key: an entry deliver cannot read stops
 * receive, not deliver, which then has only max_hops against a loop
 * through it. */
static int self_load(Route *r, char * const *listen) {
        for (char * const *l = listen; l && *l; l++) {
                int k = loop_self_add_listen(&r->self, *l);

                if (k == -ENOMEM)
                        return log_oom();
                if (k < 0)
                        log_warning_errno(k, "[receive] listen '%s': cannot tell its address (%m), so mail "
                                          "routed there is not recognized as a loop until max_hops.", *l);
        }
        return 0;
}

int route_new(sd_event *e, const DeliverConfig *cfg, char * const *receive_listen, Route **ret) {
        _cleanup_(route_freep) Route *r = NULL;
        const char *err = NULL;
        int k;

        r = calloc(1, sizeof(*r));
        if (!r)
                return log_oom();
        r->event = sd_event_ref(e);
        r->cfg = cfg;
        r->default_policy = tls_policy_from_string(cfg->tls_policy, strlen(cfg->tls_policy));
        if (r->default_policy < 0)
                return log_error_errno(-EINVAL, "Invalid tls_policy '%s': expected none, may, encrypt or verify.",
                                       cfg->tls_policy);
        if (cfg->tls_policy_map) {
                k = policy_map_load(r, cfg->tls_policy_map);
                if (k < 0)
                        return k;
        }
        if (cfg->bind_address && *cfg->bind_address) {
                if (inet_pton(AF_INET, cfg->bind_address, &r->bind) != 1)
                        return log_error_errno(-EINVAL, "Invalid bind_address '%s': expected an IPv4 address.",
                                               cfg->bind_address);
                r->has_bind = true;
        }
        if (cfg->mode == DELIVER_MODE_RELAY) {
                if (!cfg->relayhost || !*cfg->relayhost)
                        return log_error_errno(-EINVAL, "[deliver] mode = relay needs relayhost = [host]:port.");
                k = relayhost_parse(cfg->relayhost, &r->relay_host, &r->relay_port, &r->relay_literal);
                if (k < 0)
                        return log_error_errno(k, "Invalid relayhost '%s': expected [host]:port.", cfg->relayhost);
                k = relay_setup(r);
                if (k < 0)
                        return k;
        } else {
                if (cfg->relay_ca_file)
                        log_warning("relay_ca_file = %s has no effect without mode = relay.", cfg->relay_ca_file);
                k = self_load(r, receive_listen);
                if (k < 0)
                        return k;
        }
        k = tls_context_new(cfg->tls_priority, r->relay_host ? cfg->relay_ca_file : NULL, &r->tls, &err);
        if (k == -EINVAL)
                return log_error_errno(k, "Invalid tls_priority '%s'.", strempty(cfg->tls_priority));
        if (k == -ENODATA)
                return log_error_errno(-EINVAL, "relay_ca_file %s holds no PEM certificate.", cfg->relay_ca_file);
        if (k < 0)
                return log_error_errno(k == -ENOMEM ? k : -EINVAL, "Cannot use relay_ca_file %s: %s",
                                       cfg->relay_ca_file, err ? err : strerror(-k));
        k = mx_resolver_new(e, &r->resolver);
        if (k < 0)
                return log_error_errno(k, "Failed to start DNS workers: %m");
        *ret = TAKE_PTR(r);
        return 0;
}

static void dest_free(Destination *d) {
        Route *r = d->route;

        for (Destination **p = &r->dests; *p; p = &(*p)->next)
                if (*p == d) {
                        *p = d->next;
                        break;
                }
        free(d->name);
        free(d);
}

static void job_complete(ClientJob *j) {
        Message *m = j->userdata;

        free(j->rcpts);
        free(j);
        if (--m->jobs == 0)
                queue_attempt_done(m);
}

/* Every waiting job gets @failure for its recipients. */
static void dest_fail_all(Destination *d, const Dsn *failure) {
        while (d->head) {
                ClientJob *j = d->head;

                d->head = j->next;
                d->n_jobs--;
                for (size_t i = 0; i < j->n_rcpts; i++)
                        (void) dsn_copy(&j->results[j->rcpts[i]], failure);
                job_complete(j);
        }
        d->tail = NULL;
}

static void dest_pump(Destination *d);

static void conn_remove(Conn *c) {
        Destination *d = c->dest;

        for (Conn **p = &d->conns; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        if (c->connecting)
                d->n_connecting--;
        d->n_conns--;
        d->route->n_conns--;
        client_free(c->client);
        free(c);
}

static ClientJob *on_pull(Client *cl, void *userdata) {
        Conn *c = userdata;
        Destination *d = c->dest;
        ClientJob *j = d->head;

        if (c->connecting) {
                c->connecting = false;
                d->n_connecting--;
        }
        c->idle = !j;
        if (!j)
                return NULL;
        d->head = j->next;
        if (!d->head)
                d->tail = NULL;
        d->n_jobs--;
        j->next = NULL;
        return j;
}

static void on_job_done(Client *cl, ClientJob *j, void *userdata) {
        job_complete(j);
}

static bool dest_has_session(Destination *d, Conn *except) {
        for (Conn *c = d->conns; c; c = c->next)
                if (c != except && !c->connecting)
                        return true;
        return false;
}

static void on_closed(Client *cl, const Dsn *failure, void *userdata) {
        Conn *c = userdata;
        Destination *d = c->dest;
        Route *r = d->route;

        if (failure && c->connecting && !dest_has_session(d, c))
                dest_fail_all(d, failure);
        conn_remove(c);
        dest_pump(d);
        /* the slot may be what another destination waits for (global limit);
         * one with jobs is never freed by its own pump */
        for (Destination *o = r->dests, *next; o && r->n_conns < r->cfg->max_connections; o = next) {
                next = o->next;
                if (o != d && o->n_jobs > o->n_connecting)
                        dest_pump(o);
        }
}

/* The global limit is reached and @d needs a session: end an idle one of
 * another destination; its slot comes back through on_closed(). */
static void route_retire_idle(Route *r, Destination *d) {
        for (Destination *o = r->dests; o; o = o->next)
                for (Conn *c = o->conns; c; c = c->next)
                        if (o != d && c->idle) {
                                c->idle = false;
                                client_retire(c->client);
                                return;
                        }
}

static void on_resolved(const MxList *list, void *userdata) {
        Conn *c = userdata;
        Destination *d = c->dest;
        Route *r = d->route;
        ClientParams p = {
                .event = r->event,
                .tls = r->tls,
                .policy = d->policy,
                .tls_name = r->relay_host,
                .implicit_tls = r->relay_host && r->relay_port == 465,
                .helo = r->cfg->helo_name,
                .auth_user = r->relay_password ? r->cfg->relay_user : NULL,
                .auth_password = r->relay_password,
                .auth_unverified = r->relay_password && r->relay_policy != TLS_POLICY_VERIFY,
                .bind = r->has_bind ? &r->bind : NULL,
                .connect_timeout = r->cfg->connect_timeout,
                .command_timeout = r->cfg->command_timeout,
                .data_timeout = r->cfg->data_timeout,
                .idle_timeout = r->cfg->connection_cache_time,
        };
        static const ClientOps ops = { .pull = on_pull, .job_done = on_job_done, .closed = on_closed };
        MxList hosts = *list;
        Dsn failure = {};
        bool loop = false, failed = list->outcome != MX_OK;
        int k;

        c->resolving = false;
        if (failed)
                (void) mx_outcome_dsn(list->outcome, d->name, &failure);
        else if (!r->relay_host) {
                /* mode = mx: never back to receive (deliver-loop.h); a relayhost is the admin's choice */
                k = loop_filter_hosts(&hosts, d->name, route_is_self, r, &loop);
                if (k < 0) {
                        log_warning_errno(k, "%s: cannot tell whether an MX host is this host: %m", d->name);
                        (void) dsn_set(&failure, DELIVERY_DEFERRED, "4.3.0",
                                       "cannot tell whether an MX host is this host", false);
                } else if (k == 0)
                        (void) loop_dsn(d->name, loop, &failure);
                failed = k <= 0;
        }
        if (failed) {
                if (failure.status == DELIVERY_BOUNCED || !dest_has_session(d, c))
                        dest_fail_all(d, &failure);
                dsn_done(&failure);
                conn_remove(c);
                dest_pump(d);
                return;
        }
        k = client_new(&p, &hosts, &ops, c, &c->client);
        if (k < 0) {
                (void) dsn_set(&failure, DELIVERY_DEFERRED, "4.3.0", "cannot start SMTP client", false);
                dest_fail_all(d, &failure);
                dsn_done(&failure);
                conn_remove(c);
                dest_pump(d);
        }
}

static void dest_pump(Destination *d) {
        Route *r = d->route;

        /* idle sessions first; a woken client pulls its job at once, which
         * may complete a message and call us again: scan afresh each time */
        while (d->n_jobs > 0) {
                Conn *idle = NULL;

                for (Conn *c = d->conns; c && !idle; c = c->next)
                        if (c->idle)
                                idle = c;
                if (!idle)
                        break;
                idle->idle = false;
                (void) client_wake(idle->client);
        }
        while (d->n_jobs > d->n_connecting && d->n_conns < r->cfg->max_per_destination &&
               r->n_conns < r->cfg->max_connections) {
                Conn *c = calloc(1, sizeof(*c));
                bool literal = r->relay_host && r->relay_literal;
                int k;

                if (!c)
                        break;
                *c = (Conn) { .dest = d, .connecting = true, .resolving = true, .next = d->conns };
                d->conns = c;
                d->n_conns++;
                d->n_connecting++;
                r->n_conns++;
                k = mx_resolve(r->resolver, d->name, literal, r->relay_host ? r->relay_port : 25, on_resolved, c);
                if (k < 0) {
                        conn_remove(c);
                        break;
                }
        }
        if (d->n_jobs > d->n_connecting && r->n_conns >= r->cfg->max_connections)
                route_retire_idle(r, d);
        if (d->n_jobs == 0 && d->n_conns == 0)
                dest_free(d);
}

static Destination *dest_get(Route *r, const char *name) {
        Destination *d;

        for (d = r->dests; d; d = d->next)
                if (strcasecmp(d->name, name) == 0)
                        return d;
        d = calloc(1, sizeof(*d));
        if (!d)
                return NULL;
        d->name = strdup(name);
        if (!d->name) {
                free(d);
                return NULL;
        }
        for (char *c = d->name; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        d->route = r;
        d->policy = r->relay_host ? r->relay_policy : policy_for(r, d->name);
        d->next = r->dests;
        r->dests = d;
        return d;
}

static const char *rcpt_dest(Route *r, const char *addr) {
        return r->relay_host ? r->relay_host : address_domain(addr);
}

/**
 * route_attempt() - one job per destination for @m's pending recipients.
 * Recipients of one domain share a transaction (each gets its own result).
 */
int route_attempt(Message *m, void *userdata) {
        Route *r = userdata;
        size_t n = m->env.n_rcpts, body_len;
        const char *body = message_body(m, &body_len);
        _cleanup_free_ bool *taken = calloc(n ? n : 1, sizeof(bool));
        Destination *touched[64];
        size_t n_touched = 0;

        if (!taken)
                return -ENOMEM;
        m->jobs = 1;    /* held until every job is queued */
        for (size_t i = 0; i < n; i++) {
                RcptState st = m->state.rcpts[i].state;
                const char *dn = rcpt_dest(r, m->env.rcpts[i].addr);
                ClientJob *j;
                Destination *d;

                if (taken[i] || st == RCPT_SENT || st == RCPT_BOUNCED)
                        continue;
                if (!dn) {
                        (void) dsn_set(&m->results[i], DELIVERY_BOUNCED, "5.1.3", "bad recipient address syntax", false);
                        continue;
                }
                d = dest_get(r, dn);
                j = calloc(1, sizeof(*j));
                if (j)
                        j->rcpts = calloc(n, sizeof(size_t));
                if (!d || !j || !j->rcpts) {
                        if (j)
                                free(j->rcpts);
                        free(j);
                        (void) dsn_set(&m->results[i], DELIVERY_DEFERRED, "4.3.0", "out of memory", false);
                        continue;
                }
                *j = (ClientJob) {
                        .env = &m->env, .body = (const uint8_t *) body, .body_len = body_len,
                        .rcpts = j->rcpts, .results = m->results, .userdata = m,
                };
                for (size_t k = i; k < n; k++) {
                        const char *dk = rcpt_dest(r, m->env.rcpts[k].addr);
                        RcptState sk = m->state.rcpts[k].state;

                        if (!taken[k] && sk != RCPT_SENT && sk != RCPT_BOUNCED && dk && strcasecmp(dk, dn) == 0) {
                                taken[k] = true;
                                j->rcpts[j->n_rcpts++] = k;
                        }
                }
                if (d->tail)
                        d->tail->next = j;
                else
                        d->head = j;
                d->tail = j;
                d->n_jobs++;
                m->jobs++;
                if (n_touched < ELEMENTSOF(touched))
                        touched[n_touched++] = d;
                else
                        dest_pump(d);
        }
        for (size_t i = 0; i < n_touched; i++) {
                bool seen = false;

                for (size_t k = 0; k < i; k++)
                        seen = seen || touched[k] == touched[i];
                if (!seen)
                        dest_pump(touched[i]);
        }
        if (--m->jobs == 0)
                queue_attempt_done(m);
        return 0;
}

Route *route_free(Route *r) {
        if (!r)
                return NULL;
        /* stop DNS workers first: no callback may arrive after this */
        r->resolver = mx_resolver_free(r->resolver);
        while (r->dests) {
                Destination *d = r->dests;

                while (d->conns) {
                        Conn *c = d->conns;

                        d->conns = c->next;
                        client_free(c->client);
                        free(c);
                }
                while (d->head) {
                        ClientJob *j = d->head;

                        d->head = j->next;
                        free(j->rcpts);
                        free(j);
                }
                r->dests = d->next;
                free(d->name);
                free(d);
        }
        for (size_t i = 0; i < r->n_policies; i++)
                free(r->policies[i].domain);
        free(r->policies);
        if (r->relay_password) {
                explicit_bzero(r->relay_password, strlen(r->relay_password));
                free(r->relay_password);
        }
        free(r->relay_host);
        loop_self_done(&r->self);
        tls_context_free(r->tls);
        sd_event_unref(r->event);
        free(r);
        return NULL;
}
