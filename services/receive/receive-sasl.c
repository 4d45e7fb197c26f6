/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "services/receive/receive-sasl.h"
#include "shared/address.h"
#include "shared/macro.h"

/* RFC 4422 §3.1: sasl-mech = 1*20mech-char; SMTP compares them without
 * case (RFC 4954 §4 "AUTH mechanism"), so lower case is taken too. */
#define SASL_MECH_NAME_MAX 20

static bool mech_char(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static bool base64_char(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* RFC 4648 §4 with its padding, as RFC 4954 §4 requires: groups of four,
 * "=" only as the last one or two characters. */
static bool base64_valid(const char *p, size_t n) {
        size_t pad = 0;

        if (n % 4 != 0)
                return false;
        while (pad < 2 && pad < n && p[n - 1 - pad] == '=')
                pad++;
        for (size_t i = 0; i < n - pad; i++)
                if (!base64_char(p[i]))
                        return false;
        return true;
}

int sasl_auth_parse(const char *arg, size_t n, SaslMech *ret_mech, const char **ret_initial, size_t *ret_initial_len) {
        size_t i = 0, start, end;
        SaslMech mech;

        *ret_initial = NULL;
        *ret_initial_len = 0;

        while (n > 0 && arg[n - 1] == ' ')
                n--;
        while (i < n && arg[i] == ' ')
                i++;
        start = i;
        while (i < n && arg[i] != ' ')
                i++;
        end = i;
        if (end == start || end - start > SASL_MECH_NAME_MAX)
                return -EINVAL;
        for (size_t k = start; k < end; k++)
                if (!mech_char(arg[k]))
                        return -EINVAL;

        while (i < n && arg[i] == ' ')
                i++;
        if (i < n) {
                const char *ir = arg + i;
                size_t ir_len = n - i;

                if (ir_len == 1 && ir[0] == '=')
                        ir_len = 0;     /* RFC 4954 §4: "=" is an empty initial response */
                else if (!base64_valid(ir, ir_len))
                        return -EINVAL;
                *ret_initial = ir;
                *ret_initial_len = ir_len;
        }

        if (ascii_strncaseeq(arg + start, end - start, "PLAIN"))
                mech = SASL_MECH_PLAIN;
        else if (ascii_strncaseeq(arg + start, end - start, "LOGIN"))
                mech = SASL_MECH_LOGIN;
        else {
                *ret_initial = NULL;
                *ret_initial_len = 0;
                return -EOPNOTSUPP;
        }
        *ret_mech = mech;
        return 0;
}

int sasl_response_check(const char *line, size_t n) {
        /* RFC 4954 §4: "*" alone cancels the exchange */
        if (n == 1 && line[0] == '*')
                return -ECANCELED;
        return 0;
}

static bool user_valid(const uint8_t *p, size_t n) {
        if (n < 1 || n > SASL_USER_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (p[i] <= ' ' || p[i] > '~')
                        return false;
        return true;
}

/* Well-formed UTF-8 without C0 controls (NUL among them), DEL, or C1
 * controls (U+0080..U+009F, encoded C2 80..C2 9F). */
static bool password_valid(const uint8_t *p, size_t n) {
        if (n < 1 || n > SASL_PASSWORD_MAX)
                return false;
        if (!utf8_valid((const char *) p, n))
                return false;
        for (size_t i = 0; i < n; i++) {
                if (p[i] < ' ' || p[i] == 0x7f)
                        return false;
                if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
                        return false;
        }
        return true;
}

int sasl_login_user(const uint8_t *p, size_t n, char user[static SASL_USER_MAX + 1]) {
        user[0] = 0;
        if (!user_valid(p, n))
                return -EINVAL;
        memcpy(user, p, n);
        user[n] = 0;
        return 0;
}

int sasl_login_password(const uint8_t *p, size_t n, char password[static SASL_PASSWORD_MAX + 1]) {
        explicit_bzero(password, SASL_PASSWORD_MAX + 1);
        if (!password_valid(p, n))
                return -EINVAL;
        memcpy(password, p, n);
        return 0;
}

int sasl_plain_split(const uint8_t *p, size_t n, char user[static SASL_USER_MAX + 1],
                     char password[static SASL_PASSWORD_MAX + 1]) {
        const uint8_t *nul1, *nul2, *authzid, *authcid, *passwd;
        size_t authzid_len, authcid_len, passwd_len;
        int r;

        user[0] = 0;
        explicit_bzero(password, SASL_PASSWORD_MAX + 1);

        nul1 = memchr(p, 0, n);
        if (!nul1)
                return -EINVAL;
        nul2 = memchr(nul1 + 1, 0, n - (size_t) (nul1 + 1 - p));
        if (!nul2)
                return -EINVAL;
        authzid = p;
        authzid_len = (size_t) (nul1 - p);
        authcid = nul1 + 1;
        authcid_len = (size_t) (nul2 - authcid);
        passwd = nul2 + 1;
        passwd_len = n - (size_t) (passwd - p);
        /* a third NUL is in passwd, which password_valid() refuses */

        if (authzid_len > 0 && !user_valid(authzid, authzid_len))
                return -EINVAL;
        r = sasl_login_user(authcid, authcid_len, user);
        if (r < 0)
                return r;
        r = sasl_login_password(passwd, passwd_len, password);
        if (r < 0) {
                user[0] = 0;
                return r;
        }
        /* RFC 4616 §2: the authzid names whom to act as; acting as another
         * user than the one who proved who they are is not offered. */
        if (authzid_len > 0 && (authzid_len != authcid_len || memcmp(authzid, authcid, authcid_len) != 0)) {
                user[0] = 0;
                explicit_bzero(password, SASL_PASSWORD_MAX + 1);
                return -EPERM;
        }
        return 0;
}
