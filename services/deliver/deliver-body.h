/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The scans deliver makes over the bodies it sends, kept apart so that a
 * unit test can hold them against a plain byte loop.
 */

/* Whether any byte of @p[0..@n) has its high bit set (BODY=8BITMIME). */
bool body_has_8bit(const uint8_t *p, size_t n);

/*
 * The length of @p up to and with the first LF that a "." follows, or @n:
 * the span that can be sent as it is before RFC 5321 §4.5.2's dot
 * stuffing needs one more ".".
 */
size_t body_span_to_lf_dot(const uint8_t *p, size_t n);

/*
 * Whether @p[0..@n) holds a CR not followed by LF or an LF not preceded
 * by CR. No stage writes one (receive ends every line in CRLF), and a
 * server that reads a bare LF as a line end could be made to see SMTP
 * commands in the body (outbound smuggling): deliver sends no such body.
 */
bool body_has_bare_cr_lf(const uint8_t *p, size_t n);
