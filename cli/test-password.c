/* SPDX-License-Identifier: MIT */
#include <crypt.h>
#include <fcntl.h>

#include "cli/password.h"
#include "shared/macro.h"
#include "shared/tests.h"

static void test_check(void) {
        static const struct {
                const char *pw;
                bool allow_short;
                const char *reason;     /* NULL: taken */
        } cases[] = {
                { "correct horse battery", false, NULL },
                { "123456789012", false, NULL },
                { "12345678901", false, "the password has 11 characters, fewer than 12 (--allow-short to take it anyway)" },
                { "12345678901", true, NULL },
                { "x", true, NULL },
                { "", true, "the password is empty" },
                /* 12 characters of 2 bytes each count 12, 11 of them 11 */
                { "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", false, NULL },
                { "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", false,
                  "the password has 11 characters, fewer than 12 (--allow-short to take it anyway)" },
                { "long enough password\r", false, "the password holds a control character (byte 21)" },
                { "long enough\tpassword", false, "the password holds a control character (byte 12)" },
                { "long enough password\x7f", false, "the password holds a control character (byte 21)" },
        };
        char reason[256], big[PASSWORD_MAX_BYTES + 2];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r = password_check(cases[i].pw, strlen(cases[i].pw), cases[i].allow_short, reason, sizeof(reason));

                if (!cases[i].reason) {
                        ASSERT_EQ(r, 0);
                        continue;
                }
                ASSERT_EQ(r, -EINVAL);
                ASSERT_STREQ(reason, cases[i].reason);
        }
        memset(big, 'a', sizeof(big));
        ASSERT_EQ(password_check(big, PASSWORD_MAX_BYTES, false, reason, sizeof(reason)), 0);
        ASSERT_EQ(password_check(big, PASSWORD_MAX_BYTES + 1, false, reason, sizeof(reason)), -EINVAL);
        ASSERT_STREQ(reason, "the password is longer than 1024 bytes");
}

/* From a pipe (a script): the first line, nothing after it */
static void test_read_pipe(void) {
        static const struct {
                const char *input;
                int r;
                const char *pw;
        } cases[] = {
                { "first line secret\nsecond line\n", 0, "first line secret" },
                { "no newline at the end", 0, "no newline at the end" },
                { "with CR\r\n", 0, "with CR\r" },      /* kept, for password_check() to refuse */
                { "\nsecond\n", -ENODATA, NULL },
                { "", -ENODATA, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(password_freep) char *pw = NULL;
                int p[2];
                char rest[64] = "";

                ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
                ASSERT_EQ(write(p[1], cases[i].input, strlen(cases[i].input)), (ssize_t) strlen(cases[i].input));
                (void) close(p[1]);
                ASSERT_EQ(password_read(p[0], "unused: ", &pw), cases[i].r);
                if (cases[i].pw) {
                        ASSERT_STREQ(pw, cases[i].pw);
                        /* what follows the line is still there */
                        ASSERT_TRUE(read(p[0], rest, sizeof(rest) - 1) >= 0);
                        ASSERT_TRUE(!strchr(cases[i].input, '\n') ||
                                    streq(rest, strchr(cases[i].input, '\n') + 1));
                }
                (void) close(p[0]);
        }
        /* a line over the limit is read whole enough to be refused, not cut to fit */
        {
                _cleanup_(password_freep) char *pw = NULL;
                char reason[256], line[PASSWORD_MAX_BYTES + 100];
                int p[2];

                memset(line, 'a', sizeof(line) - 1);
                line[sizeof(line) - 1] = '\n';
                ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
                ASSERT_EQ(write(p[1], line, sizeof(line)), (ssize_t) sizeof(line));
                (void) close(p[1]);
                ASSERT_EQ(password_read(p[0], "unused: ", &pw), 0);
                ASSERT_EQ(password_check(pw, strlen(pw), false, reason, sizeof(reason)), -EINVAL);
                (void) close(p[0]);
        }
}

static void test_hash(void) {
        _cleanup_(password_freep) char *a = NULL, *b = NULL;
        struct crypt_data cd = {};

        ASSERT_OK(password_hash("correct horse battery", &a));
        ASSERT_OK(password_hash("correct horse battery", &b));
        ASSERT_TRUE(strncmp(a, "$y$", 3) == 0);
        ASSERT_TRUE(!streq(a, b));                      /* a fresh salt each time */
        /* it verifies as crypt(3) verifies: the hash is its own setting */
        ASSERT_STREQ(crypt_rn("correct horse battery", a, &cd, sizeof(cd)), a);
        ASSERT_TRUE(!streq(crypt_rn("correct horse batterY", a, &cd, sizeof(cd)) ?: "", a));
}

int main(void) {
        test_check();
        test_read_pipe();
        test_hash();
        return 0;
}
