/* SPDX-License-Identifier: MIT */
/*
 * The config engine: libinih reads the file line by line through our own
 * reader, which counts lines and refuses overlong ones, so every error
 * names file, line and reason. Non-logging: the caller reports.
 */
#include <ctype.h>
#include <ini.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "shared/config.h"
#include "shared/limits.h"
#include "shared/macro.h"

void strv_free(char **l) {
        if (!l)
                return;
        for (char **p = l; *p; p++)
                free(*p);
        free(l);
}

size_t strv_length(char * const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

int strv_extend(char ***l, const char *s) {
        size_t n = strv_length(*l);
        char **t, *d;

        d = strdup(s);
        if (!d)
                return -ENOMEM;
        t = reallocarray(*l, n + 2, sizeof(char *));
        if (!t) {
                free(d);
                return -ENOMEM;
        }
        t[n] = d;
        t[n + 1] = NULL;
        *l = t;
        return 0;
}

int config_parse_string(const char *v, void *dst, const void *arg) {
        char **s = dst, *d = NULL;

        if (*v) {
                d = strdup(v);
                if (!d)
                        return -ENOMEM;
        }
        free(*s);
        *s = d;         /* an empty value resets to "unset" */
        return 0;
}

int config_parse_path(const char *v, void *dst, const void *arg) {
        if (*v && *v != '/')
                return -EINVAL;
        return config_parse_string(v, dst, arg);
}

int config_parse_bool(const char *v, void *dst, const void *arg) {
        bool *b = dst;

        if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "on"))
                *b = true;
        else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "off"))
                *b = false;
        else
                return -EINVAL;
        return 0;
}

static int parse_u64_suffix(const char *v, uint64_t *ret_num, const char **ret_suffix) {
        uint64_t n = 0;
        const char *p = v;

        if (!isdigit((unsigned char) *p))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++) {
                if (n > (UINT64_MAX - (uint64_t) (*p - '0')) / 10)
                        return -ERANGE;
                n = n * 10 + (uint64_t) (*p - '0');
        }
        *ret_num = n;
        *ret_suffix = p;
        return 0;
}

int config_parse_unsigned(const char *v, void *dst, const void *arg) {
        const unsigned *range = arg;
        const char *suffix;
        uint64_t n;
        int r;

        r = parse_u64_suffix(v, &n, &suffix);
        if (r < 0 || *suffix || n > UINT32_MAX)
                return -EINVAL;
        if (range && (n < range[0] || n > range[1]))
                return -ERANGE;
        *(unsigned *) dst = (unsigned) n;
        return 0;
}

int config_parse_size(const char *v, void *dst, const void *arg) {
        const uint64_t *range = arg;
        const char *suffix;
        uint64_t n, mul = 1;
        int r;

        r = parse_u64_suffix(v, &n, &suffix);
        if (r < 0)
                return -EINVAL;
        if (!strcmp(suffix, "k") || !strcmp(suffix, "K"))
                mul = 1024;
        else if (!strcmp(suffix, "M"))
                mul = 1024 * 1024;
        else if (!strcmp(suffix, "G"))
                mul = 1024 * 1024 * 1024;
        else if (*suffix)
                return -EINVAL;
        if (n > UINT64_MAX / mul)
                return -ERANGE;
        if (range && (n * mul < range[0] || n * mul > range[1]))
                return -ERANGE;
        *(uint64_t *) dst = n * mul;
        return 0;
}

int config_parse_usec(const char *v, void *dst, const void *arg) {
        const usec_t *range = arg;
        static const struct {
                const char *suffix;
                usec_t mul;
        } units[] = {
                { "", USEC_PER_SEC },   /* a bare number is seconds, as in Postfix */
                { "ms", USEC_PER_MSEC },
                { "s", USEC_PER_SEC },
                { "m", 60 * USEC_PER_SEC },
                { "h", 3600 * USEC_PER_SEC },
                { "d", 86400 * USEC_PER_SEC },
                { "w", 7 * 86400 * USEC_PER_SEC },
        };
        const char *suffix;
        uint64_t n;
        int r;

        r = parse_u64_suffix(v, &n, &suffix);
        if (r < 0)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (streq(suffix, units[i].suffix)) {
                        if (n > UINT64_MAX / units[i].mul)
                                return -ERANGE;
                        n *= units[i].mul;
                        if (range && (n < range[0] || n > range[1]))
                                return -ERANGE;
                        *(usec_t *) dst = n;
                        return 0;
                }
        return -EINVAL;
}

int config_parse_strv(const char *v, void *dst, const void *arg) {
        char ***l = dst, **n = NULL;
        const char *p = v;
        int r;

        while (*p) {
                size_t k;
                char *w;

                p += strspn(p, ", \t");
                k = strcspn(p, ", \t");
                if (k == 0)
                        break;
                w = strndup(p, k);
                if (!w) {
                        strv_free(n);
                        return -ENOMEM;
                }
                r = strv_extend(&n, w);
                free(w);
                if (r < 0) {
                        strv_free(n);
                        return r;
                }
                p += k;
        }
        strv_free(*l);
        *l = n;
        return 0;
}

/* Header field names for DKIM's h= (oversign_headers): RFC 5322 ftext,
 * and no ";" either, which would end the h= tag; at most
 * DKIM_OVERSIGN_MAX of them. */
int config_parse_header_names(const char *v, void *dst, const void *arg) {
        char **n = NULL;
        int r;

        r = config_parse_strv(v, &n, NULL);
        if (r < 0)
                return r;
        if (strv_length(n) > DKIM_OVERSIGN_MAX)
                r = -EINVAL;
        for (size_t i = 0; r >= 0 && n && n[i]; i++) {
                size_t k = strlen(n[i]);

                if (k > HEADER_NAME_MAX)
                        r = -EINVAL;
                for (size_t j = 0; j < k && r >= 0; j++)
                        if (n[i][j] < 33 || n[i][j] > 126 || n[i][j] == ':' || n[i][j] == ';')
                                r = -EINVAL;
        }
        if (r < 0) {
                strv_free(n);
                return r;
        }
        strv_free(*(char ***) dst);
        *(char ***) dst = n;
        return 0;
}

int config_parse_sign_policy(const char *v, void *dst, const void *arg) {
        if (streq(v, "pass"))
                *(SignPolicy *) dst = SIGN_POLICY_PASS;
        else if (streq(v, "quarantine"))
                *(SignPolicy *) dst = SIGN_POLICY_QUARANTINE;
        else
                return -EINVAL;
        return 0;
}

int config_parse_bare_newline(const char *v, void *dst, const void *arg) {
        if (streq(v, "normalize"))
                *(BareNewline *) dst = BARE_NEWLINE_NORMALIZE;
        else if (streq(v, "reject"))
                *(BareNewline *) dst = BARE_NEWLINE_REJECT;
        else
                return -EINVAL;
        return 0;
}

int config_parse_deliver_mode(const char *v, void *dst, const void *arg) {
        if (streq(v, "mx"))
                *(DeliverMode *) dst = DELIVER_MODE_MX;
        else if (streq(v, "relay"))
                *(DeliverMode *) dst = DELIVER_MODE_RELAY;
        else if (streq(v, "capture"))
                *(DeliverMode *) dst = DELIVER_MODE_CAPTURE;
        else
                return -EINVAL;
        return 0;
}

typedef struct LoadState {
        Config *config;
        FILE *f;
        unsigned line;
        char *error;
        int error_line_set;
} LoadState;

_printf_(2, 3) static void load_fail(LoadState *s, const char *fmt, ...) {
        char *msg = NULL;
        va_list ap;

        if (s->error)
                return;         /* the first error is the one to report */
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (asprintf(&s->error, "%s:%u: %s", s->config->path, s->line, msg ? msg : "out of memory") < 0)
                s->error = NULL;
        free(msg);
}

static char *load_reader(char *str, int num, void *stream) {
        LoadState *s = stream;
        size_t len;

        if (s->error)
                return NULL;
        if (!fgets(str, num, s->f))
                return NULL;
        s->line++;
        len = strlen(str);
        /* fgets stops at num-1 bytes: a line without its newline that is not
         * the last one did not fit */
        if (len == (size_t) num - 1 && str[len - 1] != '\n' && !feof(s->f)) {
                load_fail(s, "line too long (more than %d bytes)", num - 2);
                return NULL;
        }
        return str;
}

static int load_handler(void *user, const char *section, const char *name, const char *value) {
        LoadState *s = user;
        bool section_known = false;

        for (size_t i = 0; i < config_options_count; i++) {
                const ConfigOption *o = &config_options[i];
                int r;

                if (!streq(o->section, section))
                        continue;
                section_known = true;
                if (!streq(o->key, name))
                        continue;
                r = o->parse(value, (uint8_t *) s->config + o->offset, o->arg);
                if (r == -ENOMEM)
                        load_fail(s, "out of memory");
                else if (r == -ERANGE)
                        load_fail(s, "value '%s' for '%s' is out of range", value, name);
                else if (r < 0 && o->parse == config_parse_path)
                        load_fail(s, "'%s' for '%s' in [%s] is not an absolute path", value, name, section);
                else if (r < 0)
                        load_fail(s, "invalid value '%s' for '%s' in [%s]", value, name, section);
                return r >= 0;
        }
        if (!*section)
                load_fail(s, "'%s' is outside any section", name);
        else if (!section_known)
                load_fail(s, "unknown section [%s]", section);
        else
                load_fail(s, "unknown key '%s' in [%s]", name, section);
        return 0;
}

int config_load_stream(Config *c, FILE *f, const char *path, char **ret_error) {
        LoadState s = { .config = c, .f = f };
        int r;

        free(c->path);
        c->path = strdup(path);
        if (!c->path)
                return -ENOMEM;
        r = ini_parse_stream(load_reader, &s, load_handler, &s);
        if (ferror(s.f) && !s.error)
                return -EIO;
        if (r != 0 && !s.error) {
                /* inih's own syntax errors: a line it could not parse */
                s.line = r > 0 ? (unsigned) r : s.line;
                load_fail(&s, "syntax error (expected 'key = value' or '[section]')");
        }
        if (s.error) {
                if (ret_error)
                        *ret_error = s.error;
                else
                        free(s.error);
                return -EINVAL;
        }
        return 0;
}

int config_load(Config *c, const char *path, char **ret_error) {
        _cleanup_fclose_ FILE *f = NULL;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        return config_load_stream(c, f, path, ret_error);
}
