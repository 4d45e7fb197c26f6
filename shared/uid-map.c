/* SPDX-License-Identifier: MIT */
/*
 * The uid_map parser (uid-map.h). Pure: the caller reads the file once at
 * start (shared/spool-owner.c) and asks about each stage user.
 */
#include <errno.h>
#include <stdbool.h>

#include "shared/macro.h"
#include "shared/uid-map.h"

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* The next decimal field of @line: at most 10 digits, below 2^32. */
static int next_field(const char **p, const char *end, uint32_t *ret) {
        const char *start;
        uint64_t v;

        while (*p < end && is_blank(**p))
                (*p)++;
        start = *p;
        while (*p < end && **p >= '0' && **p <= '9')
                (*p)++;
        if (*p - start > 10 || parse_u64_span(start, (size_t) (*p - start), &v) < 0 || v > UINT32_MAX)
                return -EBADMSG;
        *ret = (uint32_t) v;
        return 0;
}

static int parse_line(const char *p, const char *end, uint32_t ret[static 3]) {
        for (size_t i = 0; i < 3; i++)
                if (next_field(&p, end, &ret[i]) < 0)
                        return -EBADMSG;
        while (p < end && is_blank(*p))
                p++;
        return p == end ? 0 : -EBADMSG;
}

int uid_map_lookup(const char *text, size_t n, uint32_t outside, uint32_t *ret_inside) {
        const char *p = text, *end = text + n;
        bool found = false;
        uint32_t inside = 0;

        if (n > UID_MAP_MAX)
                return -EBADMSG;
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                uint32_t f[3];

                if (!eol)
                        eol = end;      /* a last line without its newline */
                if (parse_line(p, eol, f) < 0)
                        return -EBADMSG;
                /* 64-bit: a range may end at 2^32 */
                if (!found && f[2] > 0 && outside >= f[1] && (uint64_t) outside < (uint64_t) f[1] + f[2]) {
                        found = true;
                        inside = f[0] + (outside - f[1]);
                }
                if (eol == end)
                        break;
                p = eol + 1;
        }
        if (!found)
                return -ENOENT;
        *ret_inside = inside;
        return 0;
}
