/* SPDX-License-Identifier: MIT */
#include "services/deliver/deliver-reply.h"
#include "shared/macro.h"
#include "shared/tests.h"

static const struct {
        const char *in;
        int want;
        unsigned code;
        const char *enhanced;
} cases[] = {
        { "250 2.0.0 Ok\r\n", REPLY_DONE, 250, "2.0.0" },
        { "250-mx.example.org\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", REPLY_DONE, 250, "" },
        { "550 5.1.1 <bob@example.org>: unknown\r\n", REPLY_DONE, 550, "5.1.1" },
        { "451 4.3.0\n", REPLY_DONE, 451, "4.3.0" },             /* bare LF ends a line too */
        { "220\r\n", REPLY_DONE, 220, "" },
        { "250 5.0.0 class mismatch\r\n", REPLY_DONE, 250, "" },  /* RFC 3463: class must match */
        { "250-partial\r\n", REPLY_MORE, 0, NULL },
        { "199 too low\r\n", -EBADMSG, 0, NULL },
        { "600 too high\r\n", -EBADMSG, 0, NULL },
        { "25x bad\r\n", -EBADMSG, 0, NULL },
        { "250_bad separator\r\n", -EBADMSG, 0, NULL },
        { "250-one\r\n251 other code\r\n", -EBADMSG, 0, NULL },
        { "\r\n", -EBADMSG, 0, NULL },
};

static void test_table(void) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                ReplyParser p;
                size_t used = 0, n = strlen(cases[i].in);
                int r;

                reply_parser_init(&p);
                r = reply_parser_feed(&p, (const uint8_t *) cases[i].in, n, &used);
                ASSERT_EQ(r, cases[i].want);
                if (r == REPLY_DONE) {
                        ASSERT_EQ(p.reply.code, cases[i].code);
                        ASSERT_STREQ(p.reply.enhanced, cases[i].enhanced);
                        ASSERT_EQ(used, n);
                }
                reply_parser_done(&p);
        }
}

/* Byte by byte gives the same result as all at once. */
static void test_split(void) {
        const char *in = "250-mx.example.org\r\n250-PIPELINING\r\n250-STARTTLS\r\n250-SIZE 10240000\r\n"
                         "250-8BITMIME\r\n250-DSN\r\n250-AUTH PLAIN LOGIN\r\n250 SMTPUTF8\r\n354 go\r\n";
        ReplyParser p;
        EhloCaps caps;
        size_t i = 0, used;
        int r = REPLY_MORE;

        reply_parser_init(&p);
        while (r == REPLY_MORE) {
                r = reply_parser_feed(&p, (const uint8_t *) in + i, 1, &used);
                i += used;
        }
        ASSERT_EQ(r, REPLY_DONE);
        ASSERT_EQ(p.reply.n_lines, 8);
        ASSERT_OK(ehlo_parse(&p.reply, &caps));
        ASSERT_TRUE(caps.pipelining && caps.starttls && caps.eightbitmime && caps.dsn && caps.smtputf8);
        ASSERT_TRUE(caps.size && caps.size_max == 10240000);
        ASSERT_TRUE(caps.auth_plain && caps.auth_login);
        /* the next reply follows in the same stream (PIPELINING) */
        reply_parser_reset(&p);
        r = reply_parser_feed(&p, (const uint8_t *) in + i, strlen(in) - i, &used);
        ASSERT_EQ(r, REPLY_DONE);
        ASSERT_EQ(p.reply.code, 354);
        reply_parser_done(&p);
}

/* CVE-2020-8794: remote text never reaches a log or the queue raw. */
static void test_censor_and_bounds(void) {
        const char *in = "550-5.1.1 evil\x1b[31m\r\n550 next\nline\r\n";
        char long_line[2048];
        ReplyParser p;
        Buf d = BUF_INIT(0);
        size_t used;

        reply_parser_init(&p);
        ASSERT_EQ(reply_parser_feed(&p, (const uint8_t *) in, strlen(in), &used), REPLY_DONE);
        ASSERT_OK(reply_diagnostic(&p.reply, &d));
        ASSERT_OK(buf_append_byte(&d, 0));
        ASSERT_STREQ((const char *) d.data, "550 5.1.1 evil?[31m next");
        buf_done(&d);

        /* a line past SMTP_REPLY_LINE_MAX is cut, the rest skipped */
        reply_parser_reset(&p);
        memset(long_line, 'x', sizeof(long_line));
        memcpy(long_line, "250 ", 4);
        memcpy(long_line + sizeof(long_line) - 2, "\r\n", 2);
        ASSERT_EQ(reply_parser_feed(&p, (const uint8_t *) long_line, sizeof(long_line), &used), REPLY_DONE);
        ASSERT_TRUE(p.reply.truncated);
        ASSERT_TRUE(p.reply.text.len < 512);

        /* too many lines */
        reply_parser_reset(&p);
        for (int i = 0; i < 100; i++) {
                int r = reply_parser_feed(&p, (const uint8_t *) "250-x\r\n", 7, &used);

                if (i < 64)
                        ASSERT_EQ(r, REPLY_MORE);
                else {
                        ASSERT_EQ(r, -EBADMSG);
                        break;
                }
        }
        reply_parser_done(&p);
}

int main(void) {
        test_table();
        test_split();
        test_censor_and_bounds();
        return 0;
}
