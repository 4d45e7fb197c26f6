/* SPDX-License-Identifier: MIT */
#pragma once

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/*
 * DNS queries for the checks of `pochtar dns check` and `pochtar status`,
 * through libresolv only: res_nquery() asks the system resolver and
 * ns_initparse()/ns_parserr()/dn_expand() take the answer apart. Answers
 * are capped (DNS_ANSWERS_MAX) and every name is expanded into a buffer
 * of NS_MAXDNAME.
 */
#define DNS_ANSWERS_MAX 32

typedef struct DnsRecord {
        uint16_t pref;                  /* MX preference */
        struct in_addr addr;            /* A */
        char *name;                     /* MX exchange, PTR target */
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
 * Looks up @name/@type (ns_t_mx, ns_t_a, ns_t_txt, ns_t_ptr) and keeps the
 * records of that type (CNAMEs are followed by the resolver). Returns 0
 * with a->n ≥ 1, -ENXIO for NXDOMAIN, -ENODATA when the name exists without
 * such records, -EAGAIN for a temporary failure (SERVFAIL, timeout),
 * -EBADMSG for an answer that does not parse.
 */
int dns_lookup(const char *name, int type, DnsAnswer *ret);

/* "203.0.113.7" → "7.113.0.203.in-addr.arpa" */
void dns_reverse_name(struct in_addr a, char ret[static sizeof("255.255.255.255.in-addr.arpa")]);

/* A short text for a dns_lookup() error: "no such domain", … */
const char *dns_strerror(int r);
