/* SPDX-License-Identifier: MIT */
/*
 * OpenDKIM KeyTable reader for the DNS check (the article's
 * /etc/opendkim/keytable works unchanged).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "cli/dkim-keytable.h"
#include "shared/buf.h"
#include "shared/macro.h"
#include "shared/spool.h"

void dkim_keytable_free(DkimKeyEntry *e, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(e[i].domain);
                free(e[i].selector);
                free(e[i].key);
        }
        free(e);
}

static const char *span_skip(const char *p, const char *end, const char *set, int in) {
        while (p < end && (strchr(set, *p) != NULL) == in && *p)
                p++;
        return p;
}

int dkim_keytable_parse(const char *p, size_t n, DkimKeyEntry **ret, size_t *ret_n) {
        DkimKeyEntry *entries = NULL;
        const char *end = p + n;
        size_t k = 0;

        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p)) ?: end;
                const char *f = span_skip(p, eol, " \t", 1), *value, *c1, *c2, *vend;

                p = eol + (eol < end);
                if (f == eol || *f == '#')
                        continue;
                f = span_skip(f, eol, " \t", 0);        /* the key name */
                value = span_skip(f, eol, " \t", 1);
                vend = span_skip(value, eol, " \t\r#", 0);
                c1 = memchr(value, ':', (size_t) (vend - value));
                c2 = c1 ? memchr(c1 + 1, ':', (size_t) (vend - c1 - 1)) : NULL;
                if (!c2 || c1 == value || c2 == c1 + 1 || c2 + 1 == vend)
                        continue;
                if (k == KEYTABLE_ENTRIES_MAX)
                        break;
                DkimKeyEntry *t = reallocarray(entries, k + 1, sizeof(DkimKeyEntry));
                if (!t)
                        goto oom;
                entries = t;
                entries[k] = (DkimKeyEntry) {
                        .domain = strndup(value, (size_t) (c1 - value)),
                        .selector = strndup(c1 + 1, (size_t) (c2 - c1 - 1)),
                        .key = strndup(c2 + 1, (size_t) (vend - c2 - 1)),
                };
                k++;
                if (!entries[k - 1].domain || !entries[k - 1].selector || !entries[k - 1].key)
                        goto oom;
        }
        *ret = entries;
        *ret_n = k;
        return 0;
oom:
        dkim_keytable_free(entries, k);
        return -ENOMEM;
}

int dkim_keytable_load(const char *path, DkimKeyEntry **ret, size_t *ret_n) {
        _cleanup_close_ int fd = -EBADF;
        Buf b = BUF_INIT(KEYTABLE_SIZE_MAX + 1);
        int r;

        if (strncmp(path, "file:", 5) == 0)
                path += 5;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        r = read_full_fd(fd, KEYTABLE_SIZE_MAX, &b);
        if (r >= 0)
                r = dkim_keytable_parse((const char *) b.data, b.len, ret, ret_n);
        buf_done(&b);
        return r;
}
