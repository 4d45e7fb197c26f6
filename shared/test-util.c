/* SPDX-License-Identifier: MIT */
#include "shared/macro.h"
#include "shared/tests.h"

int main(void) {
        _cleanup_free_ int *a = NULL;
        size_t cap = 0;

        /* room for element n: from nothing to @first, then doubling, and
         * nothing to do while n < cap; what was stored stays */
        ASSERT_OK(ARRAY_GROW(a, cap, 0, 4));
        ASSERT_EQ(cap, 4);
        for (size_t n = 0; n < 100; n++) {
                ASSERT_OK(ARRAY_GROW(a, cap, n, 4));
                ASSERT_TRUE(n < cap);
                a[n] = (int) n;
        }
        ASSERT_EQ(cap, 128);
        for (size_t n = 0; n < 100; n++)
                ASSERT_EQ(a[n], (int) n);
        ASSERT_OK(ARRAY_GROW(a, cap, 5, 4));
        ASSERT_EQ(cap, 128);
        return 0;
}
