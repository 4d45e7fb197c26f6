/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * OpenDKIM's KeyTable ("KEYNAME DOMAIN:SELECTOR:KEYPATH" per line, '#'
 * comments), read by `pochtar dns check` to learn which selectors sign
 * which domain. The file is the admin's own; lines that do not have this
 * shape are skipped (sign reports them, with the line, when it loads).
 */
#define KEYTABLE_ENTRIES_MAX 1024
#define KEYTABLE_SIZE_MAX (1024 * 1024)

typedef struct DkimKeyEntry {
        char *domain;
        char *selector;
        char *key;
} DkimKeyEntry;

int dkim_keytable_parse(const char *p, size_t n, DkimKeyEntry **ret, size_t *ret_n);
/* @path may carry OpenDKIM's "file:" prefix. */
int dkim_keytable_load(const char *path, DkimKeyEntry **ret, size_t *ret_n);
void dkim_keytable_free(DkimKeyEntry *e, size_t n);
