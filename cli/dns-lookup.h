/* SPDX-License-Identifier: MIT */
#pragma once

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns-answer.h"

/*
 * DNS queries for the checks of `pochtar dns check` and `pochtar status`,
 * through dns/: dns_query() asks the system resolver and
 * dns_answer_parse() reads the answer, as it does for deliver. The CLI's
 * own policy is stricter than deliver's: one malformed record fails the
 * whole lookup. Answers are capped (DNS_ANSWERS_MAX).
 */
#define DNS_ANSWERS_MAX 32

typedef struct DnsRecord {
        uint16_t pref;                  /* MX preference */
        struct in_addr addr;            /* A */
        char *name;                     /* MX exchange, PTR target; "" for the root (a null MX) */
        char *text;                     /* TXT: the character-strings concatenated */
        size_t n_strings;               /* TXT: how many character-strings */
        size_t longest_string;          /* TXT: the longest one, in bytes */
} DnsRecord;

typedef struct DnsAnswer {
        DnsRecord records[DNS_ANSWERS_MAX];
        size_t n;
} DnsAnswer;

void dns_answer_done(DnsAnswer *a);

/*
 * Pure: the records of @type (A, MX, PTR, TXT) in an answer, the first
 * DNS_ANSWERS_MAX of them. Returns 0 with a->n ≥ 1, or dns_answer_parse()'s
 * errors, -EBADMSG too for a record of the wrong shape, or -ENOMEM.
 */
int dns_lookup_parse(const uint8_t *msg, size_t len, DnsType type, DnsAnswer *ret);

/*
 * Looks up @name/@type and keeps the records of that type (CNAMEs are
 * followed by the resolver). Returns 0 with a->n ≥ 1, -ENXIO for NXDOMAIN,
 * -ENODATA when the name exists without such records, -EAGAIN for a
 * temporary failure (SERVFAIL, timeout), -EBADMSG for an answer that does
 * not parse or holds a malformed record.
 */
int dns_lookup(const char *name, DnsType type, DnsAnswer *ret);

/* "203.0.113.7" → "7.113.0.203.in-addr.arpa" */
void dns_reverse_name(struct in_addr a, char ret[static sizeof("255.255.255.255.in-addr.arpa")]);

/* A short text for a dns_lookup() error: "no such domain", … */
const char *dns_strerror(int r);
