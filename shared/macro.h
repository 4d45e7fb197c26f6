/* SPDX-License-Identifier: MIT */
/*
 * Small helpers every pochtar file uses: scope-bound cleanup (GNU C
 * cleanup attribute), ownership hand-off, array sizes, printf checking.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))
#define _warn_unused_result_ __attribute__((warn_unused_result))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define STRLEN(s) (sizeof("" s "") - 1)

/* Hand ownership of a pointer or fd to the caller, leaving the source empty. */
#define TAKE_PTR(p)                             \
        ({                                      \
                __typeof__(p) _p_ = (p);        \
                (p) = NULL;                     \
                _p_;                            \
        })
#define TAKE_FD(fd)                             \
        ({                                      \
                int _fd_ = (fd);                \
                (fd) = -EBADF;                  \
                _fd_;                           \
        })

/* Return -errno from a libc call that returns -1 and sets errno. */
#define RET_NERRNO(expr)                        \
        ({                                      \
                __typeof__(expr) _r_ = (expr);  \
                _r_ < 0 ? -errno : _r_;         \
        })

static inline int negative_errno(void) {
        /* errno is positive after a failure, but be defensive against 0. */
        return errno > 0 ? -errno : -EIO;
}

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}
static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)         \
        static inline void func##p(type *p) {           \
                if (*p)                                 \
                        *p = func(*p);                  \
        }

static inline const char *strempty(const char *s) {
        return s ? s : "";
}

static inline int streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}
#define streq(a, b) (strcmp((a), (b)) == 0)

/* Case-insensitive ASCII compare of a span against a literal, as SMTP verbs
 * and header names are compared (RFC 5321 §2.4, RFC 5322 §1.2.2). */
int ascii_strncaseeq(const char *a, size_t n, const char *lit);
int parse_u64_span(const char *p, size_t n, uint64_t *ret);
/* Whether p[0..n) is printable US-ASCII, SP to "~": text that can stand in
 * a command line or a header field without ending or breaking it. */
bool ascii_printable(const char *p, size_t n);
int array_grow(void **p, size_t *cap, size_t n, size_t size, size_t first);
/* What an inode of @mode is, for a message: "a FIFO", "a directory", ... */
const char *file_type_name(mode_t mode);

/* Room for element @n of @array (*@cap allocated): doubles, from @first. */
#define ARRAY_GROW(array, cap, n, first) \
        array_grow((void **) &(array), &(cap), (n), sizeof(*(array)), (first))
