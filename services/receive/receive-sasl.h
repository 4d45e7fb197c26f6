/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * SMTP AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN mechanisms:
 * the AUTH command's argument, a client's reply to a 334, and the decoded
 * credentials. Pure: spans in, bounded NUL-terminated strings out. The
 * base64 layer is the session's (it decodes through receive-tls.h), so
 * the credential functions get decoded bytes.
 *
 * A user name is what the users file may hold: 1..SASL_USER_MAX printable
 * US-ASCII bytes without SP, so it can stand in a journal field and an
 * envelope line as it is. A password is 1..SASL_PASSWORD_MAX bytes of
 * well-formed UTF-8 (RFC 4616 §2 allows any UTF-8 but NUL) without
 * control characters (C0, DEL, C1): nothing a person types, and nothing
 * crypt(3) should see.
 */
#define SASL_USER_MAX 64
#define SASL_PASSWORD_MAX 256

typedef enum SaslMech {
        SASL_MECH_PLAIN,
        SASL_MECH_LOGIN,
} SaslMech;

/*
 * The argument of "AUTH": a mechanism name (case-insensitive, RFC 4422
 * §3.1 syntax), optionally SP and an initial response (base64 text, or
 * "=" for an empty one, RFC 4954 §4). Sets *@ret_mech and *@ret_initial
 * (a span inside @arg, or {NULL, 0} when absent; "=" gives a non-NULL
 * empty span). Spaces around the argument are tolerated.
 * Returns 0; -EOPNOTSUPP for a well-formed but unknown mechanism
 * (504 5.5.4); -EINVAL for bad syntax, including an initial response
 * that is not base64 (501 5.5.2).
 */
int sasl_auth_parse(const char *arg, size_t n, SaslMech *ret_mech, const char **ret_initial, size_t *ret_initial_len);

/*
 * A client's reply to a 334 (the line without CRLF): "*" alone cancels
 * the exchange, -ECANCELED (501 5.7.0); otherwise 0, and the base64 text
 * is the caller's to decode (an empty line is an empty response).
 */
int sasl_response_check(const char *line, size_t n);

/*
 * PLAIN (RFC 4616 §2): authzid NUL authcid NUL passwd, exactly two NULs.
 * The authcid and passwd as above go to @user and @password. There is no
 * proxy login: a non-empty authzid other than the authcid is -EPERM.
 * -EINVAL for anything else that does not fit. On failure @user is "" and
 * @password is zeroed whole.
 */
int sasl_plain_split(const uint8_t *p, size_t n, char user[static SASL_USER_MAX + 1],
                     char password[static SASL_PASSWORD_MAX + 1]);

/* LOGIN: the decoded reply to "Username:" or "Password:", checked with the
 * same rules as PLAIN's, NUL-terminated into @user or @password; -EINVAL
 * (and "" / zeroed) otherwise. */
int sasl_login_user(const uint8_t *p, size_t n, char user[static SASL_USER_MAX + 1]);
int sasl_login_password(const uint8_t *p, size_t n, char password[static SASL_PASSWORD_MAX + 1]);
