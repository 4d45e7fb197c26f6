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

const char *cli_default_config(void) {
        return POCHTAR_CONFIG;
}

int cli_config_load(const char *path, Config *ret) {
        _cleanup_free_ char *error = NULL;
        int r;

        r = config_init(ret);
        if (r < 0)
                return log_oom();
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

int cli_usage_error(const char *cmd, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "pochtar %s: ", cmd);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\n");
        return EX_USAGE;
}
