/* SPDX-License-Identifier: MIT */
/*
 * The checks about the sending host and the domain's mail records: MX,
 * SPF for the sending address (spf.c evaluates), PTR with forward
 * confirmation against [deliver] helo_name, and the optional MTA-STS and
 * TLS-RPT records.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cli/dns-check.h"
#include "cli/dns-lookup.h"
#include "cli/dns-tags.h"
#include "cli/spf.h"
#include "shared/log.h"

/* ---- MX ---------------------------------------------------------------- */

void dns_check_mx(DnsCheck *c) {
        const char *mx_name = c->config->deliver.helo_name;
        _cleanup_free_ char *guess = NULL;
        DnsAnswer mx;
        int r;

        if (!mx_name) {
                if (asprintf(&guess, "mail.%s", c->domain) < 0)
                        return (void) log_oom();
                mx_name = guess;
        }
        r = dns_lookup(c->domain, DNS_TYPE_MX, &mx);
        if (r == -ENODATA) {
                DnsAnswer a;

                /* RFC 5321 §5.1: no MX, the A record is the implicit MX */
                if (dns_lookup(c->domain, DNS_TYPE_A, &a) >= 0) {
                        dns_answer_done(&a);
                        check_report(c, VERDICT_WARN, "mx", "%s has no MX; replies and bounces go to its A record",
                               c->domain);
                        return;
                }
        }
        if (r < 0) {
                check_report(c, VERDICT_FAIL, "mx", "%s: %s: replies and bounces to this domain cannot be delivered",
                       c->domain, dns_strerror(r));
                check_fix("%s. IN MX 10 %s.", c->domain, mx_name);
                return;
        }
        for (size_t i = 0; i < mx.n; i++) {
                _cleanup_free_ char *host = check_show(mx.records[i].name);
                DnsAnswer a;

                if (mx.records[i].pref == 0 && !*mx.records[i].name) {
                        /* RFC 7505 null MX */
                        check_report(c, VERDICT_WARN, "mx", "%s publishes a null MX: it accepts no mail, "
                               "so bounces and replies to it are lost", c->domain);
                        continue;
                }
                r = dns_lookup(mx.records[i].name, DNS_TYPE_A, &a);
                if (r < 0) {
                        check_report(c, VERDICT_FAIL, "mx", "%s. MX %u %s.: the exchange has no address: %s",
                               c->domain, mx.records[i].pref, host, dns_strerror(r));
                        check_fix("%s. IN A <the IPv4 address of %s>", host, host);
                        continue;
                }
                check_report(c, VERDICT_OK, "mx", "%s. MX %u %s. (%s%s)", c->domain, mx.records[i].pref, host,
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
        *ret_error = dns_lookup(domain, DNS_TYPE_TXT, &txt);
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

void dns_check_spf(DnsCheck *c) {
        char why[512], ip[INET_ADDRSTRLEN];
        _cleanup_free_ char *record = NULL, *shown = NULL;
        size_t count;
        SpfResult res;
        int r;

        if (!c->have_ip) {
                check_report(c, VERDICT_WARN, "spf", "not checked: no sending IPv4 address (use --ip)");
                return;
        }
        (void) inet_ntop(AF_INET, &c->ip, ip, sizeof(ip));
        record = find_spf(c->domain, &count, &r);
        shown = record ? check_show(record) : NULL;
        res = spf_check_host(c->ip, c->domain, why, sizeof(why));
        switch (res) {
        case SPF_PASS:
                check_report(c, VERDICT_OK, "spf", "%s is permitted for %s: %s", ip, c->domain, why);
                return;
        case SPF_UNCHECKED:
                check_report(c, VERDICT_WARN, "spf", "%s: %s (macros and ptr are not evaluated here)", c->domain, why);
                return;
        case SPF_TEMPERROR:
                check_report(c, VERDICT_FAIL, "spf", "%s: temporary DNS failure while evaluating: %s", c->domain, why);
                return;
        case SPF_NONE:
                check_report(c, VERDICT_FAIL, "spf", "%s publishes no v=spf1 record", c->domain);
                check_fix("%s. IN TXT \"v=spf1 ip4:%s ~all\"", c->domain, ip);
                return;
        default:
                break;
        }
        if (count > 1) {
                check_report(c, VERDICT_FAIL, "spf", "%s publishes %zu v=spf1 records: receivers treat that as "
                       "permerror (RFC 7208 §4.5)", c->domain, count);
                check_fix("delete all but one, and let that one include ip4:%s", ip);
                return;
        }
        check_report(c, VERDICT_FAIL, "spf", "%s is not permitted by \"%s\": result %s, %s", ip, strempty(shown),
               spf_result_to_string(res), why);
        /* The new ip4: goes first: it matches before any lookup is charged,
         * so it also cures a record that runs out of its 10 lookups. */
        _cleanup_free_ char *fixed = NULL;
        if (asprintf(&fixed, "v=spf1 ip4:%s%s", ip, record ? record + 6 : " ~all") < 0)
                return (void) log_oom();
        check_fix_txt(c->domain, NULL, fixed);
}

/* ---- PTR --------------------------------------------------------------- */

void dns_check_ptr(DnsCheck *c) {
        const char *helo = c->config->deliver.helo_name;
        char rev[sizeof("255.255.255.255.in-addr.arpa")], ip[INET_ADDRSTRLEN];
        const char *confirmed = NULL;
        DnsAnswer ptr;
        int r;

        if (!c->have_ip) {
                check_report(c, VERDICT_WARN, "ptr", "not checked: no sending IPv4 address (use --ip)");
                return;
        }
        (void) inet_ntop(AF_INET, &c->ip, ip, sizeof(ip));
        dns_reverse_name(c->ip, rev);
        r = dns_lookup(rev, DNS_TYPE_PTR, &ptr);
        if (r < 0) {
                check_report(c, VERDICT_FAIL, "ptr", "%s has no PTR record (%s): many receivers refuse such mail",
                       ip, dns_strerror(r));
                check_fix("%s. IN PTR %s.  (ask whoever owns %s, usually the hosting provider)", rev,
                    helo ?: "<your server's name>", ip);
                return;
        }
        for (size_t i = 0; i < ptr.n && !confirmed; i++) {
                DnsAnswer a;

                if (dns_lookup(ptr.records[i].name, DNS_TYPE_A, &a) < 0)
                        continue;
                for (size_t j = 0; j < a.n; j++)
                        if (a.records[j].addr.s_addr == c->ip.s_addr)
                                confirmed = ptr.records[i].name;
                dns_answer_done(&a);
        }
        _cleanup_free_ char *first = check_show(ptr.records[0].name);
        if (!confirmed) {
                check_report(c, VERDICT_FAIL, "ptr", "%s has PTR %s. but %s. does not resolve back to %s "
                       "(no forward confirmation)", ip, first, first, ip);
                check_fix("%s. IN A %s", first, ip);
        } else
                check_report(c, VERDICT_OK, "ptr", "%s has PTR %s., which resolves back to it", ip, confirmed);

        if (!helo) {
                check_report(c, VERDICT_WARN, "helo", "[deliver] helo_name is not set; set it to the PTR name %s",
                       confirmed ?: first);
        } else if (confirmed && check_name_eq(helo, confirmed))
                check_report(c, VERDICT_OK, "helo", "[deliver] helo_name %s matches the PTR", helo);
        else {
                check_report(c, VERDICT_FAIL, "helo", "[deliver] helo_name %s is not the PTR name of %s (%s.)", helo,
                       ip, confirmed ?: first);
                check_fix("set helo_name = %s in [deliver], or change the PTR: %s. IN PTR %s.", confirmed ?: first,
                    rev, helo);
        }
        dns_answer_done(&ptr);
}

/* ---- MTA-STS and TLS-RPT (informational) -------------------------------- */

void dns_check_optional(DnsCheck *c, const char *check, const char *prefix, const char *version,
                           const char *required_tag) {
        _cleanup_free_ char *name = NULL, *shown = NULL;
        const char *record = NULL;
        DnsTag tags[DNS_TAGS_MAX];
        size_t n_tags;
        DnsAnswer txt;
        int r;

        if (asprintf(&name, "%s.%s", prefix, c->domain) < 0)
                return (void) log_oom();
        r = dns_lookup(name, DNS_TYPE_TXT, &txt);
        for (size_t i = 0; r >= 0 && i < txt.n; i++)
                if (strncmp(txt.records[i].text, version, strlen(version)) == 0)
                        record = txt.records[i].text;
        if (!record) {
                check_report(c, VERDICT_INFO, check, "%s: not published (optional)", name);
                if (r >= 0)
                        dns_answer_done(&txt);
                return;
        }
        shown = check_show(record);
        r = dns_tags_parse(record, strlen(record), tags, ELEMENTSOF(tags), &n_tags, NULL);
        if (r < 0 || !dns_tags_find(tags, n_tags, required_tag))
                check_report(c, VERDICT_WARN, check, "%s: malformed, no %s= (\"%s\")", name, required_tag, shown);
        else
                check_report(c, VERDICT_OK, check, "%s: \"%s\"", name, shown);
        dns_answer_done(&txt);
}
