/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "shared/buf.h"

/*
 * The DSN parameters of RFC 3461 (and the "utf-8" address type of RFC
 * 6533): the values a client gives on MAIL and RCPT that are stored in
 * the envelope and leave the machine again, in deliver's MAIL and RCPT
 * commands and in RFC 3464 reports. Their grammar lives here and only
 * here: receive checks a client's values with it, envelope_parse()
 * checks a queue file's values with it again, and the writers refuse
 * what it refuses. Every value is data: once decoded, none holds a byte
 * that could end a command line or a header field (no CR, LF, NUL or
 * other control). Pure.
 */

typedef enum DsnNotify {
        DSN_NOTIFY_NEVER = 1 << 0,
        DSN_NOTIFY_SUCCESS = 1 << 1,
        DSN_NOTIFY_FAILURE = 1 << 2,
        DSN_NOTIFY_DELAY = 1 << 3,
} DsnNotify;

typedef enum DsnRet {
        DSN_RET_UNSET = 0,
        DSN_RET_FULL,
        DSN_RET_HDRS,
} DsnRet;

/* RFC 3461 §4.2: the address type is an atom naming a registered type
 * ("rfc822", "utf-8", "x400", "unknown"); names are letters, digits and
 * hyphens, and this bounds them. */
#define DSN_ADDR_TYPE_MAX 32

const char *dsn_ret_to_string(DsnRet r);
/* "FULL" or "HDRS", case-insensitive (RFC 3461 §4.3); DSN_RET_UNSET otherwise. */
DsnRet dsn_ret_from_string(const char *p, size_t n);
int dsn_notify_format(unsigned notify, Buf *out);
/* RFC 3461 §4.1: NEVER alone, or any of SUCCESS, FAILURE, DELAY, each
 * once, comma-separated, case-insensitive. -EINVAL otherwise. */
int dsn_notify_parse(const char *p, size_t n, unsigned *ret);

/*
 * ENVID (RFC 3461 §4.4): @p[0..@n) as the client sent it, xtext of at
 * most DSN_ENVID_MAX characters, decoding to printable US-ASCII. Returns
 * 0 and the decoded value in *ret (caller frees), -EINVAL with a reason
 * in *ret_why, or -ENOMEM.
 */
int dsn_envid_decode(const char *p, size_t n, char **ret, const char **ret_why);
/* The same rule for a decoded value (a queue file's): 0 or -EINVAL. */
int dsn_envid_check(const char *envid);

/*
 * ORCPT (RFC 3461 §4.2): addr-type ";" xtext, at most DSN_ORCPT_MAX
 * characters. The decoded form, which the envelope keeps, is
 * "addr-type;address": the address printable US-ASCII, or for the
 * "utf-8" type (RFC 6533) well-formed UTF-8 without controls. Returns
 * as dsn_envid_decode().
 */
int dsn_orcpt_decode(const char *p, size_t n, char **ret, const char **ret_why);
int dsn_orcpt_check(const char *orcpt);
/* The parameter value for a decoded @orcpt: "addr-type;" + xtext of the
 * address. -EINVAL if @orcpt does not pass dsn_orcpt_check(). */
int dsn_orcpt_encode(const char *orcpt, Buf *out);
