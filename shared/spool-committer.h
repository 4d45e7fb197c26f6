/* SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "shared/spool.h"

/*
 * The committer: one thread that runs spool_publish_batch() for a batch
 * of written files, so that the event loop goes on working while the
 * batch is fsynced: receive serves its sessions, sign signs the next
 * batch. While one batch is on disk the next one gathers; under load
 * batches grow by themselves. The thread touches only the SpoolFiles it
 * was given (and their directories' fds); it never logs.
 */

typedef struct Committer {
        pthread_t thread;
        bool started;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop;                      /* under lock */
        SpoolFile *files;               /* the batch handed over, or NULL; under lock */
        size_t n_files;
        unsigned flags;                 /* for spool_publish_batch() */
        bool done;                      /* the batch is published (or failed); under lock */
        int result;
        int event_fd;                   /* readable once a batch is done */
} Committer;

#define COMMITTER_NULL                                          \
        ((Committer) {                                          \
                .lock = PTHREAD_MUTEX_INITIALIZER,              \
                .cond = PTHREAD_COND_INITIALIZER,               \
                .event_fd = -EBADF,                             \
        })

int committer_start(Committer *c);
void committer_submit(Committer *c, SpoolFile *files, size_t n, unsigned flags);
bool committer_finish(Committer *c, int *ret_result);
void committer_stop(Committer *c);
void committer_done(Committer *c);
