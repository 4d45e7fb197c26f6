/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "services/deliver/deliver-body.h"
#include "shared/macro.h"
#include "shared/tests.h"

static size_t span_slow(const uint8_t *p, size_t n) {
        for (size_t i = 1; i < n; i++)
                if (p[i] == '.' && p[i - 1] == '\n')
                        return i;
        return n;
}

static bool bare_slow(const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if ((p[i] == '\n' && (i == 0 || p[i - 1] != '\r')) || (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n')))
                        return true;
        return false;
}

static bool has_8bit_slow(const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (p[i] & 0x80)
                        return true;
        return false;
}

int main(void) {
        static const uint8_t alphabet[] = { '\n', '.', '\r', 'a' };
        uint8_t b[700];

        /* the edges by hand: a dot first is not after an LF; an LF last
         * has nothing after it; the 16-byte and 256-byte block borders */
        ASSERT_EQ(body_span_to_lf_dot((const uint8_t *) ".a\n", 3), 3);
        ASSERT_EQ(body_span_to_lf_dot((const uint8_t *) "a\n", 2), 2);
        ASSERT_EQ(body_span_to_lf_dot((const uint8_t *) "a\n.b", 4), 2);
        for (size_t at = 1; at < 40; at++) {
                memset(b, 'x', 40);
                b[at - 1] = '\n';
                b[at] = '.';
                ASSERT_EQ(body_span_to_lf_dot(b, 40), at);
        }
        for (size_t at = 0; at < 600; at++) {
                memset(b, 'x', 600);
                b[at] = 0xe9;
                ASSERT_TRUE(body_has_8bit(b, 600));
                ASSERT_TRUE(!body_has_8bit(b, at));
        }

        /* against the plain loops on random bodies of every length up to 700 */
        srand(1);
        for (unsigned t = 0; t < 200000; t++) {
                size_t n = (size_t) rand() % sizeof(b);

                for (size_t i = 0; i < n; i++)
                        b[i] = alphabet[rand() % 4];
                if (t % 7 == 0 && n > 0)
                        b[(size_t) rand() % n] |= 0x80;
                ASSERT_EQ(body_span_to_lf_dot(b, n), span_slow(b, n));
                ASSERT_EQ(body_has_8bit(b, n), has_8bit_slow(b, n));
                ASSERT_EQ(body_has_bare_cr_lf(b, n), bare_slow(b, n));
        }
        /* bare CR and LF: CRLF-clean bodies, then one byte changed anywhere */
        ASSERT_TRUE(!body_has_bare_cr_lf((const uint8_t *) "", 0));
        ASSERT_TRUE(body_has_bare_cr_lf((const uint8_t *) "\n", 1));
        ASSERT_TRUE(body_has_bare_cr_lf((const uint8_t *) "a\r", 2));
        ASSERT_TRUE(!body_has_bare_cr_lf((const uint8_t *) "a\r\n", 3));
        for (unsigned t = 0; t < 100000; t++) {
                size_t n = 0, max = (size_t) rand() % sizeof(b);

                while (n + 2 <= max) {
                        if (rand() % 5 == 0) {
                                b[n++] = '\r';
                                b[n++] = '\n';
                        } else
                                b[n++] = alphabet[1 + rand() % 3] == '\r' ? 'a' : '.';
                }
                ASSERT_TRUE(!body_has_bare_cr_lf(b, n));
                if (t % 2 == 0 && n > 0)
                        b[(size_t) rand() % n] = rand() % 2 ? '\r' : '\n';
                ASSERT_EQ(body_has_bare_cr_lf(b, n), bare_slow(b, n));
        }
        return 0;
}
