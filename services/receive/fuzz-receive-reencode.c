/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the long-line re-encoder with whole messages (CRLF lines, as
 * the DATA decoder hands them over; the input's bare CR and LF become
 * CRLF here). Whatever it returns has no line over 998 octets, CRLF line
 * ends only, and a header section the shared parser takes when the input
 * had one; a refusal says why and appends nothing.
 */
#include <stdlib.h>

#include "services/receive/receive-reencode.h"
#include "shared/rfc5322.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Buf in = BUF_INIT(0), out = BUF_INIT(0);
        HeaderSection h = {};
        const char *why = NULL;
        bool header_ok;
        int r = 0;

        if (size > 65536)
                return 0;
        /* CRLF lines; a byte 0x01 stands for a run of 1000 "a", so that
         * long lines are common without huge inputs */
        for (size_t i = 0; i < size; i++) {
                if (data[i] == '\r' || data[i] == '\n') {
                        if (data[i] == '\r' && i + 1 < size && data[i + 1] == '\n')
                                i++;
                        r = buf_append_str(&in, "\r\n");
                } else if (data[i] == 0x01) {
                        for (int k = 0; k < 1000 && r >= 0; k++)
                                r = buf_append_byte(&in, 'a');
                } else
                        r = buf_append_byte(&in, data[i]);
                if (r < 0)
                        abort();
        }
        header_ok = header_section_parse(in.data, in.len, &h) >= 0;
        header_section_done(&h);
        r = reencode_long_lines(in.data, in.len, &out, &why);
        if (r == -EBADMSG) {
                if (!why || out.len != 0)
                        abort();
        } else if (r < 0)
                abort();
        else {
                if (has_long_line(out.data, out.len))
                        abort();
                for (size_t i = 0; i < out.len; i++)
                        if ((out.data[i] == '\n' && (i == 0 || out.data[i - 1] != '\r')) ||
                            (out.data[i] == '\r' && (i + 1 == out.len || out.data[i + 1] != '\n')))
                                abort();
                if (header_ok && header_section_parse(out.data, out.len, &h) < 0 &&
                    header_section_parse(in.data, in.len, &h) >= 0)
                        abort();
                header_section_done(&h);
                if (!has_long_line(in.data, in.len) &&
                    (out.len != in.len || (in.len && memcmp(out.data, in.data, in.len) != 0)))
                        abort();
        }
        buf_done(&in);
        buf_done(&out);
        return 0;
}
