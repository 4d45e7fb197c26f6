/* SPDX-License-Identifier: MIT */
/*
 * The CLI's lookups on top of dns/: each answer record copied out of the
 * message (names, and TXT text joined from its character-strings), and
 * one malformed record fails the lookup, for a check must not pass on a
 * record it could not read.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/dns-lookup.h"
#include "dns/dns-query.h"
#include "shared/macro.h"

void dns_answer_done(DnsAnswer *a) {
        for (size_t i = 0; i < a->n; i++) {
                free(a->records[i].name);
                free(a->records[i].text);
        }
        a->n = 0;
}

static int copy_txt(const DnsRR *rr, DnsRecord *rec) {
        _cleanup_free_ char *s = malloc(rr->text.length + 1);
        int r;

        if (!s)
                return -ENOMEM;
        r = dns_answer_txt_join(rr, s, rr->text.length + 1);
        if (r < 0)
                return r;
        rec->n_strings = rr->text.n_strings;
        rec->longest_string = rr->text.longest;
        rec->text = TAKE_PTR(s);
        return 0;
}

static int copy_record(const DnsRR *rr, DnsRecord *rec) {
        *rec = (DnsRecord) {};
        if (rr->malformed)
                return -EBADMSG;
        switch (rr->type) {
        case DNS_TYPE_A:
                rec->addr = rr->addr;
                return 0;
        case DNS_TYPE_MX:
                rec->pref = rr->pref;
                rec->name = strdup(rr->name);
                return rec->name ? 0 : -ENOMEM;
        case DNS_TYPE_PTR:
                rec->name = strdup(rr->name);
                return rec->name ? 0 : -ENOMEM;
        case DNS_TYPE_TXT:
                return copy_txt(rr, rec);
        default:
                return -EOPNOTSUPP;
        }
}

static int collect(const DnsRR *rr, void *userdata) {
        DnsAnswer *a = userdata;
        int r;

        r = copy_record(rr, &a->records[a->n]);
        if (r < 0)
                return r;
        a->n++;
        return a->n < DNS_ANSWERS_MAX ? 0 : DNS_VISIT_STOP;
}

int dns_lookup_parse(const uint8_t *msg, size_t len, DnsType type, DnsAnswer *ret) {
        int r;

        *ret = (DnsAnswer) {};
        r = dns_answer_parse(msg, len, type, collect, ret);
        if (r < 0) {
                dns_answer_done(ret);
                return r;
        }
        return 0;
}

int dns_lookup(const char *name, DnsType type, DnsAnswer *ret) {
        _cleanup_(dns_resolver_freep) DnsResolver *res = NULL;
        const uint8_t *answer;
        int r;

        *ret = (DnsAnswer) {};
        r = dns_resolver_new(&res);
        if (r < 0)
                return r;
        r = dns_query(res, name, type, &answer);
        if (r < 0)
                return r;
        return dns_lookup_parse(answer, (size_t) r, type, ret);
}

void dns_reverse_name(struct in_addr a, char ret[static sizeof("255.255.255.255.in-addr.arpa")]) {
        const uint8_t *b = (const uint8_t *) &a.s_addr;

        (void) sprintf(ret, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
}

const char *dns_strerror(int r) {
        switch (r) {
        case -ENXIO:
                return "no such domain (NXDOMAIN)";
        case -ENODATA:
                return "no record";
        case -EAGAIN:
                return "temporary DNS failure (SERVFAIL or timeout)";
        case -EBADMSG:
                return "malformed DNS answer";
        default:
                return strerror(-r);
        }
}
