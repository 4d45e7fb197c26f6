/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the DATA decoder, refusing and normalizing bare LF. The first
 * two bytes choose where the rest is split into three reads; the result
 * (end offset, errors, output) must be the same as feeding it whole; the
 * message ends only where the input holds <CRLF>.<CRLF>; a clean message
 * has CRLF line ends only; and a long line is noted exactly when the
 * output has one.
 */
#include <stdlib.h>

#include "services/receive/receive-data.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int decode(bool normalize, const uint8_t *p, size_t n, const size_t *cuts, size_t n_cuts, Buf *out,
                  size_t *ret_end, unsigned *ret_errors, bool *ret_long) {
        DataDecoder d = normalize ? DATA_DECODER_INIT_NORMALIZE(4096) : DATA_DECODER_INIT(4096);
        size_t pos = 0, consumed;
        int r = DATA_MORE;

        for (size_t k = 0; k <= n_cuts && r == DATA_MORE; k++) {
                size_t end = k < n_cuts ? cuts[k] : n;

                r = data_decoder_feed(&d, p + pos, end - pos, out, &consumed);
                if (r < 0)
                        abort();
                pos += consumed;
        }
        *ret_end = pos;
        *ret_errors = d.errors;
        *ret_long = d.long_line;
        return r;
}

static bool has_long_line(const Buf *b) {
        size_t start = 0;

        for (size_t i = 0; i + 1 < b->len; i++)
                if (b->data[i] == '\r' && b->data[i + 1] == '\n') {
                        if (i - start > 998)
                                return true;
                        start = i + 2;
                }
        return false;
}

static void check(bool normalize, const uint8_t *data, size_t size, const size_t cuts[2]) {
        Buf a = BUF_INIT(0), b = BUF_INIT(0);
        size_t end_a, end_b;
        unsigned err_a, err_b;
        bool long_a, long_b;
        int ra, rb;

        ra = decode(normalize, data, size, NULL, 0, &a, &end_a, &err_a, &long_a);
        rb = decode(normalize, data, size, cuts, 2, &b, &end_b, &err_b, &long_b);
        if (ra != rb || end_a != end_b || err_a != err_b || long_a != long_b)
                abort();
        if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
                abort();
        if (normalize && (err_a & DATA_ERROR_BARE_LF))
                abort();
        if (ra == DATA_END) {
                /* the terminator is <CRLF>.<CRLF> in the input, or "." CRLF first */
                if (end_a < 3 || memcmp(data + end_a - 3, ".\r\n", 3) != 0 ||
                    (end_a > 3 && (end_a < 5 || memcmp(data + end_a - 5, "\r\n", 2) != 0)))
                        abort();
                /* ...and a clean message has CRLF line ends only */
                if (err_a == 0) {
                        for (size_t i = 0; i < a.len; i++)
                                if ((a.data[i] == '\n' && (i == 0 || a.data[i - 1] != '\r')) ||
                                    (a.data[i] == '\r' && (i + 1 >= a.len || a.data[i + 1] != '\n')))
                                        abort();
                        if (a.len >= 2 && memcmp(a.data + a.len - 2, "\r\n", 2) != 0)
                                abort();
                        if (long_a != has_long_line(&a))
                                abort();
                }
        }
        buf_done(&a);
        buf_done(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        size_t cuts[2];

        if (size < 2 || size > 65535)
                return 0;
        cuts[0] = data[0] % (size - 1);
        cuts[1] = cuts[0] + data[1] % (size - 1 - cuts[0] + 1);
        data += 2;
        size -= 2;
        if (cuts[1] > size)
                cuts[1] = size;
        if (cuts[0] > cuts[1])
                cuts[0] = cuts[1];
        check(false, data, size, cuts);
        check(true, data, size, cuts);
        return 0;
}
