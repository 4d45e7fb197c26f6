/* SPDX-License-Identifier: MIT */
/*
 * RFC 6376 §3.4 canonicalization. The body pass coalesces contiguous
 * spans of the input, so an already-canonical body (the common case for
 * relaxed, and always for simple) reaches the hash as one or two updates.
 */
#include <stdbool.h>
#include <string.h>

#include "services/sign/dkim-canon.h"
#include "shared/macro.h"

int dkim_canon_parse(const char *s, DkimCanon *ret_header, DkimCanon *ret_body) {
        const char *slash = strchr(s, '/');
        size_t hn = slash ? (size_t) (slash - s) : strlen(s);
        DkimCanon h, b = DKIM_CANON_SIMPLE;

        if (ascii_strncaseeq(s, hn, "simple"))
                h = DKIM_CANON_SIMPLE;
        else if (ascii_strncaseeq(s, hn, "relaxed"))
                h = DKIM_CANON_RELAXED;
        else
                return -EINVAL;
        if (slash) {
                if (ascii_strncaseeq(slash + 1, strlen(slash + 1), "simple"))
                        b = DKIM_CANON_SIMPLE;
                else if (ascii_strncaseeq(slash + 1, strlen(slash + 1), "relaxed"))
                        b = DKIM_CANON_RELAXED;
                else
                        return -EINVAL;
        }
        *ret_header = h;
        *ret_body = b;
        return 0;
}

const char *dkim_canon_to_string(DkimCanon c) {
        return c == DKIM_CANON_RELAXED ? "relaxed" : "simple";
}

static bool is_wsp(uint8_t c) {
        return c == ' ' || c == '\t';
}

static uint8_t ascii_lower(uint8_t c) {
        return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int dkim_canon_header(DkimCanon c, const uint8_t *f, size_t n, bool crlf, Buf *out) {
        const uint8_t *colon;
        size_t name_end, i;
        bool space = false, started = false;
        int r;

        if (c == DKIM_CANON_SIMPLE) {
                r = buf_append(out, f, n);
                if (r >= 0 && crlf)
                        r = buf_append(out, "\r\n", 2);
                return r;
        }

        colon = memchr(f, ':', n);
        if (!colon)
                return -EBADMSG;
        /* §3.4.2: lower-case the name, drop WSP before the colon. */
        name_end = (size_t) (colon - f);
        while (name_end > 0 && is_wsp(f[name_end - 1]))
                name_end--;
        r = buf_reserve(out, n + 2);
        if (r < 0)
                return r;
        for (i = 0; i < name_end; i++)
                out->data[out->len++] = ascii_lower(f[i]);
        out->data[out->len++] = ':';

        /* Unfold, collapse WSP runs to one SP, drop WSP at both ends of the value. */
        for (i = (size_t) (colon - f) + 1; i < n; i++) {
                if (f[i] == '\r' && i + 1 < n && f[i + 1] == '\n') {
                        i++;
                        continue;
                }
                if (is_wsp(f[i])) {
                        space = true;
                        continue;
                }
                if (space && started)
                        out->data[out->len++] = ' ';
                space = false;
                started = true;
                out->data[out->len++] = f[i];
        }
        if (crlf) {
                out->data[out->len++] = '\r';
                out->data[out->len++] = '\n';
        }
        out->data[out->len] = 0;        /* Buf contents stay NUL-terminated */
        return 0;
}

/* Merges spans that are adjacent in memory before handing them on. */
typedef struct Emitter {
        DkimEmitFn fn;
        void *userdata;
        const uint8_t *p;
        size_t n;
} Emitter;

static void emit(Emitter *e, const uint8_t *p, size_t n) {
        if (n == 0)
                return;
        if (e->p && e->p + e->n == p) {
                e->n += n;
                return;
        }
        if (e->n > 0)
                e->fn(e->p, e->n, e->userdata);
        e->p = p;
        e->n = n;
}

static void emit_flush(Emitter *e) {
        if (e->n > 0)
                e->fn(e->p, e->n, e->userdata);
        e->p = NULL;
        e->n = 0;
}

static const uint8_t CRLF[2] = { '\r', '\n' };

static void body_simple(const uint8_t *p, size_t n, Emitter *e) {
        /* §3.4.3: drop all empty lines at the end, then end with one CRLF;
         * an empty body is a single CRLF. */
        size_t full = n;

        while (n >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n')
                n -= 2;
        emit(e, p, n);
        if (n > 0 && full > n)          /* the CRLF that ended the last line, still in the input */
                emit(e, p + n, 2);
        else
                emit(e, CRLF, 2);
}

/* The next CRLF at or after @from: memchr() for LF is much faster than a
 * two-byte memmem(); a LF without CR before it is line content. */
static const uint8_t *find_crlf(const uint8_t *p, size_t from, size_t n) {
        while (from < n) {
                const uint8_t *lf = memchr(p + from, '\n', n - from);

                if (!lf)
                        return NULL;
                if (lf > p + from && lf[-1] == '\r')
                        return lf - 1;
                from = (size_t) (lf - p) + 1;
        }
        return NULL;
}

static void body_relaxed(const uint8_t *p, size_t n, Emitter *e) {
        size_t empty_lines = 0, i = 0;

        while (i < n) {
                const uint8_t *nl = find_crlf(p, i, n);
                size_t line_end = nl ? (size_t) (nl - p) : n;
                size_t next = nl ? line_end + 2 : n;
                size_t end = line_end, start = i;

                /* §3.4.4: WSP at the end of a line goes; a line left empty
                 * is held back until a non-empty line follows, because
                 * empty lines at the end of the body are dropped. */
                while (end > i && is_wsp(p[end - 1]))
                        end--;
                if (end == i) {
                        empty_lines++;
                        i = next;
                        continue;
                }
                for (; empty_lines > 0; empty_lines--)
                        emit(e, CRLF, 2);
                for (size_t j = i; j < end;) {
                        size_t k;

                        if (!is_wsp(p[j])) {
                                j++;
                                continue;
                        }
                        for (k = j; k < end && is_wsp(p[k]); k++)
                                ;
                        if (!(k - j == 1 && p[j] == ' ')) {
                                emit(e, p + start, j - start);
                                emit(e, (const uint8_t *) " ", 1);
                                start = k;
                        }
                        j = k;
                }
                emit(e, p + start, end - start);
                if (end == line_end && nl)
                        emit(e, p + line_end, 2);
                else
                        emit(e, CRLF, 2);
                i = next;
        }
}

void dkim_canon_body(DkimCanon c, const uint8_t *p, size_t n, DkimEmitFn fn, void *userdata) {
        Emitter e = { .fn = fn, .userdata = userdata };

        if (c == DKIM_CANON_SIMPLE)
                body_simple(p, n, &e);
        else
                body_relaxed(p, n, &e);
        emit_flush(&e);
}
