/* SPDX-License-Identifier: MIT */
/*
 * Re-encoding of lines over 998 octets: see receive-reencode.h. Every
 * entity (the message, each MIME part) is split with the shared header
 * parser; what has no long line is copied byte for byte, so a message is
 * only changed where it had to be.
 */
#include <stdbool.h>
#include <string.h>

#include "services/receive/receive-reencode.h"
#include "shared/address.h"
#include "shared/rfc5322.h"
#include "shared/limits.h"
#include "shared/macro.h"

/* RFC 2045 §6.7 (5) and §6.8: encoded lines of at most 76 characters. */
#define ENCODED_LINE_MAX 76
/* RFC 5321 §4.5.3.1.6: 1000 octets with CRLF. */
#define LINE_MAX_OCTETS (SMTP_TEXT_LINE_MAX - 2)
/* A boundary is at most 70 characters (RFC 2046 §5.1.1); a parameter
 * value we keep is bounded a little above. */
#define PARAM_VALUE_MAX 128

typedef enum Cte {
        CTE_IDENTITY,           /* 7bit, 8bit, binary, or none given */
        CTE_BASE64,
        CTE_QP,
        CTE_OTHER,
} Cte;

typedef struct Entity {
        char type[32];          /* lower case: "text", "multipart", "message"... */
        char boundary[PARAM_VALUE_MAX + 1];
        bool has_content_type;
        bool has_mime_version;
        Cte cte;
} Entity;

bool has_long_line(const uint8_t *p, size_t n) {
        size_t start = 0;

        if (n <= LINE_MAX_OCTETS)
                return false;
        for (;;) {
                const uint8_t *eol = memmem(p + start, n - start, "\r\n", 2);
                size_t end = eol ? (size_t) (eol - p) : n;

                if (end - start > LINE_MAX_OCTETS)
                        return true;
                if (!eol)
                        return false;
                start = end + 2;
        }
}

static bool is_wsp(uint8_t c) {
        return c == ' ' || c == '\t';
}

static bool is_tspecial(uint8_t c) {
        return strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* The unfolded value of field @f, comments not removed, into @v (cut at
 * @size - 1: every value we look at is short when it is valid). */
static void field_value(const HeaderField *f, const uint8_t *msg, char *v, size_t size) {
        size_t k = 0;

        for (size_t i = f->value; i < f->len && k + 1 < size; i++) {
                uint8_t c = msg[f->offset + i];

                if (c == '\r' || c == '\n')
                        continue;
                v[k++] = (char) c;
        }
        v[k] = 0;
}

static const char *skip_cfws(const char *p) {
        for (;;) {
                while (is_wsp((uint8_t) *p))
                        p++;
                if (*p != '(')
                        return p;
                for (unsigned depth = 0; *p; p++) {
                        if (*p == '\\' && p[1])
                                p++;
                        else if (*p == '(')
                                depth++;
                        else if (*p == ')' && --depth == 0) {
                                p++;
                                break;
                        }
                }
        }
}

/* A token (RFC 2045 §5.1) into @buf, lower-cased; NULL if none fits. */
static const char *token(const char *p, char *buf, size_t size) {
        size_t k = 0;

        p = skip_cfws(p);
        while (*p > ' ' && *p < 127 && !is_tspecial((uint8_t) *p)) {
                if (k + 1 >= size)
                        return NULL;
                buf[k++] = (char) (*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
                p++;
        }
        buf[k] = 0;
        return k > 0 ? skip_cfws(p) : NULL;
}

/* RFC 2045 §5.1: type "/" subtype *(";" attribute "=" value); we keep the
 * type and the boundary parameter. */
static void parse_content_type(const char *v, Entity *e) {
        char sub[64], name[64];
        const char *p;

        e->has_content_type = true;
        p = token(v, e->type, sizeof(e->type));
        if (!p || *p != '/' || !(p = token(p + 1, sub, sizeof(sub)))) {
                /* RFC 2045 §5.2: a syntax error means text/plain */
                memcpy(e->type, "text", 5);
                return;
        }
        while (*p == ';') {
                char value[PARAM_VALUE_MAX + 1];
                size_t k = 0;

                p = token(p + 1, name, sizeof(name));
                if (!p || *p != '=')
                        return;
                p = skip_cfws(p + 1);
                if (*p == '"') {
                        for (p++; *p && *p != '"'; p++) {
                                if (*p == '\\' && p[1])
                                        p++;
                                if (k >= PARAM_VALUE_MAX)
                                        return;
                                value[k++] = *p;
                        }
                        if (*p != '"')
                                return;
                        p = skip_cfws(p + 1);
                } else {
                        while (*p > ' ' && *p < 127 && !is_tspecial((uint8_t) *p)) {
                                if (k >= PARAM_VALUE_MAX)
                                        return;
                                value[k++] = *p++;
                        }
                        p = skip_cfws(p);
                }
                value[k] = 0;
                if (streq(name, "boundary") && k > 0)
                        memcpy(e->boundary, value, k + 1);
        }
}

static void parse_entity_header(const HeaderSection *h, const uint8_t *msg, Entity *e) {
        char v[256];

        *e = (Entity) { .type = "text", .cte = CTE_IDENTITY };
        for (size_t i = 0; i < h->n_fields; i++) {
                const HeaderField *f = &h->fields[i];

                if (header_field_is(f, msg, "MIME-Version"))
                        e->has_mime_version = true;
                else if (header_field_is(f, msg, "Content-Type") && !e->has_content_type) {
                        field_value(f, msg, v, sizeof(v));
                        parse_content_type(v, e);
                } else if (header_field_is(f, msg, "Content-Transfer-Encoding")) {
                        char t[32];

                        field_value(f, msg, v, sizeof(v));
                        if (!token(v, t, sizeof(t)))
                                e->cte = CTE_OTHER;
                        else if (streq(t, "7bit") || streq(t, "8bit") || streq(t, "binary"))
                                e->cte = CTE_IDENTITY;
                        else if (streq(t, "base64"))
                                e->cte = CTE_BASE64;
                        else if (streq(t, "quoted-printable"))
                                e->cte = CTE_QP;
                        else
                                e->cte = CTE_OTHER;
                }
        }
}

/* One header field, each physical line over the limit folded at its last
 * white space that keeps the piece within it. */
static int append_field_folded(const uint8_t *p, size_t n, Buf *out, const char **ret_why) {
        size_t start = 0;
        int r;

        while (n - start > LINE_MAX_OCTETS || memmem(p + start, n - start, "\r\n", 2)) {
                const uint8_t *eol = memmem(p + start, n - start, "\r\n", 2);
                size_t end = eol ? (size_t) (eol - p) : n, cut = 0;

                if (end - start <= LINE_MAX_OCTETS) {
                        r = buf_append(out, p + start, end + 2 - start);
                        if (r < 0)
                                return r;
                        start = end + 2;
                        continue;
                }
                /* the last WSP after the name's first character, within the limit */
                for (size_t i = start + LINE_MAX_OCTETS; i > start + 1; i--)
                        if (is_wsp(p[i])) {
                                cut = i;
                                break;
                        }
                if (cut == 0) {
                        *ret_why = "a header line longer than 998 octets, with no white space to fold it at";
                        return -EBADMSG;
                }
                r = buf_append(out, p + start, cut - start);
                if (r >= 0)
                        r = buf_append_str(out, "\r\n");
                if (r < 0)
                        return r;
                start = cut;    /* the next line starts with that WSP: a continuation */
        }
        r = buf_append(out, p + start, n - start);
        return r < 0 ? r : buf_append_str(out, "\r\n");
}

static int append_qp_byte(uint8_t c, bool literal, size_t *col, Buf *out) {
        static const char hex[] = "0123456789ABCDEF";
        size_t k = literal ? 1 : 3;
        int r = 0;

        if (*col + k > ENCODED_LINE_MAX - 1) {
                r = buf_append_str(out, "=\r\n");       /* a soft line break */
                *col = 0;
        }
        if (r >= 0)
                r = literal ? buf_append_byte(out, c) : buf_append(out, (char[]) { '=', hex[c >> 4], hex[c & 15] }, 3);
        *col += k;
        return r;
}

/* RFC 2045 §6.7: every CRLF of the body stays a line break; "=", controls,
 * 8-bit bytes and white space before a line end are "=XX". */
static int qp_encode(const uint8_t *p, size_t n, Buf *out) {
        size_t col = 0;
        int r = 0;

        for (size_t i = 0; i < n && r >= 0; i++) {
                uint8_t c = p[i];
                bool line_end = i + 1 == n || (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n');

                if (c == '\r' && i + 1 < n && p[i + 1] == '\n') {
                        r = buf_append_str(out, "\r\n");
                        col = 0;
                        i++;
                } else if ((c >= 33 && c <= 126 && c != '=') || (is_wsp(c) && !line_end))
                        r = append_qp_byte(c, true, &col, out);
                else
                        r = append_qp_byte(c, false, &col, out);
        }
        return r;
}

/* Quoted-printable already, with lines too long: soft line breaks,
 * never inside an "=XX". */
static int qp_rewrap(const uint8_t *p, size_t n, Buf *out) {
        size_t col = 0;
        int r = 0;

        for (size_t i = 0; i < n && r >= 0; i++) {
                size_t k = p[i] == '=' && i + 2 < n && p[i + 1] != '\r' ? 3 : 1;

                if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') {
                        r = buf_append_str(out, "\r\n");
                        col = 0;
                        i++;
                        continue;
                }
                if (col + k > ENCODED_LINE_MAX - 1) {
                        r = buf_append_str(out, "=\r\n");
                        col = 0;
                }
                if (r >= 0)
                        r = buf_append(out, p + i, k);
                col += k;
                i += k - 1;
        }
        return r;
}

/* base64 at 76 characters a line; what is not of its alphabet is left
 * out, as a decoder ignores it (RFC 2045 §6.8). */
static int base64_rewrap(const uint8_t *p, size_t n, Buf *out) {
        size_t col = 0;
        int r = 0;

        for (size_t i = 0; i < n && r >= 0; i++) {
                uint8_t c = p[i];

                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                      c == '/' || c == '='))
                        continue;
                if (col == ENCODED_LINE_MAX) {
                        r = buf_append_str(out, "\r\n");
                        col = 0;
                }
                if (r >= 0)
                        r = buf_append_byte(out, c);
                col++;
        }
        if (r >= 0 && col > 0)
                r = buf_append_str(out, "\r\n");
        return r;
}

static int entity_reencode(const uint8_t *p, size_t n, unsigned depth, bool top, Buf *out, const char **ret_why);

/* The parts of a multipart body, delimited by "--" @boundary lines. */
static int multipart_reencode(const uint8_t *p, size_t n, const char *boundary, unsigned depth, Buf *out,
                              const char **ret_why) {
        size_t blen = strlen(boundary), i = 0, part = SIZE_MAX;
        bool closed = false;
        int r;

        /* each line: a delimiter ends the part before it */
        while (i <= n && !closed) {
                const uint8_t *eol = memmem(p + i, n - i, "\r\n", 2);
                size_t end = eol ? (size_t) (eol - p) : n, next = eol ? end + 2 : n, rest = i + 2 + blen;
                bool delim = end >= rest && p[i] == '-' && p[i + 1] == '-' && memcmp(p + i + 2, boundary, blen) == 0;

                /* RFC 2046 §5.1.1: "--" boundary ["--"], then only white space */
                if (delim) {
                        bool close = end - rest >= 2 && p[rest] == '-' && p[rest + 1] == '-';

                        for (size_t k = rest + (close ? 2 : 0); k < end; k++)
                                delim = delim && is_wsp(p[k]);
                        closed = delim && close;
                }
                if (delim) {
                        if (part == SIZE_MAX) {
                                /* the preamble: copied if it may be */
                                if (has_long_line(p, i)) {
                                        *ret_why = "a line longer than 998 octets before a multipart's first part";
                                        return -EBADMSG;
                                }
                                r = buf_append(out, p, i);
                        } else if (i >= part + 2) {
                                /* the part, less the CRLF that belongs to the delimiter */
                                r = entity_reencode(p + part, i - 2 - part, depth + 1, false, out, ret_why);
                                if (r >= 0)
                                        r = buf_append_str(out, "\r\n");
                        } else
                                r = 0;          /* two delimiters in a row: an empty part */
                        if (r >= 0)
                                r = buf_append(out, p + i, next - i);
                        if (r < 0)
                                return r;
                        part = next;
                }
                if (!eol)
                        break;
                i = next;
        }
        if (part == SIZE_MAX) {
                *ret_why = "a multipart body without its boundary";
                return -EBADMSG;
        }
        if (!closed) {
                /* no close delimiter: the rest is the last part */
                r = entity_reencode(p + part, n - part, depth + 1, false, out, ret_why);
                return r;
        }
        if (has_long_line(p + part, n - part)) {
                *ret_why = "a line longer than 998 octets after a multipart's last part";
                return -EBADMSG;
        }
        return buf_append(out, p + part, n - part);
}

static bool utf8_8bit(const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (p[i] & 0x80)
                        return utf8_valid((const char *) p, n);
        return false;
}

static int entity_reencode(const uint8_t *p, size_t n, unsigned depth, bool top, Buf *out, const char **ret_why) {
        _cleanup_(header_section_done) HeaderSection h = {};
        const uint8_t *body;
        size_t body_n, fields_end;
        bool blank;
        Entity e;
        int r;

        if (!has_long_line(p, n))
                return buf_append(out, p, n);   /* nothing to change here */
        if (depth > MIME_DEPTH_MAX) {
                *ret_why = "MIME parts nested too deep to re-encode a long line";
                return -EBADMSG;
        }
        if (n >= 2 && p[0] == '\r' && p[1] == '\n')
                h.body_offset = 2;              /* a part with no header fields */
        else {
                r = header_section_parse(p, n, &h);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        *ret_why = "a MIME part whose header cannot be read";
                        return -EBADMSG;
                }
        }
        parse_entity_header(&h, p, &e);
        body = p + h.body_offset;
        body_n = n - h.body_offset;
        /* whether an empty line ends the header section (a part that is
         * only header fields has none, and gets none) */
        fields_end = h.n_fields > 0 ? h.fields[h.n_fields - 1].offset + h.fields[h.n_fields - 1].len + 2 : 0;
        blank = h.body_offset == fields_end + 2;

        if (streq(e.type, "multipart") && !e.boundary[0]) {
                *ret_why = "a multipart without its boundary";
                return -EBADMSG;
        }
        if (streq(e.type, "message") && has_long_line(body, body_n)) {
                *ret_why = "a line longer than 998 octets inside an attached message";
                return -EBADMSG;
        }
        if (!streq(e.type, "multipart") && e.cte == CTE_OTHER && has_long_line(body, body_n)) {
                *ret_why = "a line longer than 998 octets in a part of an unknown transfer encoding";
                return -EBADMSG;
        }
        bool requote = !streq(e.type, "multipart") && !streq(e.type, "message") && e.cte == CTE_IDENTITY &&
                       has_long_line(body, body_n);

        /* the header: every field folded where it must be, and the
         * transfer encoding replaced when the body is re-encoded */
        for (size_t i = 0; i < h.n_fields; i++) {
                const HeaderField *f = &h.fields[i];

                if (requote && header_field_is(f, p, "Content-Transfer-Encoding"))
                        continue;
                r = append_field_folded(p + f->offset, f->len, out, ret_why);
                if (r < 0)
                        return r;
        }
        if (requote && top && !e.has_mime_version && (r = buf_append_str(out, "MIME-Version: 1.0\r\n")) < 0)
                return r;
        if (requote && !e.has_content_type && utf8_8bit(body, body_n) &&
            (r = buf_append_str(out, "Content-Type: text/plain; charset=utf-8\r\n")) < 0)
                return r;
        if (requote && (r = buf_append_str(out, "Content-Transfer-Encoding: quoted-printable\r\n")) < 0)
                return r;
        if (blank && (r = buf_append_str(out, "\r\n")) < 0)
                return r;

        if (streq(e.type, "multipart"))
                return multipart_reencode(body, body_n, e.boundary, depth, out, ret_why);
        if (!has_long_line(body, body_n))
                return buf_append(out, body, body_n);
        switch (e.cte) {
        case CTE_BASE64:
                return base64_rewrap(body, body_n, out);
        case CTE_QP:
                return qp_rewrap(body, body_n, out);
        default:
                return qp_encode(body, body_n, out);
        }
}

int reencode_long_lines(const uint8_t *msg, size_t n, Buf *out, const char **ret_why) {
        size_t start = out->len;
        int r;

        r = entity_reencode(msg, n, 0, true, out, ret_why);
        if (r < 0)
                out->len = start;
        return r;
}
