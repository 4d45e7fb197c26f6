/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include "shared/buf.h"

/*
 * xtext, RFC 3461 §4: every byte outside "!".."~", and "+" and "=", is
 * written as "+XX". The spool envelope stores every variable field in
 * xtext, so no byte a client or remote server sends can contain a space
 * or a newline there and forge a field.
 */
int xtext_encode(Buf *out, const void *p, size_t n);
int xtext_decode(const char *p, size_t n, Buf *out);   /* -EINVAL on malformed */
int xtext_valid(const char *p, size_t n);               /* 1 valid, 0 not */
