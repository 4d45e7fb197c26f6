/* SPDX-License-Identifier: MIT */
#include "services/deliver/deliver-retry.h"
#include "shared/macro.h"
#include "shared/tests.h"

#define MIN (300 * USEC_PER_SEC)
#define HOUR (3600 * USEC_PER_SEC)

int main(void) {
        RetryPolicy p = { .min = MIN, .max = HOUR, .lifetime = 5 * 24 * HOUR, .warning = 4 * HOUR };
        static const unsigned long long want[] = { 300, 600, 1200, 2400, 3600, 3600 };
        uint64_t next = 0;

        /* 5 min doubling to 1 h */
        for (unsigned i = 0; i < ELEMENTSOF(want); i++)
                ASSERT_EQ(retry_delay(&p, i + 1), want[i] * USEC_PER_SEC);
        ASSERT_EQ(retry_delay(&p, 1000), HOUR);

        ASSERT_EQ(retry_next(&p, 0, MIN, 1, &next), RETRY_LATER);
        ASSERT_EQ(next, MIN + MIN);
        /* the last attempt is at the end of the lifetime, not past it */
        ASSERT_EQ(retry_next(&p, 0, p.lifetime - 60 * USEC_PER_SEC, 50, &next), RETRY_LATER);
        ASSERT_EQ(next, p.lifetime);
        ASSERT_EQ(retry_next(&p, 0, p.lifetime, 51, &next), RETRY_EXPIRED);

        ASSERT_TRUE(!retry_warn_due(&p, 0, 4 * HOUR - 1, false));
        ASSERT_TRUE(retry_warn_due(&p, 0, 4 * HOUR, false));
        ASSERT_TRUE(!retry_warn_due(&p, 0, 5 * HOUR, true));
        p.warning = 0;
        ASSERT_TRUE(!retry_warn_due(&p, 0, 5 * HOUR, false));
        return 0;
}
