/* SPDX-License-Identifier: MIT */
/* The relay's TLS policy and the password file's first line. */
#include "services/deliver/deliver-relay.h"
#include "shared/macro.h"
#include "shared/tests.h"

static void test_policy(void) {
        static const struct {
                TlsPolicy configured;
                bool login, unverified_ok;
                TlsPolicy want;
        } cases[] = {
                /* no login: tls_policy as written */
                { TLS_POLICY_NONE, false, false, TLS_POLICY_NONE },
                { TLS_POLICY_MAY, false, false, TLS_POLICY_MAY },
                { TLS_POLICY_ENCRYPT, false, true, TLS_POLICY_ENCRYPT },
                /* a login implies verify */
                { TLS_POLICY_MAY, true, false, TLS_POLICY_VERIFY },
                { TLS_POLICY_ENCRYPT, true, false, TLS_POLICY_VERIFY },
                { TLS_POLICY_VERIFY, true, false, TLS_POLICY_VERIFY },
                /* a password in clear text is never configurable */
                { TLS_POLICY_NONE, true, false, _TLS_POLICY_INVALID },
                { TLS_POLICY_NONE, true, true, _TLS_POLICY_INVALID },
                /* the override lowers verify to encrypt, never below, and does not undo an explicit verify */
                { TLS_POLICY_MAY, true, true, TLS_POLICY_ENCRYPT },
                { TLS_POLICY_ENCRYPT, true, true, TLS_POLICY_ENCRYPT },
                { TLS_POLICY_VERIFY, true, true, TLS_POLICY_VERIFY },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                ASSERT_EQ(relay_tls_policy(cases[i].configured, cases[i].login, cases[i].unverified_ok),
                          cases[i].want);
}

static void test_password(void) {
        static const struct {
                const char *in;
                size_t n;
                const char *want;       /* NULL: -EINVAL */
        } cases[] = {
                { "s3cret pass\n", 12, "s3cret pass" },
                { "s3cret pass", 11, "s3cret pass" },
                { "s3cret\r\n", 8, "s3cret" },
                { "first\nsecond\n", 13, "first" },
                { " spaces kept \n", 14, " spaces kept " },
                { "\n", 1, NULL },
                { "", 0, NULL },
                { "\r\nlater\n", 8, NULL },
                { "a\0b\n", 4, NULL },
                { "ok\n\0after the line end", 22, "ok" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *s = NULL;
                int r = relay_password_parse((const uint8_t *) cases[i].in, cases[i].n, &s);

                if (!cases[i].want) {
                        ASSERT_EQ(r, -EINVAL);
                        continue;
                }
                ASSERT_EQ(r, 0);
                ASSERT_STREQ(s, cases[i].want);
                free(s);
        }
}

int main(void) {
        test_policy();
        test_password();
        return 0;
}
