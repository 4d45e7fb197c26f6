/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/rfc5322.h"
#include "shared/limits.h"
#include "shared/macro.h"
#include "shared/tests.h"

static void test_parse(void) {
        static const char m[] = "From: a@b.example\r\nSubject: one\r\n two\r\nTo: x@y\r\n\r\nbody\r\n";
        HeaderSection h = {};
        size_t i;

        ASSERT_OK(header_section_parse((const uint8_t *) m, strlen(m), &h));
        ASSERT_EQ(h.n_fields, 3);
        ASSERT_EQ(h.fields[1].len, strlen("Subject: one\r\n two"));
        ASSERT_EQ(h.fields[1].name_len, 7);
        ASSERT_STREQ(m + h.body_offset, "body\r\n");
        ASSERT_OK(header_section_find_one(&h, (const uint8_t *) m, "from", &i));
        ASSERT_EQ(i, 0);
        ASSERT_EQ(header_section_find_one(&h, (const uint8_t *) m, "Cc", &i), -ENOENT);
        header_section_done(&h);

        /* Headers only, last line without CRLF. */
        ASSERT_OK(header_section_parse((const uint8_t *) "From: a@b", 9, &h));
        ASSERT_EQ(h.n_fields, 1);
        ASSERT_EQ(h.body_offset, 9);
        header_section_done(&h);

        ASSERT_EQ(header_section_parse((const uint8_t *) " cont\r\n\r\n", 9, &h), -EBADMSG);
        ASSERT_EQ(header_section_parse((const uint8_t *) "no colon\r\n\r\n", 12, &h), -EBADMSG);
        ASSERT_EQ(header_section_parse((const uint8_t *) ": empty\r\n\r\n", 11, &h), -EBADMSG);
}

/* Each cap: at the limit taken, one past it -EMSGSIZE. */
static void test_limits(void) {
        HeaderSection h = {};
        Buf b = BUF_INIT(0);

        for (int i = 0; i < HEADER_FIELDS_MAX; i++)
                ASSERT_OK(buf_printf(&b, "X-%d: v\r\n", i));
        ASSERT_OK(buf_append_str(&b, "\r\nbody\r\n"));
        ASSERT_OK(header_section_parse(b.data, b.len, &h));
        ASSERT_EQ(h.n_fields, HEADER_FIELDS_MAX);
        header_section_done(&h);
        buf_reset(&b);
        for (int i = 0; i <= HEADER_FIELDS_MAX; i++)
                ASSERT_OK(buf_printf(&b, "X-%d: v\r\n", i));
        ASSERT_EQ(header_section_parse(b.data, b.len, &h), -EMSGSIZE);

        /* a name of HEADER_NAME_MAX octets, then one more */
        for (int extra = 0; extra < 2; extra++) {
                buf_reset(&b);
                for (int i = 0; i < HEADER_NAME_MAX + extra; i++)
                        ASSERT_OK(buf_append_byte(&b, 'n'));
                ASSERT_OK(buf_append_str(&b, ": v\r\n\r\n"));
                ASSERT_EQ(header_section_parse(b.data, b.len, &h), extra ? -EMSGSIZE : 0);
                header_section_done(&h);
        }
        /* a value over HEADER_VALUE_MAX, folded or not */
        for (int folded = 0; folded < 2; folded++) {
                buf_reset(&b);
                ASSERT_OK(buf_append_str(&b, "X:"));
                for (int i = 0; i <= HEADER_VALUE_MAX / 4; i++)
                        ASSERT_OK(buf_append_str(&b, folded ? "\r\n b" : "vvvv"));
                ASSERT_OK(buf_append_str(&b, "\r\n\r\n"));
                ASSERT_EQ(header_section_parse(b.data, b.len, &h), -EMSGSIZE);
        }
        /* a section over HEADER_SECTION_MAX */
        buf_reset(&b);
        for (int i = 0; b.len < HEADER_SECTION_MAX; i++)
                ASSERT_OK(buf_printf(&b, "X-%d: %0200d\r\n", i % 100, 0));
        ASSERT_OK(buf_append_str(&b, "\r\n"));
        ASSERT_EQ(header_section_parse(b.data, b.len, &h), -EMSGSIZE);
        buf_done(&b);
}

static void test_section_end(void) {
        size_t end;

        ASSERT_EQ(header_section_end((const uint8_t *) "A: b\r\n c\r\n", 10, false, &end), 0);
        ASSERT_EQ(header_section_end((const uint8_t *) "A: b\r\n c\r\n", 10, true, &end), 1);
        ASSERT_EQ(end, 10);
        ASSERT_EQ(header_section_end((const uint8_t *) "A: b\r\n\r\nx", 9, false, &end), 1);
        ASSERT_EQ(end, 6);
        /* a line that is not a field ends the section: it is body */
        ASSERT_EQ(header_section_end((const uint8_t *) "A: b\r\nnot a header\r\n", 20, false, &end), 1);
        ASSERT_EQ(end, 6);
        ASSERT_EQ(header_section_end((const uint8_t *) " x\r\n", 4, false, &end), 1);
        ASSERT_EQ(end, 0);
        ASSERT_EQ(header_section_end((const uint8_t *) "", 0, true, &end), 1);
        ASSERT_EQ(end, 0);
}

static void test_count_field(void) {
        static const struct {
                const char *section;
                size_t want;
        } cases[] = {
                { "", 0 },
                { "Received: a\r\n", 1 },
                { "received: a\r\nRECEIVED: b\r\nReCeIvEd:c\r\n", 3 },
                /* another name that ends or starts the same way */
                { "X-Received: a\r\nReceived-SPF: pass\r\nReceivedx: c\r\n", 0 },
                /* a continuation line is part of the field before it */
                { "Subject: x\r\n Received: folded\r\n\tReceived: again\r\nReceived: a\r\n", 1 },
                { "Received: from a\r\n\tby b; date\r\nReceived: from c\r\n by d\r\n", 2 },
                /* WSP before the colon (RFC 5322 §4.5.1): the field is still Received */
                { "Received : a\r\n", 1 },
                { "Received\t: a\r\nReceived x: b\r\n", 1 },
                { "Received", 0 },
                /* the last field without its CRLF, as a section cut at HEADER_SECTION_MAX */
                { "Received: a\r\nReceived: b", 2 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *s = cases[i].section;

                if (header_section_count((const uint8_t *) s, strlen(s), "Received") != cases[i].want) {
                        fprintf(stderr, "case %zu: '%s'\n", i, s);
                        ASSERT_EQ(header_section_count((const uint8_t *) s, strlen(s), "Received"), cases[i].want);
                }
        }
}

static void test_count_in_message(void) {
        /* as the session counts: up to the end of the header section, not in the body */
        static const char msg[] = "Received: a\r\nSubject: x\r\n\r\nReceived: in the body\r\n";
        size_t end;

        ASSERT_EQ(header_section_end((const uint8_t *) msg, strlen(msg), true, &end), 1);
        ASSERT_EQ(header_section_count((const uint8_t *) msg, end, "Received"), 1);
}

static void test_field_next(void) {
        static const struct {
                const char *section;
                size_t start, want_next, want_len, want_name, want_value;
        } cases[] = {
                { "Subject: x\r\nTo: y\r\n", 0, 12, 10, 7, 8 },
                /* folded: the field runs to the CRLF not followed by WSP */
                { "Subject: x\r\n y\r\n\tz\r\nTo: y\r\n", 0, 20, 18, 7, 8 },
                { "Subject: x\r\nTo: y\r\n", 12, 19, 5, 2, 3 },
                /* no CRLF at the end: the field runs to the end */
                { "Subject: x", 0, 10, 10, 7, 8 },
                /* WSP before the colon (RFC 5322 §4.5.1) is not part of the name */
                { "Subject \t: x\r\n", 0, 14, 12, 7, 10 },
                /* not a field: no colon, a blank inside the name, empty name, a control byte */
                { "not a field\r\nTo: y\r\n", 0, 13, 11, 0, 0 },
                { "Sub ject: x\r\n", 0, 13, 11, 0, 0 },
                { ": x\r\n", 0, 5, 3, 0, 0 },
                { "Sub\x01ject: x\r\n", 0, 13, 11, 0, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *s = cases[i].section;
                HeaderField f;
                size_t next;

                next = header_field_next((const uint8_t *) s, strlen(s), cases[i].start, &f);
                if (next != cases[i].want_next || f.len != cases[i].want_len || f.name_len != cases[i].want_name ||
                    f.value != cases[i].want_value || f.offset != cases[i].start) {
                        fprintf(stderr, "case %zu: '%s'\n", i, s);
                        ASSERT_EQ(next, cases[i].want_next);
                        ASSERT_EQ(f.offset, cases[i].start);
                        ASSERT_EQ(f.len, cases[i].want_len);
                        ASSERT_EQ(f.name_len, cases[i].want_name);
                        ASSERT_EQ(f.value, cases[i].want_value);
                }
        }
}

/* The strict parser and the lenient readers agree on which line is a
 * field: receive checks what it wrote with the one sign signs by. */
static void test_one_rule(void) {
        static const char *const lines[] = {
                "Subject: x", "Subject : x", "Subject\t:x", "X-\x7e: y", "Sub ject: x", "no colon",
                ": x", "Sub\x01: x", "Sub\x7f: x", "\xc3\xa9t\xc3\xa9: x",
        };

        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                HeaderSection h = {};
                HeaderField f;
                Buf b = BUF_INIT(0);
                size_t end;
                int r;

                ASSERT_OK(buf_printf(&b, "%s\r\n\r\n", lines[i]));
                r = header_section_parse(b.data, b.len, &h);
                (void) header_field_next(b.data, b.len, 0, &f);
                ASSERT_EQ(header_section_end(b.data, b.len, true, &end), 1);
                if ((r >= 0) != (f.name_len > 0) || (r >= 0) != (end > 0)) {
                        fprintf(stderr, "line %zu: '%s'\n", i, lines[i]);
                        ASSERT_EQ(r >= 0, f.name_len > 0);
                        ASSERT_EQ(r >= 0, end > 0);
                }
                if (r >= 0) {
                        ASSERT_EQ(h.fields[0].name_len, f.name_len);
                        ASSERT_EQ(h.fields[0].value, f.value);
                }
                header_section_done(&h);
                buf_done(&b);
        }
}

static int collect(const char *v, size_t start, size_t end, void *userdata) {
        Buf *b = userdata;
        int r;

        r = buf_append(b, v + start, end - start);
        return r < 0 ? r : buf_append_str(b, "|");
}

static void test_address_list(void) {
        static const struct {
                const char *value;
                const char *want;       /* the addr-specs visited, each followed by "|" */
        } cases[] = {
                { " a@b.example", "a@b.example|" },
                { " John <j@x.example>, root", "j@x.example|root|" },
                /* a display name without brackets is no address */
                { " John Smith", "" },
                /* a comma or bracket inside quotes or a comment is not a separator */
                { " \"Smith, John\" <j@x.example>", "j@x.example|" },
                { " (a, <b@c>) d@e.example", "d@e.example|" },
                { " \"a\\\"<x@y>\" <z@w.example>", "z@w.example|" },
                /* groups (RFC 5322 §3.4): the members are addresses */
                { " team: a@b.example, c@d.example;", "a@b.example|c@d.example|" },
                { "", "" },
                { " ,,, ", "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *v = cases[i].value;
                Buf b = BUF_INIT(0);

                ASSERT_OK(address_list_walk(v, strlen(v), collect, &b));
                ASSERT_OK(buf_append_str(&b, ""));
                if (strcmp(b.data ? (char *) b.data : "", cases[i].want) != 0) {
                        fprintf(stderr, "case %zu: '%s'\n", i, v);
                        ASSERT_STREQ(b.data ? (char *) b.data : "", cases[i].want);
                }
                buf_done(&b);
        }
}

static void test_date(void) {
        char d[RFC5322_DATE_MAX];

        /* RFC 5322 §3.3: day-name, date, time and zone, in the C locale */
        ASSERT_OK(rfc5322_date_format(UINT64_C(1795834305000000), true, d));
        ASSERT_STREQ(d, "Sat, 28 Nov 2026 02:51:45 +0000");
        ASSERT_OK(rfc5322_date_format(0, true, d));
        ASSERT_STREQ(d, "Thu, 01 Jan 1970 00:00:00 +0000");
        /* the local form carries the zone's offset: "+hhmm" or "-hhmm" */
        ASSERT_OK(rfc5322_date_format(UINT64_C(1795834305000000), false, d));
        ASSERT_EQ(strlen(d), strlen("Sat, 28 Nov 2026 02:51:45 +0000"));
        ASSERT_TRUE(d[26] == '+' || d[26] == '-');
}

int main(void) {
        test_parse();
        test_limits();
        test_section_end();
        test_count_field();
        test_count_in_message();
        test_field_next();
        test_one_rule();
        test_address_list();
        test_date();
        return 0;
}
