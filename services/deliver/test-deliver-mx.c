/* SPDX-License-Identifier: MIT */
/* MX answer parsing against packets built here with dn_comp(). */
#include <arpa/nameser.h>
#include <resolv.h>

#include "services/deliver/deliver-mx.h"
#include "shared/macro.h"
#include "shared/tests.h"

typedef struct Packet {
        uint8_t buf[1024];
        size_t len;
        const uint8_t *dnptrs[16];
} Packet;

static void put16(Packet *p, unsigned v) {
        p->buf[p->len++] = (uint8_t) (v >> 8);
        p->buf[p->len++] = (uint8_t) v;
}

static void put_name(Packet *p, const char *name) {
        int n = dn_comp(name, p->buf + p->len, (int) (sizeof(p->buf) - p->len), (uint8_t **) p->dnptrs,
                        (uint8_t **) p->dnptrs + 16);
        ASSERT_TRUE(n > 0);
        p->len += (size_t) n;
}

static void begin(Packet *p, unsigned rcode, unsigned ancount, const char *qname, unsigned qtype) {
        *p = (Packet) {};
        p->dnptrs[0] = p->buf;
        put16(p, 0x1234);
        put16(p, 0x8180 | rcode);
        put16(p, 1);
        put16(p, ancount);
        put16(p, 0);
        put16(p, 0);
        put_name(p, qname);
        put16(p, qtype);
        put16(p, ns_c_in);
}

static void add_mx(Packet *p, const char *owner, unsigned pref, const char *exchange) {
        size_t rdlen_at;

        put_name(p, owner);
        put16(p, ns_t_mx);
        put16(p, ns_c_in);
        put16(p, 0);
        put16(p, 300);
        rdlen_at = p->len;
        put16(p, 0);
        put16(p, pref);
        put_name(p, exchange);
        p->buf[rdlen_at] = (uint8_t) ((p->len - rdlen_at - 2) >> 8);
        p->buf[rdlen_at + 1] = (uint8_t) (p->len - rdlen_at - 2);
}

/* A record whose RDATA length is stated, not measured: @rdata is raw
 * wire bytes, so a test can make a name end past or before it. */
static void add_raw(Packet *p, const char *owner, unsigned type, unsigned rdlen, const void *rdata, size_t size) {
        put_name(p, owner);
        put16(p, type);
        put16(p, ns_c_in);
        put16(p, 0);
        put16(p, 300);
        put16(p, rdlen);
        memcpy(p->buf + p->len, rdata, size);
        p->len += size;
}

static void add_a(Packet *p, const char *owner, const uint8_t ip[4]) {
        put_name(p, owner);
        put16(p, ns_t_a);
        put16(p, ns_c_in);
        put16(p, 0);
        put16(p, 300);
        put16(p, 4);
        memcpy(p->buf + p->len, ip, 4);
        p->len += 4;
}

int main(void) {
        Packet p;
        MxNames names;
        struct in_addr a[4];
        size_t n = 0;
        static const uint8_t ip1[4] = { 203, 0, 113, 25 }, ip2[4] = { 203, 0, 113, 26 };

        /* sorted by preference; equal ones keep answer order (shuffled later) */
        begin(&p, 0, 4, "example.org", ns_t_mx);
        add_mx(&p, "example.org", 20, "mx2.example.org");
        add_mx(&p, "example.org", 10, "mx1.example.org");
        add_mx(&p, "example.org", 10, "mx1b.example.org");
        add_mx(&p, "example.org", 5, "bad_name!.example.org");
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_OK);
        ASSERT_EQ(names.n, 3);
        ASSERT_STREQ(names.names[0].name, "mx1.example.org");
        ASSERT_STREQ(names.names[1].name, "mx1b.example.org");
        ASSERT_STREQ(names.names[2].name, "mx2.example.org");
        ASSERT_EQ(names.names[2].pref, 20);

        /* RFC 7505 null MX */
        begin(&p, 0, 1, "example.net", ns_t_mx);
        add_mx(&p, "example.net", 0, ".");
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_NULLMX);

        /* no MX records: fall back to A */
        begin(&p, 0, 0, "example.com", ns_t_mx);
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_NODATA);
        begin(&p, ns_r_nxdomain, 0, "nx.example.com", ns_t_mx);
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_NOTFOUND);
        begin(&p, ns_r_servfail, 0, "example.com", ns_t_mx);
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_RETRY);
        /* truncated packet */
        begin(&p, 0, 1, "example.org", ns_t_mx);
        add_mx(&p, "example.org", 10, "mx.example.org");
        ASSERT_EQ(mx_parse_mx(p.buf, p.len - 3, &names), MX_RETRY);

        /*
         * "\3mx1" with rdlength 6 has no terminating label: the next
         * record's owner (a pointer to "example.org") would complete it
         * as mx1.example.org if the name were read past its own record.
         */
        begin(&p, 0, 2, "example.org", ns_t_mx);
        add_raw(&p, "example.org", ns_t_mx, 2 + 4, "\0\12\3mx1", 6);
        add_mx(&p, "example.org", 20, "mx2.example.org");
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_OK);
        ASSERT_EQ(names.n, 1);
        ASSERT_STREQ(names.names[0].name, "mx2.example.org");
        /* nothing but that record: not proof of "no MX", so retry */
        begin(&p, 0, 2, "example.org", ns_t_mx);
        add_raw(&p, "example.org", ns_t_mx, 2 + 4, "\0\12\3mx1", 6);
        add_a(&p, "example.org", ip1);
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_RETRY);
        /* a whole name followed by a byte that belongs to no field */
        begin(&p, 0, 1, "example.org", ns_t_mx);
        add_raw(&p, "example.org", ns_t_mx, 2 + 6 + 1, "\0\12\3mx1\0\0", 9);
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_RETRY);
        /* the same record measured right is accepted */
        begin(&p, 0, 1, "example.org", ns_t_mx);
        add_raw(&p, "example.org", ns_t_mx, 2 + 6, "\0\12\3mx1\300\14", 8);
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_OK);
        ASSERT_EQ(names.n, 1);
        ASSERT_STREQ(names.names[0].name, "mx1.example.org");
        /* a malformed record next to a null MX must not bounce */
        begin(&p, 0, 2, "example.org", ns_t_mx);
        add_mx(&p, "example.org", 0, ".");
        add_raw(&p, "example.org", ns_t_mx, 2 + 6 + 1, "\0\12\3mx1\0\0", 9);
        ASSERT_EQ(mx_parse_mx(p.buf, p.len, &names), MX_RETRY);

        begin(&p, 0, 2, "mx.example.org", ns_t_a);
        add_a(&p, "mx.example.org", ip1);
        add_a(&p, "mx.example.org", ip2);
        ASSERT_EQ(mx_parse_a(p.buf, p.len, a, 4, &n), MX_OK);
        ASSERT_EQ(n, 2);
        ASSERT_EQ(memcmp(&a[1], ip2, 4), 0);
        ASSERT_EQ(mx_parse_a(p.buf, p.len, a, 1, &n), MX_OK);
        ASSERT_EQ(n, 1);
        /* an A record whose RDATA is not 4 bytes is skipped; alone, retry */
        begin(&p, 0, 2, "mx.example.org", ns_t_a);
        add_raw(&p, "mx.example.org", ns_t_a, 5, "\313\0\161\31\0", 5);
        add_a(&p, "mx.example.org", ip2);
        ASSERT_EQ(mx_parse_a(p.buf, p.len, a, 4, &n), MX_OK);
        ASSERT_EQ(n, 1);
        ASSERT_EQ(memcmp(&a[0], ip2, 4), 0);
        begin(&p, 0, 1, "mx.example.org", ns_t_a);
        add_raw(&p, "mx.example.org", ns_t_a, 5, "\313\0\161\31\0", 5);
        ASSERT_EQ(mx_parse_a(p.buf, p.len, a, 4, &n), MX_RETRY);
        return 0;
}
