/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "shared/buf.h"

/*
 * The shape every RFC 3464 report deliver writes must have, whatever
 * the values in it: CRLF lines only; exactly the report's own header
 * fields; exactly three parts, delimited by @boundary; in the
 * message/delivery-status part only the fields RFC 3464 names, one
 * Final-Recipient per recipient (@n_rcpts); Original-Envelope-Id at most
 * once and equal to @envid, Original-Recipient equal to @orcpt (each
 * NULL: not checked). Aborts on any difference (tests and fuzzers).
 */
void report_check(const Buf *b, const char *boundary, size_t n_rcpts, const char *envid, const char *orcpt);
