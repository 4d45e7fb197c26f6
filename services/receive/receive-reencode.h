/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"

/*
 * A line longer than RFC 5321 §4.5.3.1.6 allows (998 octets and CRLF)
 * must not leave the machine: a server may cut or refuse it, and a cut
 * breaks the DKIM signature. Applications send such lines all the time
 * (HTML on one line, long CSV rows, cron output), so receive re-encodes
 * the message before sign signs it, as a careful MTA would:
 *
 * - a header line too long is folded at its last white space that keeps
 *   each piece within the limit (RFC 5322 §2.2.3);
 * - a leaf part (the message itself when it is not multipart) whose body
 *   has a long line is re-encoded: 7bit, 8bit or binary (or none given)
 *   as quoted-printable (RFC 2045 §6.7), its Content-Transfer-Encoding
 *   field replaced (and MIME-Version added to a message without one);
 *   base64 is wrapped at 76 characters; quoted-printable gets soft line
 *   breaks;
 * - multipart parts are walked, to MIME_DEPTH_MAX levels.
 *
 * What cannot be re-encoded that way is refused (-EBADMSG with the reason
 * in *ret_why, for the session's 550 5.6.0): a header line with no white
 * space to fold at, a long line inside an attached message (a message type),
 * in a multipart preamble or epilogue, or in a part of an unknown
 * transfer encoding, a multipart without its boundary, or nesting deeper
 * than MIME_DEPTH_MAX. Pure: @msg is a whole message with CRLF lines,
 * header section first; the result is appended to @out.
 */
#define MIME_DEPTH_MAX 10

int reencode_long_lines(const uint8_t *msg, size_t n, Buf *out, const char **ret_why);

/* Whether p[0..n) holds a line (CRLF-separated) over 998 octets. */
bool has_long_line(const uint8_t *p, size_t n);
