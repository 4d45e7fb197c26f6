/* SPDX-License-Identifier: MIT */
#include "shared/buf.h"
#include "shared/header-section.h"
#include "shared/limits.h"
#include "shared/macro.h"
#include "shared/tests.h"

static void test_parse(void) {
        static const char m[] = "From: a@b.example\r\nSubject: one\r\n two\r\nTo: x@y\r\n\r\nbody\r\n";
        HeaderSection h = {};
        size_t i;

        ASSERT_OK(header_section_parse((const uint8_t *) m, strlen(m), &h));
        ASSERT_EQ(h.n_fields, 3);
        ASSERT_EQ(h.fields[1].len, strlen("Subject: one\r\n two"));
        ASSERT_EQ(h.fields[1].name_len, 7);
        ASSERT_STREQ(m + h.body_offset, "body\r\n");
        ASSERT_OK(header_section_find_one(&h, (const uint8_t *) m, "from", &i));
        ASSERT_EQ(i, 0);
        ASSERT_EQ(header_section_find_one(&h, (const uint8_t *) m, "Cc", &i), -ENOENT);
        header_section_done(&h);

        /* Headers only, last line without CRLF. */
        ASSERT_OK(header_section_parse((const uint8_t *) "From: a@b", 9, &h));
        ASSERT_EQ(h.n_fields, 1);
        ASSERT_EQ(h.body_offset, 9);
        header_section_done(&h);

        ASSERT_EQ(header_section_parse((const uint8_t *) " cont\r\n\r\n", 9, &h), -EBADMSG);
        ASSERT_EQ(header_section_parse((const uint8_t *) "no colon\r\n\r\n", 12, &h), -EBADMSG);
        ASSERT_EQ(header_section_parse((const uint8_t *) ": empty\r\n\r\n", 11, &h), -EBADMSG);
}

/* Each cap: at the limit taken, one past it -EMSGSIZE. */
static void test_limits(void) {
        HeaderSection h = {};
        Buf b = BUF_INIT(0);

        for (int i = 0; i < HEADER_FIELDS_MAX; i++)
                ASSERT_OK(buf_printf(&b, "X-%d: v\r\n", i));
        ASSERT_OK(buf_append_str(&b, "\r\nbody\r\n"));
        ASSERT_OK(header_section_parse(b.data, b.len, &h));
        ASSERT_EQ(h.n_fields, HEADER_FIELDS_MAX);
        header_section_done(&h);
        buf_reset(&b);
        for (int i = 0; i <= HEADER_FIELDS_MAX; i++)
                ASSERT_OK(buf_printf(&b, "X-%d: v\r\n", i));
        ASSERT_EQ(header_section_parse(b.data, b.len, &h), -EMSGSIZE);

        /* a name of HEADER_NAME_MAX octets, then one more */
        for (int extra = 0; extra < 2; extra++) {
                buf_reset(&b);
                for (int i = 0; i < HEADER_NAME_MAX + extra; i++)
                        ASSERT_OK(buf_append_byte(&b, 'n'));
                ASSERT_OK(buf_append_str(&b, ": v\r\n\r\n"));
                ASSERT_EQ(header_section_parse(b.data, b.len, &h), extra ? -EMSGSIZE : 0);
                header_section_done(&h);
        }
        /* a value over HEADER_VALUE_MAX, folded or not */
        for (int folded = 0; folded < 2; folded++) {
                buf_reset(&b);
                ASSERT_OK(buf_append_str(&b, "X:"));
                for (int i = 0; i <= HEADER_VALUE_MAX / 4; i++)
                        ASSERT_OK(buf_append_str(&b, folded ? "\r\n b" : "vvvv"));
                ASSERT_OK(buf_append_str(&b, "\r\n\r\n"));
                ASSERT_EQ(header_section_parse(b.data, b.len, &h), -EMSGSIZE);
        }
        /* a section over HEADER_SECTION_MAX */
        buf_reset(&b);
        for (int i = 0; b.len < HEADER_SECTION_MAX; i++)
                ASSERT_OK(buf_printf(&b, "X-%d: %0200d\r\n", i % 100, 0));
        ASSERT_OK(buf_append_str(&b, "\r\n"));
        ASSERT_EQ(header_section_parse(b.data, b.len, &h), -EMSGSIZE);
        buf_done(&b);
}

int main(void) {
        test_parse();
        test_limits();
        return 0;
}
