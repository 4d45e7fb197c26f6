/* SPDX-License-Identifier: MIT */
/* The relay password file's first line. */
#include "services/deliver/deliver-relay.h"
#include "shared/macro.h"
#include "shared/tests.h"

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
        test_password();
        return 0;
}
