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
        unsigned n_signed, n_unsigned, n_quarantined;
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
