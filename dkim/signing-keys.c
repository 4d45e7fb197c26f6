/* SPDX-License-Identifier: MIT */
/*
 * Loading keys and tables. Everything that can be wrong with them is found
 * here, at start or reload, and reported with the file that is wrong; the
 * per-message path then only looks up what is already loaded.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-build.h"
#include "dkim/signing-keys.h"
#include "shared/fd-util.h"
#include "shared/secret-file.h"

SignKeys *sign_keys_free(SignKeys *k) {
        if (!k)
                return NULL;
        for (size_t i = 0; i < k->n_keys; i++) {
                free(k->keys[i].domain);
                free(k->keys[i].selector);
                free(k->keys[i].path);
                dkim_key_free(k->keys[i].key);
        }
        free(k->keys);
        free(k->domain);
        key_table_done(&k->key_table);
        signing_table_done(&k->signing_table);
        free(k);
        return NULL;
}

_printf_(2, 3)
static int fail(char **ret_error, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (ret_error)
                *ret_error = s;
        else
                free(s);
        return -EINVAL;
}

/* systemd's LoadCredential= puts the key under $CREDENTIALS_DIRECTORY by
 * its credential name; the unit names it after the file's basename. */
/*
 * Keys come from systemd's credentials when it passes them. The unit loads
 * the whole key directory (LoadCredential=dkim:/etc/pochtar/dkim), which
 * systemd names "dkim_" + the path below it with '/' turned into '_'; a
 * single-file credential is named by the key's basename.
 */
static char *key_path_resolve(const char *path) {
        static const char dkim_dir[] = SYSCONFDIR "/pochtar/dkim/";
        const char *dir = getenv("CREDENTIALS_DIRECTORY");
        const char *base = strrchr(path, '/');
        char *s;

        base = base ? base + 1 : path;
        if (dir && *dir && *base) {
                if (strncmp(path, dkim_dir, strlen(dkim_dir)) == 0) {
                        if (asprintf(&s, "%s/dkim_%s", dir, path + strlen(dkim_dir)) < 0)
                                return NULL;
                        for (char *p = s + strlen(dir) + 1; *p; p++)
                                if (*p == '/')
                                        *p = '_';
                        if (access(s, F_OK) == 0)
                                return s;
                        free(s);
                }
                if (asprintf(&s, "%s/%s", dir, base) < 0)
                        return NULL;
                if (access(s, F_OK) == 0)
                        return s;
                free(s);
        }
        return strdup(path);
}

/*
 * A key is refused unless only its owner, root or this service, can
 * access it (shared/secret-file.h): one that leaked or can be swapped is
 * not signed with. systemd's credential copies are exempt.
 */
static int key_check_safe(const char *path, char **ret_error) {
        char reason[256];
        struct stat st;

        if (stat(path, &st) < 0)
                return fail(ret_error, "%s: cannot read key: %m", path);
        if (secret_file_check(&st, geteuid(), secret_file_in_credentials(path, getenv("CREDENTIALS_DIRECTORY")),
                              reason, sizeof(reason)) < 0)
                return fail(ret_error, "%s: key refused: %s", path, reason);
        return 0;
}

static int key_add(SignKeys *k, const char *domain, const char *selector, const char *path, char **ret_error) {
        _cleanup_(dkim_key_freep) DkimKey *key = NULL;
        _cleanup_free_ char *real = NULL;
        SignKey *x;
        int r;

        real = key_path_resolve(path);
        if (!real)
                return -ENOMEM;
        r = key_check_safe(real, ret_error);
        if (r < 0)
                return r;
        r = dkim_key_load(real, &key);
        if (r == -EKEYREJECTED)
                return fail(ret_error, "%s: key refused: RSA keys must have %d to %d bits (RFC 8301), or use Ed25519",
                            real, DKIM_RSA_BITS_MIN, DKIM_RSA_BITS_MAX);
        if (r == -EBADMSG)
                return fail(ret_error, "%s: not a PEM private key (PKCS#1 or PKCS#8, RSA or Ed25519)", real);
        if (r < 0)
                return fail(ret_error, "%s: cannot read key: %s", real, strerror(-r));
        x = reallocarray(k->keys, k->n_keys + 1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        k->keys = x;
        x[k->n_keys] = (SignKey) {
                .domain = strdup(domain),
                .selector = strdup(selector),
                .path = TAKE_PTR(real),
                .key = TAKE_PTR(key),
        };
        k->n_keys++;
        if (!x[k->n_keys - 1].domain || !x[k->n_keys - 1].selector)
                return -ENOMEM;
        return 0;
}

static int table_read(const char *spec, const char *what, Buf *out, const char **ret_path, bool *ret_wildcard,
                      char **ret_error) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = sign_table_spec(spec, ret_path, ret_wildcard);
        if (r < 0)
                return fail(ret_error, "%s '%s': only file: and refile: tables with an absolute path are supported",
                            what, spec);
        fd = open(*ret_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return fail(ret_error, "%s: cannot open: %m", *ret_path);
        r = read_full_fd(fd, SIGN_TABLE_MAX, out);
        if (r < 0)
                return fail(ret_error, "%s: cannot read: %s", *ret_path, strerror(-r));
        return 0;
}

int key_table_load(const char *spec, KeyTable *ret, char **ret_error) {
        Buf text = BUF_INIT(SIGN_TABLE_MAX + 1);
        const char *path;
        bool wildcard;
        unsigned line = 0;
        int r;

        r = table_read(spec, "key_table", &text, &path, &wildcard, ret_error);
        if (r >= 0) {
                r = key_table_parse((const char *) text.data, text.len, ret, &line);
                if (r < 0)
                        r = fail(ret_error, "%s:%u: expected 'NAME DOMAIN:SELECTOR:/PATH/TO/KEY'", path, line);
        }
        buf_done(&text);
        return r;
}

static int load_tables(const SignConfig *c, SignKeys *k, char **ret_error) {
        Buf text = BUF_INIT(SIGN_TABLE_MAX + 1);
        const char *path;
        bool wildcard;
        unsigned line = 0;
        int r;

        if (!c->signing_table)
                return fail(ret_error, "[sign] key_table is set but signing_table is not");
        r = key_table_load(c->key_table, &k->key_table, ret_error);
        if (r >= 0)
                r = table_read(c->signing_table, "signing_table", &text, &path, &wildcard, ret_error);
        if (r >= 0) {
                r = signing_table_parse((const char *) text.data, text.len, wildcard, &k->signing_table, &line);
                if (r < 0)
                        r = fail(ret_error, "%s:%u: expected 'PATTERN KEYNAME'", path, line);
        }
        buf_done(&text);
        if (r < 0)
                return r;

        for (size_t i = 0; i < k->signing_table.n; i++)
                if (!key_table_find(&k->key_table, k->signing_table.rules[i].key_name))
                        return fail(ret_error, "%s: key '%s' is not in the key table %s", path,
                                    k->signing_table.rules[i].key_name, c->key_table);
        for (size_t i = 0; i < k->key_table.n; i++) {
                const KeyTableEntry *e = &k->key_table.entries[i];

                r = key_add(k, e->domain, e->selector, e->path, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int load_simple(const SignConfig *c, SignKeys *k, char **ret_error) {
        size_t n_sel = strv_length(c->selector), n_key = strv_length(c->key);
        int r;

        if (n_sel == 0 || n_key == 0 || n_sel != n_key)
                return fail(ret_error, "[sign] domain needs as many selectors as keys (selector = S [S2], key = PATH [PATH2])");
        k->domain = strdup(c->domain);
        if (!k->domain)
                return -ENOMEM;
        for (size_t i = 0; i < n_key; i++) {
                if (c->key[i][0] != '/')
                        return fail(ret_error, "[sign] key '%s' is not an absolute path", c->key[i]);
                r = key_add(k, c->domain, c->selector[i], c->key[i], ret_error);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (dkim_key_alg(k->keys[j].key) == dkim_key_alg(k->keys[i].key))
                                return fail(ret_error, "%s: a second %s key for %s; give one key per algorithm",
                                            k->keys[i].path, dkim_alg_to_string(dkim_key_alg(k->keys[i].key)),
                                            c->domain);
        }
        return 0;
}

int sign_keys_load(const SignConfig *c, SignKeys **ret, char **ret_error) {
        _cleanup_(sign_keys_freep) SignKeys *k = NULL;
        int r;

        k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;
        if (c->key_table)
                r = load_tables(c, k, ret_error);
        else if (c->domain)
                r = load_simple(c, k, ret_error);
        else
                r = fail(ret_error, "no signing keys configured: set [sign] domain, selector and key, "
                         "or key_table and signing_table");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(k);
        return 0;
}

static bool choice_add(SignChoice *ret, size_t *n, const SignKey *key, const char *from_domain) {
        const char *d = streq(key->domain, "%") ? from_domain : key->domain;

        for (size_t i = 0; i < *n; i++)
                if (strcasecmp(ret[i].domain, d) != 0 || dkim_key_alg(ret[i].key) == dkim_key_alg(key->key))
                        return false;
        if (*n == SIGN_SIGS_MAX)
                return false;
        ret[(*n)++] = (SignChoice) { .domain = d, .selector = key->selector, .key = key->key };
        return true;
}

size_t sign_keys_select(const SignKeys *k, const char *local, const char *domain, SignChoice ret[static SIGN_SIGS_MAX]) {
        size_t idx[SIGN_TABLE_MATCH_MAX], m, n = 0;

        if (k->domain) {
                size_t dl = strlen(k->domain), fl = strlen(domain);

                /* The parent domain's key also covers subdomains: relaxed
                 * DMARC alignment (RFC 7489 §3.1.1) accepts d=parent. */
                if (!(strcasecmp(domain, k->domain) == 0 ||
                      (fl > dl && domain[fl - dl - 1] == '.' && strcasecmp(domain + fl - dl, k->domain) == 0)))
                        return 0;
                for (size_t i = 0; i < k->n_keys; i++)
                        (void) choice_add(ret, &n, &k->keys[i], domain);
                return n;
        }

        m = signing_table_match(&k->signing_table, local, domain, idx, ELEMENTSOF(idx));
        for (size_t i = 0; i < m; i++) {
                const KeyTableEntry *e = key_table_find(&k->key_table, k->signing_table.rules[idx[i]].key_name);

                if (e)
                        (void) choice_add(ret, &n, &k->keys[e - k->key_table.entries], domain);
        }
        return n;
}
