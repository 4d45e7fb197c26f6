/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "shared/spool.h"

/*
 * Whether the spool tree a stage needs is there, checked once at start.
 * No stage creates the shared queues: their owners, groups and
 * setgid/sticky modes come from systemd-tmpfiles (units/pochtar.tmpfiles.in),
 * which a stage running as its own user cannot reproduce, and a tree it
 * made up would fail later, in another stage, with a less clear error.
 */

/* The caller's error message, the same in every stage: the path that is
 * missing (%s), why (%m), and how to make the tree. */
#define SPOOL_CHECK_ERROR_FMT                                                   \
        "Cannot use spool directory %s: %m; create the spool tree first: "      \
        "systemd-tmpfiles --create pochtar.conf (in development, tools/dev-run)."

/* 0 if @spool_dir and each of @queues[0..@n), with its tmp/ and new/, is
 * a directory. Otherwise a negative errno (-ENOTDIR for something else in
 * the way) and *ret_missing the first path that is not (caller frees). */
int spool_check_queues(const char *spool_dir, const SpoolQueue *queues, size_t n, char **ret_missing);
