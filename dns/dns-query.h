/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "dns/dns-answer.h"
#include "shared/macro.h"

/*
 * The system resolver, through libresolv's res_nquery(): a handle reads
 * resolv.conf once (res_ninit) and serves several queries, one at a time;
 * a thread uses its own. The answer goes to a buffer of the handle's, of
 * DNS_MESSAGE_MAX bytes, for dns_answer_parse().
 */
typedef struct DnsResolver DnsResolver;

/* -ENOMEM, or -EAGAIN when res_ninit() fails. */
int dns_resolver_new(DnsResolver **ret);
DnsResolver *dns_resolver_free(DnsResolver *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(DnsResolver *, dns_resolver_free);

/*
 * dns_query() - asks for @name/@type in class IN. Returns the answer's
 * length with *ret_answer pointing at it, valid until the next query on
 * @r; or, from libresolv's h_errno when there is no answer:
 * -ENXIO     NXDOMAIN (HOST_NOT_FOUND),
 * -ENODATA   the name exists without records of @type (NO_DATA),
 * -EBADMSG   an answer libresolv could not use (NO_RECOVERY: FORMERR,
 *            REFUSED, NOTIMP, or a reply it could not parse),
 * -EAGAIN    anything else (TRY_AGAIN: SERVFAIL, timeout).
 * res_nquery() already refuses a reply with any RCODE but NOERROR or
 * without answers; dns_answer_parse() checks it all again.
 */
int dns_query(DnsResolver *r, const char *name, DnsType type, const uint8_t **ret_answer);
