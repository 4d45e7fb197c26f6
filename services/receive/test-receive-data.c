/* SPDX-License-Identifier: MIT */
#include "services/receive/receive-data.h"
#include "shared/macro.h"
#include "shared/tests.h"

typedef struct Case {
        const char *in;
        const char *out;        /* decoded message when no error */
        unsigned errors;
        size_t tail;            /* bytes left after the terminator */
        size_t n_in, n_out;     /* for inputs with a NUL; 0: strlen() */
} Case;

static const Case cases[] = {
        /* the empty message, and the simplest one */
        { ".\r\n", "", 0, 0, 0, 0 },
        { "a\r\n.\r\n", "a\r\n", 0, 0, 0, 0 },
        /* dot-unstuffing, RFC 5321 §4.5.2 */
        { "..\r\n.\r\n", ".\r\n", 0, 0, 0, 0 },
        { "..x\r\n...\r\n.\r\n", ".x\r\n..\r\n", 0, 0, 0, 0 },
        { "a.\r\n.b\r\n.\r\n", "a.\r\nb\r\n", 0, 0, 0, 0 },
        { "x\r\n..\r\n\r\n.\r\n", "x\r\n.\r\n\r\n", 0, 0, 0, 0 },
        /* pipelined commands after the terminator are not consumed */
        { "a\r\n.\r\nQUIT\r\n", "a\r\n", 0, 6, 0, 0 },
        { "a\r\n.\r\nMAIL FROM:<b@c>\r\n", "a\r\n", 0, 17, 0, 0 },
        /* a blank line and a terminator */
        { "\r\n.\r\n", "\r\n", 0, 0, 0, 0 },
        /* 8-bit and NUL bytes pass as they are */
        { "\xd0\xbf\0\r\n.\r\n", "\xd0\xbf\0\r\n", 0, 0, 8, 5 },
        /* smuggling: only <CRLF>.<CRLF> ends the message; the rest is refused */
        { "a\n.\nMAIL FROM:<x@y>\r\n.\r\n", NULL, DATA_ERROR_BARE_LF, 0, 0, 0 },
        { "a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n", NULL, DATA_ERROR_BARE_LF, 0, 0, 0 },
        { "a\r.\rMAIL FROM:<x@y>\r\n.\r\n", NULL, DATA_ERROR_BARE_CR, 0, 0, 0 },
        { "a\r\n.\rMAIL FROM:<x@y>\r\n.\r\n", NULL, DATA_ERROR_BARE_CR, 0, 0, 0 },
        { "a\r\n.\nMAIL FROM:<x@y>\r\n.\r\n", NULL, DATA_ERROR_BARE_LF, 0, 0, 0 },
        { "a\r\r\n.\r\n", NULL, DATA_ERROR_BARE_CR, 0, 0, 0 },
        { "\n.\r\n.\r\n", NULL, DATA_ERROR_BARE_LF, 0, 0, 0 },
        { ".\n.\r\n.\r\n", NULL, DATA_ERROR_BARE_LF, 0, 0, 0 },
        { "a\r\n\n.\r\n\r\n.\r\n", NULL, DATA_ERROR_BARE_LF, 0, 0, 0 },
        { "a\r\n.\r.\r\n.\r\n", NULL, DATA_ERROR_BARE_CR, 0, 0, 0 },
};

/* bare_newline = normalize: a bare LF ends a line and is written as CRLF;
 * still only <CRLF>.<CRLF> ends the message, and every smuggling variant
 * gives exactly one message, holding what came before the real end. */
static const Case normalize_cases[] = {
        { "a\nb\r\n.\r\n", "a\r\nb\r\n", 0, 0, 0, 0 },
        { "a\nb\n\r\n.\r\n", "a\r\nb\r\n\r\n", 0, 0, 0, 0 },
        { "..x\ny\r\n.\r\n", ".x\r\ny\r\n", 0, 0, 0, 0 },
        { "x\n..\r\n.\r\n", "x\r\n.\r\n", 0, 0, 0, 0 },
        { "a\r\n.\r\nQUIT\r\n", "a\r\n", 0, 6, 0, 0 },
        /* the smuggling variants: one message, up to the real <CRLF>.<CRLF> */
        { "a\n.\nMAIL FROM:<x@y>\r\n.\r\n", "a\r\n\r\nMAIL FROM:<x@y>\r\n", 0, 0, 0, 0 },
        { "a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n", "a\r\n.\r\nMAIL FROM:<x@y>\r\n", 0, 0, 0, 0 },
        { "a\r\n.\nMAIL FROM:<x@y>\r\n.\r\n", "a\r\n\r\nMAIL FROM:<x@y>\r\n", 0, 0, 0, 0 },
        { "\n.\r\n.\r\n", "\r\n.\r\n", 0, 0, 0, 0 },
        { ".\n.\r\n.\r\n", "\r\n.\r\n", 0, 0, 0, 0 },
        { "a\r\n\n.\r\n\r\n.\r\n", "a\r\n\r\n.\r\n\r\n", 0, 0, 0, 0 },
        /* a bare CR is refused whatever the mode */
        { "a\r.\rMAIL FROM:<x@y>\r\n.\r\n", NULL, DATA_ERROR_BARE_CR, 0, 0, 0 },
        { "a\r\n.\rMAIL FROM:<x@y>\r\n.\r\n", NULL, DATA_ERROR_BARE_CR, 0, 0, 0 },
        { "a\n.\r.\r\n.\r\n", NULL, DATA_ERROR_BARE_CR, 0, 0, 0 },
};

static bool normalize;

/* Feeds @in in pieces cut at @cuts (ascending offsets), checking the
 * result is the same however the input is split. */
static void run(const Case *c, size_t len, const size_t *cuts, size_t n_cuts) {
        DataDecoder d = normalize ? DATA_DECODER_INIT_NORMALIZE(0) : DATA_DECODER_INIT(0);
        Buf out = BUF_INIT(0);
        size_t pos = 0, consumed = 0;
        int r = DATA_MORE;

        for (size_t k = 0; k <= n_cuts && r == DATA_MORE; k++) {
                size_t end = k < n_cuts ? cuts[k] : len;

                r = data_decoder_feed(&d, (const uint8_t *) c->in + pos, end - pos, &out, &consumed);
                ASSERT_OK(r);
                if (r == DATA_MORE)
                        ASSERT_EQ(consumed, end - pos);
                pos += consumed;
        }
        if (r != DATA_END)
                fprintf(stderr, "case: %s\n", c->in);
        ASSERT_EQ(r, DATA_END);
        ASSERT_EQ(len - pos, c->tail);
        ASSERT_EQ(d.errors, c->errors);
        /* on an error the session throws the output away; it is not checked */
        if (!c->errors && out.len == 0)
                ASSERT_EQ(c->n_out ?: strlen(c->out), 0);
        else if (!c->errors)
                ASSERT_MEMEQ(out.data, out.len, c->out, c->n_out ?: strlen(c->out));
        buf_done(&out);
}

static size_t case_len(const Case *c) {
        return c->n_in ?: strlen(c->in);
}

static void test_splits(const Case *table, size_t n_table) {
        for (size_t i = 0; i < n_table; i++) {
                const Case *c = &table[i];
                size_t len = case_len(c), cuts[2];

                run(c, len, NULL, 0);
                /* every single split point, and every pair */
                for (size_t a = 0; a <= len; a++) {
                        cuts[0] = a;
                        run(c, len, cuts, 1);
                        for (size_t b = a; b <= len; b++) {
                                cuts[1] = b;
                                run(c, len, cuts, 2);
                        }
                }
        }
}

static void test_byte_by_byte(const Case *table, size_t n_table) {
        for (size_t i = 0; i < n_table; i++) {
                size_t len = case_len(&table[i]), cuts[64];

                ASSERT_TRUE(len <= ELEMENTSOF(cuts));
                for (size_t k = 0; k < len; k++)
                        cuts[k] = k + 1;
                run(&table[i], len, cuts, len - 1);
        }
}

/* 998 octets and CRLF is the longest line RFC 5321 §4.5.3.1.6 allows;
 * one more is noted, however the line is split and however it ends. */
static void test_long_lines(void) {
        for (int mode = 0; mode < 2; mode++)
                for (size_t len = 996; len <= 1000; len++)
                        for (size_t cut = 0; cut <= len; cut += 333) {
                                DataDecoder d = mode ? DATA_DECODER_INIT_NORMALIZE(0) : DATA_DECODER_INIT(0);
                                Buf in = BUF_INIT(0), out = BUF_INIT(0);
                                size_t consumed;

                                ASSERT_OK(buf_append_str(&in, "short\r\n."));  /* a stuffed dot: not counted */
                                for (size_t k = 0; k < len; k++)
                                        ASSERT_OK(buf_append_byte(&in, 'x'));
                                ASSERT_OK(buf_append_str(&in, mode ? "\nend\r\n.\r\n" : "\r\nend\r\n.\r\n"));
                                ASSERT_EQ(data_decoder_feed(&d, in.data, cut + 8, &out, &consumed), DATA_MORE);
                                ASSERT_EQ(data_decoder_feed(&d, in.data + cut + 8, in.len - cut - 8, &out, &consumed),
                                          DATA_END);
                                ASSERT_EQ(d.errors, 0);
                                ASSERT_EQ(d.long_line, len > 998);
                                buf_done(&in);
                                buf_done(&out);
                        }
}

static void test_too_big(void) {
        static const char in[] = "0123456789\r\n0123456789\r\n.\r\nQUIT\r\n";
        DataDecoder d = DATA_DECODER_INIT(15);
        Buf out = BUF_INIT(0);
        size_t consumed;

        /* past the limit the decoder keeps reading to the terminator */
        ASSERT_EQ(data_decoder_feed(&d, (const uint8_t *) in, strlen(in), &out, &consumed), DATA_END);
        ASSERT_EQ(consumed, strlen(in) - 6);
        ASSERT_EQ(d.errors, DATA_ERROR_TOO_BIG);
        ASSERT_EQ(d.size, 24);
        buf_done(&out);

        /* exactly at the limit is fine */
        d = DATA_DECODER_INIT(24);
        ASSERT_EQ(data_decoder_feed(&d, (const uint8_t *) in, strlen(in), &out, &consumed), DATA_END);
        ASSERT_EQ(d.errors, 0);
        ASSERT_EQ(out.len, 24);
        buf_done(&out);
}

static void test_no_terminator(void) {
        static const char *partial[] = { "a\r\n.", "a\r\n.\r", "a\n.\n", "a\r.\r", "a\r\n.\n", ".\n" };

        for (size_t i = 0; i < ELEMENTSOF(partial); i++) {
                DataDecoder d = DATA_DECODER_INIT(0);
                Buf out = BUF_INIT(0);
                size_t consumed;

                ASSERT_EQ(data_decoder_feed(&d, (const uint8_t *) partial[i], strlen(partial[i]), &out, &consumed),
                          DATA_MORE);
                ASSERT_EQ(consumed, strlen(partial[i]));
                buf_done(&out);
        }
}

int main(void) {
        test_splits(cases, ELEMENTSOF(cases));
        test_byte_by_byte(cases, ELEMENTSOF(cases));
        normalize = true;
        test_splits(normalize_cases, ELEMENTSOF(normalize_cases));
        test_byte_by_byte(normalize_cases, ELEMENTSOF(normalize_cases));
        normalize = false;
        test_long_lines();
        test_too_big();
        test_no_terminator();
        return 0;
}
