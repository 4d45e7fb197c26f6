/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * The tag=value lists of DKIM key records (RFC 6376 §3.2), DMARC
 * (RFC 7489 §6.4), MTA-STS (RFC 8461 §3.1) and TLS-RPT (RFC 8460 §3)
 * TXT records. Pure: spans into the caller's text, no allocation.
 */
#define DNS_TAGS_MAX 32

typedef struct DnsTag {
        const char *name;
        size_t name_len;
        const char *value;
        size_t value_len;
} DnsTag;

/*
 * Parses p[0..n). Returns 0 and the tags in order, -EBADMSG on a syntax
 * error (*ret_error names it), -ENOTUNIQ for a tag given twice (RFC 6376
 * §3.2: "MUST be interpreted as a syntax error"), -E2BIG past @max tags.
 */
int dns_tags_parse(const char *p, size_t n, DnsTag *tags, size_t max, size_t *ret_n,
                   const char **ret_error);
const DnsTag *dns_tags_find(const DnsTag *tags, size_t n, const char *name);
/* Whether the tag's value equals @s (case-sensitive, as tag values are). */
int dns_tag_is(const DnsTag *t, const char *s);
