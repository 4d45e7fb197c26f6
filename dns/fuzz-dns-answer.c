/* SPDX-License-Identifier: MIT */
/*
 * Any bytes as a DNS answer, asked as each type. The reader agrees with
 * libresolv, which deliver and the CLI read answers with before: the
 * messages ns_initparse() and ns_parserr() refuse it refuses, the same
 * RCODE, the same records of the type, and every name as
 * ns_name_uncompress() writes it, where it ends in place. The result is a count or
 * one of the documented errors, and the count is the records the visitor
 * saw; each is of the asked type with its RDATA inside the message; a
 * well-formed one's fields agree with its RDATA: an A is its 4 bytes, an
 * MX preference its first two, a name NUL-terminated within its buffer
 * and "" for the root only as the root, a TXT record's length the sum of
 * its strings, counted here again, and its joined text that long. A
 * visitor that stops or fails at the first record gets what it asked for.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <string.h>

#include "dns/dns-answer.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEPT_MAX 64

typedef struct Run {
        const uint8_t *msg;
        size_t len;
        DnsType type;
        int first;                      /* what to return at the first record: 0 goes on */
        size_t calls;
        DnsRR *kept;                    /* the first KEPT_MAX records seen, or NULL */
} Run;

static char text[DNS_MESSAGE_MAX + 1];

static void check_txt(const DnsRR *rr) {
        size_t sum = 0, n = 0, longest = 0;

        for (size_t i = 0; i < rr->rdlen;) {
                size_t k = rr->rdata[i++];

                if (k > rr->rdlen - i)
                        __builtin_trap();
                sum += k;
                n++;
                longest = k > longest ? k : longest;
                i += k;
        }
        if (rr->text.length != sum || rr->text.n_strings != n || rr->text.longest != longest)
                __builtin_trap();
        if (dns_answer_txt_join(rr, text, sum + 1) != (int) sum || strlen(text) != sum)
                __builtin_trap();
        if (dns_answer_txt_join(rr, text, sum) != -ENOBUFS)
                __builtin_trap();
}

static void check_name(const DnsRR *rr) {
        const char *end = memchr(rr->name, 0, sizeof(rr->name));

        if (!end || rr->name[0] == '.')
                __builtin_trap();
}

static int visit(const DnsRR *rr, void *userdata) {
        Run *run = userdata;

        if (rr->type != run->type || rr->rdata < run->msg || rr->rdlen > run->len ||
            (size_t) (rr->rdata - run->msg) > run->len - rr->rdlen)
                __builtin_trap();
        if (rr->malformed) {
                if (rr->name[0] || rr->pref || rr->text.n_strings ||
                    dns_answer_txt_join(rr, text, sizeof(text)) != -EINVAL)
                        __builtin_trap();
        } else
                switch (rr->type) {
                case DNS_TYPE_A:
                        if (rr->rdlen != 4 || memcmp(&rr->addr, rr->rdata, 4) != 0)
                                __builtin_trap();
                        break;
                case DNS_TYPE_MX:
                        if (rr->rdlen < 3 || rr->pref != (rr->rdata[0] << 8 | rr->rdata[1]))
                                __builtin_trap();
                        check_name(rr);
                        break;
                case DNS_TYPE_PTR:
                case DNS_TYPE_CNAME:
                        check_name(rr);
                        break;
                case DNS_TYPE_TXT:
                        check_txt(rr);
                        break;
                }
        if (run->kept && run->calls < KEPT_MAX)
                run->kept[run->calls] = *rr;
        run->calls++;
        return run->calls == 1 ? run->first : 0;
}

/* A name in RDATA as libresolv reads it, with the end where it must end:
 * 0, or -1 for a malformed record. */
static int libresolv_name(const ns_msg *m, const uint8_t *p, const uint8_t *end, char *name) {
        int n = ns_name_uncompress(ns_msg_base(*m), ns_msg_end(*m), p, name, NS_MAXDNAME);

        if (n < 0 || (size_t) n != (size_t) (end - p))
                return -1;
        if (name[0] == '.')
                name[0] = 0;
        return 0;
}

static void same_record(const ns_msg *m, const ns_rr *wire, const DnsRR *rr) {
        const uint8_t *p = ns_rr_rdata(*wire);
        size_t n = ns_rr_rdlen(*wire);
        char name[NS_MAXDNAME];
        bool malformed;

        if (rr->rdata != p || rr->rdlen != n)
                __builtin_trap();
        switch (rr->type) {
        case DNS_TYPE_A:
                malformed = n != 4;
                break;
        case DNS_TYPE_MX:
                malformed = n < 3 || libresolv_name(m, p + 2, p + n, name) < 0;
                if (!malformed && (strcmp(name, rr->name) != 0 || rr->pref != ns_get16(p)))
                        __builtin_trap();
                break;
        case DNS_TYPE_PTR:
        case DNS_TYPE_CNAME:
                malformed = libresolv_name(m, p, p + n, name) < 0;
                if (!malformed && strcmp(name, rr->name) != 0)
                        __builtin_trap();
                break;
        default:
                return;         /* TXT: no libresolv reader; check_txt() counts again */
        }
        if (malformed != rr->malformed)
                __builtin_trap();
}

/* The answer as deliver's and the CLI's code read it before dns/. */
static int libresolv_parse(const uint8_t *data, size_t size, DnsType type, const DnsRR *kept) {
        ns_msg m;
        int n = 0;

        if (ns_initparse(data, (int) size, &m) < 0)
                return -EBADMSG;
        switch (ns_msg_getflag(m, ns_f_rcode)) {
        case ns_r_noerror:
                break;
        case ns_r_nxdomain:
                return -ENXIO;
        default:
                return -EAGAIN;
        }
        for (int i = 0; i < ns_msg_count(m, ns_s_an); i++) {
                ns_rr wire;

                if (ns_parserr(&m, ns_s_an, i, &wire) < 0)
                        return -EBADMSG;
                if (ns_rr_class(wire) != ns_c_in || (int) ns_rr_type(wire) != (int) type)
                        continue;
                if (n < KEPT_MAX)
                        same_record(&m, &wire, &kept[n]);
                n++;
        }
        return n > 0 ? n : -ENODATA;
}

static int parse(const uint8_t *data, size_t size, DnsType type, int first, DnsRR *kept) {
        Run run = { .msg = data, .len = size, .type = type, .first = first, .kept = kept };
        int r;

        r = dns_answer_parse(data, size, type, visit, &run);
        if (r == 0 || (r > 0 && (size_t) r != run.calls))
                __builtin_trap();
        if (r < 0 && r != -ENODATA && r != -ENXIO && r != -EAGAIN && r != -EBADMSG && !(r == first && run.calls == 1))
                __builtin_trap();
        if (r == -ENODATA && run.calls != 0)
                __builtin_trap();
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const DnsType types[] = { DNS_TYPE_A, DNS_TYPE_CNAME, DNS_TYPE_PTR, DNS_TYPE_MX, DNS_TYPE_TXT };
        static DnsRR kept[KEPT_MAX];

        if (size > DNS_MESSAGE_MAX)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                int all, stopped, failed;

                all = parse(data, size, types[i], 0, kept);
                if (libresolv_parse(data, size, types[i], kept) != all)
                        __builtin_trap();
                stopped = parse(data, size, types[i], DNS_VISIT_STOP, NULL);
                failed = parse(data, size, types[i], -ECANCELED, NULL);
                /* a record seen is seen by every run; one stopped at, the
                 * rest is not read, so a later error does not count */
                if (all > 0 && (stopped != 1 || failed != -ECANCELED))
                        __builtin_trap();
                if (all == -EBADMSG && !(stopped == -EBADMSG || stopped == 1))
                        __builtin_trap();
                if (all <= 0 && all != -EBADMSG && (stopped != all || failed != all))
                        __builtin_trap();
                if (stopped == 1 && failed != -ECANCELED)
                        __builtin_trap();
        }
        return 0;
}
