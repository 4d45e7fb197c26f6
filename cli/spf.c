/* SPDX-License-Identifier: MIT */
/*
 * check_host() of RFC 7208 §4, bounded, for the admin's SPF check. Records
 * come from the network: terms are parsed as (ptr, len) spans of the TXT
 * text, domain names are length-checked before they are used as queries,
 * and every recursion is charged to the §4.6.4 lookup budget.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/dns-lookup.h"
#include "cli/spf.h"
#include "shared/escape.h"
#include "shared/limits.h"
#include "shared/macro.h"

typedef struct SpfState {
        struct in_addr ip;
        unsigned lookups;
        char *why;
        size_t why_size;
} SpfState;

static const char * const result_names[] = {
        [SPF_NONE] = "none",
        [SPF_NEUTRAL] = "neutral",
        [SPF_PASS] = "pass",
        [SPF_FAIL] = "fail",
        [SPF_SOFTFAIL] = "softfail",
        [SPF_TEMPERROR] = "temperror",
        [SPF_PERMERROR] = "permerror",
        [SPF_UNCHECKED] = "not evaluated",
};

const char *spf_result_to_string(SpfResult r) {
        return result_names[r];
}

int spf_is_record(const char *text) {
        return strncasecmp(text, "v=spf1", 6) == 0 && (text[6] == 0 || text[6] == ' ');
}

static void explain(SpfState *s, const char *domain, const char *term, size_t term_len, const char *what) {
        _cleanup_free_ char *t = escape_printable_dup(term, term_len, 128);

        (void) snprintf(s->why, s->why_size, "%s \"%s\" in the record of %s", what, strempty(t), domain);
}

static bool in_cidr(struct in_addr ip, struct in_addr net, unsigned bits) {
        uint32_t mask = bits == 0 ? 0 : htonl(UINT32_MAX << (32 - bits));

        return (ip.s_addr & mask) == (net.s_addr & mask);
}

/* Splits "domain/cidr" of a/mx: the domain part may be empty (then the
 * current domain applies). Returns the cidr bits or -EINVAL. */
static int parse_cidr(const char *p, size_t n, size_t *ret_domain_len) {
        const char *slash = memchr(p, '/', n);
        unsigned bits = 0;

        *ret_domain_len = slash ? (size_t) (slash - p) : n;
        if (!slash)
                return 32;
        for (const char *c = slash + 1; c < p + n; c++) {
                /* "//" introduces the ip6 cidr: ignored for an IPv4 check */
                if (*c == '/')
                        break;
                if (*c < '0' || *c > '9' || bits > 32)
                        return -EINVAL;
                bits = bits * 10 + (unsigned) (*c - '0');
        }
        if (slash + 1 == p + n || slash[1] == '/')
                return 32;
        return bits <= 32 ? (int) bits : -EINVAL;
}

static SpfResult check_host(SpfState *s, const char *domain, unsigned depth);

/* 1: matches, 0: does not, or a negative SpfResult for an error. */
static int match_a(SpfState *s, const char *name, unsigned bits) {
        DnsAnswer a;
        int r, match = 0;

        r = dns_lookup(name, DNS_TYPE_A, &a);
        if (r == -EAGAIN)
                return -SPF_TEMPERROR;
        if (r < 0)
                return 0;       /* §5.3: no address is no match */
        for (size_t i = 0; i < a.n; i++)
                if (in_cidr(s->ip, a.records[i].addr, bits))
                        match = 1;
        dns_answer_done(&a);
        return match;
}

static int match_mx(SpfState *s, const char *name, unsigned bits) {
        DnsAnswer mx;
        int r, match = 0;

        r = dns_lookup(name, DNS_TYPE_MX, &mx);
        if (r == -EAGAIN)
                return -SPF_TEMPERROR;
        if (r < 0)
                return 0;
        if (mx.n > SPF_MX_NAMES_MAX) {
                dns_answer_done(&mx);
                return -SPF_PERMERROR;
        }
        for (size_t i = 0; i < mx.n && match == 0; i++)
                match = match_a(s, mx.records[i].name, bits);
        dns_answer_done(&mx);
        return match;
}

static int take_domain(const char *p, size_t n, const char *current, char ret[static DNS_NAME_MAX + 1]) {
        if (n == 0) {
                (void) snprintf(ret, DNS_NAME_MAX + 1, "%s", current);
                return 0;
        }
        if (n > DNS_NAME_MAX || memchr(p, '%', n))
                return -EOPNOTSUPP;     /* macros (§7) are not evaluated */
        for (size_t i = 0; i < n; i++)
                if (p[i] <= ' ' || p[i] > '~')
                        return -EINVAL;
        memcpy(ret, p, n);
        ret[n] = 0;
        return 0;
}

static int charge_lookup(SpfState *s) {
        if (++s->lookups > SPF_DNS_LOOKUPS_MAX)
                return -SPF_PERMERROR;
        return 0;
}

/* Evaluates one mechanism (qualifier already removed). Returns 1/0 for
 * match/no match, or a negative SpfResult. */
static int eval_mechanism(SpfState *s, const char *domain, const char *p, size_t n, unsigned depth) {
        char target[DNS_NAME_MAX + 1];
        const char *arg = memchr(p, ':', n);
        size_t name_len = arg ? (size_t) (arg - p) : n;
        size_t arg_len = arg ? n - name_len - 1 : 0;
        int bits, r;

        if (arg)
                arg++;
        if (!arg) {
                /* "a/24" and "mx/24": the cidr follows the name directly */
                const char *slash = memchr(p, '/', n);

                if (slash) {
                        name_len = (size_t) (slash - p);
                        arg = slash;
                        arg_len = n - name_len;
                }
        }
#define IS(lit) (name_len == STRLEN(lit) && strncasecmp(p, lit, name_len) == 0)
        if (IS("all"))
                return arg ? -SPF_PERMERROR : 1;
        if (IS("ip4")) {
                char addr[INET_ADDRSTRLEN];
                struct in_addr net;
                size_t alen;

                if (!arg || arg == p + name_len)
                        return -SPF_PERMERROR;
                bits = parse_cidr(arg, arg_len, &alen);
                if (bits < 0 || alen >= sizeof(addr))
                        return -SPF_PERMERROR;
                memcpy(addr, arg, alen);
                addr[alen] = 0;
                if (inet_pton(AF_INET, addr, &net) != 1)
                        return -SPF_PERMERROR;
                return in_cidr(s->ip, net, (unsigned) bits);
        }
        if (IS("ip6"))
                return 0;
        if (IS("a") || IS("mx")) {
                size_t dlen;
                bool is_a = IS("a");

                r = charge_lookup(s);
                if (r < 0)
                        return r;
                bits = arg ? parse_cidr(arg, arg_len, &dlen) : 32;
                if (!arg)
                        dlen = 0;
                if (bits < 0)
                        return -SPF_PERMERROR;
                /* a leading '/' means no domain: arg starts with the cidr */
                r = take_domain(arg && *arg != '/' ? arg : "", arg && *arg != '/' ? dlen : 0, domain, target);
                if (r == -EOPNOTSUPP)
                        return -SPF_UNCHECKED;
                if (r < 0)
                        return -SPF_PERMERROR;
                return is_a ? match_a(s, target, (unsigned) bits) : match_mx(s, target, (unsigned) bits);
        }
        if (IS("include") || IS("exists")) {
                SpfResult sub;

                if (!arg || arg_len == 0)
                        return -SPF_PERMERROR;
                r = charge_lookup(s);
                if (r < 0)
                        return r;
                r = take_domain(arg, arg_len, domain, target);
                if (r == -EOPNOTSUPP)
                        return -SPF_UNCHECKED;
                if (r < 0)
                        return -SPF_PERMERROR;
                if (IS("exists"))
                        return match_a(s, target, 0);
                /* §5.2: the included record's pass is a match; its
                 * fail/softfail/neutral are not; none is a permerror */
                sub = check_host(s, target, depth + 1);
                switch (sub) {
                case SPF_PASS:
                        return 1;
                case SPF_FAIL:
                case SPF_SOFTFAIL:
                case SPF_NEUTRAL:
                        return 0;
                case SPF_NONE:
                        return -SPF_PERMERROR;
                default:
                        return -(int) sub;
                }
        }
        if (IS("ptr")) {
                r = charge_lookup(s);
                return r < 0 ? r : -SPF_UNCHECKED;
        }
#undef IS
        return -SPF_PERMERROR;          /* §4.6.1: unknown mechanism */
}

static SpfResult qualifier_result(char q) {
        switch (q) {
        case '-':
                return SPF_FAIL;
        case '~':
                return SPF_SOFTFAIL;
        case '?':
                return SPF_NEUTRAL;
        default:
                return SPF_PASS;
        }
}

static SpfResult check_host(SpfState *s, const char *domain, unsigned depth) {
        char redirect[DNS_NAME_MAX + 1] = "";
        const char *record = NULL;
        DnsAnswer txt;
        SpfResult result = SPF_NEUTRAL;
        int r;

        if (depth > SPF_DNS_LOOKUPS_MAX)
                return SPF_PERMERROR;
        r = dns_lookup(domain, DNS_TYPE_TXT, &txt);
        if (r == -EAGAIN)
                return SPF_TEMPERROR;
        if (r < 0)
                return SPF_NONE;
        for (size_t i = 0; i < txt.n; i++)
                if (spf_is_record(txt.records[i].text)) {
                        if (record) {
                                (void) snprintf(s->why, s->why_size,
                                                "%s publishes more than one v=spf1 record (RFC 7208 §4.5)", domain);
                                dns_answer_done(&txt);
                                return SPF_PERMERROR;
                        }
                        record = txt.records[i].text;
                }
        if (!record) {
                dns_answer_done(&txt);
                return SPF_NONE;
        }

        for (const char *p = record + 6;;) {
                const char *term;
                size_t n;
                char q = '+';

                p += strspn(p, " ");
                if (!*p)
                        break;
                term = p;
                n = strcspn(p, " ");
                p += n;

                const char *eq = memchr(term, '=', n), *colon = memchr(term, ':', n);
                if (eq && (!colon || eq < colon)) {
                        /* a modifier: only redirect= changes the result (§6.1) */
                        size_t klen = (size_t) (eq - term);

                        if (klen == 8 && strncasecmp(term, "redirect", 8) == 0) {
                                r = take_domain(eq + 1, n - klen - 1, domain, redirect);
                                if (r < 0 || !*redirect) {
                                        explain(s, domain, term, n, "cannot evaluate");
                                        result = r == -EOPNOTSUPP ? SPF_UNCHECKED : SPF_PERMERROR;
                                        goto done;
                                }
                        }
                        continue;
                }
                const char *raw = term;
                size_t raw_n = n;

                if (strchr("+-~?", *term)) {
                        q = *term;
                        term++;
                        n--;
                }
                *s->why = 0;
                r = eval_mechanism(s, domain, term, n, depth);
                if (r < 0) {
                        /* keep the reason an included record gave */
                        if (!*s->why)
                                explain(s, domain, raw, raw_n,
                                        -r == SPF_UNCHECKED ? "cannot evaluate" : "error at");
                        result = (SpfResult) -r;
                        goto done;
                }
                if (r > 0) {
                        result = qualifier_result(q);
                        explain(s, domain, raw, raw_n, "matched");
                        goto done;
                }
        }
        if (*redirect) {
                /* §6.1: redirect= applies only when no mechanism matched */
                if (charge_lookup(s) < 0) {
                        result = SPF_PERMERROR;
                        goto done;
                }
                result = check_host(s, redirect, depth + 1);
                if (result == SPF_NONE)
                        result = SPF_PERMERROR;
                goto done;
        }
        (void) snprintf(s->why, s->why_size, "no mechanism in the record of %s matched", domain);
done:
        dns_answer_done(&txt);
        if (s->lookups > SPF_DNS_LOOKUPS_MAX)
                (void) snprintf(s->why, s->why_size, "more than %d DNS-querying terms (RFC 7208 §4.6.4)",
                                SPF_DNS_LOOKUPS_MAX);
        return result;
}

SpfResult spf_check_host(struct in_addr ip, const char *domain, char *ret_why, size_t why_size) {
        SpfState s = { .ip = ip, .why = ret_why, .why_size = why_size };

        *ret_why = 0;
        return check_host(&s, domain, 0);
}
