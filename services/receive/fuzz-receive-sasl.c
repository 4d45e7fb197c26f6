/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the SASL parsers. The input is both an AUTH argument and a
 * decoded credential: whatever is taken must be a span inside the
 * argument, and credentials come out NUL-terminated within their bounds,
 * without NUL or controls, and with the user the authzid named, if any.
 */
#include <stdlib.h>

#include "services/receive/receive-sasl.h"
#include "shared/address.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_user(const char *user) {
        size_t n = strnlen(user, SASL_USER_MAX + 1);

        if (n < 1 || n > SASL_USER_MAX)
                abort();
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) user[i] <= ' ' || (unsigned char) user[i] > '~')
                        abort();
}

static void check_password(const char *password) {
        size_t n = strnlen(password, SASL_PASSWORD_MAX + 1);

        if (n < 1 || n > SASL_PASSWORD_MAX || !utf8_valid(password, n))
                abort();
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) password[i] < ' ' || (unsigned char) password[i] == 0x7f ||
                    ((unsigned char) password[i] == 0xc2 && (unsigned char) password[i + 1] >= 0x80 &&
                     (unsigned char) password[i + 1] <= 0x9f))
                        abort();
}

static void check_cleared(const char *user, const char *password) {
        if (user[0] != 0)
                abort();
        for (size_t i = 0; i < SASL_PASSWORD_MAX + 1; i++)
                if (password[i] != 0)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char user[SASL_USER_MAX + 1], password[SASL_PASSWORD_MAX + 1];
        const char *ir;
        size_t ir_len;
        SaslMech mech;
        int r;

        if (size > 4096)
                return 0;

        r = sasl_auth_parse((const char *) data, size, &mech, &ir, &ir_len);
        if (r == 0) {
                if (mech != SASL_MECH_PLAIN && mech != SASL_MECH_LOGIN)
                        abort();
                if (ir && ((const uint8_t *) ir < data || (const uint8_t *) ir + ir_len > data + size))
                        abort();
                if (!ir && ir_len != 0)
                        abort();
        } else if (r != -EINVAL && r != -EOPNOTSUPP)
                abort();
        r = sasl_response_check((const char *) data, size);
        if (r != 0 && !(r == -ECANCELED && size == 1 && data[0] == '*'))
                abort();

        memset(user, 'x', sizeof(user));
        memset(password, 'x', sizeof(password));
        r = sasl_plain_split(data, size, user, password);
        if (r == 0) {
                const uint8_t *nul = memchr(data, 0, size);
                size_t authzid_len = (size_t) (nul - data);

                check_user(user);
                check_password(password);
                if (authzid_len > 0 && (authzid_len != strlen(user) || memcmp(data, user, authzid_len) != 0))
                        abort();
        } else if (r == -EINVAL || r == -EPERM)
                check_cleared(user, password);
        else
                abort();

        memset(user, 'x', sizeof(user));
        memset(password, 'x', sizeof(password));
        r = sasl_login_user(data, size, user);
        if (r == 0)
                check_user(user);
        else if (r != -EINVAL || user[0] != 0)
                abort();
        r = sasl_login_password(data, size, password);
        if (r == 0)
                check_password(password);
        else if (r != -EINVAL)
                abort();
        else
                check_cleared("", password);
        return 0;
}
