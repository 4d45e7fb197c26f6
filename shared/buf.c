/* SPDX-License-Identifier: MIT */
/*
 * Bounded growable buffer. Growth doubles the capacity and checks every
 * multiplication and addition for overflow before allocating.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/macro.h"

static size_t buf_limit(const Buf *b) {
        return b->max ? b->max : SIZE_MAX;
}

int buf_reserve(Buf *b, size_t extra) {
        size_t want, cap;
        uint8_t *p;

        if (extra > SIZE_MAX - b->len - 1)
                return -EMSGSIZE;
        want = b->len + extra;
        if (want > buf_limit(b))
                return -EMSGSIZE;
        if (want + 1 <= b->cap)
                return 0;

        cap = b->cap ? b->cap : 256;
        while (cap < want + 1) {
                if (cap > SIZE_MAX / 2) {
                        cap = want + 1;
                        break;
                }
                cap *= 2;
        }
        p = realloc(b->data, cap);
        if (!p)
                return -ENOMEM;
        b->data = p;
        b->cap = cap;
        return 0;
}

int buf_append(Buf *b, const void *p, size_t n) {
        int r;

        if (n == 0)
                return 0;
        r = buf_reserve(b, n);
        if (r < 0)
                return r;
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = 0;  /* always NUL-terminated for debugging and str use */
        return 0;
}

int buf_append_str(Buf *b, const char *s) {
        return buf_append(b, s, strlen(s));
}

int buf_append_byte(Buf *b, uint8_t c) {
        return buf_append(b, &c, 1);
}

int buf_printf(Buf *b, const char *fmt, ...) {
        va_list ap;
        int n, r;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        r = buf_reserve(b, (size_t) n);
        if (r < 0)
                return r;
        va_start(ap, fmt);
        (void) vsnprintf((char *) b->data + b->len, (size_t) n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t) n;
        return 0;
}

void buf_consume(Buf *b, size_t n) {
        if (n >= b->len) {
                b->len = 0;
        } else {
                memmove(b->data, b->data + n, b->len - n);
                b->len -= n;
        }
        if (b->data)
                b->data[b->len] = 0;
}

void buf_reset(Buf *b) {
        b->len = 0;
        if (b->data)
                b->data[0] = 0;
}

void buf_done(Buf *b) {
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
}

char *buf_steal_str(Buf *b) {
        char *s;

        if (!b->data) {
                s = strdup("");
                return s;
        }
        s = (char *) b->data;
        s[b->len] = 0;
        b->data = NULL;
        b->len = b->cap = 0;
        return s;
}
