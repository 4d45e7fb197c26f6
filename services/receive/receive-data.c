/* SPDX-License-Identifier: MIT */
/*
 * DATA decoding, after qmail's blast(): CRLF framing (a bare LF refused
 * or, when normalizing, written as CRLF), exact dot-unstuffing, and a
 * terminator that only <CRLF>.<CRLF> can form. Pure:
 * bytes in, unstuffed bytes appended to a Buf; no I/O. The session streams
 * the Buf to the spool, so memory stays bounded whatever the message size.
 */
#include <string.h>

#include "services/receive/receive-data.h"
#include "shared/limits.h"
#include "shared/macro.h"

/* Appends unless the message is already over the limit; past it only the
 * size is counted, so the session can answer 552 after the terminator. */
static int emit(DataDecoder *d, Buf *out, const uint8_t *p, size_t n) {
        d->size += n;
        if (d->max > 0 && d->size > d->max) {
                d->errors |= DATA_ERROR_TOO_BIG;
                return 0;
        }
        if (d->errors)
                return 0;       /* the transaction is refused: keep nothing */
        return buf_append(out, p, n);
}

/* Length of an ordinary line at p, its CRLF included: bytes other than CR
 * and LF, then CRLF; 0 if p does not start one that ends within n. The
 * common case, found with two memchr() scans instead of byte by byte. */
static size_t text_line(const uint8_t *p, size_t n) {
        const uint8_t *cr = memchr(p, '\r', n), *lf;

        if (!cr || (size_t) (cr - p) + 1 >= n || cr[1] != '\n')
                return 0;
        lf = memchr(p, '\n', (size_t) (cr - p));
        return lf ? 0 : (size_t) (cr - p) + 2;
}

/* Length of the run of ordinary bytes at p: everything up to CR or LF. */
static size_t text_run(const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (p[i] == '\r' || p[i] == '\n')
                        return i;
        return n;
}

/* The current content line grew by @n octets, or ended (its CRLF not
 * counted): RFC 5321 §4.5.3.1.6 allows 998 octets and the CRLF. */
static void line_add(DataDecoder *d, size_t n) {
        d->line += n;
}

static void line_end(DataDecoder *d) {
        if (d->line > SMTP_TEXT_LINE_MAX - 2)
                d->long_line = true;
        d->line = 0;
}

/**
 * data_decoder_feed() - decode @n bytes of DATA input.
 * Appends the dot-unstuffed message (CRLF line ends, the CRLF before the
 * terminating "." included, as §4.1.1.4 says it belongs to the text) to
 * @out. Returns DATA_END when the terminator was consumed, with
 * *ret_consumed the number of bytes up to and including it (what follows
 * is the next command, pipelined); DATA_MORE when all @n bytes were
 * consumed; -ENOMEM or -EMSGSIZE from @out. Errors in the data (bare CR,
 * bare LF when not normalizing, too big) are recorded in d->errors and
 * never end the message.
 */
int data_decoder_feed(DataDecoder *d, const uint8_t *p, size_t n, Buf *out, size_t *ret_consumed) {
        static const uint8_t crlf[2] = { '\r', '\n' }, cr = '\r', dot_crlf[3] = { '.', '\r', '\n' };
        size_t i = 0;
        int r = 0;

        while (i < n && d->state != DATA_STATE_DONE) {
                uint8_t c = p[i];

                switch (d->state) {
                case DATA_STATE_BOL:
                case DATA_STATE_TEXT:
                        if (d->state == DATA_STATE_BOL && c == '.') {
                                d->state = DATA_STATE_DOT;
                                i++;
                        } else if (c == '\r') {
                                d->state = DATA_STATE_CR;
                                i++;
                        } else if (c == '\n' && d->normalize_lf) {
                                /* a line end, written as CRLF; the "." line
                                 * after it cannot end the message */
                                r = emit(d, out, crlf, 2);
                                line_end(d);
                                d->after_lf = true;
                                d->lf_normalized = true;
                                d->state = DATA_STATE_BOL;
                                i++;
                        } else if (c == '\n') {
                                d->errors |= DATA_ERROR_BARE_LF;
                                /* Not a line end: a following "." is not at a line start. */
                                r = emit(d, out, &c, 1);
                                d->state = DATA_STATE_TEXT;
                                i++;
                        } else {
                                size_t k = text_line(p + i, n - i);

                                if (k > 0) {
                                        /* the text and its CRLF at once, as the
                                         * CR and LF states would emit them */
                                        r = emit(d, out, p + i, k);
                                        line_add(d, k - 2);
                                        line_end(d);
                                        d->after_lf = false;
                                        d->state = DATA_STATE_BOL;
                                        i += k;
                                        break;
                                }
                                k = text_run(p + i, n - i);
                                r = emit(d, out, p + i, k);
                                line_add(d, k);
                                d->state = DATA_STATE_TEXT;
                                i += k;
                        }
                        break;
                case DATA_STATE_DOT:
                        /* §4.5.2: the leading "." of a line with more text is removed. */
                        if (c == '\r') {
                                d->state = DATA_STATE_DOT_CR;
                                i++;
                        } else
                                d->state = DATA_STATE_TEXT;     /* c is handled as text */
                        break;
                case DATA_STATE_DOT_CR:
                        if (c == '\n' && !d->after_lf) {
                                d->state = DATA_STATE_DONE;
                                i++;
                        } else if (c == '\n') {
                                /* ".CRLF" on a line a bare LF began is text */
                                r = emit(d, out, dot_crlf, 3);
                                line_add(d, 1);
                                line_end(d);
                                d->after_lf = false;
                                d->state = DATA_STATE_BOL;
                                i++;
                        } else {
                                /* ".\r" then not "\n": the dot was stuffing, the CR bare. */
                                d->errors |= DATA_ERROR_BARE_CR;
                                r = emit(d, out, &cr, 1);
                                line_add(d, 1);
                                d->state = DATA_STATE_TEXT;
                        }
                        break;
                case DATA_STATE_CR:
                        if (c == '\n') {
                                r = emit(d, out, crlf, 2);
                                line_end(d);
                                d->after_lf = false;
                                d->state = DATA_STATE_BOL;
                                i++;
                        } else {
                                d->errors |= DATA_ERROR_BARE_CR;
                                r = emit(d, out, &cr, 1);
                                line_add(d, 1);
                                d->state = DATA_STATE_TEXT;     /* c is handled as text */
                        }
                        break;
                case DATA_STATE_DONE:
                        break;
                }
                if (r < 0)
                        return r;
        }
        *ret_consumed = i;
        return d->state == DATA_STATE_DONE ? DATA_END : DATA_MORE;
}
