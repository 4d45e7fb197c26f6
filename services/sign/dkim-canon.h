/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"

/*
 * DKIM canonicalization (RFC 6376 §3.4), pure: bytes in, canonical bytes
 * out. Header fields are small and go into a Buf; the body can be
 * megabytes, so it is handed to an emit callback as spans that point
 * into the input wherever the canonical form equals it (no copy).
 */
typedef enum DkimCanon {
        DKIM_CANON_SIMPLE,
        DKIM_CANON_RELAXED,
} DkimCanon;

/* Receives canonical body bytes in order; spans may point into the input. */
typedef void (*DkimEmitFn)(const uint8_t *p, size_t n, void *userdata);

/* "relaxed/simple" → header, body; "relaxed" alone means relaxed/simple (§3.5 c=). */
int dkim_canon_parse(const char *s, DkimCanon *ret_header, DkimCanon *ret_body);
const char *dkim_canon_to_string(DkimCanon c);

/*
 * Appends the canonical form of one header field. @field is the raw field
 * as it appears in the message (name, colon, value, folding included)
 * without its final CRLF; @crlf appends the CRLF that ends it (every
 * signed field but the DKIM-Signature being made, §3.7).
 */
int dkim_canon_header(DkimCanon c, const uint8_t *field, size_t n, bool crlf, Buf *out);

/* Emits the canonical form of the whole body p[0..n) (§3.4.3, §3.4.4). */
void dkim_canon_body(DkimCanon c, const uint8_t *p, size_t n, DkimEmitFn emit, void *userdata);
