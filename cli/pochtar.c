/* SPDX-License-Identifier: MIT */
/*
 * pochtar(8): the admin's command. This file only dispatches; each
 * subcommand group lives in its own file and is listed in commands[].
 */
#include <stdio.h>
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
        printf("Usage: pochtar COMMAND [ARGS]...\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                printf("  %-12s %s\n", commands[i].name, commands[i].summary);
        printf("\nRun 'pochtar COMMAND --help' for a command's options. See pochtar(8).\n");
        return EX_OK;
}

static int run_version(int argc, char **argv) {
        printf("pochtar %s\n", PACKAGE_VERSION);
        return EX_OK;
}

int main(int argc, char **argv) {
        log_setup("");
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h"))
                return run_help(argc, argv);
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(argv[1], commands[i].name))
                        return commands[i].run(argc - 1, argv + 1);
        fprintf(stderr, "pochtar: unknown command '%s'; try 'pochtar help'\n", argv[1]);
        return EX_USAGE;
}
