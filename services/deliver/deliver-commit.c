/* SPDX-License-Identifier: MIT */
/*
 * The group commit of deliver's claims and removals (deliver-commit.h).
 * Two event sources drive it: on_sync(), an idle-priority defer source
 * that runs after every pending inotify event of a round, and
 * on_removal_sync(), a timer at most REMOVAL_SYNC_USEC away.
 */
#include "services/deliver/deliver-commit.h"
#include "shared/clock.h"
#include "shared/event-util.h"
#include "shared/log.h"
#include "shared/spool-spare.h"

/* how long removals (of finished messages from queue/new, of claimed
 * ones from signed/new) may wait for their sync: the window in which a
 * crash brings a message back, a duplicate, never a loss */
#define REMOVAL_SYNC_USEC (20 * USEC_PER_MSEC)

typedef struct Doomed {
        char id[QUEUE_ID_LEN + 1];
        bool state;             /* may have a state file */
        int spare_slot;         /* given back to sign (shared/spool-spare.c), or negative */
} Doomed;

struct Commit {
        SpoolDir *signed_dir, *queue_dir, *state_dir;
        CommitDurableFn durable;
        void *userdata;
        sd_event_source *sync_source;           /* on_sync() */
        sd_event_source *removal_sync_source;   /* on_removal_sync() */
        /* finished messages: doomed[0..n_removed) are removed, their
         * spares wait for on_removal_sync(); the rest wait for on_sync() */
        Doomed *doomed;
        size_t n_doomed, n_removed, doomed_cap;
        bool claim_dirty;               /* claims not yet synced in queue/new */
        bool remove_dirty;              /* removals not yet synced in queue/new */
        bool signed_dirty;              /* removals from signed/new not yet synced */
        bool state_dirty;               /* removals from state/new not yet synced */
};

static void request_sync(Commit *c) {
        (void) sd_event_source_set_enabled(c->sync_source, SD_EVENT_ONESHOT);
}

int commit_remove(Commit *c, const char *id, bool state) {
        if (ARRAY_GROW(c->doomed, c->doomed_cap, c->n_doomed, 64) < 0)
                return -ENOMEM;
        c->doomed[c->n_doomed] = (Doomed) { .state = state, .spare_slot = -1 };
        memcpy(c->doomed[c->n_doomed++].id, id, QUEUE_ID_LEN + 1);
        request_sync(c);
        return 0;
}

static void log_not_removed(const char *id, int r) {
        log_msg_errno(LOG_ERR, r, &(LogFields) { .queue_id = id },
                      "Delivered, but cannot remove the queue file; it will be tried again after a "
                      "restart: %m");
}

/*
 * Removes the files of every message finished since the last round. sign
 * wrote each queue file, so it goes back to sign as a spare when there is
 * room (shared/spool-spare.c: handed over by spool_spare_ready() once
 * queue/new is synced); the rest, and the state files, are unlinked, each
 * kind as one concurrent batch: on a file system mounted with discard
 * each unlink waits for its discard. A file that cannot be removed would
 * bring its message back after a restart, so that is logged.
 */
static void remove_doomed(Commit *c) {
        _cleanup_free_ char **ids = NULL;
        _cleanup_free_ int *results = NULL;
        Doomed *doomed = c->doomed + c->n_removed;
        size_t n = c->n_doomed - c->n_removed, n_rm = 0, n_state = 0;

        if (n == 0)
                return;
        c->n_removed = c->n_doomed;
        ids = calloc(n, sizeof(char *));
        results = calloc(n, sizeof(int));
        for (size_t i = 0; i < n; i++) {
                Doomed *d = &doomed[i];
                int k = spool_spare_give(c->queue_dir, d->id, c->signed_dir);

                /* not given back (no room, not worth it, or an error): unlinked */
                if (k >= 0)
                        d->spare_slot = k;
                else if (k == -ENOENT)
                        continue;
                else if (ids && results)
                        ids[n_rm++] = d->id;
                else if ((k = spool_remove_new(c->queue_dir, d->id, false)) < 0 && k != -ENOENT)
                        log_not_removed(d->id, k);      /* no memory: one at a time */
        }
        if (ids && results) {
                spool_remove_batch(c->queue_dir, ids, n_rm, results);
                for (size_t i = 0; i < n_rm; i++)
                        if (results[i] < 0 && results[i] != -ENOENT)
                                log_not_removed(ids[i], results[i]);
                for (size_t i = 0; i < n; i++)
                        if (doomed[i].state)
                                ids[n_state++] = doomed[i].id;
                spool_remove_batch(c->state_dir, ids, n_state, results);
        } else
                for (size_t i = 0; i < n; i++)
                        if (doomed[i].state && spool_remove_new(c->state_dir, doomed[i].id, false) >= 0)
                                n_state++;
        c->remove_dirty = true;
        c->state_dirty = c->state_dirty || n_state > 0;
}

/* fsync of queue/new: every claim and removal so far is durable there */
static int sync_queue_dir(Commit *c) {
        int r = spool_dir_sync(c->queue_dir);

        if (r < 0)
                return r;
        /* only now may the claims leave signed/new for good */
        if (c->claim_dirty)
                c->signed_dirty = true;
        c->claim_dirty = c->remove_dirty = false;
        return 0;
}

/*
 * Makes every removal so far durable, in order: queue/new (which a claim
 * of this round may need first), then signed/new, so a crash leaves a
 * claimed file in at least one of them. Then the queue files given back
 * become sign's spares: a spare is overwritten only once no crash can
 * bring back a name it had, in signed/new or queue/new. Returns the first
 * error, logged by the caller.
 */
static int sync_removals(Commit *c) {
        int r = 0, k;

        remove_doomed(c);
        if (c->claim_dirty || c->remove_dirty)
                r = sync_queue_dir(c);
        if (r >= 0 && c->signed_dirty && (r = spool_dir_sync(c->signed_dir)) >= 0)
                c->signed_dirty = false;
        for (size_t i = 0; i < c->n_removed; i++)
                spool_spare_ready(c->queue_dir, c->doomed[i].id, c->signed_dir, c->doomed[i].spare_slot,
                                  r >= 0);
        c->n_doomed = c->n_removed = 0;
        if (c->state_dirty) {
                k = spool_dir_sync(c->state_dir);
                if (k >= 0)
                        c->state_dirty = false;
                else if (r >= 0)
                        r = k;
        }
        return r;
}

static int on_removal_sync(sd_event_source *s, uint64_t usec, void *userdata) {
        Commit *c = userdata;
        int r;

        r = sync_removals(c);
        if (r < 0)
                log_error_errno(r, "Failed to sync deliver's queue directories: %m");
        return 0;
}

/*
 * Runs after every pending inotify event of this round: one fsync of
 * deliver/queue/new covers every claim since the last round, and a
 * claimed message is attempted only after its claim is durable there.
 * Removals wait up to REMOVAL_SYNC_USEC (on_removal_sync()), so one sync
 * covers many rounds: the finished messages' removal from queue/new and
 * the claims' removal from signed/new. A removal not yet synced when we
 * crash brings the message back: a duplicate, as in the window between
 * the remote 250 and the local record, never a loss.
 */
static int on_sync(sd_event_source *s, void *userdata) {
        Commit *c = userdata;
        int r;

        remove_doomed(c);
        if (c->claim_dirty && (r = sync_queue_dir(c)) < 0)
                log_error_errno(r, "Failed to sync deliver/queue/new: %m");
        if ((c->n_removed > 0 || c->remove_dirty || c->signed_dirty || c->state_dirty) &&
            sd_event_source_get_enabled(c->removal_sync_source, NULL) == 0)
                event_timer_arm(c->removal_sync_source, REMOVAL_SYNC_USEC);
        c->durable(c->userdata);
        return 0;
}

/*
 * The claim is a rename, whatever the name is; what it is, is checked
 * when it is read (deliver-queue.c), and what must not be read goes to
 * quarantine from deliver/queue.
 */
int commit_claim(Commit *c, const char *id) {
        LogFields f = { .queue_id = id };
        int r;

        r = spool_exists(c->queue_dir, id);
        if (r < 0) {
                log_msg_errno(LOG_ERR, r, &f, "Failed to look up %s: %m", id);
                return 0;
        }
        if (r > 0) {
                /* sign crashed between publishing and removing its input
                 * and published again: we already own this message */
                r = spool_remove_new(c->signed_dir, id, false);
                if (r < 0 && r != -ENOENT)
                        log_msg_errno(LOG_ERR, r, &f, "Failed to drop duplicate %s: %m", id);
                if (r >= 0) {
                        log_msg(LOG_NOTICE, &f, "dropped duplicate hand-over from signed/");
                        c->signed_dirty = true;
                        request_sync(c);
                }
                return 0;
        }
        r = spool_move(c->signed_dir, c->queue_dir, id, false);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                log_msg_errno(LOG_ERR, r, &f, "Failed to claim %s: %m", id);
                return 0;
        }
        c->claim_dirty = true;
        request_sync(c);
        return 1;
}

int commit_new(sd_event *e, SpoolDir *signed_dir, SpoolDir *queue_dir, SpoolDir *state_dir,
               CommitDurableFn durable, void *userdata, Commit **ret) {
        _cleanup_(commit_freep) Commit *c = NULL;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return log_oom();
        *c = (Commit) {
                .signed_dir = signed_dir,
                .queue_dir = queue_dir,
                .state_dir = state_dir,
                .durable = durable,
                .userdata = userdata,
        };
        r = sd_event_add_time_relative(e, &c->removal_sync_source, CLOCK_MONOTONIC, REMOVAL_SYNC_USEC, 0,
                                       on_removal_sync, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->removal_sync_source, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_defer(e, &c->sync_source, on_sync, c);
        if (r >= 0)
                r = sd_event_source_set_priority(c->sync_source, SD_EVENT_PRIORITY_IDLE);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->sync_source, SD_EVENT_OFF);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the sync event: %m");
        *ret = TAKE_PTR(c);
        return 0;
}

Commit *commit_free(Commit *c) {
        if (!c)
                return NULL;
        (void) sync_removals(c);
        free(c->doomed);
        sd_event_source_disable_unref(c->sync_source);
        sd_event_source_disable_unref(c->removal_sync_source);
        free(c);
        return NULL;
}
