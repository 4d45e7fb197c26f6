/* SPDX-License-Identifier: MIT */
/*
 * OpenDKIM table formats. Lines are split on white space, '#' starts a
 * comment, blank lines are skipped; anything else malformed is an error
 * with its line number, reported at start so a typo never means mail
 * silently going out unsigned.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dkim/dkim-keytable.h"
#include "shared/macro.h"

int sign_table_spec(const char *spec, const char **ret_path, bool *ret_wildcard) {
        bool wildcard = false;

        if (strncmp(spec, "refile:", 7) == 0) {
                spec += 7;
                wildcard = true;
        } else if (strncmp(spec, "file:", 5) == 0)
                spec += 5;
        else if (strchr(spec, ':'))
                return -EOPNOTSUPP;     /* db:, ldap:, … are not supported */
        if (spec[0] != '/')
                return -EINVAL;
        *ret_path = spec;
        *ret_wildcard = wildcard;
        return 0;
}

/* A table's text, read a line at a time into a bounded buffer. */
typedef struct TableReader {
        const char *p, *end;
        unsigned line;
        char *buf;              /* SIGN_TABLE_LINE_MAX */
} TableReader;

static void table_reader_done(TableReader *rd) {
        free(rd->buf);
}

static int table_reader_init(const char *text, size_t n, TableReader *ret) {
        if (n > SIGN_TABLE_MAX)
                return -EFBIG;
        *ret = (TableReader) { .p = text, .end = text + n, .buf = malloc(SIGN_TABLE_LINE_MAX) };
        return ret->buf ? 0 : -ENOMEM;
}

/* Splits the next non-empty line into up to @max fields (NUL-terminated
 * copies in rd->buf): 1, or 0 at the end. */
static int table_reader_next(TableReader *rd, char **fields, size_t max, size_t *ret_n) {
        const char **p = &rd->p, *end = rd->end;
        unsigned *line = &rd->line;
        char *buf = rd->buf;

        while (*p < end) {
                const char *nl = memchr(*p, '\n', (size_t) (end - *p));
                size_t len = nl ? (size_t) (nl - *p) : (size_t) (end - *p);
                size_t n = 0;
                char *s, *save = NULL;

                (*line)++;
                if (len >= SIGN_TABLE_LINE_MAX)
                        return -EMSGSIZE;
                memcpy(buf, *p, len);
                buf[len] = 0;
                *p += len + (nl ? 1 : 0);
                if (memchr(buf, 0, len))
                        return -EBADMSG;
                s = strchr(buf, '#');
                if (s)
                        *s = 0;
                for (s = strtok_r(buf, " \t\r", &save); s; s = strtok_r(NULL, " \t\r", &save)) {
                        if (n == max)
                                return -EBADMSG;
                        fields[n++] = s;
                }
                if (n == 0)
                        continue;
                *ret_n = n;
                return 1;
        }
        return 0;
}

void key_table_done(KeyTable *t) {
        for (size_t i = 0; i < t->n; i++) {
                free(t->entries[i].name);
                free(t->entries[i].domain);
                free(t->entries[i].selector);
                free(t->entries[i].path);
        }
        free(t->entries);
        *t = (KeyTable) {};
}

int key_table_parse(const char *text, size_t n, KeyTable *ret, unsigned *ret_line) {
        _cleanup_(key_table_done) KeyTable t = {};
        _cleanup_(table_reader_done) TableReader rd = {};
        size_t cap = 0;
        int r;

        r = table_reader_init(text, n, &rd);
        if (r < 0)
                return r;
        for (;;) {
                char *f[3], *c1, *c2;
                size_t nf;
                KeyTableEntry e;

                r = table_reader_next(&rd, f, ELEMENTSOF(f), &nf);
                if (r == 0)
                        break;
                if (r < 0 || nf != 2)
                        goto bad;
                /* DOMAIN:SELECTOR:PATH; the path may itself hold colons. */
                c1 = strchr(f[1], ':');
                c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2 || c1 == f[1] || c2 == c1 + 1 || c2[1] != '/')
                        goto bad;
                *c1 = *c2 = 0;
                if (ARRAY_GROW(t.entries, cap, t.n, 8) < 0)
                        return -ENOMEM;
                e = (KeyTableEntry) {
                        .name = strdup(f[0]),
                        .domain = strdup(f[1]),
                        .selector = strdup(c1 + 1),
                        .path = strdup(c2 + 1),
                };
                t.entries[t.n++] = e;
                if (!e.name || !e.domain || !e.selector || !e.path)
                        return -ENOMEM;
        }
        *ret = t;
        t = (KeyTable) {};
        return 0;
bad:
        if (ret_line)
                *ret_line = rd.line;
        return r < 0 ? r : -EBADMSG;
}

const KeyTableEntry *key_table_find(const KeyTable *t, const char *name) {
        for (size_t i = 0; i < t->n; i++)
                if (streq(t->entries[i].name, name))
                        return &t->entries[i];
        return NULL;
}

void signing_table_done(SigningTable *t) {
        for (size_t i = 0; i < t->n; i++) {
                free(t->rules[i].pattern);
                free(t->rules[i].key_name);
        }
        free(t->rules);
        *t = (SigningTable) {};
}

int signing_table_parse(const char *text, size_t n, bool wildcard, SigningTable *ret, unsigned *ret_line) {
        _cleanup_(signing_table_done) SigningTable t = { .wildcard = wildcard };
        _cleanup_(table_reader_done) TableReader rd = {};
        size_t cap = 0;
        int r;

        r = table_reader_init(text, n, &rd);
        if (r < 0)
                return r;
        for (;;) {
                char *f[3];
                size_t nf;

                r = table_reader_next(&rd, f, ELEMENTSOF(f), &nf);
                if (r == 0)
                        break;
                /* A third field is OpenDKIM's optional i= signer: accepted, not used. */
                if (r < 0 || nf < 2) {
                        if (ret_line)
                                *ret_line = rd.line;
                        return r < 0 ? r : -EBADMSG;
                }
                if (ARRAY_GROW(t.rules, cap, t.n, 8) < 0)
                        return -ENOMEM;
                t.rules[t.n] = (SigningRule) { .pattern = strdup(f[0]), .key_name = strdup(f[1]) };
                if (!t.rules[t.n].pattern || !t.rules[t.n].key_name) {
                        t.n++;
                        return -ENOMEM;
                }
                t.n++;
        }
        *ret = t;
        t = (SigningTable) {};
        return 0;
}

bool wildcard_match(const char *pat, const char *s) {
        const char *star = NULL, *resume = NULL;

        /* Iterative glob with one backtrack point: linear in practice,
         * never exponential on hostile patterns or addresses. */
        while (*s) {
                if (*pat == '*') {
                        star = pat++;
                        resume = s;
                } else if (*pat && strncasecmp(pat, s, 1) == 0) {
                        pat++;
                        s++;
                } else if (star) {
                        pat = star + 1;
                        s = ++resume;
                } else
                        return false;
        }
        while (*pat == '*')
                pat++;
        return *pat == 0;
}

static size_t match_key(const SigningTable *t, const char *key, size_t *ret_idx, size_t max) {
        size_t n = 0;

        for (size_t i = 0; i < t->n && n < max; i++)
                if (strcasecmp(t->rules[i].pattern, key) == 0)
                        ret_idx[n++] = i;
        return n;
}

size_t signing_table_match(const SigningTable *t, const char *local, const char *domain,
                           size_t *ret_idx, size_t max) {
        char key[SIGN_TABLE_LINE_MAX];
        const char *d;
        size_t n = 0;

        if (t->wildcard) {
                (void) snprintf(key, sizeof(key), "%s@%s", local, domain);
                for (size_t i = 0; i < t->n && n < max; i++)
                        if (wildcard_match(t->rules[i].pattern, key))
                                ret_idx[n++] = i;
                return n;
        }

        /* opendkim.conf(5) SigningTable: user@host, host, user@.parent…,
         * .parent…, user@*, * — the first key present wins. */
        (void) snprintf(key, sizeof(key), "%s@%s", local, domain);
        if ((n = match_key(t, key, ret_idx, max)) > 0)
                return n;
        if ((n = match_key(t, domain, ret_idx, max)) > 0)
                return n;
        for (d = strchr(domain, '.'); d; d = strchr(d + 1, '.')) {
                (void) snprintf(key, sizeof(key), "%s@%s", local, d);
                if ((n = match_key(t, key, ret_idx, max)) > 0)
                        return n;
        }
        for (d = strchr(domain, '.'); d; d = strchr(d + 1, '.'))
                if ((n = match_key(t, d, ret_idx, max)) > 0)
                        return n;
        (void) snprintf(key, sizeof(key), "%s@*", local);
        if ((n = match_key(t, key, ret_idx, max)) > 0)
                return n;
        return match_key(t, "*", ret_idx, max);
}
