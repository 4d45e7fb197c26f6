/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "shared/macro.h"
#include "shared/spool.h"

/*
 * deliver's group commit: the claims (renames signed/new/ID →
 * deliver/queue/new/ID) and the removals of finished messages, whose
 * directory syncs are shared. The claims of one event-loop round share one
 * fsync of queue/new, and a claimed message is attempted only once that
 * sync ran (@durable). Removals wait up to 20 ms for theirs, so one sync
 * covers many rounds; a removal not yet durable when deliver crashes
 * brings its message back: a duplicate, never a loss. A finished queue
 * file goes back to sign as a spare (shared/spool-spare.h) when there is
 * room. The directories are the queue's; they outlive the Commit.
 */
typedef struct Commit Commit;

/* Called after every sync round: the claims so far are durable in
 * queue/new (or their sync failed, logged), so they may be attempted. */
typedef void (*CommitDurableFn)(void *userdata);

int commit_new(sd_event *e, SpoolDir *signed_dir, SpoolDir *queue_dir, SpoolDir *state_dir,
               CommitDurableFn durable, void *userdata, Commit **ret);
/* Removes and syncs what is still waiting. */
Commit *commit_free(Commit *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Commit *, commit_free);
/* Claims signed/new/@id. 1: claimed, the caller loads it and holds it until
 * @durable; 0: nothing to load (vanished, a duplicate dropped, or an error,
 * logged). */
int commit_claim(Commit *c, const char *id);
/* Removes finished message @id in the next round, with its state file if
 * @state (one exists once an attempt wrote it). -ENOMEM only. */
int commit_remove(Commit *c, const char *id, bool state);
