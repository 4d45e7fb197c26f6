/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * OpenDKIM's KeyTable and SigningTable (opendkim.conf(5)), as the
 * article writes them, parsed from text (pure; signing-keys.c reads files):
 *
 *   KeyTable:      NAME  DOMAIN:SELECTOR:KEYPATH
 *   SigningTable:  PATTERN  NAME
 *
 * A "file:" SigningTable is looked up as OpenDKIM does: user@host, host,
 * then user@.parent and .parent for each parent domain, user@*, *. A
 * "refile:" table holds wildcard patterns ('*' matches any run) tried in
 * file order against user@host.
 */
#define SIGN_TABLE_MAX (4 * 1024 * 1024)
#define SIGN_TABLE_LINE_MAX 4096
#define SIGN_TABLE_MATCH_MAX 8

typedef struct KeyTableEntry {
        char *name;
        char *domain;           /* "%": the From: domain */
        char *selector;
        char *path;
} KeyTableEntry;

typedef struct KeyTable {
        KeyTableEntry *entries;
        size_t n;
} KeyTable;

typedef struct SigningRule {
        char *pattern;
        char *key_name;
} SigningRule;

typedef struct SigningTable {
        SigningRule *rules;
        size_t n;
        bool wildcard;          /* refile: */
} SigningTable;

/* "file:/p", "refile:/p" or "/p" → path and whether patterns are wildcards. */
int sign_table_spec(const char *spec, const char **ret_path, bool *ret_wildcard);

int key_table_parse(const char *text, size_t n, KeyTable *ret, unsigned *ret_line);
void key_table_done(KeyTable *t);
const KeyTableEntry *key_table_find(const KeyTable *t, const char *name);

int signing_table_parse(const char *text, size_t n, bool wildcard, SigningTable *ret, unsigned *ret_line);
void signing_table_done(SigningTable *t);
/*
 * The rules that apply to local@domain, best first: for a file: table
 * every rule with the first key that matches, for a refile: table every
 * matching pattern in file order. Writes at most @max indices.
 */
size_t signing_table_match(const SigningTable *t, const char *local, const char *domain,
                           size_t *ret_idx, size_t max);
bool wildcard_match(const char *pattern, const char *s);
