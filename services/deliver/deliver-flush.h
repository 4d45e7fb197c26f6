/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

#include "shared/macro.h"

/*
 * Flush requests: `pochtar flush` leaves a file named "all" or a queue ID
 * in control/flush (shared/spool.h, spool_flush_request()); deliver
 * removes it and asks the queue to try what it names now. Requests left
 * while deliver was stopped are acted on at start. A name that is neither
 * is left alone.
 */
typedef struct FlushWatch FlushWatch;

/* @id is the queue ID asked for, or NULL for "all". */
typedef void (*FlushFn)(const char *id, void *userdata);

/* Opens control/flush under @root_fd, made if missing. Logs why it fails. */
int flush_watch_new(int root_fd, FlushFn fn, void *userdata, FlushWatch **ret);
FlushWatch *flush_watch_free(FlushWatch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(FlushWatch *, flush_watch_free);
/* Watches for requests, then acts on those already there. Logs why it fails. */
int flush_watch_start(FlushWatch *w, sd_event *e);
