/* SPDX-License-Identifier: MIT */
/*
 * pochtar(8): the admin's command. This file only dispatches; each
 * subcommand group lives in its own file and is listed in commands[].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli/pochtar.h"
#include "config-build.h"
#include "shared/log.h"
#include "shared/macro.h"

static int run_help(int argc, char **argv);
static int run_version(int argc, char **argv);

static const CliCommand commands[] = {
        { "help", "show this help", run_help },
        { "version", "print the version", run_version },
        { "dkim", "DKIM keys: keygen, record", run_dkim },
        { "queue", "list every message in the spool", run_queue },
        { "delete", "delete messages: delete ID...", run_delete },
        { "hold", "hold messages: hold ID...", run_hold },
        { "release", "release held messages: release ID...", run_release },
        { "flush", "retry deferred mail now: flush [ID]", run_flush },
        { "status", "units, queue sizes, outbound port 25", run_status },
        { "metrics", "counters and queue gauges for Prometheus", run_metrics },
        { "dns", "check DNS records: dns check DOMAIN", run_dns },
        { "user", "submission users: user add|del|list|passwd|senders", run_user },
};

static int run_help(int argc, char **argv) {
        printf("Usage: pochtar [--config PATH] [--json] COMMAND [ARGS]...\n"
               "       pochtar --version | --help\n\n"
               "--config and --json go before or after COMMAND; $POCHTAR_CONFIG names the\n"
               "configuration when --config does not (default " POCHTAR_CONFIG ").\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                printf("  %-12s %s\n", commands[i].name, commands[i].summary);
        printf("\nRun 'pochtar COMMAND --help' for a command's options. See pochtar(8).\n");
        return EX_OK;
}

static int run_version(int argc, char **argv) {
        printf("pochtar %s\n", PACKAGE_VERSION);
        return EX_OK;
}

/*
 * Global options go before the verb as well as after it, as with git or
 * systemctl: `pochtar --config X --json queue` runs `queue --config X
 * --json`. --help and --version answer themselves. Puts the options to
 * move in @moved (room for argc), and returns the index of the verb in
 * @argv, or -(exit code) - 1 when done.
 */
static int global_options(int argc, char **argv, char **moved, size_t *ret_n_moved) {
        size_t n = 0;
        int i;

        for (i = 1; i < argc && argv[i][0] == '-'; i++) {
                const char *a = argv[i];

                if (streq(a, "--help") || streq(a, "-h"))
                        return -run_help(argc, argv) - 1;
                if (streq(a, "--version"))
                        return -run_version(argc, argv) - 1;
                if (!streq(a, "--json") && !streq(a, "--config") && strncmp(a, "--config=", 9) != 0) {
                        fprintf(stderr, "pochtar: unknown option '%s' before the command; try 'pochtar help'\n", a);
                        return -EX_USAGE - 1;
                }
                if (streq(a, "--config") && i + 1 >= argc) {
                        fprintf(stderr, "pochtar: --config needs a PATH\n");
                        return -EX_USAGE - 1;
                }
                moved[n++] = argv[i];
                if (streq(a, "--config"))
                        moved[n++] = argv[++i];
        }
        *ret_n_moved = n;
        return i;
}

int main(int argc, char **argv) {
        _cleanup_free_ char **moved = NULL, **args = NULL;
        size_t n_moved = 0, n = 0;
        int v;

        log_setup("");
        moved = calloc((size_t) argc, sizeof(char *));
        if (!moved)
                return EX_OSERR;
        v = global_options(argc, argv, moved, &n_moved);
        if (v < 0)
                return -v - 1;
        if (v >= argc)
                return n_moved > 0 ? (fprintf(stderr, "pochtar: no command after the options\n"), EX_USAGE)
                                   : run_help(argc, argv);
        /* the verb, the options that stood before it, then the rest */
        args = calloc((size_t) argc + 1, sizeof(char *));
        if (!args)
                return EX_OSERR;
        args[n++] = argv[v];
        for (size_t k = 0; k < n_moved; k++)
                args[n++] = moved[k];
        for (int k = v + 1; k < argc; k++)
                args[n++] = argv[k];
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(argv[v], commands[i].name))
                        return commands[i].run((int) n, args);
        fprintf(stderr, "pochtar: unknown command '%s'; try 'pochtar help'\n", argv[v]);
        return EX_USAGE;
}
