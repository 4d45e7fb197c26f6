/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * pochtar(8): one admin command, one file per subcommand group
 * (pochtar-dkim.c, pochtar-queue.c, …). Each entry point gets argv
 * starting at its own name and returns a sysexits.h code.
 */
typedef struct CliCommand {
        const char *name;
        const char *summary;
        int (*run)(int argc, char **argv);
} CliCommand;

int run_dkim(int argc, char **argv);         /* pochtar-dkim.c */
int run_dns(int argc, char **argv);
int run_queue(int argc, char **argv);
int run_delete(int argc, char **argv);
int run_hold(int argc, char **argv);
int run_release(int argc, char **argv);
int run_flush(int argc, char **argv);
int run_status(int argc, char **argv);
int run_metrics(int argc, char **argv);
int run_user(int argc, char **argv);          /* pochtar-user.c */
