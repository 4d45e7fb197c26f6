/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the DATA decoder. The first two bytes choose where the rest is
 * split into three reads; the result (end offset, errors, output) must be
 * the same as feeding it whole, and a clean message must never contain
 * <CRLF>.<CRLF> or a bare CR or LF.
 */
#include <stdlib.h>

#include "services/receive/receive-data.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int decode(const uint8_t *p, size_t n, const size_t *cuts, size_t n_cuts, Buf *out,
                  size_t *ret_end, unsigned *ret_errors) {
        DataDecoder d = DATA_DECODER_INIT(4096);
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
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Buf a = BUF_INIT(0), b = BUF_INIT(0);
        size_t cuts[2], end_a, end_b;
        unsigned err_a, err_b;
        int ra, rb;

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

        ra = decode(data, size, NULL, 0, &a, &end_a, &err_a);
        rb = decode(data, size, cuts, 2, &b, &end_b, &err_b);
        if (ra != rb || end_a != end_b || err_a != err_b)
                abort();
        if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
                abort();
        if (ra == DATA_END) {
                /* the terminator is exactly the 5 bytes before the end offset... */
                if (end_a < 3 || memcmp(data + end_a - 3, ".\r\n", 3) != 0)
                        abort();
                /* ...and a clean message has CRLF line ends only and no terminator inside */
                if (err_a == 0) {
                        for (size_t i = 0; i < a.len; i++)
                                if ((a.data[i] == '\n' && (i == 0 || a.data[i - 1] != '\r')) ||
                                    (a.data[i] == '\r' && (i + 1 >= a.len || a.data[i + 1] != '\n')))
                                        abort();
                        if (a.len >= 2 && memcmp(a.data + a.len - 2, "\r\n", 2) != 0)
                                abort();
                }
        }
        buf_done(&a);
        buf_done(&b);
        return 0;
}
