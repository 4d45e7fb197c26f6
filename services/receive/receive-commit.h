/* SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "shared/spool.h"

/*
 * The committer: one thread that runs spool_publish_batch() for a batch
 * of finished messages, so that the event loop goes on serving sessions
 * while the batch is fsynced. While one batch is on disk the next one
 * gathers; under load batches grow by themselves. The thread touches only
 * the SpoolFiles it was given; it never logs and never sees a session.
 */

typedef struct Committer {
        pthread_t thread;
        bool started;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop;                      /* under lock */
        SpoolFile *files;               /* the batch handed over, or NULL; under lock */
        size_t n_files;
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
void committer_submit(Committer *c, SpoolFile *files, size_t n);
bool committer_finish(Committer *c, int *ret_result);
void committer_stop(Committer *c);
void committer_done(Committer *c);
