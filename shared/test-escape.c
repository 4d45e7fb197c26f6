/* SPDX-License-Identifier: MIT */
#include "shared/escape.h"
#include "shared/macro.h"
#include "shared/tests.h"

int main(void) {
        Buf b = BUF_INIT(0);
        char *s;

        ASSERT_OK(escape_printable("250 ok\r\nX-Evil: 1", 17, 100, 0, &b));
        ASSERT_STREQ((char *) b.data, "250 ok??X-Evil: 1");
        buf_reset(&b);
        ASSERT_OK(escape_printable("abcdef", 6, 3, 0, &b));
        ASSERT_STREQ((char *) b.data, "abc...");
        buf_reset(&b);
        ASSERT_OK(escape_printable("\xd0\xbf\xff", 3, 100, 1, &b));
        ASSERT_STREQ((char *) b.data, "\xd0\xbf?");
        buf_done(&b);
        s = escape_printable_dup("\x1b[31m", 5, 100);
        ASSERT_STREQ(s, "?[31m");
        free(s);
        return 0;
}
