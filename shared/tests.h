/* SPDX-License-Identifier: MIT */
/* The whole test framework: assertions that print where they failed. */
#pragma once

#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_TEST_SKIP 77

#define ASSERT_TRUE(expr)                                                       \
        do {                                                                    \
                if (!(expr)) {                                                  \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n",        \
                                __FILE__, __LINE__, #expr);                     \
                        abort();                                                \
                }                                                               \
        } while (0)

#define ASSERT_EQ(a, b)                                                         \
        do {                                                                    \
                long long _a = (long long) (a), _b = (long long) (b);           \
                if (_a != _b) {                                                 \
                        fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", \
                                __FILE__, __LINE__, #a, #b, _a, _b);            \
                        abort();                                                \
                }                                                               \
        } while (0)

#define ASSERT_OK(expr)                                                         \
        do {                                                                    \
                long long _r = (long long) (expr);                              \
                if (_r < 0) {                                                   \
                        fprintf(stderr, "%s:%d: %s failed: %lld (%s)\n",        \
                                __FILE__, __LINE__, #expr, _r, strerror((int) -_r)); \
                        abort();                                                \
                }                                                               \
        } while (0)

#define ASSERT_STREQ(a, b)                                                      \
        do {                                                                    \
                const char *_a = (a), *_b = (b);                                \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                        \
                        fprintf(stderr, "%s:%d: %s == %s failed:\n  '%s'\n  '%s'\n", \
                                __FILE__, __LINE__, #a, #b,                     \
                                _a ? _a : "(null)", _b ? _b : "(null)");        \
                        abort();                                                \
                }                                                               \
        } while (0)

#define ASSERT_MEMEQ(p, n, q, m)                                                \
        do {                                                                    \
                size_t _n = (n), _m = (m);                                      \
                if (_n != _m || memcmp((p), (q), _n) != 0) {                    \
                        fprintf(stderr, "%s:%d: %s (%zu bytes) != %s (%zu bytes)\n", \
                                __FILE__, __LINE__, #p, _n, #q, _m);            \
                        abort();                                                \
                }                                                               \
        } while (0)
