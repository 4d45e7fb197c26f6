/* SPDX-License-Identifier: MIT */
/*
 * pochtar user add|del|list|passwd|senders: the submission users file
 * (pochtar-users(5)). Passwords come from the terminal or stdin, never
 * from the command line, and only their yescrypt hash is written.
 */
#include <getopt.h>
#include <stdio.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli/cli-util.h"
#include "cli/json-print.h"
#include "cli/password.h"
#include "cli/pochtar.h"
#include "cli/users-edit.h"
#include "shared/log.h"
#include "shared/macro.h"
#include "shared/users-file.h"

typedef struct UserArgs {
        const char *users;
        bool json;
        bool allow_short;
} UserArgs;

static void help(void) {
        printf("Usage: pochtar user add NAME SENDER...       add a user; the password is asked for\n"
               "       pochtar user del NAME                 remove a user\n"
               "       pochtar user list [--json]            names and senders (never hashes)\n"
               "       pochtar user passwd NAME              set a new password\n"
               "       pochtar user senders NAME SENDER...   replace the senders\n\n"
               "Manages the users that may submit mail with AUTH (pochtar-users(5)). A SENDER is\n"
               "an address local@domain or @domain (every address of the domain). The password\n"
               "is read from the terminal (twice, not echoed) or, when stdin is not a terminal,\n"
               "from its first line; never from the command line.\n\n"
               "  --users PATH       the users file (default: [submission] users, %s)\n"
               "  --allow-short      take a password of fewer than %d characters\n"
               "  --json             list as one JSON object, {\"users\": [...]}\n"
               "  --config PATH      pochtar.conf to read (default %s)\n"
               "  -h, --help         show this help\n", USERS_FILE_DEFAULT, PASSWORD_MIN_CHARS,
               cli_default_config());
}

static int parse_option(int opt, const char *arg, void *userdata) {
        UserArgs *a = userdata;

        switch (opt) {
        case 'u':
                a->users = arg;
                return 0;
        case 'j':
                a->json = true;
                return 0;
        case 's':
                a->allow_short = true;
                return 0;
        default:
                return EX_USAGE;
        }
}

/* The exit code for a failed load or commit (users-edit.h). */
static int exit_code(int r) {
        return r == -EINVAL ? EX_CONFIG : 1;
}

/*
 * NAME and SENDER... of the command line, checked before a password is
 * asked for. A sender that is not even address-shaped is not echoed: it
 * may be a password typed where none belongs.
 */
static int check_operands(const char *verb, char **operands, size_t n, bool senders) {
        char reason[256];

        if (user_name_check(operands[0], reason, sizeof(reason)) < 0)
                return cli_usage_error("user", "%s", reason);
        for (size_t i = 1; senders && i < n; i++)
                if (user_sender_check(operands[i], reason, sizeof(reason)) < 0) {
                        if (!strchr(operands[i], '@'))
                                return cli_usage_error("user", "SENDER %zu is not an address local@domain or "
                                                       "@domain; a password is never given on the command "
                                                       "line, it is read from the terminal or stdin", i);
                        return cli_usage_error("user", "%s", reason);
                }
        if (senders && n < 2)
                return cli_usage_error("user", "%s: at least one SENDER is needed", verb);
        if (!senders && n != 1)
                return cli_usage_error("user", "%s takes one NAME, no more (a password is read from the "
                                       "terminal or stdin)", verb);
        return 0;
}

/* A checked yescrypt hash of a password from stdin or the terminal. */
static int new_hash(const char *name, bool allow_short, char **ret) {
        _cleanup_(password_freep) char *pw = NULL;
        char prompt[128], reason[256];
        int r;

        (void) snprintf(prompt, sizeof(prompt), "Password for %s: ", name);
        r = password_read(STDIN_FILENO, prompt, &pw);
        if (r < 0)
                return r;
        if (password_check(pw, strlen(pw), allow_short, reason, sizeof(reason)) < 0)
                return log_error_errno(-EINVAL, "Refused: %s.", reason);
        return password_hash(pw, ret);
}

/* Says, before a password is typed for nothing, that the change cannot
 * be made. Checked again under the lock. */
static int precheck(const UserArgs *a, const char *name, bool must_exist) {
        _cleanup_(users_file_done) UsersFile u = {};
        int r;

        if (!must_exist && access(a->users, F_OK) < 0 && errno == ENOENT)
                return 0;
        r = users_read(a->users, &u);
        if (r < 0)
                return exit_code(r);
        if (must_exist && !users_file_find(&u, name)) {
                log_error("%s: no user '%s'.", a->users, name);
                return 1;
        }
        if (!must_exist && users_file_find(&u, name)) {
                log_error("%s: user '%s' exists already; 'pochtar user passwd' or 'senders' change it.", a->users,
                          name);
                return 1;
        }
        return 0;
}

/* One locked change: @change edits e->users, or fails having logged. */
typedef int (*UsersChangeFn)(UsersFile *u, char **operands, size_t n, const char *hash, const char *path);

static int edit(const UserArgs *a, bool create, UsersChangeFn change, char **operands, size_t n, const char *hash) {
        UsersEdit e;
        int r;

        r = users_edit_begin(a->users, create, &e);
        if (r < 0)
                return exit_code(r);
        r = change(&e.users, operands, n, hash, a->users);
        if (r >= 0)
                r = users_edit_commit(&e);
        users_edit_done(&e);
        return r < 0 ? 1 : EX_OK;
}

static int edit_error(int r, const char *path, const char *name, const char *reason) {
        if (r == -ENOMEM)
                return log_oom();
        if (r == -ENOENT)
                return log_error_errno(r, "%s: no user '%s'.", path, name);
        if (r == -EEXIST)
                return log_error_errno(r, "%s: user '%s' exists already.", path, name);
        return log_error_errno(r, "%s: %s", path, reason);
}

static int change_add(UsersFile *u, char **operands, size_t n, const char *hash, const char *path) {
        char reason[256] = "";
        int r;

        r = users_file_add(u, operands[0], hash, operands + 1, n - 1, reason, sizeof(reason));
        return r < 0 ? edit_error(r, path, operands[0], reason) : 0;
}

static int change_del(UsersFile *u, char **operands, size_t n, const char *hash, const char *path) {
        int r = users_file_remove(u, operands[0]);

        return r < 0 ? edit_error(r, path, operands[0], "") : 0;
}

static int change_passwd(UsersFile *u, char **operands, size_t n, const char *hash, const char *path) {
        char reason[256] = "";
        int r;

        r = users_file_set_hash(u, operands[0], hash, reason, sizeof(reason));
        return r < 0 ? edit_error(r, path, operands[0], reason) : 0;
}

static int change_senders(UsersFile *u, char **operands, size_t n, const char *hash, const char *path) {
        char reason[256] = "";
        int r;

        r = users_file_set_senders(u, operands[0], operands + 1, n - 1, reason, sizeof(reason));
        return r < 0 ? edit_error(r, path, operands[0], reason) : 0;
}

static int with_password(const UserArgs *a, bool adding, UsersChangeFn change, char **operands, size_t n) {
        _cleanup_(password_freep) char *hash = NULL;
        int r;

        r = precheck(a, operands[0], !adding);
        if (r != 0)
                return r;
        if (new_hash(operands[0], a->allow_short, &hash) < 0)
                return 1;
        return edit(a, adding, change, operands, n, hash);
}

static void print_list(const UsersFile *u, bool json) {
        size_t width = 4;

        if (json) {
                printf("{\"users\": [");
                for (size_t i = 0; i < u->n_users; i++) {
                        const UserEntry *e = &u->users[i];

                        printf("%s\n  {", i ? "," : "");
                        json_print_member(stdout, "name", e->name);
                        printf(", \"locked\": %s, \"senders\": [", e->locked ? "true" : "false");
                        for (size_t j = 0; j < e->n_senders; j++) {
                                if (j)
                                        printf(", ");
                                json_print_string(stdout, e->senders[j]);
                        }
                        printf("]}");
                }
                printf("%s]}\n", u->n_users ? "\n" : "");
                return;
        }
        for (size_t i = 0; i < u->n_users; i++)
                if (strlen(u->users[i].name) > width)
                        width = strlen(u->users[i].name);
        for (size_t i = 0; i < u->n_users; i++) {
                const UserEntry *e = &u->users[i];

                printf("%-*s  ", (int) width, e->name);
                for (size_t j = 0; j < e->n_senders; j++)
                        printf("%s%s", j ? "," : "", e->senders[j]);
                printf("%s\n", e->locked ? "  (locked)" : "");
        }
}

static int list(const UserArgs *a, size_t n) {
        _cleanup_(users_file_done) UsersFile u = {};
        int r;

        if (n != 0)
                return cli_usage_error("user", "list takes no NAME");
        r = users_read(a->users, &u);
        if (r < 0)
                return exit_code(r);
        print_list(&u, a->json);
        return EX_OK;
}

int run_user(int argc, char **argv) {
        static const struct option options[] = {
                { "users", required_argument, NULL, 'u' },
                { "json", no_argument, NULL, 'j' },
                { "allow-short", no_argument, NULL, 's' },
                {}
        };
        _cleanup_(config_done) Config config = {};
        UserArgs a = {};
        const char *config_path, *verb;
        char **operands;
        size_t n;
        int r;

        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                help();
                return argc < 2 ? EX_USAGE : EX_OK;
        }
        verb = argv[1];
        r = cli_parse_options(argc - 1, argv + 1, options, parse_option, &a, help, &config_path);
        if (r >= 0)
                return r;
        /* the file pochtar-receive reads: [submission] users, unless --users */
        if (!a.users) {
                if (cli_config_load(config_path, &config) < 0)
                        return EX_CONFIG;
                a.users = config.submission.users;
        }
        operands = argv + 1 + optind;
        n = (size_t) (argc - 1 - optind);
        if (a.json && !streq(verb, "list"))
                return cli_usage_error("user", "--json goes with list");
        if (streq(verb, "list"))
                return list(&a, n);
        if (!streq(verb, "add") && !streq(verb, "del") && !streq(verb, "passwd") && !streq(verb, "senders"))
                return cli_usage_error("user", "unknown subcommand '%s'; try 'pochtar user --help'", verb);
        if (n == 0)
                return cli_usage_error("user", "%s: NAME is missing", verb);
        r = check_operands(verb, operands, n, streq(verb, "add") || streq(verb, "senders"));
        if (r != 0)
                return r;
        if (streq(verb, "add"))
                return with_password(&a, true, change_add, operands, n);
        if (streq(verb, "passwd"))
                return with_password(&a, false, change_passwd, operands, n);
        if (streq(verb, "senders"))
                return edit(&a, false, change_senders, operands, n, NULL);
        return edit(&a, false, change_del, operands, n, NULL);
}
