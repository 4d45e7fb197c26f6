/* SPDX-License-Identifier: MIT */
/*
 * dns_answer_parse() over messages built here: the RCODE, the sections,
 * each type's RDATA rule, names and their compression pointers, TXT
 * character-strings, and the size bound. In the wire strings below,
 * "\300\14" is a pointer to the question's name, example.org.
 */
#include <arpa/inet.h>
#include <errno.h>

#include "dns/dns-answer.h"
#include "dns/test-dns-packet.h"
#include "shared/macro.h"
#include "shared/tests.h"

#define QNAME "example.org"

/* One record to build: raw RDATA, or a compressed name (with a
 * preference for MX). */
typedef struct Rec {
        const char *owner;              /* NULL: QNAME */
        DnsType type;
        unsigned class;                 /* 0: IN */
        const char *rdata;
        size_t size;
        const char *name;
        unsigned pref;
        size_t loop_to;                 /* > 0: the RDATA ends in a pointer to its own byte loop_to - 1 */
} Rec;
#define RD(s) .rdata = (s), .size = sizeof(s) - 1

/* What the visitor must see of one record. */
typedef struct Want {
        bool malformed;
        const char *value;              /* A: dotted quad; MX, PTR, CNAME: the name; TXT: the text */
        unsigned pref;
        size_t n_strings, longest;
} Want;

typedef struct Case {
        const char *what;
        DnsType type;                   /* asked */
        unsigned rcode;
        Rec rr[4];
        unsigned authority;             /* how many of the last records are in the authority section */
        unsigned more_ancount;          /* ANCOUNT says this many more answers than there are */
        size_t cut;                     /* bytes dropped from the end */
        size_t keep;                    /* > 0: only this many bytes from the start */
        const char *trailer;            /* bytes after the last section */
        size_t trailer_size;
        int result;
        Want want[4];
} Case;

static const Case cases[] = {
        /* the header */
        { "NOERROR, two addresses", DNS_TYPE_A, 0,
          { { .type = DNS_TYPE_A, RD("\313\0\161\31") }, { .type = DNS_TYPE_A, RD("\313\0\161\32") } },
          .result = 2, .want = { { .value = "203.0.113.25" }, { .value = "203.0.113.26" } } },
        { "NXDOMAIN", DNS_TYPE_MX, DNS_RCODE_NXDOMAIN, .result = -ENXIO },
        { "SERVFAIL", DNS_TYPE_MX, DNS_RCODE_SERVFAIL, .result = -EAGAIN },
        { "REFUSED", DNS_TYPE_MX, DNS_RCODE_REFUSED, .result = -EAGAIN },
        { "NXDOMAIN with an answer is still NXDOMAIN", DNS_TYPE_A, DNS_RCODE_NXDOMAIN,
          { { .type = DNS_TYPE_A, RD("\313\0\161\31") } }, .result = -ENXIO },
        { "NOERROR without answers", DNS_TYPE_MX, 0, .result = -ENODATA },
        { "answers of another type only", DNS_TYPE_TXT, 0,
          { { .type = DNS_TYPE_MX, .name = "mx.example.org", .pref = 10 } }, .result = -ENODATA },
        { "a record in the authority section is no answer", DNS_TYPE_MX, 0,
          { { .type = DNS_TYPE_MX, .name = "mx.example.org", .pref = 10 } }, .authority = 1, .result = -ENODATA },
        { "wrong class", DNS_TYPE_A, 0,
          { { .type = DNS_TYPE_A, .class = DNS_CLASS_CH, RD("\313\0\161\31") },
            { .type = DNS_TYPE_A, RD("\313\0\161\32") } },
          .result = 1, .want = { { .value = "203.0.113.26" } } },
        { "a CNAME chain, then its target", DNS_TYPE_A, 0,
          { { .type = DNS_TYPE_CNAME, .name = "www.example.net" },
            { .owner = "www.example.net", .type = DNS_TYPE_CNAME, .name = "web.example.com" },
            { .owner = "web.example.com", .type = DNS_TYPE_A, RD("\313\0\161\50") } },
          .result = 1, .want = { { .value = "203.0.113.40" } } },
        { "a CNAME chain without a target", DNS_TYPE_MX, 0,
          { { .type = DNS_TYPE_CNAME, .name = "www.example.net" } }, .result = -ENODATA },

        /* the message itself */
        { "a truncated record", DNS_TYPE_MX, 0,
          { { .type = DNS_TYPE_MX, .name = "mx.example.org", .pref = 10 } }, .cut = 3, .result = -EBADMSG },
        { "a truncated record head", DNS_TYPE_A, 0,
          { { .type = DNS_TYPE_A, RD("\313\0\161\31") } }, .cut = 4 + 5, .result = -EBADMSG },
        { "a header cut short", DNS_TYPE_A, 0, .keep = 11, .result = -EBADMSG },
        { "an empty message", DNS_TYPE_A, 0, .keep = 0, .cut = 29, .result = -EBADMSG },
        { "ANCOUNT above the records", DNS_TYPE_A, 0,
          { { .type = DNS_TYPE_A, RD("\313\0\161\31") } }, .more_ancount = 1, .result = -EBADMSG },
        { "bytes after the last section", DNS_TYPE_A, 0,
          { { .type = DNS_TYPE_A, RD("\313\0\161\31") } }, .trailer = "\0", .trailer_size = 1,
          .result = -EBADMSG },
        { "an owner name pointing past the message", DNS_TYPE_A, 0,
          { { .owner = "", .type = DNS_TYPE_A, RD("\313\0\161\31") } }, .result = -EBADMSG },

        /* A */
        { "A of 3 bytes, then a good one", DNS_TYPE_A, 0,
          { { .type = DNS_TYPE_A, RD("\313\0\161") }, { .type = DNS_TYPE_A, RD("\313\0\161\32") } },
          .result = 2, .want = { { .malformed = true }, { .value = "203.0.113.26" } } },
        { "A of 5 bytes", DNS_TYPE_A, 0, { { .type = DNS_TYPE_A, RD("\313\0\161\31\0") } },
          .result = 1, .want = { { .malformed = true } } },
        { "A of no bytes", DNS_TYPE_A, 0, { { .type = DNS_TYPE_A, RD("") } },
          .result = 1, .want = { { .malformed = true } } },

        /* names: MX */
        { "MX, exchange compressed against the question", DNS_TYPE_MX, 0,
          { { .type = DNS_TYPE_MX, RD("\0\12\300\14") }, { .type = DNS_TYPE_MX, RD("\0\24\3mx2\300\14") } },
          .result = 2, .want = { { .value = "example.org", .pref = 10 }, { .value = "mx2.example.org", .pref = 20 } } },
        { "MX, exchange compressed against another RDATA", DNS_TYPE_MX, 0,
          { { .type = DNS_TYPE_MX, .name = "mx1.mail.example.org", .pref = 10 },
            { .type = DNS_TYPE_MX, .name = "mx2.mail.example.org", .pref = 10 } },
          .result = 2, .want = { { .value = "mx1.mail.example.org", .pref = 10 },
                                 { .value = "mx2.mail.example.org", .pref = 10 } } },
        { "MX, the root as exchange (null MX)", DNS_TYPE_MX, 0, { { .type = DNS_TYPE_MX, RD("\0\0\0") } },
          .result = 1, .want = { { .value = "", .pref = 0 } } },
        /*
         * "\3mx1" has no terminating label: the next record's owner, a
         * pointer to example.org, would complete it as mx1.example.org if
         * the name were read past its own RDATA.
         */
        { "MX, exchange running past its RDATA", DNS_TYPE_MX, 0,
          { { .type = DNS_TYPE_MX, RD("\0\12\3mx1") }, { .type = DNS_TYPE_MX, .name = "mx2.example.org", .pref = 20 } },
          .result = 2, .want = { { .malformed = true }, { .value = "mx2.example.org", .pref = 20 } } },
        { "MX, exchange stopping short of its RDATA", DNS_TYPE_MX, 0,
          { { .type = DNS_TYPE_MX, RD("\0\12\3mx1\0\0") } }, .result = 1, .want = { { .malformed = true } } },
        { "MX, a pointer then a byte", DNS_TYPE_MX, 0,
          { { .type = DNS_TYPE_MX, RD("\0\12\300\14\0") } }, .result = 1, .want = { { .malformed = true } } },
        { "MX, the same record measured right", DNS_TYPE_MX, 0,
          { { .type = DNS_TYPE_MX, RD("\0\12\3mx1\300\14") } },
          .result = 1, .want = { { .value = "mx1.example.org", .pref = 10 } } },
        { "MX, a preference only", DNS_TYPE_MX, 0, { { .type = DNS_TYPE_MX, RD("\0\12") } },
          .result = 1, .want = { { .malformed = true } } },
        { "MX, one byte", DNS_TYPE_MX, 0, { { .type = DNS_TYPE_MX, RD("\0") } },
          .result = 1, .want = { { .malformed = true } } },
        { "MX, a pointer to itself", DNS_TYPE_MX, 0, { { .type = DNS_TYPE_MX, RD("\0\12"), .loop_to = 3 } },
          .result = 1, .want = { { .malformed = true } } },
        { "MX, a pointer back to its first label", DNS_TYPE_MX, 0,
          { { .type = DNS_TYPE_MX, RD("\0\12\3mx1"), .loop_to = 3 } }, .result = 1, .want = { { .malformed = true } } },
        { "MX, a pointer past the message", DNS_TYPE_MX, 0, { { .type = DNS_TYPE_MX, RD("\0\12\377\377") } },
          .result = 1, .want = { { .malformed = true } } },
        { "MX, a label longer than 63", DNS_TYPE_MX, 0, { { .type = DNS_TYPE_MX, RD("\0\12\100") } },
          .result = 1, .want = { { .malformed = true } } },
        { "MX, special bytes in a label are escaped", DNS_TYPE_MX, 0,
          { { .type = DNS_TYPE_MX, RD("\0\12\3a.b\0") } }, .result = 1, .want = { { .value = "a\\.b", .pref = 10 } } },

        /* names: PTR */
        { "PTR", DNS_TYPE_PTR, 0, { { .type = DNS_TYPE_PTR, .name = "mail.example.org" } },
          .result = 1, .want = { { .value = "mail.example.org" } } },
        { "PTR running past its RDATA", DNS_TYPE_PTR, 0,
          { { .type = DNS_TYPE_PTR, RD("\4mail") }, { .type = DNS_TYPE_PTR, .name = "example.org" } },
          .result = 2, .want = { { .malformed = true }, { .value = "example.org" } } },
        { "PTR stopping short of its RDATA", DNS_TYPE_PTR, 0, { { .type = DNS_TYPE_PTR, RD("\4mail\0\0") } },
          .result = 1, .want = { { .malformed = true } } },
        { "PTR of no bytes", DNS_TYPE_PTR, 0, { { .type = DNS_TYPE_PTR, RD("") } },
          .result = 1, .want = { { .malformed = true } } },

        /* TXT */
        { "TXT of several strings", DNS_TYPE_TXT, 0, { { .type = DNS_TYPE_TXT, RD("\3v=s\5pf1 -\3all") } },
          .result = 1, .want = { { .value = "v=spf1 -all", .n_strings = 3, .longest = 5 } } },
        { "TXT, two records", DNS_TYPE_TXT, 0,
          { { .type = DNS_TYPE_TXT, RD("\2ab") }, { .type = DNS_TYPE_TXT, RD("\1c") } },
          .result = 2, .want = { { .value = "ab", .n_strings = 1, .longest = 2 },
                                 { .value = "c", .n_strings = 1, .longest = 1 } } },
        { "TXT, an empty string", DNS_TYPE_TXT, 0, { { .type = DNS_TYPE_TXT, RD("\0") } },
          .result = 1, .want = { { .value = "", .n_strings = 1, .longest = 0 } } },
        { "TXT, empty strings around one", DNS_TYPE_TXT, 0, { { .type = DNS_TYPE_TXT, RD("\0\1x\0") } },
          .result = 1, .want = { { .value = "x", .n_strings = 3, .longest = 1 } } },
        { "TXT, an empty RDATA is no strings", DNS_TYPE_TXT, 0, { { .type = DNS_TYPE_TXT, RD("") } },
          .result = 1, .want = { { .value = "", .n_strings = 0, .longest = 0 } } },
        { "TXT, a length octet past the end", DNS_TYPE_TXT, 0, { { .type = DNS_TYPE_TXT, RD("\2ab\5abc") } },
          .result = 1, .want = { { .malformed = true } } },
        { "TXT, a NUL inside", DNS_TYPE_TXT, 0, { { .type = DNS_TYPE_TXT, RD("\3a\0b") } },
          .result = 1, .want = { { .malformed = true } } },
        { "TXT, a malformed record between good ones", DNS_TYPE_TXT, 0,
          { { .type = DNS_TYPE_TXT, RD("\1a") }, { .type = DNS_TYPE_TXT, RD("\2b") }, { .type = DNS_TYPE_TXT, RD("\1c") } },
          .result = 3, .want = { { .value = "a", .n_strings = 1, .longest = 1 }, { .malformed = true },
                                 { .value = "c", .n_strings = 1, .longest = 1 } } },
};

/* "" as owner: a pointer to the highest offset there is, past any message */
static void put_owner(DnsPacket *p, const char *owner) {
        if (owner && !*owner)
                dns_packet_put_bytes(p, "\377\377", 2);
        else
                dns_packet_put_name(p, owner ? owner : QNAME);
}

static void build(DnsPacket *p, const Case *c) {
        size_t n = 0;

        while (n < ELEMENTSOF(c->rr) && c->rr[n].type)
                n++;
        dns_packet_begin(p, c->rcode, (unsigned) n - c->authority + c->more_ancount, c->authority, QNAME, c->type);
        for (size_t i = 0; i < n; i++) {
                const Rec *r = &c->rr[i];
                size_t start;

                if (r->name && r->type == DNS_TYPE_MX) {
                        dns_packet_add_mx(p, r->owner ? r->owner : QNAME, r->pref, r->name);
                        continue;
                }
                if (r->name) {
                        dns_packet_add_name(p, r->owner ? r->owner : QNAME, r->type, r->name);
                        continue;
                }
                put_owner(p, r->owner);
                dns_packet_put_rr_fields(p, r->type, r->class ? r->class : DNS_CLASS_IN,
                                         (unsigned) (r->size + (r->loop_to ? 2 : 0)));
                start = p->len;
                dns_packet_put_bytes(p, r->rdata, r->size);
                if (r->loop_to)
                        dns_packet_put16(p, 0xc000 | (unsigned) (start + r->loop_to - 1));
        }
        dns_packet_put_bytes(p, c->trailer, c->trailer_size);
        ASSERT_TRUE(c->cut <= p->len);
        p->len -= c->cut;
        if (c->keep)
                p->len = c->keep;
}

typedef struct Got {
        DnsRR rr[8];
        char text[8][512];
        size_t n;
} Got;

static int collect(const DnsRR *rr, void *userdata) {
        Got *g = userdata;

        ASSERT_TRUE(g->n < ELEMENTSOF(g->rr));
        g->rr[g->n] = *rr;
        if (rr->type == DNS_TYPE_TXT && !rr->malformed)
                ASSERT_EQ(dns_answer_txt_join(rr, g->text[g->n], sizeof(g->text[g->n])), rr->text.length);
        g->n++;
        return 0;
}

static void check_rr(const Case *c, const DnsRR *rr, const char *text, const Want *w) {
        char addr[INET_ADDRSTRLEN];

        ASSERT_EQ(rr->type, c->type);
        ASSERT_EQ(rr->malformed, w->malformed);
        if (w->malformed)
                return;
        switch (rr->type) {
        case DNS_TYPE_A:
                ASSERT_STREQ(inet_ntop(AF_INET, &rr->addr, addr, sizeof(addr)), w->value);
                ASSERT_EQ(rr->rdlen, 4);
                break;
        case DNS_TYPE_MX:
                ASSERT_EQ(rr->pref, w->pref);
                ASSERT_STREQ(rr->name, w->value);
                break;
        case DNS_TYPE_PTR:
        case DNS_TYPE_CNAME:
                ASSERT_STREQ(rr->name, w->value);
                break;
        case DNS_TYPE_TXT:
                ASSERT_STREQ(text, w->value);
                ASSERT_EQ(rr->text.length, strlen(w->value));
                ASSERT_EQ(rr->text.n_strings, w->n_strings);
                ASSERT_EQ(rr->text.longest, w->longest);
                break;
        }
}

static void test_table(void) {
        static DnsPacket p;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const Case *c = &cases[i];
                static Got g;
                int r;

                fprintf(stderr, "%s\n", c->what);
                build(&p, c);
                g.n = 0;
                r = dns_answer_parse(p.buf, p.len, c->type, collect, &g);
                ASSERT_EQ(r, c->result);
                if (r < 0) {
                        /* a message that fails whole shows the visitor nothing */
                        ASSERT_EQ(g.n, 0);
                        continue;
                }
                ASSERT_EQ(g.n, (size_t) r);
                for (size_t k = 0; k < g.n; k++)
                        check_rr(c, &g.rr[k], g.text[k], &c->want[k]);
        }
}

static int stop_after_one(const DnsRR *rr, void *userdata) {
        (*(unsigned *) userdata)++;
        return DNS_VISIT_STOP;
}

static int go_on(const DnsRR *rr, void *userdata) {
        (*(unsigned *) userdata)++;
        return 0;
}

static int refuse(const DnsRR *rr, void *userdata) {
        (*(unsigned *) userdata)++;
        return rr->malformed ? -EBADMSG : -ENOMEM;
}

/* The visitor decides how far the walk goes, and its error is the result;
 * a record after the one it stopped at is not even read. */
static void test_visitor(void) {
        static DnsPacket p;
        static const uint8_t ip[4] = { 203, 0, 113, 25 };
        unsigned calls = 0;

        dns_packet_begin(&p, 0, 3, 0, QNAME, DNS_TYPE_A);
        dns_packet_add_a(&p, QNAME, ip);
        dns_packet_add_raw(&p, QNAME, DNS_TYPE_A, "\1\2\3", 3);
        dns_packet_add_a(&p, QNAME, ip);
        ASSERT_EQ(dns_answer_parse(p.buf, p.len, DNS_TYPE_A, stop_after_one, &calls), 1);
        ASSERT_EQ(calls, 1);
        calls = 0;
        ASSERT_EQ(dns_answer_parse(p.buf, p.len, DNS_TYPE_A, refuse, &calls), -ENOMEM);
        ASSERT_EQ(calls, 1);

        /* the second record's owner points past the message */
        dns_packet_begin(&p, 0, 2, 0, QNAME, DNS_TYPE_A);
        dns_packet_add_a(&p, QNAME, ip);
        put_owner(&p, "");
        dns_packet_put_rr_fields(&p, DNS_TYPE_A, DNS_CLASS_IN, 4);
        dns_packet_put_bytes(&p, ip, 4);
        calls = 0;
        ASSERT_EQ(dns_answer_parse(p.buf, p.len, DNS_TYPE_A, stop_after_one, &calls), 1);
        ASSERT_EQ(calls, 1);
        calls = 0;
        ASSERT_EQ(dns_answer_parse(p.buf, p.len, DNS_TYPE_A, go_on, &calls), -EBADMSG);
        ASSERT_EQ(calls, 1);
}

/* RFC 1035 §2.3.4: a name is 255 octets at most, its root included, and
 * a label 63. */
static void test_name_length(void) {
        static DnsPacket p;
        static Got g;
        uint8_t rdata[300];

        for (size_t last = 60; last <= 62; last++) {
                size_t n = 0;

                for (int i = 0; i < 3; i++) {
                        rdata[n++] = 63;
                        memset(rdata + n, 'a', 63);
                        n += 63;
                }
                rdata[n++] = (uint8_t) last;
                memset(rdata + n, 'b', last);
                n += last;
                rdata[n++] = 0;
                dns_packet_begin(&p, 0, 1, 0, QNAME, DNS_TYPE_PTR);
                dns_packet_add_raw(&p, QNAME, DNS_TYPE_PTR, rdata, n);
                g.n = 0;
                ASSERT_EQ(dns_answer_parse(p.buf, p.len, DNS_TYPE_PTR, collect, &g), 1);
                if (n <= DNS_NAME_MAX) {
                        ASSERT_TRUE(!g.rr[0].malformed);
                        ASSERT_EQ(strlen(g.rr[0].name), 3 * 64 + last);
                } else
                        ASSERT_TRUE(g.rr[0].malformed);
        }

        /* 64 is no length: its high bits 01 are a label type of its own
         * (RFC 1035 §4.1.4, RFC 6891 §5), even with 64 bytes after it */
        rdata[0] = 64;
        memset(rdata + 1, 'c', 64);
        rdata[65] = 0;
        dns_packet_begin(&p, 0, 1, 0, QNAME, DNS_TYPE_PTR);
        dns_packet_add_raw(&p, QNAME, DNS_TYPE_PTR, rdata, 66);
        g.n = 0;
        ASSERT_EQ(dns_answer_parse(p.buf, p.len, DNS_TYPE_PTR, collect, &g), 1);
        ASSERT_TRUE(g.rr[0].malformed);
}

/* collect() without the join: the text is longer than its buffers */
static int collect_big(const DnsRR *rr, void *userdata) {
        Got *g = userdata;

        ASSERT_TRUE(!rr->malformed);
        g->rr[g->n++] = *rr;
        return 0;
}

/* DNS_MESSAGE_MAX bytes parse; one more is refused unread. */
static void test_max_size(void) {
        static DnsPacket p;
        static Got g;
        uint8_t s[256];
        size_t rdlen, head;

        dns_packet_begin(&p, 0, 1, 0, QNAME, DNS_TYPE_TXT);
        head = p.len + 2 + 10;          /* owner pointer, type, class, TTL, RDLENGTH */
        rdlen = DNS_MESSAGE_MAX - head;
        dns_packet_put_rr_head(&p, QNAME, DNS_TYPE_TXT, DNS_CLASS_IN, (unsigned) rdlen);
        ASSERT_EQ(p.len, head);
        memset(s, 'x', sizeof(s));
        for (size_t left = rdlen; left > 0;) {
                size_t k = left - 1 < 255 ? left - 1 : 255;

                s[0] = (uint8_t) k;
                dns_packet_put_bytes(&p, s, k + 1);
                left -= k + 1;
        }
        ASSERT_EQ(p.len, DNS_MESSAGE_MAX);
        g.n = 0;
        ASSERT_EQ(dns_answer_parse(p.buf, p.len, DNS_TYPE_TXT, collect_big, &g), 1);
        ASSERT_EQ(g.rr[0].rdlen, rdlen);
        ASSERT_EQ(g.rr[0].text.n_strings, (rdlen + 255) / 256);
        ASSERT_EQ(g.rr[0].text.length, rdlen - g.rr[0].text.n_strings);
        ASSERT_EQ(g.rr[0].text.longest, 255);

        /* one byte more, even one a parser would never reach */
        p.buf[p.len++] = 0;
        g.n = 0;
        ASSERT_EQ(dns_answer_parse(p.buf, p.len, DNS_TYPE_TXT, collect_big, &g), -EBADMSG);
        ASSERT_EQ(g.n, 0);
}

static void test_txt_join(void) {
        static DnsPacket p;
        static Got g;
        char small[4];

        dns_packet_begin(&p, 0, 1, 0, QNAME, DNS_TYPE_TXT);
        dns_packet_add_raw(&p, QNAME, DNS_TYPE_TXT, "\2ab\2cd", 6);
        g.n = 0;
        ASSERT_EQ(dns_answer_parse(p.buf, p.len, DNS_TYPE_TXT, collect, &g), 1);
        ASSERT_STREQ(g.text[0], "abcd");
        /* "abcd" and its NUL */
        ASSERT_EQ(dns_answer_txt_join(&g.rr[0], small, sizeof(small)), -ENOBUFS);
        ASSERT_EQ(dns_answer_txt_join(&g.rr[0], small, 0), -ENOBUFS);
        g.rr[0].type = DNS_TYPE_A;
        ASSERT_EQ(dns_answer_txt_join(&g.rr[0], small, sizeof(small)), -EINVAL);
}

int main(void) {
        test_table();
        test_visitor();
        test_name_length();
        test_max_size();
        test_txt_join();
        return 0;
}
