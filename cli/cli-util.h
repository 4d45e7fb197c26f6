/* SPDX-License-Identifier: MIT */
#pragma once

#include <getopt.h>
#include <stdbool.h>

#include "shared/config.h"

/*
 * What every pochtar(8) subcommand shares: --config handling and the
 * check-line printer. These functions log (they are the CLI's decision
 * points), unlike shared/.
 */

static inline void strv_freep(char ***l) {
        strv_free(*l);
}

/* The built-in --config default, POCHTAR_CONFIG. */
const char *cli_default_config(void);

/* Loads @path (NULL: the built-in default) over the defaults; on failure
 * prints "PATH:LINE: reason" and returns the negative errno. */
int cli_config_load(const char *path, Config *ret);

/* Opens the spool root read-write (it must exist: the CLI never creates it). */
int cli_spool_open(const Config *c, int *ret_fd);

/* A subcommand's own option: 0 to go on, or an EX_* code to exit with. */
typedef int (*CliOptionFn)(int opt, const char *arg, void *userdata);

/*
 * Parses a subcommand's options: --help (prints @help, exit EX_OK),
 * --config PATH (into *ret_config) and @extra (NULL-terminated, handed to
 * @fn). Returns -1 to go on, with optind at the first operand, or the
 * exit code.
 */
int cli_parse_options(int argc, char **argv, const struct option *extra, CliOptionFn fn, void *userdata,
                      void (*help)(void), const char **ret_config);

/* A usage error: prints "pochtar CMD: text" and returns EX_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
