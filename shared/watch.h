/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

#include "shared/macro.h"
#include "shared/spool.h"

/*
 * Watches a queue's new/ with inotify through sd-event and reports each
 * queue ID that appears. spool_watch_rescan() reports every ID already
 * there (call it at start, and it is called by itself when the inotify
 * queue overflows), so nothing published while the stage was down or
 * while events were lost is missed. The callback may see an ID twice; it
 * must treat a vanished file (-ENOENT) as done.
 */
typedef int (*SpoolWatchFn)(const char *id, void *userdata);

typedef struct SpoolWatch SpoolWatch;

int spool_watch_new(sd_event *e, SpoolDir *d, SpoolWatchFn fn, void *userdata, SpoolWatch **ret);
SpoolWatch *spool_watch_free(SpoolWatch *w);
int spool_watch_rescan(SpoolWatch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(SpoolWatch *, spool_watch_free);
