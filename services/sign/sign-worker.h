/* SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>

#include "dkim/dkim-crypto.h"
#include "dkim/signing-keys.h"
#include "services/sign/dkim-canon.h"
#include "shared/config.h"
#include "shared/spool.h"

/*
 * One batch per event-loop turn, its messages spread over the lanes: read
 * incoming/new/ID, sign it into signed/tmp, and when the whole batch is
 * written publish it with one group commit, then remove the inputs. A
 * message that cannot be handled goes to quarantine/ with ID.reason, or
 * on unsigned where the policy says so; every outcome is logged once.
 */
#define SIGN_BATCH_MAX 128
/* inputs removed whose removal is not yet synced (see sign_worker_sync_removals()) */
#define SIGN_REMOVED_MAX (2 * SIGN_BATCH_MAX)

typedef struct SignRemoved {
        char id[QUEUE_ID_LEN + 1];
        int spare_slot;         /* given back to receive (shared/spool-spare.c), or negative */
} SignRemoved;

/* What one signing thread owns: its buffers, its hash, and its index into
 * every key's signing contexts (dkim_key_sign()). */
typedef struct SignLane {
        unsigned index;
        DkimHash *hash;
        Buf file;                       /* the queue file being signed */
        Buf canon;                      /* canonical signed header fields */
        Buf sigs;                       /* the DKIM-Signature fields made for it */
        Buf scratch;
        Buf envelope;                   /* the signed copy's envelope */
} SignLane;

#define SIGN_LANES_MAX DKIM_KEY_LANES

typedef struct SignWorker {
        const Config *config;
        SignKeys *keys;                 /* owned; swapped by sign_worker_set_keys() */
        DkimCanon header_canon;
        DkimCanon body_canon;
        SpoolDir *incoming;
        SpoolDir *signed_dir;
        SpoolDir *quarantine;
        size_t max_file;                /* largest queue file read */
        /* A batch's messages are signed by up to n_lanes threads, one per
         * CPU this process may use: the RSA signature is most of a
         * message's cost. */
        SignLane lanes[SIGN_LANES_MAX];
        unsigned n_lanes;
        pthread_mutex_t create_lock;    /* signed/tmp's spares are taken in order, one at a time */
        unsigned n_signed, n_unsigned;
        unsigned n_quarantined;         /* atomic: the lanes quarantine */
        SignRemoved removed[SIGN_REMOVED_MAX];
        size_t n_removed;
} SignWorker;

int sign_worker_init(SignWorker *w, const Config *c, SpoolDir *incoming, SpoolDir *signed_dir,
                     SpoolDir *quarantine);
void sign_worker_done(SignWorker *w);
void sign_worker_set_keys(SignWorker *w, SignKeys *keys);

/*
 * Handles every ID in @ids (no duplicates). Returns a negative errno only
 * for failures that may pass (disk full, I/O): the messages concerned
 * stay in incoming/ and the caller retries later.
 */
int sign_worker_run(SignWorker *w, char * const *ids, size_t n);

/*
 * Makes the removals of published inputs durable (one fsync of
 * incoming/new) and hands the inputs given back over to receive. Not
 * needed for safety: until it runs, a crash brings those inputs back and
 * they are signed again, a duplicate. So the caller runs it a little
 * later, and one sync covers many batches. Returns the sync's result.
 */
int sign_worker_sync_removals(SignWorker *w);

static inline bool sign_worker_removals_pending(const SignWorker *w) {
        return w->n_removed > 0;
}
