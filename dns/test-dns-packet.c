/* SPDX-License-Identifier: MIT */
/* The DNS message builder of the tests (test-dns-packet.h). */
#include <arpa/nameser.h>

#include "dns/test-dns-packet.h"
#include "shared/macro.h"
#include "shared/tests.h"

void dns_packet_put16(DnsPacket *p, unsigned v) {
        ASSERT_TRUE(p->len + 2 <= sizeof(p->buf));
        p->buf[p->len++] = (uint8_t) (v >> 8);
        p->buf[p->len++] = (uint8_t) v;
}

void dns_packet_put_bytes(DnsPacket *p, const void *data, size_t size) {
        if (size == 0)
                return;
        ASSERT_TRUE(size <= sizeof(p->buf) - p->len);
        memcpy(p->buf + p->len, data, size);
        p->len += size;
}

void dns_packet_put_name(DnsPacket *p, const char *name) {
        int n = ns_name_compress(name, p->buf + p->len, sizeof(p->buf) - p->len, p->dnptrs,
                                 p->dnptrs + ELEMENTSOF(p->dnptrs));

        ASSERT_TRUE(n > 0);
        p->len += (size_t) n;
}

void dns_packet_begin(DnsPacket *p, unsigned rcode, unsigned ancount, unsigned nscount, const char *qname,
                      DnsType qtype) {
        p->len = 0;
        memset(p->dnptrs, 0, sizeof(p->dnptrs));
        p->dnptrs[0] = p->buf;
        dns_packet_put16(p, 0x1234);
        dns_packet_put16(p, 0x8180 | rcode);
        dns_packet_put16(p, 1);
        dns_packet_put16(p, ancount);
        dns_packet_put16(p, nscount);
        dns_packet_put16(p, 0);
        dns_packet_put_name(p, qname);
        dns_packet_put16(p, qtype);
        dns_packet_put16(p, DNS_CLASS_IN);
}

void dns_packet_put_rr_fields(DnsPacket *p, DnsType type, unsigned class, unsigned rdlen) {
        dns_packet_put16(p, type);
        dns_packet_put16(p, class);
        dns_packet_put16(p, 0);
        dns_packet_put16(p, 300);
        dns_packet_put16(p, rdlen);
}

void dns_packet_put_rr_head(DnsPacket *p, const char *owner, DnsType type, unsigned class, unsigned rdlen) {
        dns_packet_put_name(p, owner);
        dns_packet_put_rr_fields(p, type, class, rdlen);
}

void dns_packet_add_raw(DnsPacket *p, const char *owner, DnsType type, const void *rdata, size_t size) {
        dns_packet_put_rr_head(p, owner, type, DNS_CLASS_IN, (unsigned) size);
        dns_packet_put_bytes(p, rdata, size);
}

void dns_packet_add_a(DnsPacket *p, const char *owner, const uint8_t ip[4]) {
        dns_packet_add_raw(p, owner, DNS_TYPE_A, ip, 4);
}

/* RDLENGTH is known once the compressed name is written */
static void put_rdata_name(DnsPacket *p, const char *owner, DnsType type, const uint8_t *head, size_t head_size,
                           const char *name) {
        size_t rdlen_at, start;

        dns_packet_put_rr_head(p, owner, type, DNS_CLASS_IN, 0);
        rdlen_at = p->len - 2;
        start = p->len;
        dns_packet_put_bytes(p, head, head_size);
        dns_packet_put_name(p, name);
        p->buf[rdlen_at] = (uint8_t) ((p->len - start) >> 8);
        p->buf[rdlen_at + 1] = (uint8_t) (p->len - start);
}

void dns_packet_add_mx(DnsPacket *p, const char *owner, unsigned pref, const char *exchange) {
        uint8_t b[2] = { (uint8_t) (pref >> 8), (uint8_t) pref };

        put_rdata_name(p, owner, DNS_TYPE_MX, b, sizeof(b), exchange);
}

void dns_packet_add_name(DnsPacket *p, const char *owner, DnsType type, const char *target) {
        put_rdata_name(p, owner, type, NULL, 0, target);
}
