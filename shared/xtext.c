/* SPDX-License-Identifier: MIT */
#include "shared/macro.h"
#include "shared/xtext.h"

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;      /* RFC 3461 §4: hexchar is upper case only */
}

int xtext_encode(Buf *out, const void *p, size_t n) {
        static const char hex[] = "0123456789ABCDEF";
        const unsigned char *s = p;
        int r;

        for (size_t i = 0; i < n; i++) {
                unsigned char c = s[i];

                if (c >= '!' && c <= '~' && c != '+' && c != '=')
                        r = buf_append_byte(out, c);
                else {
                        char e[3] = { '+', hex[c >> 4], hex[c & 15] };
                        r = buf_append(out, e, 3);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int xtext_decode(const char *p, size_t n, Buf *out) {
        int r;

        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) p[i];

                if (c == '+') {
                        int hi, lo;

                        if (n - i < 3)
                                return -EINVAL;
                        hi = unhex(p[i + 1]);
                        lo = unhex(p[i + 2]);
                        if (hi < 0 || lo < 0)
                                return -EINVAL;
                        r = buf_append_byte(out, (uint8_t) (hi << 4 | lo));
                        i += 2;
                } else if (c >= '!' && c <= '~' && c != '=')
                        r = buf_append_byte(out, c);
                else
                        return -EINVAL;
                if (r < 0)
                        return r;
        }
        return 0;
}

int xtext_valid(const char *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) p[i];

                if (c == '+') {
                        if (n - i < 3 || unhex(p[i + 1]) < 0 || unhex(p[i + 2]) < 0)
                                return 0;
                        i += 2;
                } else if (!(c >= '!' && c <= '~' && c != '='))
                        return 0;
        }
        return 1;
}
