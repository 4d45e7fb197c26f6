/* SPDX-License-Identifier: MIT */
/*
 * The header section parser receive and sign share: see header-section.h.
 * Every limit it enforces is in shared/limits.h.
 */
#include <stdlib.h>
#include <string.h>

#include "shared/header-section.h"
#include "shared/limits.h"
#include "shared/macro.h"

void header_section_done(HeaderSection *h) {
        free(h->fields);
        *h = (HeaderSection) {};
}

static bool is_wsp(uint8_t c) {
        return c == ' ' || c == '\t';
}

static bool name_valid(const uint8_t *p, size_t n) {
        /* RFC 5322 §2.2: ftext is printable US-ASCII except colon. */
        if (n == 0 || n > HEADER_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (p[i] < 33 || p[i] > 126)
                        return false;
        return true;
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
                        const uint8_t *colon = memchr(msg + i, ':', line_end - i);
                        size_t name_len;

                        if (!colon)
                                return -EBADMSG;
                        name_len = (size_t) (colon - (msg + i));
                        while (name_len > 0 && is_wsp(msg[i + name_len - 1]))
                                name_len--;
                        if (!name_valid(msg + i, name_len))
                                return name_len > HEADER_NAME_MAX ? -EMSGSIZE : -EBADMSG;
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
