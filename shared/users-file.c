/* SPDX-License-Identifier: MIT */
/*
 * The submission users file (users-file.h, pochtar-users(5)). The grammar
 * is an allow-list per field: a name, a hash and a sender can never hold
 * the ':' and ',' that separate them, a line end, or a byte that would
 * change meaning in a log line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shared/address.h"
#include "shared/buf.h"
#include "shared/escape.h"
#include "shared/fd-util.h"
#include "shared/macro.h"
#include "shared/secret-file.h"
#include "shared/users-file.h"

/* how much of a bad value a reason quotes */
#define QUOTE_MAX 80

static int fail(char *reason, size_t size, const char *fmt, ...) _printf_(3, 4);
static int fail(char *reason, size_t size, const char *fmt, ...) {
        va_list ap;

        if (reason && size > 0) {
                va_start(ap, fmt);
                (void) vsnprintf(reason, size, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* A bad value as a reason may show it: censored and cut (escape.h). */
static const char *quote(const char *p, size_t n, char *buf, size_t size) {
        Buf b = BUF_INIT(0);

        if (escape_printable(p, n, QUOTE_MAX, 1, &b) < 0 || !b.data)
                (void) snprintf(buf, size, "%s", "?");
        else
                (void) snprintf(buf, size, "%.*s", (int) b.len, (const char *) b.data);
        buf_done(&b);
        return buf;
}

static bool is_name_char(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '@' || c == '+' || c == '-';
}

/* crypt(3)'s alphabet: base64 of "./0-9A-Za-z", '$' between fields,
 * '=' in some parameter strings */
static bool is_hash_char(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '/' || c == '$' || c == '=';
}

static bool is_lock_char(unsigned char c) {
        return c == '!' || c == '*';
}

static int name_check(const char *p, size_t n, char *reason, size_t size) {
        char q[QUOTE_MAX + 8];

        if (n == 0)
                return fail(reason, size, "empty name");
        if (n > AUTH_USER_MAX)
                return fail(reason, size, "name longer than %d bytes", AUTH_USER_MAX);
        for (size_t i = 0; i < n; i++)
                if (!is_name_char((unsigned char) p[i]))
                        return fail(reason, size, "bad name '%s': only letters, digits and . _ @ + - may be in it",
                                    quote(p, n, q, sizeof(q)));
        return 0;
}

static int hash_check(const char *p, size_t n, bool *ret_locked, char *reason, size_t size) {
        size_t i = 0;

        if (n == 0)
                return fail(reason, size, "empty password hash; every user needs one (pochtar user passwd)");
        if (n > USER_HASH_MAX)
                return fail(reason, size, "password hash longer than %d bytes", USER_HASH_MAX);
        /* passwd -l and usermod -L prepend '!'; '*' is the other
         * conventional "no login" */
        while (i < n && is_lock_char((unsigned char) p[i]))
                i++;
        for (size_t j = i; j < n; j++)
                if (!is_hash_char((unsigned char) p[j]))
                        return fail(reason, size, "bad password hash: byte %zu is not one crypt(3) writes", j + 1);
        if (ret_locked)
                *ret_locked = i > 0;
        return 0;
}

static int sender_check(const char *p, size_t n, char *reason, size_t size) {
        char q[QUOTE_MAX + 8];
        const char *at;

        if (n == 0)
                return fail(reason, size, "empty sender (a comma too many?)");
        if (p[0] == '@') {
                /* a domain, not an address literal: "@[192.0.2.1]" names no domain */
                if (n == 1 || p[1] == '[' || domain_valid(p + 1, n - 1, ADDRESS_UTF8) < 0)
                        return fail(reason, size, "bad sender '%s': '@' must be followed by a domain name",
                                    quote(p, n, q, sizeof(q)));
                return 0;
        }
        at = memrchr(p, '@', n);
        if (!at)
                return fail(reason, size, "bad sender '%s': an address local@domain or @domain is needed",
                            quote(p, n, q, sizeof(q)));
        /* A quoted local part may hold the ',' that separates senders and
         * spells one mailbox many ways; a literal names no domain. */
        if (memchr(p, '"', n) || at[1] == '[' || address_valid(p, n, ADDRESS_UTF8) < 0)
                return fail(reason, size, "bad sender '%s': not an address local@domain "
                            "(no quoted local part, no address literal)", quote(p, n, q, sizeof(q)));
        return 0;
}

int user_name_check(const char *name, char *reason, size_t reason_size) {
        return name_check(name, strlen(name), reason, reason_size);
}

int user_hash_check(const char *hash, char *reason, size_t reason_size) {
        return hash_check(hash, strlen(hash), NULL, reason, reason_size);
}

int user_sender_check(const char *sender, char *reason, size_t reason_size) {
        return sender_check(sender, strlen(sender), reason, reason_size);
}

static void user_entry_done(UserEntry *e) {
        if (e->hash)
                explicit_bzero(e->hash, strlen(e->hash));
        free(e->name);
        free(e->hash);
        for (size_t i = 0; i < e->n_senders; i++)
                free(e->senders[i]);
        free(e->senders);
        free(e->comments);
        *e = (UserEntry) {};
}

void users_file_done(UsersFile *u) {
        for (size_t i = 0; i < u->n_users; i++)
                user_entry_done(&u->users[i]);
        free(u->users);
        free(u->trailer);
        *u = (UsersFile) {};
}

static void strv_free_n(char **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(l[i]);
        free(l);
}

/* Checks and copies a list of senders into a fresh array. */
static int senders_dup(char * const *in, size_t n, char ***ret, char *reason, size_t size) {
        char **l;
        int r;

        if (n == 0)
                return fail(reason, size, "no sender; a user needs at least one address or @domain");
        if (n > USER_SENDERS_MAX)
                return fail(reason, size, "more than %d senders", USER_SENDERS_MAX);
        for (size_t i = 0; i < n; i++) {
                r = sender_check(in[i], strlen(in[i]), reason, size);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (strcasecmp(in[i], in[j]) == 0) {
                                char q[QUOTE_MAX + 8];

                                return fail(reason, size, "sender '%s' listed twice",
                                            quote(in[i], strlen(in[i]), q, sizeof(q)));
                        }
        }
        l = calloc(n, sizeof(*l));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                l[i] = strdup(in[i]);
                if (!l[i]) {
                        strv_free_n(l, i);
                        return -ENOMEM;
                }
        }
        *ret = l;
        return 0;
}

/* Parses one user line p[0..n) into @e. */
static int user_line_parse(const char *p, size_t n, UserEntry *e, char *reason, size_t size) {
        const char *c1, *c2, *end = p + n;
        char *senders[USER_SENDERS_MAX];
        size_t n_senders = 0;
        bool locked;
        int r;

        c1 = memchr(p, ':', n);
        if (!c1)
                return fail(reason, size, "not NAME:HASH:SENDER[,SENDER...]");
        r = name_check(p, (size_t) (c1 - p), reason, size);
        if (r < 0)
                return r;
        c2 = memchr(c1 + 1, ':', (size_t) (end - c1 - 1));
        if (!c2)
                return fail(reason, size, "not NAME:HASH:SENDER[,SENDER...]: one ':' only");
        r = hash_check(c1 + 1, (size_t) (c2 - c1 - 1), &locked, reason, size);
        if (r < 0)
                return r;

        if (c2 + 1 == end)
                return fail(reason, size, "no sender; a user needs at least one address or @domain");
        /* split the senders; each is copied NUL-terminated for the checks */
        r = 0;
        for (const char *s = c2 + 1;;) {
                const char *comma = memchr(s, ',', (size_t) (end - s));
                const char *stop = comma ?: end;

                if (n_senders == USER_SENDERS_MAX) {
                        r = fail(reason, size, "more than %d senders", USER_SENDERS_MAX);
                        break;
                }
                senders[n_senders] = strndup(s, (size_t) (stop - s));
                if (!senders[n_senders]) {
                        r = -ENOMEM;
                        break;
                }
                n_senders++;
                if (!comma)
                        break;
                s = comma + 1;
        }
        /* a ':' or a space in the list is caught by the address grammar */
        if (r >= 0)
                r = senders_dup(senders, n_senders, &e->senders, reason, size);
        for (size_t i = 0; i < n_senders; i++)
                free(senders[i]);
        if (r < 0)
                return r;
        e->n_senders = n_senders;
        e->locked = locked;
        e->name = strndup(p, (size_t) (c1 - p));
        e->hash = strndup(c1 + 1, (size_t) (c2 - c1 - 1));
        if (!e->name || !e->hash) {
                user_entry_done(e);
                return -ENOMEM;
        }
        return 0;
}

static bool line_blank(const char *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (p[i] != ' ' && p[i] != '\t')
                        return false;
        return true;
}

static int name_cmp(const void *a, const void *b) {
        const UserEntry *x = *(const UserEntry * const *) a, *y = *(const UserEntry * const *) b;
        int c = strcmp(x->name, y->name);

        /* equal names in file order, so the second one is the duplicate */
        return c != 0 ? c : (x < y ? -1 : x > y);
}

/* The first user (in file order) whose name an earlier one has, or SIZE_MAX. */
static int find_duplicate(const UsersFile *u, size_t *ret_dup, size_t *ret_first) {
        const UserEntry **v;
        size_t dup = SIZE_MAX, first = 0;

        if (u->n_users < 2) {
                *ret_dup = SIZE_MAX;
                return 0;
        }
        v = calloc(u->n_users, sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < u->n_users; i++)
                v[i] = &u->users[i];
        qsort(v, u->n_users, sizeof(*v), name_cmp);
        for (size_t i = 1; i < u->n_users; i++)
                if (streq(v[i]->name, v[i - 1]->name) && (size_t) (v[i] - u->users) < dup &&
                    !(i >= 2 && streq(v[i - 1]->name, v[i - 2]->name))) {
                        dup = (size_t) (v[i] - u->users);
                        first = (size_t) (v[i - 1] - u->users);
                }
        free(v);
        *ret_dup = dup;
        *ret_first = first;
        return 0;
}

int users_file_parse(const char *text, size_t len, UsersFile *ret, unsigned *ret_line, char *reason,
                     size_t reason_size) {
        _cleanup_(users_file_done) UsersFile u = {};
        _cleanup_free_ unsigned *lines = NULL;
        Buf comments = BUF_INIT(0);
        size_t cap = 0, lines_cap = 0, dup, first;
        unsigned line = 0;
        int r = 0;

        *ret_line = 0;
        if (len > USERS_FILE_MAX) {
                (void) fail(reason, reason_size, "larger than %d bytes", USERS_FILE_MAX);
                return -EFBIG;
        }
        for (size_t off = 0; off < len;) {
                const char *p = text + off, *nl = memchr(p, '\n', len - off);
                size_t n = nl ? (size_t) (nl - p) : len - off;

                off += n + (nl ? 1 : 0);
                line++;
                if (memchr(p, 0, n)) {
                        r = fail(reason, reason_size, "a NUL byte");
                        break;
                }
                if (n > 0 && p[n - 1] == '\r') {
                        r = fail(reason, reason_size, "ends in CR LF; lines end in LF alone");
                        break;
                }
                if (line_blank(p, n) || p[0] == '#') {
                        r = buf_append(&comments, p, n);
                        if (r >= 0)
                                r = buf_append_byte(&comments, '\n');
                        if (r < 0)
                                break;
                        continue;
                }
                if (p[0] == ' ' || p[0] == '\t') {
                        r = fail(reason, reason_size, "begins with a space (a comment's '#' goes first on its line)");
                        break;
                }
                if (u.n_users == USERS_MAX) {
                        r = fail(reason, reason_size, "more than %d users", USERS_MAX);
                        break;
                }
                if (ARRAY_GROW(u.users, cap, u.n_users, 16) < 0 ||
                    ARRAY_GROW(lines, lines_cap, u.n_users, 16) < 0) {
                        r = -ENOMEM;
                        break;
                }
                u.users[u.n_users] = (UserEntry) {};
                r = user_line_parse(p, n, &u.users[u.n_users], reason, reason_size);
                if (r < 0)
                        break;
                lines[u.n_users] = line;
                if (comments.len > 0) {
                        u.users[u.n_users].comments = buf_steal_str(&comments);
                        if (!u.users[u.n_users].comments)
                                r = -ENOMEM;
                }
                u.n_users++;
                if (r < 0)
                        break;
        }
        if (r >= 0 && comments.len > 0) {
                u.trailer = buf_steal_str(&comments);
                if (!u.trailer)
                        r = -ENOMEM;
        }
        buf_done(&comments);
        if (r < 0) {
                if (r == -EINVAL)
                        *ret_line = line;
                return r;
        }
        r = find_duplicate(&u, &dup, &first);
        if (r < 0)
                return r;
        if (dup != SIZE_MAX) {
                *ret_line = lines[dup];
                return fail(reason, reason_size, "user '%s' is already on line %u", u.users[dup].name,
                            lines[first]);
        }
        *ret = u;
        u = (UsersFile) {};
        return 0;
}

const UserEntry *users_file_find(const UsersFile *u, const char *name) {
        for (size_t i = 0; i < u->n_users; i++)
                if (streq(u->users[i].name, name))
                        return &u->users[i];
        return NULL;
}

bool user_sender_allowed(const UserEntry *e, const char *address) {
        const char *domain;

        if (!e || e->locked || !address || !*address)
                return false;
        /* "@domain" or "root" is not an address anyone may send as */
        domain = address_domain(address);
        if (!domain || domain == address + 1)
                return false;
        for (size_t i = 0; i < e->n_senders; i++) {
                const char *s = e->senders[i];

                if (s[0] == '@' ? strcasecmp(domain, s + 1) == 0 : strcasecmp(address, s) == 0)
                        return true;
        }
        return false;
}

int users_file_format(const UsersFile *u, Buf *out) {
        int r;

        for (size_t i = 0; i < u->n_users; i++) {
                const UserEntry *e = &u->users[i];

                r = buf_append_str(out, strempty(e->comments));
                if (r < 0)
                        return r;
                r = buf_printf(out, "%s:%s:", e->name, e->hash);
                for (size_t j = 0; r >= 0 && j < e->n_senders; j++)
                        r = buf_printf(out, "%s%s", j > 0 ? "," : "", e->senders[j]);
                if (r >= 0)
                        r = buf_append_byte(out, '\n');
                if (r < 0)
                        return r;
        }
        return buf_append_str(out, strempty(u->trailer));
}

static int load_fail(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
static int load_fail(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;

        if (ret_error) {
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return r;
}

int users_file_load(int dir_fd, const char *path, uid_t service_uid, UsersFile *ret, char **ret_error) {
        _cleanup_close_ int fd = -EBADF;
        Buf b = BUF_INIT(0);
        char reason[256];
        unsigned line;
        int r;

        if (ret_error)
                *ret_error = NULL;
        fd = secret_file_open(dir_fd, path, service_uid, getenv("CREDENTIALS_DIRECTORY"), reason, sizeof(reason));
        if (fd == -ELOOP || fd == -EPERM)
                return load_fail(ret_error, -EPERM, "%s: refused: %s", path, reason);
        if (fd == -ENOMEM)
                return fd;
        if (fd < 0)
                return load_fail(ret_error, fd, "%s: %s", path, reason);
        r = read_full_fd(fd, USERS_FILE_MAX, &b);
        if (r >= 0)
                r = users_file_parse(b.data ? (const char *) b.data : "", b.len, ret, &line, reason,
                                     sizeof(reason));
        /* the hashes are not for the heap's next user */
        if (b.data)
                explicit_bzero(b.data, b.cap);
        buf_done(&b);
        if (r == -EINVAL)
                return load_fail(ret_error, r, "%s:%u: %s", path, line, reason);
        if (r == -EFBIG)
                return load_fail(ret_error, r, "%s: larger than %d bytes", path, USERS_FILE_MAX);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return load_fail(ret_error, r, "%s: cannot read: %s", path, strerror(-r));
        return 0;
}

static UserEntry *find_mutable(UsersFile *u, const char *name) {
        return (UserEntry *) users_file_find(u, name);
}

int users_file_add(UsersFile *u, const char *name, const char *hash, char * const *senders, size_t n_senders,
                   char *reason, size_t reason_size) {
        UserEntry e = {};
        UserEntry *v;
        int r;

        r = user_name_check(name, reason, reason_size);
        if (r < 0)
                return r;
        if (users_file_find(u, name)) {
                (void) fail(reason, reason_size, "user '%s' exists already", name);
                return -EEXIST;
        }
        if (u->n_users >= USERS_MAX)
                return fail(reason, reason_size, "there are %d users already, the most a file may hold",
                            USERS_MAX);
        r = hash_check(hash, strlen(hash), &e.locked, reason, reason_size);
        if (r < 0)
                return r;
        r = senders_dup(senders, n_senders, &e.senders, reason, reason_size);
        if (r < 0)
                return r;
        e.n_senders = n_senders;
        e.name = strdup(name);
        e.hash = strdup(hash);
        v = reallocarray(u->users, u->n_users + 1, sizeof(*v));
        if (!e.name || !e.hash || !v) {
                if (v)
                        u->users = v;
                user_entry_done(&e);
                return -ENOMEM;
        }
        u->users = v;
        /* a new user goes last: the comments that ended the file stay above it */
        e.comments = TAKE_PTR(u->trailer);
        u->users[u->n_users++] = e;
        return 0;
}

/* Appends @s to the string *@p (NULL: empty), or -ENOMEM. */
static int str_join(char **p, const char *s) {
        char *n;

        if (!s)
                return 0;
        if (asprintf(&n, "%s%s", strempty(*p), s) < 0)
                return -ENOMEM;
        free(*p);
        *p = n;
        return 0;
}

int users_file_remove(UsersFile *u, const char *name) {
        UserEntry *e = find_mutable(u, name);
        size_t i;
        int r;

        if (!e)
                return -ENOENT;
        i = (size_t) (e - u->users);
        /* the comments above a removed user stay, above the next user */
        if (e->comments) {
                char **next = i + 1 < u->n_users ? &u->users[i + 1].comments : &u->trailer;
                char *joined = strdup(e->comments);

                if (!joined)
                        return -ENOMEM;
                r = str_join(&joined, *next);
                if (r < 0) {
                        free(joined);
                        return r;
                }
                free(*next);
                *next = joined;
        }
        user_entry_done(e);
        memmove(e, e + 1, (u->n_users - i - 1) * sizeof(*e));
        u->n_users--;
        return 0;
}

int users_file_set_hash(UsersFile *u, const char *name, const char *hash, char *reason, size_t reason_size) {
        UserEntry *e = find_mutable(u, name);
        bool locked;
        char *h;
        int r;

        if (!e)
                return -ENOENT;
        r = hash_check(hash, strlen(hash), &locked, reason, reason_size);
        if (r < 0)
                return r;
        h = strdup(hash);
        if (!h)
                return -ENOMEM;
        explicit_bzero(e->hash, strlen(e->hash));
        free(e->hash);
        e->hash = h;
        e->locked = locked;
        return 0;
}

int users_file_set_senders(UsersFile *u, const char *name, char * const *senders, size_t n_senders,
                           char *reason, size_t reason_size) {
        UserEntry *e = find_mutable(u, name);
        char **l;
        int r;

        if (!e)
                return -ENOENT;
        r = senders_dup(senders, n_senders, &l, reason, reason_size);
        if (r < 0)
                return r;
        strv_free_n(e->senders, e->n_senders);
        e->senders = l;
        e->n_senders = n_senders;
        return 0;
}
