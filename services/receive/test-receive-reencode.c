/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "services/receive/receive-reencode.h"
#include "shared/macro.h"
#include "shared/tests.h"

/* Decoders written here from RFC 2045 §6.7-6.8, to check the output
 * means what the input did. */
static int unhex(uint8_t c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void qp_decode(const uint8_t *p, size_t n, Buf *out) {
        for (size_t i = 0; i < n; i++) {
                if (p[i] != '=') {
                        ASSERT_OK(buf_append_byte(out, p[i]));
                        continue;
                }
                if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') {
                        i += 2;         /* soft line break */
                        continue;
                }
                ASSERT_TRUE(i + 2 < n && unhex(p[i + 1]) >= 0 && unhex(p[i + 2]) >= 0);
                ASSERT_OK(buf_append_byte(out, (uint8_t) (unhex(p[i + 1]) << 4 | unhex(p[i + 2]))));
                i += 2;
        }
}

static void b64_decode(const uint8_t *p, size_t n, Buf *out) {
        static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        unsigned acc = 0, bits = 0;

        for (size_t i = 0; i < n; i++) {
                const char *c = p[i] ? strchr(a, p[i]) : NULL;

                if (!c)
                        continue;
                acc = acc << 6 | (unsigned) (c - a);
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        ASSERT_OK(buf_append_byte(out, (uint8_t) (acc >> bits)));
                }
        }
}

static const uint8_t *find(const Buf *b, const char *s) {
        return memmem(b->data, b->len, s, strlen(s));
}

static void line(Buf *b, char c, size_t n) {
        for (size_t i = 0; i < n; i++)
                ASSERT_OK(buf_append_byte(b, (uint8_t) c));
}

static void reencode(const Buf *in, Buf *out) {
        const char *why = NULL;

        buf_reset(out);
        ASSERT_OK(reencode_long_lines(in->data, in->len, out, &why));
        ASSERT_TRUE(!has_long_line(out->data, out->len));
}

static void refused(const Buf *in, const char *want) {
        Buf out = BUF_INIT(0);
        const char *why = NULL;

        ASSERT_OK(buf_append_str(&out, "kept"));
        ASSERT_EQ(reencode_long_lines(in->data, in->len, &out, &why), -EBADMSG);
        ASSERT_TRUE(why && strstr(why, want));
        ASSERT_EQ(out.len, 4);          /* nothing appended */
        buf_done(&out);
}

/* A plain message (no MIME) with a 3000-octet line, trailing white space
 * and 8-bit UTF-8: quoted-printable, MIME-Version and a charset added. */
static void test_plain(void) {
        Buf in = BUF_INIT(0), out = BUF_INIT(0), body = BUF_INIT(0), dec = BUF_INIT(0);
        const uint8_t *sep;

        ASSERT_OK(buf_append_str(&body, "first \r\n"));
        line(&body, 'a', 3000);
        ASSERT_OK(buf_append_str(&body, " = \xd0\xbf\t\r\n.dot\r\nlast"));
        ASSERT_OK(buf_append_str(&in, "From: a@example.com\r\nContent-Transfer-Encoding: 8bit\r\nSubject: x\r\n\r\n"));
        ASSERT_OK(buf_append(&in, body.data, body.len));
        reencode(&in, &out);
        ASSERT_TRUE(find(&out, "\r\nMIME-Version: 1.0\r\n"));
        ASSERT_TRUE(find(&out, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
        ASSERT_TRUE(find(&out, "\r\nContent-Transfer-Encoding: quoted-printable\r\n"));
        ASSERT_TRUE(!find(&out, "8bit"));
        ASSERT_TRUE(find(&out, "Subject: x\r\n"));
        sep = find(&out, "\r\n\r\n");
        ASSERT_TRUE(sep);
        qp_decode(sep + 4, out.len - (size_t) (sep + 4 - out.data), &dec);
        ASSERT_MEMEQ(dec.data, dec.len, body.data, body.len);
        /* every encoded line is within 76 characters */
        for (const uint8_t *l = sep + 4, *e; l < out.data + out.len; l = e + 2) {
                e = memmem(l, (size_t) (out.data + out.len - l), "\r\n", 2);
                if (!e)
                        e = out.data + out.len;
                ASSERT_TRUE(e - l <= 76);
        }
        buf_done(&in);
        buf_done(&out);
        buf_done(&body);
        buf_done(&dec);
}

/* multipart/alternative: the long HTML part re-encoded, the text part and
 * the structure byte for byte; a long base64 line wrapped; a long
 * quoted-printable line given soft breaks. */
static void test_multipart(void) {
        Buf in = BUF_INIT(0), out = BUF_INIT(0), html = BUF_INIT(0), b64 = BUF_INIT(0), qp = BUF_INIT(0),
            dec = BUF_INIT(0);
        const uint8_t *p, *q;

        ASSERT_OK(buf_append_str(&html, "<html><body>"));
        for (int i = 0; i < 400; i++)
                ASSERT_OK(buf_append_str(&html, "<p>x</p>"));
        ASSERT_OK(buf_append_str(&html, "</body></html>"));
        for (int i = 0; i < 500; i++)
                ASSERT_OK(buf_append_str(&b64, "QUJD"));        /* "ABC" */
        for (int i = 0; i < 400; i++)
                ASSERT_OK(buf_append_str(&qp, "caf=C3=A9 "));
        ASSERT_OK(buf_append_str(&in, "From: a@example.com\r\nMIME-Version: 1.0\r\n"
                                      "Content-Type: multipart/mixed; boundary=\"outer b\"\r\n\r\n"
                                      "preamble\r\n--outer b\r\n"
                                      "Content-Type: multipart/alternative;\r\n boundary=inner\r\n\r\n"
                                      "--inner\r\nContent-Type: text/plain\r\n\r\nshort text\r\n--inner\r\n"
                                      "Content-Type: text/html; charset=us-ascii\r\n"
                                      "Content-Transfer-Encoding: 7bit\r\n\r\n"));
        ASSERT_OK(buf_append(&in, html.data, html.len));
        ASSERT_OK(buf_append_str(&in, "\r\n--inner--\r\n--outer b\r\n"
                                      "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"));
        ASSERT_OK(buf_append(&in, b64.data, b64.len));
        ASSERT_OK(buf_append_str(&in, "\r\n--outer b\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"));
        ASSERT_OK(buf_append(&in, qp.data, qp.len));
        ASSERT_OK(buf_append_str(&in, "\r\n--outer b--\r\nepilogue\r\n"));
        reencode(&in, &out);

        ASSERT_TRUE(find(&out, "preamble\r\n--outer b\r\n"));
        ASSERT_TRUE(find(&out, "--inner\r\nContent-Type: text/plain\r\n\r\nshort text\r\n--inner\r\n"));
        /* the HTML part: its 7bit replaced, its body quoted-printable */
        p = find(&out, "Content-Type: text/html; charset=us-ascii\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
        ASSERT_TRUE(p);
        p = (const uint8_t *) memchr(p, '<', (size_t) (out.data + out.len - p));
        q = find(&out, "\r\n--inner--\r\n");
        ASSERT_TRUE(p && q && q > p);
        qp_decode(p, (size_t) (q - p), &dec);
        ASSERT_MEMEQ(dec.data, dec.len, html.data, html.len);
        /* the base64 part: wrapped, the same bytes */
        buf_reset(&dec);
        p = find(&out, "Content-Transfer-Encoding: base64\r\n\r\n");
        q = find(&out, "--outer b\r\nContent-Type: text/plain; charset=utf-8");
        ASSERT_TRUE(p && q);
        ASSERT_TRUE(find(&out, "QUJDQUJD\r\nQUJD") || find(&out, "\r\nQUJD"));
        b64_decode(p + 37, (size_t) (q - p - 37), &dec);
        ASSERT_EQ(dec.len, 1500);
        /* the quoted-printable part: soft breaks, never inside =XX */
        buf_reset(&dec);
        p = find(&out, "quoted-printable\r\n\r\ncaf");
        q = find(&out, "\r\n--outer b--\r\nepilogue\r\n");
        ASSERT_TRUE(p && q);
        qp_decode(p + 20, (size_t) (q - p - 20), &dec);
        {
                Buf want = BUF_INIT(0);

                qp_decode(qp.data, qp.len, &want);
                ASSERT_MEMEQ(dec.data, dec.len, want.data, want.len);
                buf_done(&want);
        }
        buf_done(&in);
        buf_done(&out);
        buf_done(&html);
        buf_done(&b64);
        buf_done(&qp);
        buf_done(&dec);
}

/* A long header line folds at white space; without any it cannot. */
static void test_headers(void) {
        Buf in = BUF_INIT(0), out = BUF_INIT(0);

        ASSERT_OK(buf_append_str(&in, "From: a@example.com\r\nTo: "));
        for (int i = 0; i < 300; i++)
                ASSERT_OK(buf_printf(&in, "%suser%03d@example.org", i ? ", " : "", i));
        ASSERT_OK(buf_append_str(&in, "\r\nSubject: s\r\n\r\nbody\r\n"));
        reencode(&in, &out);
        /* unfolded, it is the same header */
        {
                Buf unfolded = BUF_INIT(0);

                for (size_t i = 0; i < out.len; i++) {
                        if (i + 2 < out.len && out.data[i] == '\r' && out.data[i + 1] == '\n' && out.data[i + 2] == ' ')
                                i++;
                        else
                                ASSERT_OK(buf_append_byte(&unfolded, out.data[i]));
                }
                ASSERT_MEMEQ(unfolded.data, unfolded.len, in.data, in.len);
                buf_done(&unfolded);
        }
        ASSERT_TRUE(find(&out, "\r\n\r\nbody\r\n"));
        ASSERT_TRUE(!find(&out, "quoted-printable"));   /* the body was fine */

        buf_reset(&in);
        ASSERT_OK(buf_append_str(&in, "From: a@example.com\r\nX-Token: "));
        line(&in, 'k', 1200);
        ASSERT_OK(buf_append_str(&in, "\r\n\r\nbody\r\n"));
        refused(&in, "header line");
        buf_done(&in);
        buf_done(&out);
}

static void test_refused(void) {
        Buf in = BUF_INIT(0);

        /* a long line inside an attached message */
        ASSERT_OK(buf_append_str(&in, "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                                      "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\n"));
        line(&in, 'm', 1500);
        ASSERT_OK(buf_append_str(&in, "\r\n--b--\r\n"));
        refused(&in, "attached message");
        /* in a preamble */
        buf_reset(&in);
        ASSERT_OK(buf_append_str(&in, "Content-Type: multipart/mixed; boundary=b\r\n\r\n"));
        line(&in, 'p', 1500);
        ASSERT_OK(buf_append_str(&in, "\r\n--b\r\n\r\nx\r\n--b--\r\n"));
        refused(&in, "before a multipart");
        /* a multipart without its boundary */
        buf_reset(&in);
        ASSERT_OK(buf_append_str(&in, "Content-Type: multipart/mixed\r\n\r\n"));
        line(&in, 'q', 1500);
        ASSERT_OK(buf_append_str(&in, "\r\n"));
        refused(&in, "boundary");
        /* an unknown transfer encoding */
        buf_reset(&in);
        ASSERT_OK(buf_append_str(&in, "Content-Transfer-Encoding: x-uuencode\r\n\r\n"));
        line(&in, 'u', 1500);
        refused(&in, "unknown transfer encoding");
        buf_done(&in);
}

/* Nothing long: not a byte changed. A part without header fields gets
 * one when re-encoded. */
static void test_unchanged(void) {
        static const char m[] = "Subject: x\r\n\r\nshort\r\n\r\n";
        Buf in = BUF_INIT(0), out = BUF_INIT(0);
        const char *why;

        ASSERT_OK(reencode_long_lines((const uint8_t *) m, strlen(m), &out, &why));
        ASSERT_MEMEQ(out.data, out.len, m, strlen(m));
        ASSERT_OK(buf_append_str(&in, "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n"));
        line(&in, 'z', 1200);
        ASSERT_OK(buf_append_str(&in, "\r\n--b--\r\n"));
        reencode(&in, &out);
        ASSERT_TRUE(find(&out, "--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nzzz"));
        ASSERT_TRUE(find(&out, "zz\r\n--b--\r\n"));
        buf_done(&in);
        buf_done(&out);
}

int main(void) {
        test_plain();
        test_multipart();
        test_headers();
        test_refused();
        test_unchanged();
        return 0;
}
