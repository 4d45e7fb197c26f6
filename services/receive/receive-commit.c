/* SPDX-License-Identifier: MIT */
/*
 * The group commit (receive-commit.h). Two parts: the queue and the batch
 * in flight, which live in the event loop, and the committer, one thread
 * that runs spool_publish_batch() for the batch it is handed and touches
 * nothing else (it never logs and never sees a waiter). Hand-over is a
 * mutex and a condition variable one way, an eventfd the other way, so
 * the loop learns about a finished batch like about any other event.
 * Durability is unchanged: spool_publish_batch() syncs every file,
 * renames them and syncs incoming/new before the result is reported, and
 * only then does a waiter hear committed().
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "services/receive/receive-commit.h"
#include "shared/log.h"
#include "shared/macro.h"

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

typedef struct Waiting {
        void *waiter;
        SpoolFile file;
} Waiting;

struct GroupCommit {
        sd_event *event;
        const GroupCommitOps *ops;
        void *userdata;

        sd_event_source *start_source;  /* deferred: starts a batch */
        Waiting *queue;                 /* finished messages waiting for the next batch */
        size_t n_queue;
        uint64_t waits;                 /* session I/O events since the queue became non-empty */

        Committer committer;
        sd_event_source *done_source;   /* the committer's eventfd */
        void **inflight;                /* the batch's waiters; NULL where one went away */
        SpoolFile *inflight_files;
        size_t n_inflight;
};

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

static int committer_start(Committer *c) {
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

/* Hands @files over to the thread, which owns them until
 * committer_finish() returns true. Only when no batch is in flight. */
static void committer_submit(Committer *c, SpoolFile *files, size_t n) {
        pthread_mutex_lock(&c->lock);
        c->files = files;
        c->n_files = n;
        c->done = false;
        pthread_cond_signal(&c->cond);
        pthread_mutex_unlock(&c->lock);
}

/* After event_fd became readable (or after committer_stop()): true with
 * the spool_publish_batch() result in *ret_result if the batch in flight
 * is done; the files are the loop's again and the committer is idle. */
static bool committer_finish(Committer *c, int *ret_result) {
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
static void committer_stop(Committer *c) {
        if (!c->started)
                return;
        pthread_mutex_lock(&c->lock);
        c->stop = true;
        pthread_cond_signal(&c->cond);
        pthread_mutex_unlock(&c->lock);
        pthread_join(c->thread, NULL);
        c->started = false;
}

/* The batch in flight is done (@r from spool_publish_batch()): answer
 * every waiter in it, then let them read on. */
static void batch_finish(GroupCommit *g, int r) {
        _cleanup_free_ SpoolFile *files = TAKE_PTR(g->inflight_files);
        _cleanup_free_ void **batch = TAKE_PTR(g->inflight);
        size_t n = g->n_inflight;

        g->n_inflight = 0;
        /* On any failure nobody hears 250: a file renamed before the error may
         * be in new/ without its directory synced, so the client must retry
         * (a duplicate at worst, never a loss). */
        for (size_t i = 0; i < n; i++) {
                if (r < 0)
                        spool_file_abort(&files[i]);
                if (batch[i])
                        g->ops->committed(batch[i], r < 0 ? r : 0, g->userdata);
                else if (r >= 0)
                        log_notice("%s: queued, but the client left before the reply", files[i].id);
        }
        for (size_t i = 0; i < n; i++)
                if (batch[i])
                        g->ops->resume(batch[i], g->userdata);
        g->ops->batch_done(r >= 0 ? n : 0, g->userdata);
}

/*
 * Moves the waiting messages into a batch and publishes it: on the
 * committer thread normally, in this thread with @sync (at stop). With a
 * batch already in flight it does nothing; on_done() calls it again.
 */
static bool batch_start(GroupCommit *g, bool sync) {
        size_t n = g->n_queue;

        if (n == 0 || g->n_inflight > 0)
                return false;
        g->inflight_files = calloc(n, sizeof(SpoolFile));
        g->inflight = calloc(n, sizeof(void *));
        if (!g->inflight_files || !g->inflight) {
                free(TAKE_PTR(g->inflight_files));
                free(TAKE_PTR(g->inflight));
                return false;   /* stays queued; tried again on the next event */
        }
        /* the files change hands: from now on only the batch owns them */
        for (size_t i = 0; i < n; i++) {
                g->inflight[i] = g->queue[i].waiter;
                g->inflight_files[i] = g->queue[i].file;
        }
        g->n_inflight = n;
        g->n_queue = 0;
        g->waits = 0;
        (void) sd_event_source_set_enabled(g->start_source, SD_EVENT_OFF);
        if (sync || !g->committer.started)
                batch_finish(g, spool_publish_batch(g->inflight_files, n, SPOOL_NOREPLACE | SPOOL_CHECKED));
        else
                committer_submit(&g->committer, g->inflight_files, n);
        return true;
}

static int on_start(sd_event_source *es, void *userdata) {
        (void) batch_start(userdata, false);
        return 0;
}

static int on_done(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        GroupCommit *g = userdata;
        int r;

        if (committer_finish(&g->committer, &r)) {
                batch_finish(g, r);
                (void) batch_start(g, false);
        }
        return 0;
}

int group_commit_new(sd_event *e, const GroupCommitOps *ops, void *userdata, GroupCommit **ret) {
        _cleanup_(group_commit_freep) GroupCommit *g = NULL;
        int r;

        g = calloc(1, sizeof(GroupCommit));
        if (!g)
                return -ENOMEM;
        g->event = sd_event_ref(e);
        g->ops = ops;
        g->userdata = userdata;
        g->committer = (Committer) {
                .lock = PTHREAD_MUTEX_INITIALIZER,
                .cond = PTHREAD_COND_INITIALIZER,
                .event_fd = -EBADF,
        };

        r = sd_event_add_defer(e, &g->start_source, on_start, g);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(g->start_source, SD_EVENT_OFF);
        /* Below the sessions' I/O: every session with input already pending gets
         * its turn, and may finish its message, before the batch is committed. */
        r = sd_event_source_set_priority(g->start_source, SD_EVENT_PRIORITY_NORMAL + 1);
        if (r < 0)
                return r;
        r = committer_start(&g->committer);
        if (r < 0)
                return r;
        r = sd_event_add_io(e, &g->done_source, g->committer.event_fd, EPOLLIN, on_done, g);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(g);
        return 0;
}

int group_commit_add(GroupCommit *g, SpoolFile *file, void *waiter) {
        Waiting *q;
        int r;

        q = reallocarray(g->queue, g->n_queue + 1, sizeof(Waiting));
        if (!q)
                return -ENOMEM;
        g->queue = q;
        r = sd_event_source_set_enabled(g->start_source, SD_EVENT_ONESHOT);
        if (r < 0)
                return r;
        g->queue[g->n_queue++] = (Waiting) { .waiter = waiter, .file = *file };
        *file = SPOOL_FILE_NULL;
        return 0;
}

void group_commit_cancel(GroupCommit *g, void *waiter) {
        for (size_t i = 0; i < g->n_queue; i++)
                if (g->queue[i].waiter == waiter) {
                        spool_file_abort(&g->queue[i].file);
                        memmove(g->queue + i, g->queue + i + 1, (g->n_queue - i - 1) * sizeof(Waiting));
                        g->n_queue--;
                        return;
                }
        /* in the batch on disk: its file is the batch's; only forget the waiter */
        for (size_t i = 0; i < g->n_inflight; i++)
                if (g->inflight[i] == waiter)
                        g->inflight[i] = NULL;
}

/**
 * group_commit_poll() - called after each session I/O event. The start
 * source runs below session I/O, so sessions that always have input (a
 * fast client streaming a big message) could delay it without end; once
 * every session has had two turns since the oldest message in the queue
 * was finished, the batch is started right away.
 */
void group_commit_poll(GroupCommit *g, unsigned n_sessions) {
        if (g->n_queue == 0)
                return;
        if (++g->waits > 2 * (uint64_t) n_sessions)
                (void) batch_start(g, false);
}

size_t group_commit_pending(const GroupCommit *g) {
        return g->n_queue + g->n_inflight;
}

void group_commit_flush(GroupCommit *g) {
        committer_stop(&g->committer);
        if (g->n_inflight > 0) {
                int r;

                if (committer_finish(&g->committer, &r))
                        batch_finish(g, r);
        }
        while (batch_start(g, true))
                ;
}

GroupCommit *group_commit_free(GroupCommit *g) {
        if (!g)
                return NULL;
        committer_stop(&g->committer);
        /* Without group_commit_flush() first (a failed start): a batch the
         * thread finished only has its descriptors closed (abort removes
         * nothing published), and what still waits was never acknowledged. */
        if (g->n_inflight > 0) {
                int r;

                if (committer_finish(&g->committer, &r))
                        for (size_t i = 0; i < g->n_inflight; i++)
                                spool_file_abort(&g->inflight_files[i]);
        }
        for (size_t i = 0; i < g->n_queue; i++)
                spool_file_abort(&g->queue[i].file);
        free(g->queue);
        sd_event_source_disable_unref(g->start_source);
        sd_event_source_disable_unref(g->done_source);
        safe_close(g->committer.event_fd);
        free(g->inflight);
        free(g->inflight_files);
        sd_event_unref(g->event);
        free(g);
        return NULL;
}
