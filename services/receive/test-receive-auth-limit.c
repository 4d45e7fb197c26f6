/* SPDX-License-Identifier: MIT */
/*
 * The AUTH failure limit with a clock the test turns: the delays grow
 * and stop at the cap, ten failures block, a quiet window forgets, a
 * success forgets, the 4097th address evicts the oldest, and IPv6
 * counts per /64.
 */
#include "services/receive/receive-auth-limit.h"
#include "shared/macro.h"
#include "shared/tests.h"

#define SEC UINT64_C(1000000)
#define T0 (1000 * SEC)

static const uint64_t delays[] = {
        0, 1 * SEC, 2 * SEC, 4 * SEC, 8 * SEC, 16 * SEC, 30 * SEC, 30 * SEC, 30 * SEC, 30 * SEC, 30 * SEC, 30 * SEC,
};

static void test_growth_and_block(void) {
        _cleanup_(auth_limit_freep) AuthLimit *l = NULL;
        uint64_t now = T0;

        ASSERT_OK(auth_limit_new(&l));
        for (size_t i = 0; i < ELEMENTSOF(delays); i++) {
                ASSERT_EQ(auth_limit_blocked(l, "203.0.113.5", now), i >= AUTH_LIMIT_BLOCK_FAILURES);
                ASSERT_EQ(auth_limit_failed(l, "203.0.113.5", now), delays[i]);
                now += delays[i] + SEC;
        }
        /* another address is not affected */
        ASSERT_TRUE(!auth_limit_blocked(l, "203.0.113.6", now));
        ASSERT_EQ(auth_limit_failed(l, "203.0.113.6", now), 0);
}

static void test_cap_many(void) {
        _cleanup_(auth_limit_freep) AuthLimit *l = NULL;

        ASSERT_OK(auth_limit_new(&l));
        for (unsigned i = 0; i < 100000; i++)
                ASSERT_TRUE(auth_limit_failed(l, "203.0.113.5", T0 + i) <= AUTH_LIMIT_DELAY_MAX_USEC);
        ASSERT_EQ(auth_limit_failed(l, "203.0.113.5", T0 + 100000), AUTH_LIMIT_DELAY_MAX_USEC);
}

static void test_decay(void) {
        _cleanup_(auth_limit_freep) AuthLimit *l = NULL;
        uint64_t now = T0;

        ASSERT_OK(auth_limit_new(&l));
        for (unsigned i = 0; i < AUTH_LIMIT_BLOCK_FAILURES; i++)
                (void) auth_limit_failed(l, "203.0.113.5", now);
        ASSERT_TRUE(auth_limit_blocked(l, "203.0.113.5", now));
        /* a minute short of the window: still blocked */
        ASSERT_TRUE(auth_limit_blocked(l, "203.0.113.5", now + AUTH_LIMIT_WINDOW_USEC - 60 * SEC));
        ASSERT_TRUE(auth_limit_blocked(l, "203.0.113.5", now + AUTH_LIMIT_WINDOW_USEC - 1));
        /* a whole window without a failure: forgotten */
        ASSERT_TRUE(!auth_limit_blocked(l, "203.0.113.5", now + AUTH_LIMIT_WINDOW_USEC));
        ASSERT_EQ(auth_limit_failed(l, "203.0.113.5", now + AUTH_LIMIT_WINDOW_USEC), 0);

        /* failures keep the window open: each one starts it again */
        now += 2 * AUTH_LIMIT_WINDOW_USEC;
        ASSERT_EQ(auth_limit_failed(l, "203.0.113.7", now), 0);
        now += AUTH_LIMIT_WINDOW_USEC - SEC;
        ASSERT_EQ(auth_limit_failed(l, "203.0.113.7", now), 1 * SEC);
        now += AUTH_LIMIT_WINDOW_USEC - SEC;
        ASSERT_EQ(auth_limit_failed(l, "203.0.113.7", now), 2 * SEC);
        /* and decay is also seen by failed() without a blocked() first */
        now += AUTH_LIMIT_WINDOW_USEC;
        ASSERT_EQ(auth_limit_failed(l, "203.0.113.7", now), 0);

        /* a clock that goes back counts as no time passed */
        ASSERT_EQ(auth_limit_failed(l, "203.0.113.7", now - 10 * SEC), 1 * SEC);
}

static void test_success_resets(void) {
        _cleanup_(auth_limit_freep) AuthLimit *l = NULL;

        ASSERT_OK(auth_limit_new(&l));
        for (unsigned i = 0; i < AUTH_LIMIT_BLOCK_FAILURES; i++)
                (void) auth_limit_failed(l, "203.0.113.5", T0);
        ASSERT_TRUE(auth_limit_blocked(l, "203.0.113.5", T0));
        auth_limit_succeeded(l, "203.0.113.5");
        ASSERT_TRUE(!auth_limit_blocked(l, "203.0.113.5", T0));
        ASSERT_EQ(auth_limit_failed(l, "203.0.113.5", T0), 0);
        ASSERT_EQ(auth_limit_failed(l, "203.0.113.5", T0), 1 * SEC);
        /* an address never seen */
        auth_limit_succeeded(l, "203.0.113.9");
        ASSERT_EQ(auth_limit_failed(l, "203.0.113.9", T0), 0);
}

static void addr_of(unsigned i, char buf[static 32]) {
        snprintf(buf, 32, "10.%u.%u.%u", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
}

static void test_eviction(void) {
        _cleanup_(auth_limit_freep) AuthLimit *l = NULL;
        char a[32];

        ASSERT_OK(auth_limit_new(&l));
        /* AUTH_LIMIT_ADDRESSES_MAX addresses, each blocked; address 0 failed first */
        for (unsigned i = 0; i < AUTH_LIMIT_ADDRESSES_MAX; i++) {
                addr_of(i, a);
                for (unsigned k = 0; k < AUTH_LIMIT_BLOCK_FAILURES; k++)
                        (void) auth_limit_failed(l, a, T0 + i);
        }
        /* address 1 fails once more: now address 0 is the oldest, then 2 */
        addr_of(1, a);
        (void) auth_limit_failed(l, a, T0 + AUTH_LIMIT_ADDRESSES_MAX);
        for (unsigned i = 0; i < AUTH_LIMIT_ADDRESSES_MAX; i++) {
                addr_of(i, a);
                ASSERT_TRUE(auth_limit_blocked(l, a, T0 + AUTH_LIMIT_ADDRESSES_MAX));
        }
        /* the 4097th evicts address 0, the least recently failed */
        ASSERT_EQ(auth_limit_failed(l, "203.0.113.5", T0 + AUTH_LIMIT_ADDRESSES_MAX + 1), 0);
        addr_of(0, a);
        ASSERT_TRUE(!auth_limit_blocked(l, a, T0 + AUTH_LIMIT_ADDRESSES_MAX + 1));
        for (unsigned i = 1; i < AUTH_LIMIT_ADDRESSES_MAX; i++) {
                addr_of(i, a);
                ASSERT_TRUE(auth_limit_blocked(l, a, T0 + AUTH_LIMIT_ADDRESSES_MAX + 1));
        }
        /* the next one evicts address 2 (1 failed again after it) */
        ASSERT_EQ(auth_limit_failed(l, "203.0.113.6", T0 + AUTH_LIMIT_ADDRESSES_MAX + 2), 0);
        addr_of(2, a);
        ASSERT_TRUE(!auth_limit_blocked(l, a, T0 + AUTH_LIMIT_ADDRESSES_MAX + 2));
        addr_of(1, a);
        ASSERT_TRUE(auth_limit_blocked(l, a, T0 + AUTH_LIMIT_ADDRESSES_MAX + 2));

        /* a success frees an entry, which the next new address takes
         * without evicting anyone */
        auth_limit_succeeded(l, a);
        ASSERT_EQ(auth_limit_failed(l, "203.0.113.7", T0 + AUTH_LIMIT_ADDRESSES_MAX + 3), 0);
        addr_of(3, a);
        ASSERT_TRUE(auth_limit_blocked(l, a, T0 + AUTH_LIMIT_ADDRESSES_MAX + 3));
}

static void test_ipv6(void) {
        _cleanup_(auth_limit_freep) AuthLimit *l = NULL;

        ASSERT_OK(auth_limit_new(&l));
        ASSERT_EQ(auth_limit_failed(l, "2001:db8:1:2::1", T0), 0);
        /* the same /64, written another way or another host in it */
        ASSERT_EQ(auth_limit_failed(l, "2001:0db8:0001:0002:0000:0000:0000:0001", T0), 1 * SEC);
        ASSERT_EQ(auth_limit_failed(l, "2001:db8:1:2:ffff:1:2:3", T0), 2 * SEC);
        /* the next /64 is another client */
        ASSERT_EQ(auth_limit_failed(l, "2001:db8:1:3::1", T0), 0);
        /* an IPv4-mapped address is the IPv4 address */
        ASSERT_EQ(auth_limit_failed(l, "203.0.113.5", T0), 0);
        ASSERT_EQ(auth_limit_failed(l, "::ffff:203.0.113.5", T0), 1 * SEC);
        auth_limit_succeeded(l, "2001:db8:1:2::99");
        ASSERT_EQ(auth_limit_failed(l, "2001:db8:1:2::1", T0), 0);
        /* text that is no address still counts, as itself */
        ASSERT_EQ(auth_limit_failed(l, "unix", T0), 0);
        ASSERT_EQ(auth_limit_failed(l, "unix", T0), 1 * SEC);
        ASSERT_EQ(auth_limit_failed(l, "", T0), 0);
}

int main(void) {
        test_growth_and_block();
        test_cap_many();
        test_decay();
        test_success_resets();
        test_eviction();
        test_ipv6();
        return 0;
}
