/* SPDX-License-Identifier: MIT */
/*
 * libresolv glue: one query, the answer section taken apart with
 * ns_parserr(). No byte of the packet is parsed here by hand; the only
 * copies are of RDATA that libresolv has already bounded (TXT
 * character-strings carry their own length octet, RFC 1035 §3.3.14).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/dns-lookup.h"
#include "shared/macro.h"

void dns_answer_done(DnsAnswer *a) {
        for (size_t i = 0; i < a->n; i++) {
                free(a->records[i].name);
                free(a->records[i].text);
        }
        a->n = 0;
}

static int expand_name(ns_msg *msg, const uint8_t *p, char **ret) {
        char name[NS_MAXDNAME];

        if (dn_expand(ns_msg_base(*msg), ns_msg_end(*msg), p, name, sizeof(name)) < 0)
                return -EBADMSG;
        *ret = strdup(name);
        return *ret ? 0 : -ENOMEM;
}

static int parse_txt(const uint8_t *p, size_t n, DnsRecord *rec) {
        _cleanup_free_ char *s = malloc(n + 1);
        size_t len = 0;

        if (!s)
                return -ENOMEM;
        /* RFC 1035 §3.3.14: one or more <character-string>s, each a length
         * octet and that many bytes; the record's text is their concatenation
         * (RFC 7208 §3.3, RFC 6376 §3.6.2.2). */
        for (size_t i = 0; i < n;) {
                size_t k = p[i++];

                if (k > n - i)
                        return -EBADMSG;
                memcpy(s + len, p + i, k);
                len += k;
                i += k;
                rec->n_strings++;
                if (k > rec->longest_string)
                        rec->longest_string = k;
        }
        s[len] = 0;
        if (strlen(s) != len)
                return -EBADMSG;        /* a NUL inside: not text we can check */
        rec->text = TAKE_PTR(s);
        return 0;
}

static int parse_record(ns_msg *msg, ns_rr *rr, int type, DnsRecord *rec) {
        const uint8_t *p = ns_rr_rdata(*rr);
        size_t n = ns_rr_rdlen(*rr);

        switch (type) {
        case ns_t_a:
                if (n != 4)
                        return -EBADMSG;
                memcpy(&rec->addr, p, 4);
                return 0;
        case ns_t_mx:
                if (n < 3)
                        return -EBADMSG;
                rec->pref = ns_get16(p);
                return expand_name(msg, p + 2, &rec->name);
        case ns_t_ptr:
                return expand_name(msg, p, &rec->name);
        case ns_t_txt:
                return parse_txt(p, n, rec);
        default:
                return -EOPNOTSUPP;
        }
}

int dns_lookup(const char *name, int type, DnsAnswer *ret) {
        struct __res_state rs = {};
        uint8_t packet[NS_MAXMSG];
        ns_msg msg;
        int len, r = 0;

        *ret = (DnsAnswer) {};
        if (res_ninit(&rs) < 0)
                return -EAGAIN;
        len = res_nquery(&rs, name, ns_c_in, type, packet, sizeof(packet));
        if (len < 0) {
                int h = rs.res_h_errno;

                res_nclose(&rs);
                switch (h) {
                case HOST_NOT_FOUND:
                        return -ENXIO;
                case NO_DATA:
                        return -ENODATA;
                case NO_RECOVERY:
                        return -EBADMSG;
                default:
                        return -EAGAIN;
                }
        }
        res_nclose(&rs);
        if (ns_initparse(packet, len, &msg) < 0)
                return -EBADMSG;
        for (int i = 0; i < ns_msg_count(msg, ns_s_an) && ret->n < DNS_ANSWERS_MAX; i++) {
                ns_rr rr;

                if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
                        r = -EBADMSG;
                        break;
                }
                if (ns_rr_class(rr) != ns_c_in || (int) ns_rr_type(rr) != type)
                        continue;       /* the CNAME chain the resolver followed */
                r = parse_record(&msg, &rr, type, &ret->records[ret->n]);
                if (r < 0) {
                        /* keep what the failed record had allocated */
                        ret->n++;
                        break;
                }
                ret->n++;
        }
        if (r >= 0 && ret->n == 0)
                r = -ENODATA;
        if (r < 0)
                dns_answer_done(ret);
        return r;
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
