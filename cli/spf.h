/* SPDX-License-Identifier: MIT */
#pragma once

#include <netinet/in.h>
#include <stddef.h>

/*
 * A bounded SPF evaluator (RFC 7208 check_host()) for one IPv4 address,
 * enough to tell an admin whether their record covers the server: ip4,
 * a, mx, include, exists, all with qualifiers, and redirect=. ip6 never
 * matches an IPv4 address; ptr and macros are not evaluated (the result
 * is then SPF_UNCHECKED, never a guess). The limit of 10 DNS-querying
 * terms (§4.6.4) is enforced; past it the result is permerror, as a
 * receiver would decide.
 */
typedef enum SpfResult {
        SPF_NONE,
        SPF_NEUTRAL,
        SPF_PASS,
        SPF_FAIL,
        SPF_SOFTFAIL,
        SPF_TEMPERROR,
        SPF_PERMERROR,
        SPF_UNCHECKED,
} SpfResult;

/* RFC 7208 §4.6.4 */
#define SPF_DNS_LOOKUPS_MAX 10
/* RFC 7208 §4.6.4: MX names looked at per mx mechanism */
#define SPF_MX_NAMES_MAX 10

/* A pure helper: whether @text is an SPF record ("v=spf1" then SP or end). */
int spf_is_record(const char *text);

/*
 * Evaluates the policy of @domain for @ip. *ret_why gets a short,
 * printable explanation (the deciding term and the domain of its record).
 */
SpfResult spf_check_host(struct in_addr ip, const char *domain, char *ret_why, size_t why_size);

const char *spf_result_to_string(SpfResult r);
