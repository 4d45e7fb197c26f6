/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "services/sign/dkim-canon.h"
#include "shared/buf.h"
#include "shared/limits.h"

/*
 * The header section as DKIM sees it (RFC 6376 §5.4), pure: a parser
 * that splits the message into fields (folding kept, caps enforced), the
 * From: domain used as d= (DMARC alignment, RFC 7489 §3.1), the choice of
 * h=, and the DKIM-Signature field itself.
 */

/* Postfix header_address_token_limit-style cap on the number of fields. */
#define DKIM_HEADER_FIELDS_MAX 1000
/* Signed names in one h= (the §5.4.1 list, repeats and over-signing). */
#define DKIM_SIGNED_NAMES_MAX 128

typedef struct HeaderField {
        size_t offset;          /* into the message */
        size_t len;             /* the field without its final CRLF */
        size_t name_len;        /* name, without WSP before the colon */
} HeaderField;

typedef struct HeaderSection {
        HeaderField *fields;
        size_t n_fields;
        size_t body_offset;     /* first body byte; == message length if none */
} HeaderSection;

void header_section_done(HeaderSection *h);

/*
 * Splits @msg into header fields and body. -EBADMSG for a line that is
 * neither a field nor a continuation (no colon, empty name, control
 * bytes in the name) or a continuation before any field; -EMSGSIZE past
 * HEADER_SECTION_MAX, HEADER_NAME_MAX, HEADER_VALUE_MAX or
 * DKIM_HEADER_FIELDS_MAX.
 */
int header_section_parse(const uint8_t *msg, size_t n, HeaderSection *ret);

/* Index of the only field named @name; -ENOENT if none, -ENOTUNIQ if several. */
int header_section_find_one(const HeaderSection *h, const uint8_t *msg, const char *name, size_t *ret_index);

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
