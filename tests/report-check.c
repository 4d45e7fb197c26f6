/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/macro.h"
#include "tests/report-check.h"

static void fail(const char *what, const uint8_t *l, size_t n) {
        fprintf(stderr, "report: %s: '%.*s'\n", what, (int) (n < 200 ? n : 200), (const char *) l);
        abort();
}

static bool name_is(const uint8_t *l, size_t n, const char *name) {
        size_t k = strlen(name);

        return n > k && memcmp(l, name, k) == 0 && l[k] == ':';
}

/* The field's value: after "Name: ". */
static bool value_is(const uint8_t *l, size_t n, const char *name, const char *want) {
        size_t k = strlen(name) + 2, w = strlen(want);

        return n == k + w && memcmp(l + k, want, w) == 0;
}

void report_check(const Buf *b, const char *boundary, size_t n_rcpts, const char *envid, const char *orcpt) {
        static const char *top[] = { "Date", "From", "To", "Subject", "Message-ID", "Auto-Submitted",
                                     "MIME-Version", "Content-Type" };
        static const char *status[] = { "Reporting-MTA", "X-Pochtar-Queue-ID", "Original-Envelope-Id",
                                        "Arrival-Date", "Final-Recipient", "Original-Recipient", "Action",
                                        "Status", "Remote-MTA", "Diagnostic-Code", "Will-Retry-Until" };
        size_t i = 0, field = 0, delimiters = 0, finals = 0, envids = 0, k = strlen(boundary);
        bool in_header = true, part_body = false, closed = false;

        while (i < b->len) {
                const uint8_t *l = b->data + i, *nl = memchr(l, '\n', b->len - i);
                size_t n;

                if (!nl || nl == l || nl[-1] != '\r')
                        fail("a line that does not end in CRLF", l, b->len - i);
                n = (size_t) (nl - l) - 1;
                if (memchr(l, '\r', n))
                        fail("a bare CR", l, n);
                i = (size_t) (nl - b->data) + 1;
                if (n >= 2 + k && l[0] == '-' && l[1] == '-' && memcmp(l + 2, boundary, k) == 0) {
                        if (closed || (n != 2 + k && !(n == 4 + k && l[2 + k] == '-' && l[3 + k] == '-')))
                                fail("a line that only looks like a delimiter", l, n);
                        closed = n == 4 + k;
                        delimiters++;
                        part_body = false;
                        continue;
                }
                if (in_header) {
                        if (n == 0) {
                                in_header = false;
                                if (field != ELEMENTSOF(top))
                                        fail("a header field missing", l, n);
                        } else if (l[0] != '\t' && (field >= ELEMENTSOF(top) || !name_is(l, n, top[field++])))
                                fail("a header field not of the report", l, n);
                        continue;
                }
                if (delimiters != 2)
                        continue;       /* only the delivery-status part is parsed */
                if (n == 0) {
                        part_body = true;
                        continue;
                }
                if (!part_body)
                        continue;       /* the part's own header */
                bool known = false;

                for (size_t s = 0; s < ELEMENTSOF(status); s++)
                        known = known || name_is(l, n, status[s]);
                if (!known)
                        fail("a field RFC 3464 does not name", l, n);
                if (name_is(l, n, "Final-Recipient"))
                        finals++;
                if (name_is(l, n, "Original-Envelope-Id")) {
                        envids++;
                        if (envid && !value_is(l, n, "Original-Envelope-Id", envid))
                                fail("Original-Envelope-Id is not the ENVID", l, n);
                }
                if (name_is(l, n, "Original-Recipient") && orcpt && !value_is(l, n, "Original-Recipient", orcpt))
                        fail("Original-Recipient is not the ORCPT", l, n);
        }
        if (delimiters != 4 || !closed)
                fail("not three parts and a close", b->data, 0);
        if (finals != n_rcpts)
                fail("not one Final-Recipient per recipient", b->data, 0);
        if (envids > 1)
                fail("Original-Envelope-Id twice", b->data, 0);
}
