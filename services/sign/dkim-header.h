/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "services/sign/dkim-canon.h"
#include "shared/buf.h"
#include "shared/rfc5322.h"
#include "shared/limits.h"

/*
 * The header section as DKIM sees it (RFC 6376 §5.4), pure: the From:
 * domain used as d= (DMARC alignment, RFC 7489 §3.1), the choice of h=,
 * and the DKIM-Signature field itself. The section is split by
 * shared/rfc5322.c, the parser receive checks its output with.
 */

/* The most names h= may hold: every field of the section (the §5.4.1
 * list is a subset of them, each as often as it occurs) and each of
 * oversign_headers once more. So no header section sign's parser takes
 * can make h= too long; the config bounds oversign_headers
 * (DKIM_OVERSIGN_MAX in shared/limits.h). */
#define DKIM_SIGNED_NAMES_MAX (HEADER_FIELDS_MAX + DKIM_OVERSIGN_MAX)

/*
 * The author address of a From: value (RFC 5322 §3.6.2 mailbox-list with
 * exactly one mailbox). Writes the lower-cased domain and the local part.
 * -EBADMSG for no address, several addresses or a domain that is not a
 * plain ASCII host name (d= must be one).
 */
int header_from_address(const uint8_t *value, size_t n,
                        char local[static SMTP_LOCAL_PART_MAX + 1],
                        char domain[static SMTP_DOMAIN_MAX + 1]);

/*
 * The h= list: each header of RFC 6376 §5.4.1's list as often as it is
 * present, then each of @oversign once more, so that a field of that name
 * added later breaks the signature (§8.15). Names point to static or
 * @oversign strings.
 */
int dkim_signed_names(const HeaderSection *h, const uint8_t *msg, char * const *oversign,
                      const char **ret_names, size_t *ret_n);

/*
 * Appends the canonical header data for @names: for each name the last
 * not yet used field of that name, bottom up (§5.4.2); nothing for a
 * name with no field left.
 */
int dkim_canon_signed_headers(DkimCanon canon, const HeaderSection *h, const uint8_t *msg,
                              const char * const *names, size_t n_names, Buf *out);

typedef struct DkimSigParams {
        const char *alg;                /* "rsa-sha256" */
        const char *canon;              /* "relaxed/relaxed" */
        const char *domain;
        const char *selector;
        uint64_t timestamp;             /* t= */
        uint64_t expire;                /* x=; 0: none */
        const char * const *names;
        size_t n_names;
        const char *bh;                 /* base64 */
} DkimSigParams;

/*
 * Builds "DKIM-Signature: v=1; … b=" folded to lines under 78 octets,
 * without a final CRLF, ready to be canonicalized and hashed (§3.7);
 * dkim_signature_append_b() then appends the folded b= value and CRLF.
 */
int dkim_signature_format(const DkimSigParams *p, Buf *out);
int dkim_signature_append_b(Buf *out, const char *b64);
