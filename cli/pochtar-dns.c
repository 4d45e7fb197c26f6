/* SPDX-License-Identifier: MIT */
/*
 * `pochtar dns check DOMAIN`: the deliverability doctor. Each check asks
 * the system resolver (libresolv) what receivers will see, compares it
 * with the local configuration and keys, and prints one line marked ok,
 * warn, FAIL or info; every FAIL is followed by the record (or setting)
 * that fixes it. Exit 1 if anything failed.
 *
 * Everything printed from DNS is censored first (shared/escape.h): a TXT
 * record is text anyone can publish.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <sysexits.h>

#include "cli/cli-util.h"
#include "cli/dkim-key.h"
#include "cli/dkim-keytable.h"
#include "cli/dns-lookup.h"
#include "cli/dns-tags.h"
#include "cli/pochtar.h"
#include "cli/spf.h"
#include "shared/address.h"
#include "shared/escape.h"
#include "shared/limits.h"
#include "shared/log.h"

/* RFC 1035 §3.3: a <character-string> is at most 255 octets */
#define TXT_STRING_MAX 255
/* How much of a record we quote back to the admin */
#define SHOW_MAX 200

typedef struct Signer {
        char *domain;
        char *selector;
        char *key;              /* private key path, or NULL (--selector only) */
} Signer;

typedef struct DnsCheck {
        const Config *config;
        char domain[DNS_NAME_MAX + 1];
        struct in_addr ip;
        bool have_ip;
        Signer *signers;
        size_t n_signers;
        unsigned failures;
        unsigned warnings;
} DnsCheck;

typedef enum Verdict {
        VERDICT_OK,
        VERDICT_INFO,
        VERDICT_WARN,
        VERDICT_FAIL,
} Verdict;

static _printf_(4, 5) void report(DnsCheck *c, Verdict v, const char *check, const char *fmt, ...) {
        static const char * const marks[] = { "ok", "info", "warn", "FAIL" };
        va_list ap;

        if (v == VERDICT_FAIL)
                c->failures++;
        else if (v == VERDICT_WARN)
                c->warnings++;
        printf("%-5s %-9s ", marks[v], check);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
}

static _printf_(1, 2) void fix(const char *fmt, ...) {
        va_list ap;

        printf("      fix:      ");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
}

/* Untrusted DNS text, made printable and cut for display. */
static char *show(const char *s) {
        return escape_printable_dup(s, strlen(s), SHOW_MAX) ?: strdup("?");
}

/* Appends one zone-file <character-string>: quotes and backslashes escaped. */
static int txt_string(Buf *b, const char *s, size_t n) {
        int r = buf_append_byte(b, '"');

        for (size_t i = 0; i < n && r >= 0; i++) {
                if (s[i] == '"' || s[i] == '\\')
                        r = buf_append_byte(b, '\\');
                if (r >= 0)
                        r = buf_append_byte(b, (uint8_t) s[i]);
        }
        return r < 0 ? r : buf_append_byte(b, '"');
}

/*
 * Prints "NAME. IN TXT ..." with the text split into <character-string>s of
 * at most 255 octets (RFC 1035 §3.3), parenthesized when there is more
 * than one, as zone files and most DNS panels take it. @first, if given,
 * is its own first string ("v=DKIM1; k=rsa; ", as opendkim-genkey does).
 */
static void fix_txt(const char *name, const char *first, const char *text) {
        Buf b = BUF_INIT(0);
        size_t n = strlen(text);
        bool multi = first || n > TXT_STRING_MAX;
        int r = 0;

        if (multi)
                r = buf_append_str(&b, "( ");
        if (first && r >= 0)
                r = txt_string(&b, first, strlen(first));
        for (size_t i = 0; i < n && r >= 0; i += TXT_STRING_MAX) {
                size_t k = n - i < TXT_STRING_MAX ? n - i : TXT_STRING_MAX;

                if (b.len > 2)
                        r = buf_append_byte(&b, ' ');
                if (r >= 0)
                        r = txt_string(&b, text + i, k);
        }
        if (multi && r >= 0)
                r = buf_append_str(&b, " )");
        if (r >= 0)
                r = buf_append_byte(&b, 0);
        if (r < 0)
                log_oom();
        else
                fix("%s. IN TXT %s", name, (char *) b.data);
        buf_done(&b);
}

static bool name_eq(const char *a, const char *b) {
        size_t na = strlen(a), nb = strlen(b);

        if (na && a[na - 1] == '.')
                na--;
        if (nb && b[nb - 1] == '.')
                nb--;
        return na == nb && strncasecmp(a, b, na) == 0;
}

/* ---- MX ---------------------------------------------------------------- */

static void check_mx(DnsCheck *c) {
        const char *mx_name = c->config->deliver.helo_name;
        _cleanup_free_ char *guess = NULL;
        DnsAnswer mx;
        int r;

        if (!mx_name) {
                if (asprintf(&guess, "mail.%s", c->domain) < 0)
                        return (void) log_oom();
                mx_name = guess;
        }
        r = dns_lookup(c->domain, ns_t_mx, &mx);
        if (r == -ENODATA) {
                DnsAnswer a;

                /* RFC 5321 §5.1: no MX, the A record is the implicit MX */
                if (dns_lookup(c->domain, ns_t_a, &a) >= 0) {
                        dns_answer_done(&a);
                        report(c, VERDICT_WARN, "mx", "%s has no MX; replies and bounces go to its A record",
                               c->domain);
                        return;
                }
        }
        if (r < 0) {
                report(c, VERDICT_FAIL, "mx", "%s: %s: replies and bounces to this domain cannot be delivered",
                       c->domain, dns_strerror(r));
                fix("%s. IN MX 10 %s.", c->domain, mx_name);
                return;
        }
        for (size_t i = 0; i < mx.n; i++) {
                _cleanup_free_ char *host = show(mx.records[i].name);
                DnsAnswer a;

                if (mx.records[i].pref == 0 && !*mx.records[i].name) {
                        /* RFC 7505 null MX */
                        report(c, VERDICT_WARN, "mx", "%s publishes a null MX: it accepts no mail, "
                               "so bounces and replies to it are lost", c->domain);
                        continue;
                }
                r = dns_lookup(mx.records[i].name, ns_t_a, &a);
                if (r < 0) {
                        report(c, VERDICT_FAIL, "mx", "%s. MX %u %s.: the exchange has no address: %s",
                               c->domain, mx.records[i].pref, host, dns_strerror(r));
                        fix("%s. IN A <the IPv4 address of %s>", host, host);
                        continue;
                }
                report(c, VERDICT_OK, "mx", "%s. MX %u %s. (%s%s)", c->domain, mx.records[i].pref, host,
                       inet_ntoa(a.records[0].addr), a.n > 1 ? ", …" : "");
                dns_answer_done(&a);
        }
        dns_answer_done(&mx);
}

/* ---- SPF --------------------------------------------------------------- */

/* The one v=spf1 record of the domain, or NULL; *ret_count tells how many. */
static char *find_spf(const char *domain, size_t *ret_count, int *ret_error) {
        DnsAnswer txt;
        char *record = NULL;

        *ret_count = 0;
        *ret_error = dns_lookup(domain, ns_t_txt, &txt);
        if (*ret_error < 0)
                return NULL;
        for (size_t i = 0; i < txt.n; i++)
                if (spf_is_record(txt.records[i].text)) {
                        (*ret_count)++;
                        if (!record)
                                record = TAKE_PTR(txt.records[i].text);
                }
        dns_answer_done(&txt);
        return record;
}

static void check_spf(DnsCheck *c) {
        char why[512], ip[INET_ADDRSTRLEN];
        _cleanup_free_ char *record = NULL, *shown = NULL;
        size_t count;
        SpfResult res;
        int r;

        if (!c->have_ip) {
                report(c, VERDICT_WARN, "spf", "not checked: no sending IPv4 address (use --ip)");
                return;
        }
        (void) inet_ntop(AF_INET, &c->ip, ip, sizeof(ip));
        record = find_spf(c->domain, &count, &r);
        shown = record ? show(record) : NULL;
        res = spf_check_host(c->ip, c->domain, why, sizeof(why));
        switch (res) {
        case SPF_PASS:
                report(c, VERDICT_OK, "spf", "%s is permitted for %s: %s", ip, c->domain, why);
                return;
        case SPF_UNCHECKED:
                report(c, VERDICT_WARN, "spf", "%s: %s (macros and ptr are not evaluated here)", c->domain, why);
                return;
        case SPF_TEMPERROR:
                report(c, VERDICT_FAIL, "spf", "%s: temporary DNS failure while evaluating: %s", c->domain, why);
                return;
        case SPF_NONE:
                report(c, VERDICT_FAIL, "spf", "%s publishes no v=spf1 record", c->domain);
                fix("%s. IN TXT \"v=spf1 ip4:%s ~all\"", c->domain, ip);
                return;
        default:
                break;
        }
        if (count > 1) {
                report(c, VERDICT_FAIL, "spf", "%s publishes %zu v=spf1 records: receivers treat that as "
                       "permerror (RFC 7208 §4.5)", c->domain, count);
                fix("delete all but one, and let that one include ip4:%s", ip);
                return;
        }
        report(c, VERDICT_FAIL, "spf", "%s is not permitted by \"%s\": result %s, %s", ip, strempty(shown),
               spf_result_to_string(res), why);
        /* The new ip4: goes first: it matches before any lookup is charged,
         * so it also cures a record that runs out of its 10 lookups. */
        _cleanup_free_ char *fixed = NULL;
        if (asprintf(&fixed, "v=spf1 ip4:%s%s", ip, record ? record + 6 : " ~all") < 0)
                return (void) log_oom();
        fix_txt(c->domain, NULL, fixed);
}

/* ---- DKIM -------------------------------------------------------------- */

static int signer_add(DnsCheck *c, const char *domain, const char *selector, const char *key) {
        Signer *t;

        for (size_t i = 0; i < c->n_signers; i++)
                if (name_eq(c->signers[i].domain, domain) && streq(c->signers[i].selector, selector)) {
                        if (!c->signers[i].key && key && !(c->signers[i].key = strdup(key)))
                                return log_oom();
                        return 0;
                }
        t = reallocarray(c->signers, c->n_signers + 1, sizeof(Signer));
        if (!t)
                return log_oom();
        c->signers = t;
        t[c->n_signers] = (Signer) {
                .domain = strdup(domain),
                .selector = strdup(selector),
                .key = key ? strdup(key) : NULL,
        };
        c->n_signers++;
        if (!t[c->n_signers - 1].domain || !t[c->n_signers - 1].selector || (key && !t[c->n_signers - 1].key))
                return log_oom();
        return 0;
}

static void signers_free(DnsCheck *c) {
        for (size_t i = 0; i < c->n_signers; i++) {
                free(c->signers[i].domain);
                free(c->signers[i].selector);
                free(c->signers[i].key);
        }
        free(c->signers);
}

/* Who signs mail from DOMAIN: [sign]'s simple form, the key table's rows
 * for DOMAIN, and any --selector (for DOMAIN). */
static int collect_signers(DnsCheck *c, char **selectors) {
        const SignConfig *s = &c->config->sign;
        int r;

        if (s->domain && s->selector) {
                r = signer_add(c, s->domain, s->selector, s->key);
                if (r < 0)
                        return r;
        }
        if (s->key_table) {
                KeyTableEntry *e = NULL;
                size_t n = 0;

                r = dkim_keytable_load(s->key_table, &e, &n);
                if (r < 0)
                        report(c, VERDICT_WARN, "dkim", "cannot read key table %s: %s", s->key_table, strerror(-r));
                for (size_t i = 0; i < n && r >= 0; i++)
                        if (name_eq(e[i].domain, c->domain))
                                r = signer_add(c, e[i].domain, e[i].selector, e[i].key);
                dkim_keytable_free(e, n);
                if (r == -ENOMEM)
                        return r;
        }
        for (char **sel = selectors; sel && *sel; sel++) {
                r = signer_add(c, c->domain, *sel, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void check_dkim_selector(DnsCheck *c, const Signer *s) {
        _cleanup_(dkim_public_key_done) DkimPublicKey key = {};
        _cleanup_free_ char *name = NULL, *shown = NULL;
        const char *record = NULL, *error = NULL;
        DnsTag tags[DNS_TAGS_MAX];
        const DnsTag *v, *k, *p;
        size_t n_tags, n_records = 0, n_strings = 0, longest = 0;
        bool have_key = false;
        DnsAnswer txt = {};
        int r;

        if (asprintf(&name, "%s._domainkey.%s", s->selector, s->domain) < 0)
                return (void) log_oom();
        if (s->key) {
                r = dkim_public_key_load(s->key, &key);
                if (r < 0)
                        report(c, VERDICT_WARN, "dkim", "%s: cannot read the private key %s: %s", name, s->key,
                               r == -EBADMSG ? "not a PEM private key" : strerror(-r));
                else
                        have_key = true;
        }

        r = dns_lookup(name, ns_t_txt, &txt);
        for (size_t i = 0; r >= 0 && i < txt.n; i++)
                /* other TXT at the same name are not ours to judge, unless
                 * nothing looks like a key record at all */
                if (strstr(txt.records[i].text, "p=") || strncmp(txt.records[i].text, "v=DKIM1", 7) == 0) {
                        n_records++;
                        record = txt.records[i].text;
                        n_strings = txt.records[i].n_strings;
                        longest = txt.records[i].longest_string;
                }
        if (r < 0 || !record) {
                report(c, VERDICT_FAIL, "dkim", "%s: %s", name, r < 0 ? dns_strerror(r) : "no DKIM key record");
                goto fix;
        }
        shown = show(record);
        if (n_records > 1) {
                report(c, VERDICT_FAIL, "dkim", "%s: %zu key records; verifiers fail on more than one "
                       "(RFC 6376 §3.6.2.2)", name, n_records);
                goto fix;
        }
        if (strpbrk(record, "\"\\")) {
                /* The classic mistake: the zone file's quoting pasted into a
                 * web panel, so the quotes became part of the key. */
                report(c, VERDICT_FAIL, "dkim", "%s: the record contains quote or backslash characters: it was "
                       "split wrong (\"%s\")", name, shown);
                goto fix;
        }
        r = dns_tags_parse(record, strlen(record), tags, ELEMENTSOF(tags), &n_tags, &error);
        if (r < 0) {
                report(c, VERDICT_FAIL, "dkim", "%s: syntax error: %s (\"%s\")", name, error, shown);
                goto fix;
        }
        v = dns_tags_find(tags, n_tags, "v");
        k = dns_tags_find(tags, n_tags, "k");
        p = dns_tags_find(tags, n_tags, "p");
        if (v && (v != &tags[0] || !dns_tag_is(v, "DKIM1"))) {
                report(c, VERDICT_FAIL, "dkim", "%s: v= must be the first tag and be DKIM1 (RFC 6376 §3.6.1)", name);
                goto fix;
        }
        if (!p || p->value_len == 0) {
                report(c, VERDICT_FAIL, "dkim", "%s: %s", name,
                       p ? "p= is empty: the key is revoked" : "no p= tag");
                goto fix;
        }
        if (k && !dns_tag_is(k, "rsa") && !dns_tag_is(k, "ed25519")) {
                report(c, VERDICT_FAIL, "dkim", "%s: unknown key type k=%.*s", name, (int) (k->value_len < 32 ? k->value_len : 32),
                       k->value);
                goto fix;
        }
        if (have_key && !dns_tag_is(k, key.type) && !(k == NULL && streq(key.type, "rsa"))) {
                report(c, VERDICT_FAIL, "dkim", "%s: k= says %s but the local key is %s", name,
                       k ? "another type" : "rsa (the default)", key.type);
                goto fix;
        }
        if (!have_key) {
                r = dkim_public_key_valid(dns_tag_is(k, "ed25519") ? "ed25519" : "rsa", p->value, p->value_len);
                if (r < 0) {
                        report(c, VERDICT_FAIL, "dkim", "%s: p= is not a valid base64 public key", name);
                        goto fix;
                }
                report(c, s->key ? VERDICT_WARN : VERDICT_OK, "dkim",
                       "%s: record well-formed (%zu string%s); no local key to compare", name, n_strings,
                       n_strings == 1 ? "" : "s");
                goto done;
        }
        r = dkim_public_key_matches(&key, p->value, p->value_len);
        if (r < 0) {
                report(c, VERDICT_FAIL, "dkim", "%s: p= is not a valid %s public key in base64%s", name, key.type,
                       n_strings > 1 ? " (were the strings joined without losing or adding characters?)" : "");
                goto fix;
        }
        if (r == 0) {
                report(c, VERDICT_FAIL, "dkim", "%s: p= is a different key from %s", name, s->key);
                goto fix;
        }
        report(c, VERDICT_OK, "dkim", "%s: p= matches %s (%s, %d bits, %zu string%s, longest %zu bytes)", name,
               s->key, key.type, key.bits, n_strings, n_strings == 1 ? "" : "s", longest);
        goto done;
fix:
        if (have_key) {
                _cleanup_free_ char *first = NULL, *pv = NULL;

                if (asprintf(&first, "v=DKIM1; k=%s; ", key.type) < 0 || asprintf(&pv, "p=%s", key.p) < 0)
                        log_oom();
                else
                        fix_txt(name, first, pv);
        } else
                fix("%s. IN TXT: publish the record 'pochtar dkim record' prints for this selector's key", name);
done:
        dns_answer_done(&txt);
}

static void check_dkim(DnsCheck *c) {
        if (c->n_signers == 0) {
                report(c, VERDICT_FAIL, "dkim", "no selector configured for %s", c->domain);
                fix("set [sign] domain, selector and key (or key_table) in %s, or name one with --selector",
                    c->config->path ?: "pochtar.conf");
                return;
        }
        for (size_t i = 0; i < c->n_signers; i++)
                check_dkim_selector(c, &c->signers[i]);
}

/* ---- DMARC ------------------------------------------------------------- */

/* The organizational domain, approximated as the last two labels (no
 * Public Suffix List here; RFC 7489 §3.2). */
static const char *org_domain(const char *d) {
        const char *last = strrchr(d, '.'), *p;

        if (!last)
                return d;
        for (p = last - 1; p > d && *p != '.'; p--)
                ;
        return p > d ? p + 1 : d;
}

static bool aligned(const char *d, const char *from, bool strict) {
        if (strict)
                return name_eq(d, from);
        return name_eq(org_domain(d), org_domain(from));
}

static void check_dmarc(DnsCheck *c) {
        _cleanup_free_ char *name = NULL, *shown = NULL, *fixed = NULL;
        const char *record = NULL, *error = NULL, *where = c->domain;
        DnsTag tags[DNS_TAGS_MAX];
        const DnsTag *p, *adkim, *v;
        size_t n_tags, n_records = 0;
        DnsAnswer txt = {};
        bool strict;
        int r;

        if (asprintf(&name, "_dmarc.%s", c->domain) < 0 ||
            asprintf(&fixed, "v=DMARC1; p=none; rua=mailto:postmaster@%s", c->domain) < 0)
                return (void) log_oom();
        r = dns_lookup(name, ns_t_txt, &txt);
        if ((r == -ENXIO || r == -ENODATA) && org_domain(c->domain) != c->domain) {
                /* RFC 7489 §6.6.3: fall back to the organizational domain */
                free(name);
                where = org_domain(c->domain);
                if (asprintf(&name, "_dmarc.%s", where) < 0)
                        return (void) log_oom();
                r = dns_lookup(name, ns_t_txt, &txt);
        }
        for (size_t i = 0; r >= 0 && i < txt.n; i++)
                if (strncmp(txt.records[i].text, "v=DMARC1", 8) == 0) {
                        n_records++;
                        record = txt.records[i].text;
                }
        if (r < 0 || !record) {
                report(c, VERDICT_FAIL, "dmarc", "%s: %s", name, r < 0 ? dns_strerror(r) : "no v=DMARC1 record");
                fix_txt(name, NULL, fixed);
                goto done;
        }
        shown = show(record);
        if (n_records > 1) {
                report(c, VERDICT_FAIL, "dmarc", "%s: %zu v=DMARC1 records: receivers ignore all of them "
                       "(RFC 7489 §6.6.3)", name, n_records);
                fix("keep exactly one: %s. IN TXT \"%s\"", name, fixed);
                goto done;
        }
        r = dns_tags_parse(record, strlen(record), tags, ELEMENTSOF(tags), &n_tags, &error);
        v = r >= 0 ? dns_tags_find(tags, n_tags, "v") : NULL;
        p = r >= 0 ? dns_tags_find(tags, n_tags, "p") : NULL;
        adkim = r >= 0 ? dns_tags_find(tags, n_tags, "adkim") : NULL;
        if (r < 0 || v != &tags[0] || !dns_tag_is(v, "DMARC1") || !p ||
            !(dns_tag_is(p, "none") || dns_tag_is(p, "quarantine") || dns_tag_is(p, "reject")) ||
            (adkim && !dns_tag_is(adkim, "r") && !dns_tag_is(adkim, "s"))) {
                report(c, VERDICT_FAIL, "dmarc", "%s: %s (\"%s\")", name,
                       r < 0 ? error : !p ? "no p= policy" : "v=DMARC1 must come first, p= must be none, "
                       "quarantine or reject, adkim= r or s", shown);
                fix_txt(name, NULL, fixed);
                goto done;
        }
        if (dns_tag_is(p, "none"))
                report(c, VERDICT_WARN, "dmarc", "%s: p=none: monitoring only, receivers are not asked to act "
                       "(\"%s\")", name, shown);
        else
                report(c, VERDICT_OK, "dmarc", "%s: \"%s\"", name, shown);

        /* Alignment (RFC 7489 §3.1.1): does some d= we sign with match the
         * From domain, DOMAIN, under the record's adkim= mode? */
        strict = dns_tag_is(adkim, "s");
        for (size_t i = 0; i < c->n_signers; i++)
                if (aligned(c->signers[i].domain, c->domain, strict)) {
                        report(c, VERDICT_OK, "alignment", "DKIM d=%s aligns with From: domain %s (adkim=%s)",
                               c->signers[i].domain, c->domain, strict ? "s" : "r");
                        goto done;
                }
        if (c->n_signers > 0) {
                report(c, VERDICT_FAIL, "alignment", "DKIM d=%s does not align with From: domain %s (adkim=%s): "
                       "DMARC fails unless SPF aligns", c->signers[0].domain, c->domain, strict ? "s" : "r");
                fix("sign mail from %s with d=%s: in [sign] set domain = %s (or a key_table row for it), and "
                    "publish its key", c->domain, c->domain, c->domain);
        }
done:
        (void) where;
        dns_answer_done(&txt);
}

/* ---- PTR --------------------------------------------------------------- */

static void check_ptr(DnsCheck *c) {
        const char *helo = c->config->deliver.helo_name;
        char rev[sizeof("255.255.255.255.in-addr.arpa")], ip[INET_ADDRSTRLEN];
        const char *confirmed = NULL;
        DnsAnswer ptr;
        int r;

        if (!c->have_ip) {
                report(c, VERDICT_WARN, "ptr", "not checked: no sending IPv4 address (use --ip)");
                return;
        }
        (void) inet_ntop(AF_INET, &c->ip, ip, sizeof(ip));
        dns_reverse_name(c->ip, rev);
        r = dns_lookup(rev, ns_t_ptr, &ptr);
        if (r < 0) {
                report(c, VERDICT_FAIL, "ptr", "%s has no PTR record (%s): many receivers refuse such mail",
                       ip, dns_strerror(r));
                fix("%s. IN PTR %s.  (ask whoever owns %s, usually the hosting provider)", rev,
                    helo ?: "<your server's name>", ip);
                return;
        }
        for (size_t i = 0; i < ptr.n && !confirmed; i++) {
                DnsAnswer a;

                if (dns_lookup(ptr.records[i].name, ns_t_a, &a) < 0)
                        continue;
                for (size_t j = 0; j < a.n; j++)
                        if (a.records[j].addr.s_addr == c->ip.s_addr)
                                confirmed = ptr.records[i].name;
                dns_answer_done(&a);
        }
        _cleanup_free_ char *first = show(ptr.records[0].name);
        if (!confirmed) {
                report(c, VERDICT_FAIL, "ptr", "%s has PTR %s. but %s. does not resolve back to %s "
                       "(no forward confirmation)", ip, first, first, ip);
                fix("%s. IN A %s", first, ip);
        } else
                report(c, VERDICT_OK, "ptr", "%s has PTR %s., which resolves back to it", ip, confirmed);

        if (!helo) {
                report(c, VERDICT_WARN, "helo", "[deliver] helo_name is not set; set it to the PTR name %s",
                       confirmed ?: first);
        } else if (confirmed && name_eq(helo, confirmed))
                report(c, VERDICT_OK, "helo", "[deliver] helo_name %s matches the PTR", helo);
        else {
                report(c, VERDICT_FAIL, "helo", "[deliver] helo_name %s is not the PTR name of %s (%s.)", helo,
                       ip, confirmed ?: first);
                fix("set helo_name = %s in [deliver], or change the PTR: %s. IN PTR %s.", confirmed ?: first,
                    rev, helo);
        }
        dns_answer_done(&ptr);
}

/* ---- MTA-STS and TLS-RPT (informational) -------------------------------- */

static void check_optional(DnsCheck *c, const char *check, const char *prefix, const char *version,
                           const char *required_tag) {
        _cleanup_free_ char *name = NULL, *shown = NULL;
        const char *record = NULL;
        DnsTag tags[DNS_TAGS_MAX];
        size_t n_tags;
        DnsAnswer txt;
        int r;

        if (asprintf(&name, "%s.%s", prefix, c->domain) < 0)
                return (void) log_oom();
        r = dns_lookup(name, ns_t_txt, &txt);
        for (size_t i = 0; r >= 0 && i < txt.n; i++)
                if (strncmp(txt.records[i].text, version, strlen(version)) == 0)
                        record = txt.records[i].text;
        if (!record) {
                report(c, VERDICT_INFO, check, "%s: not published (optional)", name);
                if (r >= 0)
                        dns_answer_done(&txt);
                return;
        }
        shown = show(record);
        r = dns_tags_parse(record, strlen(record), tags, ELEMENTSOF(tags), &n_tags, NULL);
        if (r < 0 || !dns_tags_find(tags, n_tags, required_tag))
                report(c, VERDICT_WARN, check, "%s: malformed, no %s= (\"%s\")", name, required_tag, shown);
        else
                report(c, VERDICT_OK, check, "%s: \"%s\"", name, shown);
        dns_answer_done(&txt);
}

/* ---- the command ---------------------------------------------------------- */

static bool ip_is_public(struct in_addr a) {
        uint32_t h = ntohl(a.s_addr);

        return !((h >> 24) == 10 || (h >> 24) == 127 || (h >> 24) == 0 ||
                 (h >> 20) == (172 << 4 | 1) || (h >> 16) == (192 << 8 | 168) ||
                 (h >> 22) == (100 << 2 | 1) || (h >> 16) == (169 << 8 | 254));
}

/* Without --ip: [deliver] bind_address, else the source address the kernel
 * would choose for the outside world (a UDP connect() sends nothing). */
static int sending_ip(const Config *config, struct in_addr *ret) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(25) };
        socklen_t len = sizeof(sa);
        _cleanup_close_ int fd = -EBADF;

        if (config->deliver.bind_address && inet_pton(AF_INET, config->deliver.bind_address, ret) == 1)
                return 0;
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        (void) inet_pton(AF_INET, "198.51.100.1", &sa.sin_addr);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                return -errno;
        *ret = sa.sin_addr;
        return 0;
}

static void help(void) {
        printf("Usage: pochtar dns check DOMAIN [--ip IPv4] [--selector S]... [--config PATH]\n\n"
               "Checks what receivers will see in DNS for mail from DOMAIN: MX, SPF for the\n"
               "sending address, each DKIM selector's key against the local private key, DMARC\n"
               "and DKIM alignment, PTR with forward confirmation and the HELO name, MTA-STS\n"
               "and TLS-RPT. Prints the record to add for every failure; exits 1 if any check\n"
               "failed.\n\n"
               "  --ip IPv4          the server's public sending address (default: [deliver]\n"
               "                     bind_address, else the outgoing interface's address)\n"
               "  --selector S       also check S._domainkey.DOMAIN (repeatable)\n"
               "  --config PATH      pochtar.conf to read (default %s)\n"
               "  -h, --help         show this help\n", cli_default_config());
}

typedef struct DnsArgs {
        const char *ip;
        char **selectors;
} DnsArgs;

static int parse_option(int opt, const char *arg, void *userdata) {
        DnsArgs *a = userdata;

        switch (opt) {
        case 'i':
                a->ip = arg;
                return 0;
        case 's':
                if (strlen(arg) > SMTP_LOCAL_PART_MAX || domain_valid(arg, strlen(arg), 0) < 0)
                        return cli_usage_error("dns", "invalid selector '%s'", arg);
                if (strv_extend(&a->selectors, arg) < 0)
                        return log_oom(), EX_OSERR;
                return 0;
        default:
                return EX_USAGE;
        }
}

int run_dns(int argc, char **argv) {
        static const struct option options[] = {
                { "ip", required_argument, NULL, 'i' },
                { "selector", required_argument, NULL, 's' },
                {}
        };
        _cleanup_(config_done) Config config = {};
        _cleanup_(strv_freep) char **selectors = NULL;
        const char *config_path, *ip;
        DnsArgs a = {};
        DnsCheck c = {};
        int r;

        r = cli_parse_options(argc, argv, options, parse_option, &a, help, &config_path);
        selectors = a.selectors;
        ip = a.ip;
        if (r >= 0)
                return r;
        if (optind >= argc || !streq(argv[optind], "check"))
                return cli_usage_error("dns", "expected 'check DOMAIN'; see 'pochtar dns --help'");
        if (optind + 2 != argc)
                return cli_usage_error("dns", "expected exactly one DOMAIN");
        const char *domain = argv[optind + 1];
        if (strlen(domain) > DNS_NAME_MAX || domain_valid(domain, strlen(domain), 0) < 0 || !strchr(domain, '.'))
                return cli_usage_error("dns", "'%s' is not a domain name", domain);
        if (cli_config_load(config_path, &config) < 0)
                return EX_CONFIG;

        c.config = &config;
        strcpy(c.domain, domain);
        if (c.domain[strlen(c.domain) - 1] == '.')
                c.domain[strlen(c.domain) - 1] = 0;
        if (ip) {
                if (inet_pton(AF_INET, ip, &c.ip) != 1)
                        return cli_usage_error("dns", "'%s' is not an IPv4 address", ip);
                c.have_ip = true;
        } else {
                r = sending_ip(&config, &c.ip);
                if (r < 0)
                        report(&c, VERDICT_WARN, "ip", "cannot tell the sending address (%s); pass --ip", strerror(-r));
                else if (!ip_is_public(c.ip))
                        report(&c, VERDICT_WARN, "ip", "%s is a private address (behind NAT?); pass the public "
                               "one with --ip", inet_ntoa(c.ip));
                else
                        c.have_ip = true;
        }

        r = collect_signers(&c, selectors);
        if (r < 0) {
                signers_free(&c);
                return EX_OSERR;
        }
        check_mx(&c);
        check_spf(&c);
        check_dkim(&c);
        check_dmarc(&c);
        check_ptr(&c);
        check_optional(&c, "mta-sts", "_mta-sts", "v=STSv1", "id");
        check_optional(&c, "tls-rpt", "_smtp._tls", "v=TLSRPTv1", "rua");
        signers_free(&c);

        printf("\n%u failed, %u warning%s\n", c.failures, c.warnings, c.warnings == 1 ? "" : "s");
        return c.failures ? 1 : EX_OK;
}
