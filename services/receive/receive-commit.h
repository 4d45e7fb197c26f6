/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "shared/spool.h"

/*
 * receive's group commit: finished messages wait here and are published
 * together, with one spool_publish_batch() (one fsync of incoming/new
 * for all of them), on a thread of their own so that the event loop goes
 * on serving sessions while the batch is on disk. Messages finished
 * meanwhile form the next batch; under load batches grow by themselves.
 * Only when its batch is durable does a waiter hear committed(error 0),
 * and only then may its client get 250.
 *
 * A waiter is an opaque pointer (receive's session); the group commit
 * never looks into it and calls back only through GroupCommitOps.
 */
typedef struct GroupCommit GroupCommit;

typedef struct GroupCommitOps {
        /* @waiter's file is durable in incoming/new (@error 0) or is not (and
         * removed): say so to the client */
        void (*committed)(void *waiter, int error, void *userdata);
        /* after every waiter of the batch heard committed(): read on */
        void (*resume)(void *waiter, void *userdata);
        /* a batch is over; @n_published messages of it are durable */
        void (*batch_done)(size_t n_published, void *userdata);
} GroupCommitOps;

int group_commit_new(sd_event *e, const GroupCommitOps *ops, void *userdata, GroupCommit **ret);
/* Takes @file (on success *file is SPOOL_FILE_NULL) for the next batch. */
int group_commit_add(GroupCommit *g, SpoolFile *file, void *waiter);
/* @waiter goes away: a file still waiting is removed (its client never
 * heard 250 and sends again), one on disk is published without it. */
void group_commit_cancel(GroupCommit *g, void *waiter);
void group_commit_poll(GroupCommit *g, unsigned n_sessions);
/* Messages waiting or on disk. */
size_t group_commit_pending(const GroupCommit *g);
/* At stop: the batch on disk is collected, then everything waiting, and
 * whatever the waiters' resume() adds, is published in this thread. */
void group_commit_flush(GroupCommit *g);
GroupCommit *group_commit_free(GroupCommit *g);

static inline void group_commit_freep(GroupCommit **g) {
        if (*g)
                *g = group_commit_free(*g);
}
