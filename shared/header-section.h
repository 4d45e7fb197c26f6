/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The header section of a message (RFC 5322 §2.2), split into fields,
 * folding kept, every cap of shared/limits.h enforced. Pure. receive
 * checks the section it writes with it and sign signs the section it
 * reads with it: one parser, so what receive accepts sign can sign.
 */
typedef struct HeaderField {
        size_t offset;          /* into the message */
        size_t len;             /* the field without its final CRLF */
        size_t name_len;        /* name, without WSP before the colon */
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
