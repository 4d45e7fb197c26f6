/* SPDX-License-Identifier: MIT */
/*
 * The property of tests/param-chain.h over many generated parameter
 * lines: the keywords receive knows with values drawn from the bytes that
 * matter (xtext escapes of CR, LF, NUL and the delimiters, ";", "+", "=",
 * controls, 8-bit bytes) and from valid values, so that most lines are
 * taken and go the whole way. Seeded: a failure repeats.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/macro.h"
#include "shared/tests.h"
#include "tests/param-chain.h"

#define ROUNDS 200000

static uint64_t state = UINT64_C(0x9E3779B97F4A7C15);

static uint32_t rnd(uint32_t n) {
        /* xorshift64*: no libc state, the same run on every machine */
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        return (uint32_t) ((state * UINT64_C(2685821657736338717)) >> 33) % n;
}

static void put(char *buf, size_t *n, size_t max, const char *s) {
        size_t k = strlen(s);

        if (*n + k < max) {
                memcpy(buf + *n, s, k);
                *n += k;
        }
}

/* A value the key takes, for about three keys in four. */
static const char *valid_value(const char *key) {
        static const struct {
                const char *key;
                const char *values[4];
        } valid[] = {
                { "SIZE", { "0", "1234", "10240000", "18446744073709551615" } },
                { "BODY", { "7BIT", "8BITMIME", "8bitmime", "7bit" } },
                { "RET", { "FULL", "HDRS", "hdrs", "Full" } },
                { "ENVID", { "QQ314159", "a+20b", "+2B+3D", "x+7E" } },
                { "AUTH", { "<>", "app@example.com", "a+2Bb@example.com", "+3C+3E" } },
                { "NOTIFY", { "NEVER", "SUCCESS,FAILURE", "delay", "FAILURE,DELAY,SUCCESS" } },
                { "ORCPT", { "rfc822;bob@example.org", "RFC822;b+2Bx@example.org", "utf-8;+D0+BF@example.org",
                             "x400;c+3Dus;a+3Dx" } },
        };

        for (size_t i = 0; i < ELEMENTSOF(valid); i++)
                if (strcmp(valid[i].key, key) == 0)
                        return valid[i].values[rnd(4)];
        return NULL;
}

static void value(const char *key, char *buf, size_t *n, size_t max) {
        static const char *pieces[] = {
                "a", "Q", "bob@example.org", "rfc822", "utf-8", "x400", ";", "+0D", "+0A", "+0D+0A", "+00",
                "+09", "+7F", "+20", "+2B", "+3D", "+3B", "+C3+A9", "+D0+BF", "+C2+85", "+4", "+4a", "+", "=",
                "RSET", "MAIL+20FROM:<e@x.org>", "-", "<>", "\x80", "\xd0\xbf", "\x01", "\x7f", "FULL", "HDRS",
                "7BIT", "8BITMIME", "NEVER", "SUCCESS", "FAILURE", "DELAY", ",", "123", "99999999999999999999",
        };
        const char *v = valid_value(key);
        unsigned k = 1 + rnd(6);

        if (v && rnd(4) > 0) {
                put(buf, n, max, v);
                return;
        }
        for (unsigned i = 0; i < k; i++)
                put(buf, n, max, pieces[rnd(ELEMENTSOF(pieces))]);
}

static size_t params(char *buf, size_t max, bool mail) {
        static const char *mail_keys[] = { "SIZE", "BODY", "RET", "ENVID", "AUTH", "SMTPUTF8", "X-FOO" };
        static const char *rcpt_keys[] = { "NOTIFY", "ORCPT", "SIZE" };
        unsigned k = rnd(4);
        size_t n = 0;

        for (unsigned i = 0; i < k; i++) {
                const char *key = mail ? mail_keys[rnd(ELEMENTSOF(mail_keys))] : rcpt_keys[rnd(ELEMENTSOF(rcpt_keys))];

                if (i > 0)
                        put(buf, &n, max, " ");
                put(buf, &n, max, key);
                if (rnd(8) > 0) {
                        put(buf, &n, max, "=");
                        value(key, buf, &n, max);
                }
        }
        return n;
}

int main(void) {
        static const char *fixed[] = {
                /* issue 13's findings, and values that must go the whole way */
                "ENVID=QQ+20314159 RET=HDRS\0NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+2Bx@example.org",
                "ENVID=x+0D+0AX-Evil:+20yes\0",
                "\0ORCPT=rfc822+0D+0ARSET+0D+0AMAIL+20FROM:<e@x.org>;x@y",
                "\0ORCPT=rfc822;x+0D+0ARSET",
                "\0ORCPT=utf-8;+D0+BF@example.org",
        };
        static const bool fixed_whole[] = { true, false, false, false, true };
        unsigned whole = 0;
        char buf[1024];

        for (size_t i = 0; i < ELEMENTSOF(fixed); i++) {
                size_t n = strlen(fixed[i]);

                n += 1 + strlen(fixed[i] + n + 1);
                ASSERT_EQ(param_chain_check((const uint8_t *) fixed[i], n), fixed_whole[i]);
        }
        for (unsigned round = 0; round < ROUNDS; round++) {
                size_t n = params(buf, sizeof(buf) / 2, true);

                buf[n++] = 0;
                n += params(buf + n, sizeof(buf) / 2, false);
                whole += param_chain_check((const uint8_t *) buf, n);
        }
        /* the generator reaches both ends: refusals and whole trips */
        printf("%u of %u parameter lines went the whole way\n", whole, ROUNDS);
        ASSERT_TRUE(whole > ROUNDS / 10 && whole < ROUNDS - ROUNDS / 10);
        return 0;
}
