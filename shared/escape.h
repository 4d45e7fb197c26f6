/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include "shared/buf.h"

/*
 * Censors untrusted text for logs, bounce reports and the queue: bytes
 * outside printable ASCII become '?', and text past @max bytes is cut with
 * "..." (Postfix printable(), qmail outsafe()). With @utf8, well-formed
 * UTF-8 sequences are kept.
 */
int escape_printable(const void *p, size_t n, size_t max, int utf8, Buf *out);
/* Same, into a fresh string; NULL on OOM. */
char *escape_printable_dup(const void *p, size_t n, size_t max);
