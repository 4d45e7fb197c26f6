/* SPDX-License-Identifier: MIT */
/* The reply stream, split at a point the first byte chooses, then each
 * reply's diagnostic and EHLO capabilities. */
#include "services/deliver/deliver-reply.h"
#include "shared/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ReplyParser p;
        size_t off = 1, split;

        if (size < 1 || size > 65535)
                return 0;
        split = 1 + data[0] % 64;
        reply_parser_init(&p);
        while (off < size) {
                size_t used = 0, n = size - off < split ? size - off : split;
                int r = reply_parser_feed(&p, data + off, n, &used);

                off += used;
                if (r < 0)
                        break;
                if (r == REPLY_DONE) {
                        Buf d = BUF_INIT(0);
                        EhloCaps c;

                        if (p.reply.code < 200 || p.reply.code > 559 || p.reply.n_lines > SMTP_REPLY_LINES_MAX)
                                __builtin_trap();
                        (void) reply_diagnostic(&p.reply, &d);
                        for (size_t i = 0; i < d.len; i++)
                                if (d.data[i] < 0x20 || d.data[i] >= 0x7f)
                                        __builtin_trap();
                        buf_done(&d);
                        (void) ehlo_parse(&p.reply, &c);
                        reply_parser_reset(&p);
                }
        }
        reply_parser_done(&p);
        return 0;
}
