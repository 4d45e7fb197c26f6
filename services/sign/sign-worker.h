/* SPDX-License-Identifier: MIT */
#pragma once

#include "services/sign/dkim-canon.h"
#include "services/sign/dkim-crypto.h"
#include "services/sign/sign-keys.h"
#include "shared/config.h"
#include "shared/spool.h"

/*
 * One message at a time, one batch per event-loop turn: read
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

typedef struct SignWorker {
        const Config *config;
        SignKeys *keys;                 /* owned; swapped by sign_worker_set_keys() */
        DkimCanon header_canon;
        DkimCanon body_canon;
        SpoolDir *incoming;
        SpoolDir *signed_dir;
        SpoolDir *quarantine;
        DkimHash *hash;
        size_t max_file;                /* largest queue file read */
        Buf file;                       /* the queue file being signed */
        Buf canon;                      /* canonical signed header fields */
        Buf sigs;                       /* the DKIM-Signature fields made for it */
        Buf scratch;
        Buf envelope;                   /* the signed copy's envelope */
        unsigned n_signed, n_unsigned, n_quarantined;
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
