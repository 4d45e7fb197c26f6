/* SPDX-License-Identifier: MIT */
/*
 * The CLI's lookup policy on top of dns_answer_parse(): records copied
 * out whole, a null MX as "", the cap, and any malformed record failing
 * the lookup, which `pochtar dns check` then reports.
 */
#include <arpa/inet.h>
#include <errno.h>

#include "cli/dns-lookup.h"
#include "dns/test-dns-packet.h"
#include "shared/macro.h"
#include "shared/tests.h"

static DnsPacket p;

static void test_records(void) {
        static const uint8_t ip[4] = { 203, 0, 113, 25 };
        DnsAnswer a;

        dns_packet_begin(&p, 0, 3, 0, "example.org", DNS_TYPE_MX);
        dns_packet_add_mx(&p, "example.org", 20, "mx2.example.org");
        dns_packet_add_mx(&p, "example.org", 10, "mx1.example.org");
        dns_packet_add_mx(&p, "example.org", 0, ".");
        ASSERT_OK(dns_lookup_parse(p.buf, p.len, DNS_TYPE_MX, &a));
        ASSERT_EQ(a.n, 3);
        ASSERT_EQ(a.records[0].pref, 20);
        ASSERT_STREQ(a.records[0].name, "mx2.example.org");
        ASSERT_STREQ(a.records[1].name, "mx1.example.org");
        /* what dns-check-host.c and smtp-probe.c take for a null MX */
        ASSERT_EQ(a.records[2].pref, 0);
        ASSERT_STREQ(a.records[2].name, "");
        dns_answer_done(&a);

        dns_packet_begin(&p, 0, 2, 0, "www.example.org", DNS_TYPE_A);
        dns_packet_add_name(&p, "www.example.org", DNS_TYPE_CNAME, "web.example.net");
        dns_packet_add_a(&p, "web.example.net", ip);
        ASSERT_OK(dns_lookup_parse(p.buf, p.len, DNS_TYPE_A, &a));
        ASSERT_EQ(a.n, 1);
        ASSERT_STREQ(inet_ntoa(a.records[0].addr), "203.0.113.25");
        dns_answer_done(&a);

        dns_packet_begin(&p, 0, 1, 0, "25.113.0.203.in-addr.arpa", DNS_TYPE_PTR);
        dns_packet_add_name(&p, "25.113.0.203.in-addr.arpa", DNS_TYPE_PTR, "mail.example.org");
        ASSERT_OK(dns_lookup_parse(p.buf, p.len, DNS_TYPE_PTR, &a));
        ASSERT_EQ(a.n, 1);
        ASSERT_STREQ(a.records[0].name, "mail.example.org");
        dns_answer_done(&a);

        dns_packet_begin(&p, 0, 1, 0, "example.org", DNS_TYPE_TXT);
        dns_packet_add_raw(&p, "example.org", DNS_TYPE_TXT, "\7v=spf1 \4-all", 13);
        ASSERT_OK(dns_lookup_parse(p.buf, p.len, DNS_TYPE_TXT, &a));
        ASSERT_EQ(a.n, 1);
        ASSERT_STREQ(a.records[0].text, "v=spf1 -all");
        ASSERT_EQ(a.records[0].n_strings, 2);
        ASSERT_EQ(a.records[0].longest_string, 7);
        dns_answer_done(&a);
}

/* No answer, or no record of the type: the errors dns_strerror() names. */
static void test_errors(void) {
        DnsAnswer a;

        dns_packet_begin(&p, DNS_RCODE_NXDOMAIN, 0, 0, "nx.example.org", DNS_TYPE_MX);
        ASSERT_EQ(dns_lookup_parse(p.buf, p.len, DNS_TYPE_MX, &a), -ENXIO);
        ASSERT_EQ(a.n, 0);
        dns_packet_begin(&p, 0, 0, 0, "example.org", DNS_TYPE_MX);
        ASSERT_EQ(dns_lookup_parse(p.buf, p.len, DNS_TYPE_MX, &a), -ENODATA);
        dns_packet_begin(&p, DNS_RCODE_SERVFAIL, 0, 0, "example.org", DNS_TYPE_MX);
        ASSERT_EQ(dns_lookup_parse(p.buf, p.len, DNS_TYPE_MX, &a), -EAGAIN);
        /* ANCOUNT 1, and no record */
        dns_packet_begin(&p, 0, 1, 0, "example.org", DNS_TYPE_MX);
        ASSERT_EQ(dns_lookup_parse(p.buf, p.len, DNS_TYPE_MX, &a), -EBADMSG);
}

/*
 * One record of the wrong shape fails the lookup, whatever else the
 * answer holds. Before dns/, the CLI expanded a name without checking
 * where it ended: the first case here read as "mx1.example.org".
 */
static void test_malformed(void) {
        static const struct {
                DnsType type;
                const char *rdata;
                size_t size;
        } bad[] = {
                { DNS_TYPE_MX, "\0\12\3mx1", 6 },               /* runs on into the next record */
                { DNS_TYPE_MX, "\0\12\3mx1\0\0", 8 },           /* stops short */
                { DNS_TYPE_MX, "\0\12", 2 },
                { DNS_TYPE_PTR, "\4mail", 5 },
                { DNS_TYPE_PTR, "\4mail\0\0", 7 },
                { DNS_TYPE_A, "\313\0\161", 3 },
                { DNS_TYPE_TXT, "\3a\0b", 4 },
                { DNS_TYPE_TXT, "\5abc", 4 },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                DnsAnswer a;

                dns_packet_begin(&p, 0, 3, 0, "example.org", bad[i].type);
                dns_packet_add_raw(&p, "example.org", DNS_TYPE_TXT, "\2ok", 3);
                dns_packet_add_raw(&p, "example.org", bad[i].type, bad[i].rdata, bad[i].size);
                dns_packet_add_mx(&p, "example.org", 10, "example.org");
                ASSERT_EQ(dns_lookup_parse(p.buf, p.len, bad[i].type, &a), -EBADMSG);
                ASSERT_EQ(a.n, 0);
        }
}

/* DNS_ANSWERS_MAX records are kept, and what follows them is not read. */
static void test_cap(void) {
        DnsAnswer a;

        dns_packet_begin(&p, 0, DNS_ANSWERS_MAX + 2, 0, "example.org", DNS_TYPE_A);
        for (unsigned i = 0; i < DNS_ANSWERS_MAX + 1; i++) {
                uint8_t ip[4] = { 203, 0, 113, (uint8_t) i };

                dns_packet_add_a(&p, "example.org", ip);
        }
        dns_packet_add_raw(&p, "example.org", DNS_TYPE_A, "\1", 1);
        ASSERT_OK(dns_lookup_parse(p.buf, p.len, DNS_TYPE_A, &a));
        ASSERT_EQ(a.n, DNS_ANSWERS_MAX);
        ASSERT_STREQ(inet_ntoa(a.records[DNS_ANSWERS_MAX - 1].addr), "203.0.113.31");
        dns_answer_done(&a);
}

int main(void) {
        test_records();
        test_errors();
        test_malformed();
        test_cap();
        return 0;
}
