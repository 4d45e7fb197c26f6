/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Buf: the one growable byte buffer, carrying its own limit. Every buffer
 * fed by a peer or a spool file is a Buf with a max taken from limits.h,
 * so growth past a protocol limit is an error (-EMSGSIZE), never a crash.
 */
typedef struct Buf {
        uint8_t *data;
        size_t len;
        size_t cap;
        size_t max;     /* hard limit on len; 0 means SIZE_MAX */
} Buf;

#define BUF_INIT(m) ((Buf) { .max = (m) })

int buf_reserve(Buf *b, size_t extra);
int buf_append(Buf *b, const void *p, size_t n);
int buf_append_str(Buf *b, const char *s);
int buf_append_byte(Buf *b, uint8_t c);
int buf_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_consume(Buf *b, size_t n);     /* drop n bytes from the front */
void buf_reset(Buf *b);                 /* len = 0, keeps memory */
void buf_done(Buf *b);                  /* frees memory, keeps max */
char *buf_steal_str(Buf *b);            /* NUL-terminated copy handed to caller, b emptied */
