/* SPDX-License-Identifier: MIT */
#include "shared/macro.h"
#include "shared/tests.h"
#include "shared/xtext.h"

static void roundtrip(const char *in, size_t n, const char *want) {
        Buf e = BUF_INIT(0), d = BUF_INIT(0);

        ASSERT_OK(xtext_encode(&e, in, n));
        ASSERT_STREQ((char *) e.data, want);
        ASSERT_TRUE(xtext_valid((char *) e.data, e.len));
        ASSERT_OK(xtext_decode((char *) e.data, e.len, &d));
        ASSERT_MEMEQ(d.data, d.len, in, n);
        buf_done(&e);
        buf_done(&d);
}

int main(void) {
        static const char *bad[] = { "a b", "a=b", "+4", "+4g", "+zz", "a\nb", "+0a" };
        Buf d = BUF_INIT(0);

        roundtrip("alice@example.com", 17, "alice@example.com");
        roundtrip("a+b=c", 5, "a+2Bb+3Dc");
        roundtrip("x\r\nrcpt evil@x", 14, "x+0D+0Arcpt+20evil@x");
        roundtrip("\xd0\xbf\xd0\xbe", 4, "+D0+BF+D0+BE");
        roundtrip("a\0b", 3, "a+00b");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ASSERT_TRUE(!xtext_valid(bad[i], strlen(bad[i])));
                ASSERT_EQ(xtext_decode(bad[i], strlen(bad[i]), &d), -EINVAL);
                buf_reset(&d);
        }
        buf_done(&d);
        return 0;
}
