/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * RFC 5321 §4.1.2 Mailbox validation by allow-list: Dot-string or
 * Quoted-string local part, domain of LDH labels or an address literal.
 * With ADDRESS_UTF8 (RFC 6531 SMTPUTF8), well-formed UTF-8 is allowed in
 * atoms and labels. Pure: no allocation, no locale.
 */
typedef enum AddressFlags {
        ADDRESS_UTF8 = 1 << 0,          /* RFC 6531 */
        ADDRESS_UNQUALIFIED = 1 << 1,   /* "root": no "@domain" (receive qualifies it) */
} AddressFlags;

int address_valid(const char *p, size_t n, unsigned flags);
int domain_valid(const char *p, size_t n, unsigned flags);
int local_part_valid(const char *p, size_t n, unsigned flags);
/* The domain part of a valid qualified address, or NULL. */
const char *address_domain(const char *addr);
bool address_is_ascii(const char *p, size_t n);
bool utf8_valid(const char *p, size_t n);
