/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

/*
 * Just enough JSON output for `pochtar queue --json` (RFC 8259 §7 string
 * escaping); there is no JSON library among the project's dependencies
 * and the output side needs none of a parser.
 */
void json_print_string(FILE *f, const char *s);
/* "key": "value" or "key": null */
void json_print_member(FILE *f, const char *key, const char *value);
