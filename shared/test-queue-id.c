/* SPDX-License-Identifier: MIT */
#include "shared/queue-id.h"
#include "shared/tests.h"

int main(void) {
        char a[QUEUE_ID_LEN + 1], b[QUEUE_ID_LEN + 1], prev[QUEUE_ID_LEN + 1] = "";

        queue_id_format(0, 0, a);
        ASSERT_STREQ(a, "0000000000000000");
        queue_id_format(UINT64_C(1764300000123456), 0x1ffffff, a);
        ASSERT_TRUE(queue_id_valid(a));
        ASSERT_EQ(queue_id_usec(a), UINT64_C(1764300000123456));
        ASSERT_STREQ(a + QUEUE_ID_TIME_CHARS, "ZZZZZ");

        /* time order is lexical order */
        queue_id_format(UINT64_C(1764300000123456), 0x1ffffff, a);
        queue_id_format(UINT64_C(1764300000123457), 0, b);
        ASSERT_TRUE(strcmp(a, b) < 0);

        for (int i = 0; i < 1000; i++) {
                ASSERT_OK(queue_id_new(a));
                ASSERT_TRUE(queue_id_valid(a));
                ASSERT_TRUE(strcmp(prev, a) != 0);
                ASSERT_TRUE(strncmp(prev, a, QUEUE_ID_TIME_CHARS) <= 0);
                memcpy(prev, a, sizeof(a));
        }

        ASSERT_TRUE(!queue_id_valid(""));
        ASSERT_TRUE(!queue_id_valid("000000000000000"));        /* 15 */
        ASSERT_TRUE(!queue_id_valid("00000000000000000"));      /* 17 */
        ASSERT_TRUE(!queue_id_valid("000000000000000I"));       /* I is not Crockford */
        ASSERT_TRUE(!queue_id_valid("000000000000000a"));       /* lower case */
        ASSERT_TRUE(!queue_id_valid("../../etc/passwd"));
        return 0;
}
