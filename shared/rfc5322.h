/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"

/*
 * RFC 5322, the Internet Message Format, as every program of pochtar
 * reads and writes it: the header section (split into fields, its end,
 * fields counted), address lists in header fields, and dates. Pure, and
 * bounded by shared/limits.h. receive checks the section it writes with
 * the parser sign signs with, and pochtar-sendmail reads the same way.
 */
typedef struct HeaderField {
        size_t offset;          /* into the message */
        size_t len;             /* the field without its final CRLF */
        size_t name_len;        /* name, without WSP before the colon; 0: no field */
        size_t value;           /* the value's first byte (after the colon), from offset */
} HeaderField;

typedef struct HeaderSection {
        HeaderField *fields;
        size_t n_fields;
        size_t body_offset;     /* first body byte; == message length if none */
} HeaderSection;

void header_section_done(HeaderSection *h);

/*
 * Splits @msg into header fields and body. -EBADMSG for a line that is
 * neither a field nor a continuation (no colon, empty name, control
 * bytes in the name) or a continuation before any field; -EMSGSIZE past
 * HEADER_SECTION_MAX, HEADER_NAME_MAX, HEADER_VALUE_MAX or
 * HEADER_FIELDS_MAX.
 */
int header_section_parse(const uint8_t *msg, size_t n, HeaderSection *ret);

/* Whether field @f of @msg is named @name (any case). */
bool header_field_is(const HeaderField *f, const uint8_t *msg, const char *name);
/* Index of the only field named @name; -ENOENT if none, -ENOTUNIQ if several. */
int header_section_find_one(const HeaderSection *h, const uint8_t *msg, const char *name, size_t *ret_index);

/*
 * Where the header section of @p[0..@n) ends, read leniently, as a
 * receiver must: at an empty line, or at the first line that is neither a
 * field nor a continuation (RFC 5322 §2.1; such a line is body, as
 * Postfix treats it). Returns 1 with *ret_end the offset of that line, 0
 * when more input is needed; with @complete (the message ended) always 1.
 */
int header_section_end(const uint8_t *p, size_t n, bool complete, size_t *ret_end);
/*
 * The field starting at p[start], read leniently: returns the offset
 * after it (after the CRLF not followed by a continuation line), and
 * fills @ret; ret->name_len is 0 when the line is no field. A line is a
 * field by one rule for both readers: printable US-ASCII but colon, then
 * optional WSP (RFC 5322 §4.5.1), then a colon.
 */
size_t header_field_next(const uint8_t *p, size_t n, size_t start, HeaderField *ret);
/* How many fields named @name (any case) the section p[0..n) holds:
 * names only (not "X-Received:", not a continuation line). */
size_t header_section_count(const uint8_t *p, size_t n, const char *name);

/*
 * Calls @visit for each addr-spec of an address-list (RFC 5322 §3.4)
 * field value: the inside of "<...>", or a lone token between separators
 * ("root", as cron writes it). Quoted strings and comments are skipped;
 * a display name without brackets is no address. Spans are trimmed of
 * blanks; @visit validates them. Tolerant: anything unusual is simply
 * not visited.
 */
typedef int (*AddressVisit)(const char *v, size_t start, size_t end, void *userdata);
int address_list_walk(const char *v, size_t n, AddressVisit visit, void *userdata);

/* RFC 5322 §3.3 date-time of @usec (CLOCK_REALTIME) into @ret: in the
 * local zone with its offset, or with @utc in +0000. -EINVAL for a time
 * the C library cannot break down. */
#define RFC5322_DATE_MAX 64
int rfc5322_date_format(uint64_t usec, bool utc, char ret[static RFC5322_DATE_MAX]);
