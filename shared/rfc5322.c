/* SPDX-License-Identifier: MIT */
/*
 * RFC 5322 as pochtar reads and writes it: see rfc5322.h. Every limit it
 * enforces is in shared/limits.h.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shared/rfc5322.h"
#include "shared/clock.h"
#include "shared/limits.h"
#include "shared/macro.h"

void header_section_done(HeaderSection *h) {
        free(h->fields);
        *h = (HeaderSection) {};
}

static bool is_wsp(uint8_t c) {
        return c == ' ' || c == '\t';
}

/*
 * The one rule for "this line is a field": a name of printable US-ASCII
 * but colon (RFC 5322 §2.2), optional WSP (the obsolete syntax of §4.5.1,
 * which Postfix and DKIM's relaxed canonicalization accept too), a
 * colon. Returns the name's length, 0 for a line that is no field; the
 * value starts at *ret_value. Unbounded: the strict parser applies
 * HEADER_NAME_MAX.
 */
static size_t field_name_len(const uint8_t *p, size_t n, size_t *ret_value) {
        size_t i = 0, name;

        while (i < n && p[i] >= 33 && p[i] <= 126 && p[i] != ':')
                i++;
        name = i;
        while (i < n && is_wsp(p[i]))
                i++;
        if (name == 0 || i >= n || p[i] != ':')
                return 0;
        *ret_value = i + 1;
        return name;
}

int header_section_parse(const uint8_t *msg, size_t n, HeaderSection *ret) {
        _cleanup_free_ HeaderField *fields = NULL;
        size_t n_fields = 0, i = 0, body = n;

        while (i < n) {
                const uint8_t *nl;
                size_t line_end, next;

                if (n - i >= 2 && msg[i] == '\r' && msg[i + 1] == '\n') {
                        body = i + 2;
                        break;
                }
                nl = memmem(msg + i, n - i, "\r\n", 2);
                line_end = nl ? (size_t) (nl - msg) : n;
                next = nl ? line_end + 2 : n;
                if (next > HEADER_SECTION_MAX)
                        return -EMSGSIZE;

                if (is_wsp(msg[i])) {
                        HeaderField *f;

                        if (n_fields == 0)
                                return -EBADMSG;
                        f = &fields[n_fields - 1];
                        f->len = line_end - f->offset;
                        if (f->len - f->name_len > HEADER_VALUE_MAX)
                                return -EMSGSIZE;
                } else {
                        size_t value = 0, name_len = field_name_len(msg + i, line_end - i, &value);

                        if (name_len == 0)
                                return -EBADMSG;
                        if (name_len > HEADER_NAME_MAX)
                                return -EMSGSIZE;
                        if (line_end - i - name_len > HEADER_VALUE_MAX)
                                return -EMSGSIZE;
                        if (n_fields == HEADER_FIELDS_MAX)
                                return -EMSGSIZE;
                        if (!fields) {
                                fields = calloc(HEADER_FIELDS_MAX, sizeof(HeaderField));
                                if (!fields)
                                        return -ENOMEM;
                        }
                        fields[n_fields++] = (HeaderField) {
                                .offset = i,
                                .len = line_end - i,
                                .name_len = name_len,
                                .value = value,
                        };
                }
                i = next;
        }

        *ret = (HeaderSection) {
                .fields = TAKE_PTR(fields),
                .n_fields = n_fields,
                .body_offset = body,
        };
        return 0;
}

bool header_field_is(const HeaderField *f, const uint8_t *msg, const char *name) {
        return ascii_strncaseeq((const char *) msg + f->offset, f->name_len, name);
}

int header_section_find_one(const HeaderSection *h, const uint8_t *msg, const char *name, size_t *ret_index) {
        size_t found = SIZE_MAX;

        for (size_t i = 0; i < h->n_fields; i++)
                if (header_field_is(&h->fields[i], msg, name)) {
                        if (found != SIZE_MAX)
                                return -ENOTUNIQ;
                        found = i;
                }
        if (found == SIZE_MAX)
                return -ENOENT;
        *ret_index = found;
        return 0;
}

/**
 * header_field_next() - the field starting at p[start] into @ret, and the
 * offset after its final CRLF (the one not followed by a continuation
 * line).
 */
size_t header_field_next(const uint8_t *p, size_t n, size_t start, HeaderField *ret) {
        size_t i = start, value = 0, name_len;

        name_len = field_name_len(p + start, n - start, &value);
        for (;;) {
                const uint8_t *eol = memmem(p + i, n - i, "\r\n", 2);

                i = eol ? (size_t) (eol - p) + 2 : n;
                if (i >= n || !is_wsp(p[i])) {
                        *ret = (HeaderField) {
                                .offset = start,
                                .len = eol ? i - 2 - start : i - start,
                                .name_len = name_len,
                                .value = name_len > 0 ? value : 0,
                        };
                        return i;
                }
        }
}

/**
 * header_section_end() - find where the header section ends in the first
 * @n decoded bytes: at an empty line or at the first line that is neither
 * a field nor a continuation (RFC 5322 §2.1; such a line is body, as
 * Postfix treats it). Returns 1 with *ret_end the offset of that line, 0
 * when more input is needed; with @complete (the message ended) it
 * always returns 1.
 */
int header_section_end(const uint8_t *p, size_t n, bool complete, size_t *ret_end) {
        size_t i = 0, value;

        while (p && i < n) {
                const uint8_t *eol = memmem(p + i, n - i, "\r\n", 2);

                if (!eol)
                        break;
                if ((const uint8_t *) eol == p + i ||
                    (is_wsp(p[i]) && i == 0) ||
                    (!is_wsp(p[i]) && field_name_len(p + i, (size_t) (eol - (p + i)), &value) == 0)) {
                        *ret_end = i;
                        return 1;
                }
                i = (size_t) (eol - p) + 2;
        }
        if (!complete)
                return 0;
        *ret_end = i;
        return 1;
}

/**
 * header_section_count() - how many fields named @name (any case) the
 * header section p[0..n) holds. Only field names count: neither
 * "X-Received:" nor a continuation line, and the caller passes the
 * section alone (header_section_end()), so no body line either. Used
 * for the hop count (max_hops).
 */
size_t header_section_count(const uint8_t *p, size_t n, const char *name) {
        size_t i = 0, count = 0;

        while (i < n) {
                HeaderField f;

                i = header_field_next(p, n, i, &f);
                if (f.name_len > 0 && header_field_is(&f, p, name))
                        count++;
        }
        return count;
}

typedef struct Mailbox {
        size_t start, end;      /* the addr-spec candidate: first to last token */
        bool angle;             /* an <addr> was seen and handled */
        bool words;             /* more than one token: a display name, not an addr-spec */
} Mailbox;

static int mailbox_finish(const char *v, Mailbox *mb, AddressVisit visit, void *userdata) {
        int r = 0;

        if (!mb->angle && !mb->words && mb->end > mb->start)
                r = visit(v, mb->start, mb->end, userdata);
        *mb = (Mailbox) {};
        return r;
}

/* Skips a quoted string or a (nested) comment starting at v[i]; returns the index after it. */
static size_t skip_delimited(const char *v, size_t n, size_t i) {
        unsigned depth = 0;
        char open = v[i], close = open == '"' ? '"' : ')';

        for (i++; i < n; i++) {
                if (v[i] == '\\')
                        i++;
                else if (open == '(' && v[i] == '(')
                        depth++;
                else if (v[i] == close) {
                        if (depth == 0)
                                return i + 1;
                        depth--;
                }
        }
        return n;
}

/**
 * address_list_walk() - call @visit for each addr-spec of an address-list
 * (RFC 5322 §3.4) field value: the inside of "<...>", or a lone token
 * between separators ("root", as cron writes it). Quoted strings and
 * comments are skipped; a display name without brackets is no address.
 * Spans are trimmed of blanks; @visit validates them. Tolerant: anything
 * unusual is simply not visited.
 */
int address_list_walk(const char *v, size_t n, AddressVisit visit, void *userdata) {
        Mailbox mb = {};
        size_t i = 0;
        bool gap = false;
        int r;

        while (i < n) {
                char c = v[i];

                if (c == '"' || c == '(') {
                        size_t j = skip_delimited(v, n, i);

                        if (c == '"') {
                                if (mb.end > mb.start && gap)
                                        mb.words = true;
                                if (mb.end == mb.start)
                                        mb.start = i;
                                mb.end = j;
                        } else
                                gap = true;
                        i = j;
                } else if (c == '<') {
                        size_t s = i + 1, e = s, gt;

                        while (e < n && v[e] != '>') {
                                if (v[e] == '"')
                                        e = skip_delimited(v, n, e);
                                else
                                        e++;
                        }
                        if (e >= n)
                                break;
                        gt = e;
                        while (s < e && is_wsp((uint8_t) v[s]))
                                s++;
                        while (e > s && is_wsp((uint8_t) v[e - 1]))
                                e--;
                        if (e > s) {
                                r = visit(v, s, e, userdata);
                                if (r < 0)
                                        return r;
                        }
                        mb.angle = true;
                        i = gt + 1;
                } else if (c == ',' || c == ';' || c == ':') {
                        if (c == ':')
                                mb = (Mailbox) {};      /* a group's display name */
                        else {
                                r = mailbox_finish(v, &mb, visit, userdata);
                                if (r < 0)
                                        return r;
                        }
                        gap = false;
                        i++;
                } else if (is_wsp((uint8_t) c) || c == '\r' || c == '\n') {
                        gap = true;
                        i++;
                } else {
                        if (mb.end > mb.start && gap)
                                mb.words = true;
                        if (mb.end == mb.start)
                                mb.start = i;
                        mb.end = ++i;
                        gap = false;
                }
        }
        return mailbox_finish(v, &mb, visit, userdata);
}

int rfc5322_date_format(uint64_t usec, bool utc, char ret[static RFC5322_DATE_MAX]) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        /* the C locale's day and month names are the ones §3.3 spells */
        if (!(utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)) ||
            strftime(ret, RFC5322_DATE_MAX, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
                return -EINVAL;
        return 0;
}
