/* SPDX-License-Identifier: MIT */
#include "shared/address.h"
#include "shared/macro.h"
#include "shared/tests.h"

static const struct {
        const char *in;
        unsigned flags;
        int valid;
} cases[] = {
        { "alice@example.com", 0, 1 },
        { "a.b+tag@sub.example.co.uk", 0, 1 },
        { "\"john doe\"@example.com", 0, 1 },
        { "\"a\\\"b\"@example.com", 0, 1 },
        { "\"a@b\"@example.com", 0, 1 },
        { "user@[203.0.113.5]", 0, 1 },
        { "user@[IPv6:2001:db8::1]", 0, 1 },
        { "root", ADDRESS_UNQUALIFIED, 1 },
        { "root", 0, 0 },
        { "", 0, 0 },
        { "@example.com", 0, 0 },
        { "alice@", 0, 0 },
        { ".alice@example.com", 0, 0 },
        { "alice.@example.com", 0, 0 },
        { "al..ice@example.com", 0, 0 },
        { "alice@exa mple.com", 0, 0 },
        { "alice@-example.com", 0, 0 },
        { "alice@example-.com", 0, 0 },
        { "alice@example..com", 0, 0 },
        { "alice@example.com.", 0, 0 },
        { "ali ce@example.com", 0, 0 },
        { "alice\r\n@example.com", 0, 0 },
        { "alice@exa_mple.com", 0, 0 },
        { "\"unterminated@example.com", 0, 0 },
        { "\"a\rb\"@example.com", 0, 0 },
        { "user@[203.0.113.5", 0, 0 },
        { "\xd0\xbf\xd0\xbe\xd1\x87\xd1\x82\xd0\xb0@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84", 0, 0 },
        { "\xd0\xbf\xd0\xbe\xd1\x87\xd1\x82\xd0\xb0@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84", ADDRESS_UTF8, 1 },
        { "\xc0\xaf@example.com", ADDRESS_UTF8, 0 },            /* overlong */
        { "\xed\xa0\x80@example.com", ADDRESS_UTF8, 0 },        /* surrogate */
        { "a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", 0, 0 }, /* 64-char label */
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.com", 0, 0 }, /* 65-char local */
};

int main(void) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r = address_valid(cases[i].in, strlen(cases[i].in), cases[i].flags);

                if ((r == 0) != cases[i].valid) {
                        fprintf(stderr, "case %zu '%s': got %d\n", i, cases[i].in, r);
                        abort();
                }
        }
        ASSERT_EQ(address_valid("a\0b@x.com", 9, 0), -EINVAL);
        ASSERT_STREQ(address_domain("\"a@b\"@example.com"), "example.com");
        ASSERT_TRUE(address_domain("root") == NULL);
        return 0;
}
