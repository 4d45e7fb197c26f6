/* SPDX-License-Identifier: MIT */
/*
 * The publishing thread behind receive's group commit. Hand-over is a
 * mutex and a condition variable one way, an eventfd the other way, so
 * the event loop learns about a finished batch like about any other
 * event. Durability is unchanged: spool_publish_batch() syncs every file,
 * renames them and syncs incoming/new before the result is reported, and
 * only then does the loop send 250.
 */
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "services/receive/receive-commit.h"
#include "shared/macro.h"

static void *committer_main(void *userdata) {
        Committer *c = userdata;

        pthread_mutex_lock(&c->lock);
        for (;;) {
                if (c->files && !c->done) {
                        SpoolFile *files = c->files;
                        size_t n = c->n_files;
                        uint64_t one = 1;
                        int r;

                        pthread_mutex_unlock(&c->lock);
                        r = spool_publish_batch(files, n, SPOOL_NOREPLACE | SPOOL_CHECKED);
                        pthread_mutex_lock(&c->lock);
                        c->result = r;
                        c->done = true;
                        (void) write(c->event_fd, &one, sizeof(one));
                        continue;
                }
                /* a batch handed over before the stop is still published */
                if (c->stop)
                        break;
                pthread_cond_wait(&c->cond, &c->lock);
        }
        pthread_mutex_unlock(&c->lock);
        return NULL;
}

int committer_start(Committer *c) {
        int r;

        c->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (c->event_fd < 0)
                return -errno;
        r = pthread_create(&c->thread, NULL, committer_main, c);
        if (r != 0)
                return -r;
        c->started = true;
        return 0;
}

/**
 * committer_submit() - hand @files over to the thread, which owns them
 * until committer_finish() returns true. Only when no batch is in flight.
 */
void committer_submit(Committer *c, SpoolFile *files, size_t n) {
        pthread_mutex_lock(&c->lock);
        c->files = files;
        c->n_files = n;
        c->done = false;
        pthread_cond_signal(&c->cond);
        pthread_mutex_unlock(&c->lock);
}

/**
 * committer_finish() - after event_fd became readable (or after
 * committer_stop()): true with the spool_publish_batch() result in
 * *ret_result if the batch in flight is done; the files are the caller's
 * again and the committer is idle.
 */
bool committer_finish(Committer *c, int *ret_result) {
        uint64_t v;
        bool done;

        (void) read(c->event_fd, &v, sizeof(v));
        pthread_mutex_lock(&c->lock);
        done = c->files && c->done;
        if (done) {
                *ret_result = c->result;
                c->files = NULL;
                c->n_files = 0;
                c->done = false;
        }
        pthread_mutex_unlock(&c->lock);
        return done;
}

/* Waits for the batch in flight, if any, then ends the thread; a batch
 * it finished is still collected with committer_finish(). */
void committer_stop(Committer *c) {
        if (!c->started)
                return;
        pthread_mutex_lock(&c->lock);
        c->stop = true;
        pthread_cond_signal(&c->cond);
        pthread_mutex_unlock(&c->lock);
        pthread_join(c->thread, NULL);
        c->started = false;
}

void committer_done(Committer *c) {
        committer_stop(c);
        c->event_fd = safe_close(c->event_fd);
}
