/* SPDX-License-Identifier: MIT */
#include <strings.h>
#include <sys/stat.h>

#include "shared/macro.h"

int ascii_strncaseeq(const char *a, size_t n, const char *lit) {
        size_t m = strlen(lit);

        return n == m && strncasecmp(a, lit, n) == 0;
}

bool ascii_printable(const char *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) p[i] < ' ' || (unsigned char) p[i] > '~')
                        return false;
        return true;
}

int array_grow(void **p, size_t *cap, size_t n, size_t size, size_t first) {
        size_t ncap;
        void *q;

        if (n < *cap)
                return 0;
        ncap = *cap ? *cap * 2 : first;
        q = reallocarray(*p, ncap, size);
        if (!q)
                return -ENOMEM;
        *p = q;
        *cap = ncap;
        return 0;
}

/* A decimal number in p[0..n), no sign, no overflow; -EBADMSG otherwise. */
int parse_u64_span(const char *p, size_t n, uint64_t *ret) {
        uint64_t v = 0;

        if (n == 0 || n > 20)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return -EBADMSG;
                if (v > (UINT64_MAX - (uint64_t) (p[i] - '0')) / 10)
                        return -EBADMSG;
                v = v * 10 + (uint64_t) (p[i] - '0');
        }
        *ret = v;
        return 0;
}

const char *file_type_name(mode_t mode) {
        return S_ISREG(mode) ? "a regular file" : S_ISDIR(mode) ? "a directory" : S_ISFIFO(mode) ? "a FIFO" :
               S_ISSOCK(mode) ? "a socket" : S_ISCHR(mode) ? "a character device" :
               S_ISBLK(mode) ? "a block device" : S_ISLNK(mode) ? "a symbolic link" : "of an unknown type";
}
