/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Not a test: the DNS messages the tests of dns/ and of deliver's MX
 * policy build, byte by byte, so that each can be as wrong as a case
 * needs. Names are written compressed against the ones before them.
 */
#include <stddef.h>
#include <stdint.h>

#include "dns/dns-answer.h"

enum {
        DNS_RCODE_NOERROR = 0,
        DNS_RCODE_SERVFAIL = 2,
        DNS_RCODE_NXDOMAIN = 3,
        DNS_RCODE_REFUSED = 5,
};

enum {
        DNS_CLASS_IN = 1,
        DNS_CLASS_CH = 3,
};

typedef struct DnsPacket {
        uint8_t buf[DNS_MESSAGE_MAX + 1];
        size_t len;
        const uint8_t *dnptrs[16];
} DnsPacket;

/* A response header (QR, RD, RA, @rcode), @ancount answers and @nscount
 * authority records to follow, and the question @qname/@qtype. */
void dns_packet_begin(DnsPacket *p, unsigned rcode, unsigned ancount, unsigned nscount, const char *qname,
                      DnsType qtype);
void dns_packet_put16(DnsPacket *p, unsigned v);
void dns_packet_put_bytes(DnsPacket *p, const void *data, size_t size);
/* @name compressed against the names written so far. */
void dns_packet_put_name(DnsPacket *p, const char *name);
/* What follows a record's owner: type, class, TTL and RDLENGTH (@rdlen,
 * stated, not measured); the RDATA is the caller's to put. */
void dns_packet_put_rr_fields(DnsPacket *p, DnsType type, unsigned class, unsigned rdlen);
/* The owner, compressed, then the same. */
void dns_packet_put_rr_head(DnsPacket *p, const char *owner, DnsType type, unsigned class, unsigned rdlen);
/* A record of class IN whose RDATA is @rdata, raw wire bytes. */
void dns_packet_add_raw(DnsPacket *p, const char *owner, DnsType type, const void *rdata, size_t size);
void dns_packet_add_a(DnsPacket *p, const char *owner, const uint8_t ip[4]);
void dns_packet_add_mx(DnsPacket *p, const char *owner, unsigned pref, const char *exchange);
/* PTR or CNAME: RDATA that is one compressed name. */
void dns_packet_add_name(DnsPacket *p, const char *owner, DnsType type, const char *target);
