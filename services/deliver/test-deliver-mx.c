/* SPDX-License-Identifier: MIT */
/* deliver's MX policy over answers built with dns/'s test builder. */
#include "dns/test-dns-packet.h"
#include "services/deliver/deliver-mx.h"
#include "shared/macro.h"
#include "shared/tests.h"

int main(void) {
        static DnsPacket p;
        MxNames names;
        struct in_addr a[4];
        size_t n = 0;
        static const uint8_t ip1[4] = { 203, 0, 113, 25 }, ip2[4] = { 203, 0, 113, 26 };

        /* sorted by preference; equal ones keep answer order (shuffled later) */
        dns_packet_begin(&p, 0, 4, 0, "example.org", DNS_TYPE_MX);
        dns_packet_add_mx(&p, "example.org", 20, "mx2.example.org");
        dns_packet_add_mx(&p, "example.org", 10, "mx1.example.org");
        dns_packet_add_mx(&p, "example.org", 10, "mx1b.example.org");
        dns_packet_add_mx(&p, "example.org", 5, "bad_name!.example.org");
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_OK);
        ASSERT_EQ(names.n, 3);
        ASSERT_STREQ(names.names[0].name, "mx1.example.org");
        ASSERT_STREQ(names.names[1].name, "mx1b.example.org");
        ASSERT_STREQ(names.names[2].name, "mx2.example.org");
        ASSERT_EQ(names.names[2].pref, 20);

        /* RFC 7505 null MX */
        dns_packet_begin(&p, 0, 1, 0, "example.net", DNS_TYPE_MX);
        dns_packet_add_mx(&p, "example.net", 0, ".");
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_NULLMX);

        /* no MX records: fall back to A */
        dns_packet_begin(&p, 0, 0, 0, "example.com", DNS_TYPE_MX);
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_NODATA);
        dns_packet_begin(&p, DNS_RCODE_NXDOMAIN, 0, 0, "nx.example.com", DNS_TYPE_MX);
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_NOTFOUND);
        dns_packet_begin(&p, DNS_RCODE_SERVFAIL, 0, 0, "example.com", DNS_TYPE_MX);
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_RETRY);
        /* truncated packet */
        dns_packet_begin(&p, 0, 1, 0, "example.org", DNS_TYPE_MX);
        dns_packet_add_mx(&p, "example.org", 10, "mx.example.org");
        ASSERT_EQ(mx_parse_mx(p.buf, p.len - 3, &names), MX_RETRY);

        /*
         * "\3mx1" with rdlength 6 has no terminating label: the next
         * record's owner (a pointer to "example.org") would complete it
         * as mx1.example.org if the name were read past its own record.
         */
        dns_packet_begin(&p, 0, 2, 0, "example.org", DNS_TYPE_MX);
        dns_packet_add_raw(&p, "example.org", DNS_TYPE_MX, "\0\12\3mx1", 6);
        dns_packet_add_mx(&p, "example.org", 20, "mx2.example.org");
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_OK);
        ASSERT_EQ(names.n, 1);
        ASSERT_STREQ(names.names[0].name, "mx2.example.org");
        /* nothing but that record: not proof of "no MX", so retry */
        dns_packet_begin(&p, 0, 2, 0, "example.org", DNS_TYPE_MX);
        dns_packet_add_raw(&p, "example.org", DNS_TYPE_MX, "\0\12\3mx1", 6);
        dns_packet_add_a(&p, "example.org", ip1);
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_RETRY);
        /* a whole name followed by a byte that belongs to no field */
        dns_packet_begin(&p, 0, 1, 0, "example.org", DNS_TYPE_MX);
        dns_packet_add_raw(&p, "example.org", DNS_TYPE_MX, "\0\12\3mx1\0\0", 9);
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_RETRY);
        /* the same record measured right is accepted */
        dns_packet_begin(&p, 0, 1, 0, "example.org", DNS_TYPE_MX);
        dns_packet_add_raw(&p, "example.org", DNS_TYPE_MX, "\0\12\3mx1\300\14", 8);
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_OK);
        ASSERT_EQ(names.n, 1);
        ASSERT_STREQ(names.names[0].name, "mx1.example.org");
        /* a malformed record next to a null MX must not bounce */
        dns_packet_begin(&p, 0, 2, 0, "example.org", DNS_TYPE_MX);
        dns_packet_add_mx(&p, "example.org", 0, ".");
        dns_packet_add_raw(&p, "example.org", DNS_TYPE_MX, "\0\12\3mx1\0\0", 9);
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_RETRY);

        dns_packet_begin(&p, 0, 2, 0, "mx.example.org", DNS_TYPE_A);
        dns_packet_add_a(&p, "mx.example.org", ip1);
        dns_packet_add_a(&p, "mx.example.org", ip2);
        ASSERT_EQ(mx_parse_a(p.buf, p.len, a, 4, &n), MX_OK);
        ASSERT_EQ(n, 2);
        ASSERT_EQ(memcmp(&a[1], ip2, 4), 0);
        ASSERT_EQ(mx_parse_a(p.buf, p.len, a, 1, &n), MX_OK);
        ASSERT_EQ(n, 1);
        /* an A record whose RDATA is not 4 bytes is skipped; alone, retry */
        dns_packet_begin(&p, 0, 2, 0, "mx.example.org", DNS_TYPE_A);
        dns_packet_add_raw(&p, "mx.example.org", DNS_TYPE_A, "\313\0\161\31\0", 5);
        dns_packet_add_a(&p, "mx.example.org", ip2);
        ASSERT_EQ(mx_parse_a(p.buf, p.len, a, 4, &n), MX_OK);
        ASSERT_EQ(n, 1);
        ASSERT_EQ(memcmp(&a[0], ip2, 4), 0);
        dns_packet_begin(&p, 0, 1, 0, "mx.example.org", DNS_TYPE_A);
        dns_packet_add_raw(&p, "mx.example.org", DNS_TYPE_A, "\313\0\161\31\0", 5);
        ASSERT_EQ(mx_parse_a(p.buf, p.len, a, 4, &n), MX_RETRY);
        return 0;
}
