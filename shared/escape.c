/* SPDX-License-Identifier: MIT */
#include "shared/address.h"
#include "shared/escape.h"
#include "shared/macro.h"

static size_t utf8_seq_len(const unsigned char *s, size_t n) {
        size_t len = (s[0] >= 0xc2 && s[0] <= 0xdf) ? 2 : (s[0] >= 0xe0 && s[0] <= 0xef) ? 3 :
                     (s[0] >= 0xf0 && s[0] <= 0xf4) ? 4 : 0;

        if (len == 0 || len > n || !utf8_valid((const char *) s, len))
                return 0;
        return len;
}

int escape_printable(const void *p, size_t n, size_t max, int utf8, Buf *out) {
        const unsigned char *s = p;
        size_t i = 0, written = 0;
        int r;

        while (i < n) {
                size_t k = 1;

                if (written >= max)
                        return buf_append_str(out, "...");
                if (s[i] >= 0x20 && s[i] < 0x7f)
                        r = buf_append_byte(out, s[i]);
                else if (utf8 && s[i] >= 0x80 && (k = utf8_seq_len(s + i, n - i)) > 0)
                        r = buf_append(out, s + i, k);
                else {
                        k = 1;
                        r = buf_append_byte(out, '?');
                }
                if (r < 0)
                        return r;
                i += k;
                written += k;
        }
        return 0;
}

char *escape_printable_dup(const void *p, size_t n, size_t max) {
        Buf b = BUF_INIT(0);

        if (escape_printable(p, n, max, 0, &b) < 0) {
                buf_done(&b);
                return NULL;
        }
        return buf_steal_str(&b);
}
