/* SPDX-License-Identifier: MIT */
/*
 * hold, release, delete and flush for pochtar(8). The stages keep running
 * while these act, so every step is a single rename or unlink that a
 * stage racing us sees either before or after, never half done; the one
 * race that matters (sign publishing a message we are holding) is
 * detected and resolved below.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "cli/queue-ops.h"
#include "shared/macro.h"
#include "shared/spool.h"

static void spool_dir_donep(SpoolDir *d) {
        spool_dir_done(d);
}
#define _cleanup_spool_dir_ _cleanup_(spool_dir_donep)

static int move_between(int root_fd, QueueWhere from, QueueWhere to, const char *id) {
        _cleanup_spool_dir_ SpoolDir src = SPOOL_DIR_NULL, dst = SPOOL_DIR_NULL;
        int r;

        r = queue_where_open(root_fd, from, false, &src);
        if (r < 0)
                return r;
        /* hold/ is made on first use; the stages' queues must already exist */
        r = queue_where_open(root_fd, to, to == WHERE_HOLD_INCOMING || to == WHERE_HOLD_SIGNED, &dst);
        if (r < 0)
                return r;
        return spool_move(&src, &dst, id, true);
}

static int exists_in(int root_fd, QueueWhere w, const char *id) {
        _cleanup_spool_dir_ SpoolDir d = SPOOL_DIR_NULL;
        int r;

        r = queue_where_open(root_fd, w, false, &d);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        return spool_exists(&d, id);
}

static int remove_from(int root_fd, QueueWhere w, const char *id) {
        _cleanup_spool_dir_ SpoolDir d = SPOOL_DIR_NULL;
        int r;

        r = queue_where_open(root_fd, w, false, &d);
        if (r < 0)
                return r;
        return spool_remove_new(&d, id, true);
}

int queue_hold(int root_fd, const char *id, QueueWhere *ret_from) {
        int r;

        if (!queue_id_valid(id))
                return -EINVAL;
        r = move_between(root_fd, WHERE_INCOMING, WHERE_HOLD_INCOMING, id);
        if (r >= 0) {
                /* sign may have signed it while we moved it: it publishes
                 * signed/new/ID before it removes its input, so if that
                 * exists now our copy is the stale one (state table in
                 * docs/spool-format.md); hold the signed one instead. */
                r = exists_in(root_fd, WHERE_SIGNED, id);
                if (r <= 0) {
                        *ret_from = WHERE_INCOMING;
                        return r;
                }
                r = remove_from(root_fd, WHERE_HOLD_INCOMING, id);
                if (r < 0)
                        return r;
        } else if (r != -ENOENT)
                return r;
        r = move_between(root_fd, WHERE_SIGNED, WHERE_HOLD_SIGNED, id);
        if (r < 0)
                return r;
        *ret_from = WHERE_SIGNED;
        return 0;
}

int queue_release(int root_fd, const char *id, QueueWhere *ret_to) {
        static const QueueWhere pairs[][2] = {
                { WHERE_HOLD_INCOMING, WHERE_INCOMING },
                { WHERE_HOLD_SIGNED, WHERE_SIGNED },
        };
        int r = -ENOENT;

        if (!queue_id_valid(id))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(pairs); i++) {
                r = move_between(root_fd, pairs[i][0], pairs[i][1], id);
                if (r == -ENOENT)
                        continue;
                if (r >= 0)
                        *ret_to = pairs[i][1];
                return r;
        }
        return r;
}

/* What sits beside a message: its quarantine reason, deliver's state. */
static int remove_sidecars(int root_fd, const char *id, unsigned mask) {
        _cleanup_spool_dir_ SpoolDir q = SPOOL_DIR_NULL, state = SPOOL_DIR_NULL;
        int r;

        if (mask & (1u << WHERE_QUARANTINE)) {
                r = spool_queue_open(root_fd, SPOOL_QUEUE_QUARANTINE, false, &q);
                if (r >= 0)
                        r = spool_remove_reason(&q, id);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        if (mask & (1u << WHERE_DELIVER)) {
                r = spool_queue_open(root_fd, SPOOL_QUEUE_DELIVER_STATE, false, &state);
                if (r >= 0)
                        r = spool_remove_new(&state, id, true);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}

int queue_delete(int root_fd, const char *id, unsigned *ret_mask) {
        unsigned mask = 0;
        int r;

        if (!queue_id_valid(id))
                return -EINVAL;
        /* pipeline order: a message sign hands on while we work is found
         * again in the next queue */
        for (QueueWhere w = 0; w < _WHERE_MAX; w++) {
                r = remove_from(root_fd, w, id);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                mask |= 1u << w;
        }
        r = remove_sidecars(root_fd, id, mask);
        if (r < 0)
                return r;
        *ret_mask = mask;
        return mask ? 0 : -ENOENT;
}

int queue_flush_request(int root_fd, const char *name) {
        /* control/flush belongs to deliver (it must remove our files), so
         * it is made by deliver or tmpfiles, never by us as root */
        return spool_flush_request(root_fd, name);
}

int queue_locate(int root_fd, const char *id, QueueWhere *ret) {
        int r;

        for (QueueWhere w = 0; w < _WHERE_MAX; w++) {
                r = exists_in(root_fd, w, id);
                if (r < 0)
                        return r;
                if (r > 0) {
                        *ret = w;
                        return 0;
                }
        }
        return -ENOENT;
}
