/* SPDX-License-Identifier: MIT */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "shared/config.h"
#include "shared/limits.h"
#include "shared/macro.h"

/*
 * The checks of `pochtar dns check`, one group per file: dns-check-host.c
 * (MX, SPF, PTR/HELO, MTA-STS, TLS-RPT), dns-check-dkim.c (DKIM keys,
 * DMARC and alignment), and here the one way they report: a line marked
 * ok/info/warn/FAIL, and for a FAIL the record or setting that fixes it.
 * Everything printed from DNS goes through check_show() first: a TXT
 * record is text anyone can publish.
 */

typedef struct Signer {
        char *domain;
        char *selector;
        char *key;              /* private key path, or NULL (--selector only) */
} Signer;

typedef struct DnsCheck {
        const Config *config;
        char domain[DNS_NAME_MAX + 1];
        struct in_addr ip;
        bool have_ip;
        Signer *signers;
        size_t n_signers;
        unsigned failures;
        unsigned warnings;
} DnsCheck;

typedef enum Verdict {
        VERDICT_OK,
        VERDICT_INFO,
        VERDICT_WARN,
        VERDICT_FAIL,
} Verdict;

void check_report(DnsCheck *c, Verdict v, const char *check, const char *fmt, ...) _printf_(4, 5);
void check_fix(const char *fmt, ...) _printf_(1, 2);
/* "NAME. IN TXT ..." split into <character-string>s of at most 255 octets */
void check_fix_txt(const char *name, const char *first, const char *text);
/* Untrusted DNS text, made printable and cut for display: a new string. */
char *check_show(const char *s);
bool check_name_eq(const char *a, const char *b);

void dns_check_mx(DnsCheck *c);
void dns_check_spf(DnsCheck *c);
void dns_check_ptr(DnsCheck *c);
void dns_check_optional(DnsCheck *c, const char *check, const char *prefix, const char *version,
                        const char *required_tag);

/* Who signs mail from the domain: [sign], the key table, --selector. */
int dns_check_signers(DnsCheck *c, char **selectors);
void dns_check_signers_free(DnsCheck *c);
void dns_check_dkim(DnsCheck *c);
void dns_check_dmarc(DnsCheck *c);
