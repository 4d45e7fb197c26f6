/* SPDX-License-Identifier: MIT */
/* RFC 6376 §3.4.5's example, and the edge cases of §3.4.3/§3.4.4. */
#include "services/sign/dkim-canon.h"
#include "shared/macro.h"
#include "shared/tests.h"

static void collect(const uint8_t *p, size_t n, void *userdata) {
        ASSERT_OK(buf_append(userdata, p, n));
}

static void check_body(DkimCanon c, const char *in, size_t n, const char *expect) {
        Buf out = BUF_INIT(0);

        dkim_canon_body(c, (const uint8_t *) in, n, collect, &out);
        ASSERT_MEMEQ(out.data ? (char *) out.data : "", out.len, expect, strlen(expect));
        buf_done(&out);
}

static void check_header(DkimCanon c, const char *field, const char *expect) {
        Buf out = BUF_INIT(0);

        ASSERT_OK(dkim_canon_header(c, (const uint8_t *) field, strlen(field), true, &out));
        ASSERT_MEMEQ(out.data, out.len, expect, strlen(expect));
        buf_done(&out);
}

static void test_rfc6376_example(void) {
        /* §3.4.5: headers "A: X" and "B : Y<HTAB><CRLF><HTAB>Z  ",
         * body " C \r\nD \t E\r\n\r\n\r\n". */
        static const char body[] = " C \r\nD \t E\r\n\r\n\r\n";

        check_header(DKIM_CANON_RELAXED, "A: X", "a:X\r\n");
        check_header(DKIM_CANON_RELAXED, "B : Y\t\r\n\tZ  ", "b:Y Z\r\n");
        check_body(DKIM_CANON_RELAXED, body, strlen(body), " C\r\nD E\r\n");

        check_header(DKIM_CANON_SIMPLE, "A: X", "A: X\r\n");
        check_header(DKIM_CANON_SIMPLE, "B : Y\t\r\n\tZ  ", "B : Y\t\r\n\tZ  \r\n");
        check_body(DKIM_CANON_SIMPLE, body, strlen(body), " C \r\nD \t E\r\n");
}

static void test_body_edges(void) {
        /* Empty body: simple is one CRLF (§3.4.3), relaxed is empty (§3.4.4, erratum 3133 text). */
        check_body(DKIM_CANON_SIMPLE, "", STRLEN(""), "\r\n");
        check_body(DKIM_CANON_RELAXED, "", STRLEN(""), "");
        check_body(DKIM_CANON_SIMPLE, "\r\n\r\n", STRLEN("\r\n\r\n"), "\r\n");
        check_body(DKIM_CANON_RELAXED, "\r\n \r\n\t\r\n", STRLEN("\r\n \r\n\t\r\n"), "");
        /* No final CRLF: one is added. */
        check_body(DKIM_CANON_SIMPLE, "abc", STRLEN("abc"), "abc\r\n");
        check_body(DKIM_CANON_RELAXED, "a  b\t", STRLEN("a  b\t"), "a b\r\n");
        /* Blank lines inside the body are kept, whitespace-only ones emptied. */
        check_body(DKIM_CANON_RELAXED, "a\r\n \r\n\r\nb\r\n\r\n", STRLEN("a\r\n \r\n\r\nb\r\n\r\n"), "a\r\n\r\n\r\nb\r\n");
        check_body(DKIM_CANON_SIMPLE, "a\r\n \r\n\r\nb\r\n\r\n", STRLEN("a\r\n \r\n\r\nb\r\n\r\n"), "a\r\n \r\n\r\nb\r\n");
        /* Leading WSP collapses but stays; a bare CR or LF is content. */
        check_body(DKIM_CANON_RELAXED, "\t\tx\ry\nz\r\n", STRLEN("\t\tx\ry\nz\r\n"), " x\ry\nz\r\n");
        /* 8-bit bytes pass through untouched. */
        check_body(DKIM_CANON_RELAXED, "\xd0\x9f\xd1\x80\xd0\xb8  \r\n", STRLEN("\xd0\x9f\xd1\x80\xd0\xb8  \r\n"), "\xd0\x9f\xd1\x80\xd0\xb8\r\n");
}

static void test_header_edges(void) {
        check_header(DKIM_CANON_RELAXED, "SUBJECT:no space", "subject:no space\r\n");
        check_header(DKIM_CANON_RELAXED, "Subject:   ", "subject:\r\n");
        check_header(DKIM_CANON_RELAXED, "Subject: : x", "subject:: x\r\n");
        check_header(DKIM_CANON_RELAXED, "To: a,\r\n  b,\r\n\tc", "to:a, b, c\r\n");
        check_header(DKIM_CANON_RELAXED, "X-U: \xd0\x9f  \xd1\x80", "x-u:\xd0\x9f \xd1\x80\r\n");
}

static void test_parse(void) {
        DkimCanon h, b;

        ASSERT_OK(dkim_canon_parse("relaxed/simple", &h, &b));
        ASSERT_TRUE(h == DKIM_CANON_RELAXED && b == DKIM_CANON_SIMPLE);
        ASSERT_OK(dkim_canon_parse("simple/relaxed", &h, &b));
        ASSERT_TRUE(h == DKIM_CANON_SIMPLE && b == DKIM_CANON_RELAXED);
        ASSERT_OK(dkim_canon_parse("relaxed", &h, &b));
        ASSERT_TRUE(h == DKIM_CANON_RELAXED && b == DKIM_CANON_SIMPLE);
        ASSERT_EQ(dkim_canon_parse("relaxed/none", &h, &b), -EINVAL);
        ASSERT_EQ(dkim_canon_parse("nofws", &h, &b), -EINVAL);
}

int main(void) {
        test_rfc6376_example();
        test_body_edges();
        test_header_edges();
        test_parse();
        return 0;
}
