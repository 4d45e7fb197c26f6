/* SPDX-License-Identifier: MIT */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/limits.h"

/*
 * A DNS response, as res_nquery() returns it, taken apart: pure code over
 * (pointer, length), no resolver, no allocation, bounded by
 * DNS_MESSAGE_MAX (shared/limits.h). The header, the sections and the
 * names of the records are checked as libresolv's ns_initparse() and
 * ns_parserr() check them; in the RDATA of the types pochtar asks for,
 * one rule per field:
 *
 * - a name (MX exchange, PTR or CNAME target) must end exactly where its
 *   RDATA ends: compression pointers may lead anywhere in the message,
 *   but the bytes read in place are the RDATA's and nothing else;
 * - A RDATA is exactly 4 bytes; MX RDATA is a preference and a name;
 * - TXT RDATA is character-strings (RFC 1035 §3.3.14), each a length
 *   octet and that many bytes, none holding a NUL.
 *
 * A record of the asked type that breaks its rule is handed over flagged
 * malformed: whether that fails the answer is the caller's policy.
 */

/* The record types asked for, by their wire values (RFC 1035 §3.2.2). */
typedef enum DnsType {
        DNS_TYPE_A = 1,
        DNS_TYPE_CNAME = 5,             /* skipped in a chain; asked for, its RDATA is a name */
        DNS_TYPE_PTR = 12,
        DNS_TYPE_MX = 15,
        DNS_TYPE_TXT = 16,
} DnsType;

/* A name in presentation form with its NUL (RFC 1035 §5.1: "\." for a dot
 * inside a label, "\DDD" for an octet that is not visible ASCII), as
 * ns_name_uncompress() writes it: 255 octets on the wire, each as up to
 * four characters (NS_MAXDNAME). */
#define DNS_RR_NAME_SIZE 1025

typedef struct DnsText {
        size_t n_strings;               /* character-strings in the RDATA (none for an empty RDATA) */
        size_t longest;                 /* the longest one, in bytes */
        size_t length;                  /* their concatenation, in bytes */
} DnsText;

/* One answer record of the asked type, as the visitor sees it; only
 * valid during the call. */
typedef struct DnsRR {
        DnsType type;
        bool malformed;                 /* RDATA of the wrong shape: no field below is set */
        const uint8_t *rdata;           /* inside the message */
        size_t rdlen;
        struct in_addr addr;            /* A */
        uint16_t pref;                  /* MX */
        char name[DNS_RR_NAME_SIZE];    /* MX exchange, PTR target; "" for the root, as dn_expand() gives it */
        DnsText text;                   /* TXT; the text itself from dns_answer_txt_join() */
} DnsRR;

/* What a visitor returns to stop without an error; a negative errno
 * stops and becomes dns_answer_parse()'s result; 0 goes on. */
#define DNS_VISIT_STOP 1

typedef int (*DnsVisitFn)(const DnsRR *rr, void *userdata);

/*
 * dns_answer_parse() - hands each answer-section record of class IN and
 * type @type to @visit, in answer order. Records of other types (the
 * CNAME chain the resolver followed) and classes are skipped. A message
 * longer than DNS_MESSAGE_MAX is refused unread.
 *
 * Returns the number of records handed over (≥ 1), or
 * -ENODATA   NOERROR, but no record of @type,
 * -ENXIO     NXDOMAIN,
 * -EAGAIN    any other RCODE (SERVFAIL, REFUSED, …),
 * -EBADMSG   a message or a record that does not parse (header, sections,
 *            an owner name),
 * or the negative errno @visit returned.
 */
int dns_answer_parse(const uint8_t *msg, size_t len, DnsType type, DnsVisitFn visit, void *userdata);

/*
 * The text of a well-formed TXT record: its character-strings
 * concatenated (RFC 7208 §3.3, RFC 6376 §3.6.2.2) into @buf with a NUL,
 * which needs rr->text.length + 1 bytes. Returns rr->text.length,
 * -ENOBUFS if @size is too small, -EINVAL for any other record.
 */
int dns_answer_txt_join(const DnsRR *rr, char *buf, size_t size);
