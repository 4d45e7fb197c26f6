/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes shared/rfc5322.c, the one reading of RFC 5322 every program
 * shares: the strict parser (sign's, and receive's check of what it
 * wrote), the lenient section end and field walk (receive's and
 * pochtar-sendmail's), the field count (the hop limit), address lists
 * and the date. Beyond memory safety: both readers agree on which line
 * is a field; a section found early ends at the same place later; the
 * walk covers the section field by field; every span lies in the input.
 */
#include <stdlib.h>
#include <string.h>

#include "shared/limits.h"
#include "shared/macro.h"
#include "shared/rfc5322.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int span_visit(const char *v, size_t start, size_t end, void *userdata) {
        size_t *n = userdata;

        (void) v;
        if (start >= end || end > n[0])
                abort();
        n[1]++;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        HeaderSection h = {};
        size_t end = 0, partial_end = 0, i = 0, n_fields = 0, n_received = 0, walk[2] = { size, 0 };
        char date[RFC5322_DATE_MAX];
        uint64_t usec = 0;
        int r;

        if (size > HEADER_SECTION_MAX + 1024)
                return 0;

        /* lenient: the end found early is the end found with all the input */
        r = header_section_end(data, size, false, &partial_end);
        if (header_section_end(data, size, true, &end) != 1 || end > size)
                abort();
        if (r == 1 && partial_end != end)
                abort();

        /* the walk moves forward field by field, each inside the section,
         * each line before the end a field (a continuation only after one) */
        while (i < end) {
                HeaderField f;
                size_t next = header_field_next(data, end, i, &f);

                if (next <= i || next > end || f.offset != i || f.offset + f.len > next)
                        abort();
                if (f.name_len == 0 || f.value <= f.name_len || f.value > f.len || data[i + f.value - 1] != ':')
                        abort();
                n_fields++;
                n_received += header_field_is(&f, data, "Received");
                i = next;
        }
        if (header_section_count(data, end, "Received") != n_received)
                abort();

        /* strict: what it takes, the lenient reader reads as the same fields,
         * for input of whole lines as every message is (the lenient section
         * ends before a last line without CRLF: receive appends to it) */
        if (header_section_parse(data, size, &h) >= 0) {
                bool lines = size >= 2 && data[size - 2] == '\r' && data[size - 1] == '\n';

                if (h.body_offset > size || (lines && h.n_fields != n_fields))
                        abort();
                for (size_t k = 0; k < h.n_fields; k++) {
                        const HeaderField *f = &h.fields[k];
                        HeaderField g;

                        if (f->offset + f->len > size || f->name_len == 0 || f->value > f->len)
                                abort();
                        if (!lines)
                                continue;
                        (void) header_field_next(data, end, f->offset, &g);
                        if (g.len != f->len || g.name_len != f->name_len || g.value != f->value)
                                abort();
                }
        }
        header_section_done(&h);

        (void) address_list_walk((const char *) data, size, span_visit, walk);

        memcpy(&usec, data, size < sizeof(usec) ? size : sizeof(usec));
        if (rfc5322_date_format(usec, true, date) >= 0 && strnlen(date, sizeof(date)) >= sizeof(date))
                abort();
        return 0;
}
