/* SPDX-License-Identifier: MIT */
/*
 * --config handling shared by every subcommand of pochtar(8).
 */
#include <stdarg.h>
#include <stdio.h>
#include <sysexits.h>

#include "cli/cli-util.h"
#include "config-build.h"
#include "shared/log.h"
#include "shared/spool.h"

/* $POCHTAR_CONFIG, as git has $GIT_DIR, else the installed file. */
const char *cli_default_config(void) {
        const char *e = getenv("POCHTAR_CONFIG");

        return e && *e ? e : POCHTAR_CONFIG;
}

int cli_config_load(const char *path, Config *ret) {
        _cleanup_free_ char *error = NULL;
        int r;

        r = config_init(ret);
        if (r < 0)
                return log_oom();
        /* a file named by --config or $POCHTAR_CONFIG must be there */
        if (!path && !streq(cli_default_config(), POCHTAR_CONFIG))
                path = cli_default_config();
        r = config_load(ret, path ?: POCHTAR_CONFIG, &error);
        /* No --config and no installed file: the defaults are the config. */
        if (r == -ENOENT && !path)
                return 0;
        if (r < 0) {
                if (error)
                        log_error("%s", error);
                else
                        log_error_errno(r, "Failed to read %s: %m", path ?: POCHTAR_CONFIG);
                config_done(ret);
                return r;
        }
        return 0;
}

int cli_spool_open(const Config *c, int *ret_fd) {
        int r;

        r = spool_root_open(c->spool.dir, false, ret_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to open spool %s: %m", c->spool.dir);
        return 0;
}

/* --help, --config and at most this many options of a subcommand's own */
#define CLI_OPTIONS_MAX 16

int cli_parse_options(int argc, char **argv, const struct option *extra, CliOptionFn fn, void *userdata,
                      void (*help)(void), const char **ret_config) {
        struct option options[CLI_OPTIONS_MAX + 3] = {
                { "help", no_argument, NULL, 'h' },
                { "config", required_argument, NULL, 'c' },
        };
        size_t n = 2;
        int opt, r;

        for (; extra && extra[n - 2].name; n++) {
                if (n - 2 == CLI_OPTIONS_MAX)
                        return EX_SOFTWARE;
                options[n] = extra[n - 2];
        }
        *ret_config = NULL;
        optind = 0;
        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        help();
                        return EX_OK;
                case 'c':
                        *ret_config = optarg;
                        break;
                case '?':
                        return EX_USAGE;
                default:
                        r = fn ? fn(opt, optarg, userdata) : EX_USAGE;
                        if (r != 0)
                                return r;
                }
        return -1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "pochtar %s: ", cmd);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\n");
        return EX_USAGE;
}
