/* SPDX-License-Identifier: MIT */
#include "shared/buf.h"
#include "shared/macro.h"
#include "shared/tests.h"

int main(void) {
        Buf b = BUF_INIT(10);
        char *s;

        ASSERT_OK(buf_append_str(&b, "hello"));
        ASSERT_OK(buf_printf(&b, "%d", 1234));
        ASSERT_EQ(b.len, 9);
        ASSERT_STREQ((char *) b.data, "hello1234");
        ASSERT_EQ(buf_append_str(&b, "xy"), -EMSGSIZE);        /* would pass max */
        ASSERT_EQ(b.len, 9);                                     /* nothing half-appended */
        ASSERT_OK(buf_append_byte(&b, '!'));
        ASSERT_EQ(buf_append_byte(&b, '!'), -EMSGSIZE);
        buf_consume(&b, 5);
        ASSERT_STREQ((char *) b.data, "1234!");
        ASSERT_EQ(buf_reserve(&b, SIZE_MAX), -EMSGSIZE);        /* overflow checked */
        s = buf_steal_str(&b);
        ASSERT_STREQ(s, "1234!");
        ASSERT_TRUE(b.data == NULL && b.len == 0);
        free(s);

        Buf big = BUF_INIT(0);
        for (int i = 0; i < 100000; i++)
                ASSERT_OK(buf_append(&big, "abcdefgh", 8));
        ASSERT_EQ(big.len, 800000);
        buf_done(&big);
        return 0;
}
