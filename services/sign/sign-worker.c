/* SPDX-License-Identifier: MIT */
/*
 * The per-message work of pochtar-sign. The queue file is read once into
 * one buffer; the signed copy is written as three pieces (the envelope,
 * with the signed message's check; the new DKIM-Signature fields; the
 * original message, a slice of the buffer), so a large body is never
 * copied in user space, only hashed.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>

#include "services/sign/dkim-header.h"
#include "services/sign/sign-worker.h"
#include "shared/clock.h"
#include "shared/concurrent.h"
#include "shared/envelope.h"
#include "shared/limits.h"
#include "shared/log-ids.h"
#include "shared/log.h"
#include "shared/spool-spare.h"

typedef enum SignOutcome {
        OUTCOME_SIGNED,
        OUTCOME_UNSIGNED,
        OUTCOME_QUARANTINED,
        OUTCOME_GONE,
} SignOutcome;

typedef struct SignItem {
        SpoolFile file;
        SignOutcome outcome;
        bool give_back;         /* receive wrote the input: it may have it back as a spare */
        char detail[512];
} SignItem;

/* CPUs this process may run on (its affinity, which systemd's
 * CPUAffinity= sets), at least 1. */
static unsigned usable_cpus(void) {
        cpu_set_t set;
        int n;

        if (sched_getaffinity(0, sizeof(set), &set) < 0)
                return 1;
        n = CPU_COUNT(&set);
        return n > 0 ? (unsigned) n : 1;
}

int sign_worker_init(SignWorker *w, const Config *c, SpoolDir *incoming, SpoolDir *signed_dir,
                     SpoolDir *quarantine) {
        unsigned cpus = usable_cpus();
        int r;

        *w = (SignWorker) {
                .config = c,
                .incoming = incoming,
                .signed_dir = signed_dir,
                .quarantine = quarantine,
                /* receive and deliver's reports stay within it (shared/limits.h) */
                .max_file = spool_message_max(c->receive.max_message_size, false) + ENVELOPE_MAX,
                .n_lanes = cpus < SIGN_LANES_MAX ? cpus : SIGN_LANES_MAX,
        };
        r = pthread_mutex_init(&w->create_lock, NULL);
        if (r != 0) {
                w->config = NULL;       /* nothing for sign_worker_done() */
                return -r;
        }
        for (unsigned i = 0; i < SIGN_LANES_MAX; i++)
                w->lanes[i] = (SignLane) {
                        .index = i,
                        .file = BUF_INIT(w->max_file + 1),
                        .canon = BUF_INIT(2 * HEADER_SECTION_MAX),
                        .sigs = BUF_INIT(64 * 1024),
                        .scratch = BUF_INIT(64 * 1024),
                        .envelope = BUF_INIT(ENVELOPE_MAX),
                };
        r = dkim_canon_parse(c->sign.canonicalization, &w->header_canon, &w->body_canon);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < w->n_lanes; i++) {
                r = dkim_hash_new(&w->lanes[i].hash);
                if (r < 0)
                        return r;
        }
        return 0;
}

void sign_worker_done(SignWorker *w) {
        (void) sign_worker_sync_removals(w);
        sign_keys_free(w->keys);
        for (unsigned i = 0; i < SIGN_LANES_MAX; i++) {
                SignLane *l = &w->lanes[i];

                dkim_hash_free(l->hash);
                buf_done(&l->file);
                buf_done(&l->canon);
                buf_done(&l->sigs);
                buf_done(&l->scratch);
                buf_done(&l->envelope);
        }
        (void) pthread_mutex_destroy(&w->create_lock);
}

void sign_worker_set_keys(SignWorker *w, SignKeys *keys) {
        sign_keys_free(w->keys);
        w->keys = keys;
}

static int quarantine_message(SignWorker *w, const char *id, const char *reason) {
        int r;

        r = spool_quarantine(w->incoming, w->quarantine, id, "sign", reason);
        if (r < 0)
                return log_msg_errno(LOG_ERR, r, &(LogFields) { .queue_id = id },
                                     "Cannot quarantine message: %m");
        __atomic_fetch_add(&w->n_quarantined, 1, __ATOMIC_RELAXED);
        log_msg(LOG_WARNING, &(LogFields) { .message_id = LOG_ID_QUARANTINED, .queue_id = id,
                                            .status = "quarantined" },
                "quarantined: %s", reason);
        return 0;
}

static void hash_emit(const uint8_t *p, size_t n, void *userdata) {
        dkim_hash_update(userdata, p, n);
}

/* Appends one DKIM-Signature field per chosen key to l->sigs. */
static int sign_message(SignWorker *w, SignLane *l, const uint8_t *msg, size_t n, const HeaderSection *h,
                        const SignChoice *choices, size_t n_choices, char *detail, size_t detail_size) {
        const char *names[DKIM_SIGNED_NAMES_MAX];
        uint8_t bh[DKIM_HASH_LEN], digest[DKIM_HASH_LEN], sig[DKIM_SIG_MAX];
        char canon[32], bh64[64];
        size_t n_names, sig_len, used = 0;
        uint64_t now = now_realtime_usec() / USEC_PER_SEC;
        int r;

        r = dkim_signed_names(h, msg, w->config->sign.oversign_headers, names, &n_names);
        if (r < 0)
                return r;

        /* One body hash serves every signature: they share c=. */
        r = dkim_hash_begin(l->hash);
        if (r < 0)
                return r;
        dkim_canon_body(w->body_canon, msg + h->body_offset, n - h->body_offset, hash_emit, l->hash);
        r = dkim_hash_end(l->hash, bh);
        if (r < 0)
                return r;
        buf_reset(&l->scratch);
        r = base64_append(&l->scratch, bh, sizeof(bh));
        if (r < 0)
                return r;
        memcpy(bh64, l->scratch.data, l->scratch.len + 1);

        buf_reset(&l->canon);
        r = dkim_canon_signed_headers(w->header_canon, h, msg, names, n_names, &l->canon);
        if (r < 0)
                return r;
        (void) snprintf(canon, sizeof(canon), "%s/%s", dkim_canon_to_string(w->header_canon),
                        dkim_canon_to_string(w->body_canon));

        buf_reset(&l->sigs);
        for (size_t i = 0; i < n_choices; i++) {
                size_t start = l->sigs.len;
                DkimSigParams p = {
                        .alg = dkim_alg_to_string(dkim_key_alg(choices[i].key)),
                        .canon = canon,
                        .domain = choices[i].domain,
                        .selector = choices[i].selector,
                        .timestamp = now,
                        .expire = w->config->sign.expire > 0 ? now + w->config->sign.expire / USEC_PER_SEC : 0,
                        .names = names,
                        .n_names = n_names,
                        .bh = bh64,
                };

                r = dkim_signature_format(&p, &l->sigs);
                if (r < 0)
                        return r;
                /* §3.7: the header data, then this field with an empty b= and no CRLF. */
                buf_reset(&l->scratch);
                r = dkim_canon_header(w->header_canon, l->sigs.data + start, l->sigs.len - start, false,
                                      &l->scratch);
                if (r < 0)
                        return r;
                r = dkim_hash_begin(l->hash);
                if (r < 0)
                        return r;
                dkim_hash_update(l->hash, l->canon.data, l->canon.len);
                dkim_hash_update(l->hash, l->scratch.data, l->scratch.len);
                r = dkim_hash_end(l->hash, digest);
                if (r >= 0)
                        r = dkim_key_sign(choices[i].key, l->index, digest, sig, &sig_len);
                if (r < 0)
                        return r;
                buf_reset(&l->scratch);
                r = base64_append(&l->scratch, sig, sig_len);
                if (r >= 0)
                        r = dkim_signature_append_b(&l->sigs, (const char *) l->scratch.data);
                if (r < 0)
                        return r;
                used += (size_t) snprintf(detail + used, detail_size - used, "%sd=%s s=%s a=%s",
                                          i > 0 ? ", " : "", p.domain, p.selector, p.alg);
                if (used >= detail_size)
                        used = detail_size - 1;
        }
        return 0;
}

static const char *policy_verb(SignPolicy p) {
        return p == SIGN_POLICY_QUARANTINE ? "quarantine" : "pass";
}

/*
 * Decides what becomes of one message. On OUTCOME_SIGNED/UNSIGNED the
 * signed copy is written to signed/tmp and waits for the batch publish;
 * quarantine happens here. Negative: a transient failure, message left.
 */
static int process_one(SignWorker *w, SignLane *l, const char *id, SignItem *item) {
        _cleanup_(header_section_done) HeaderSection h = {};
        _cleanup_(envelope_done) Envelope env = {};
        char local[SMTP_LOCAL_PART_MAX + 1], domain[SMTP_DOMAIN_MAX + 1], reason[320];
        char refusal[SPOOL_REFUSAL_MAX];
        SignChoice choices[SIGN_SIGS_MAX];
        size_t env_len, n_choices = 0, from;
        const uint8_t *msg;
        SignPolicy policy;
        const char *policy_key;
        unsigned line = 0;
        size_t n;
        int r;

        buf_reset(&l->file);
        r = spool_read_new(w->incoming, id, w->max_file, &l->file, refusal);
        if (r == -ENOENT) {
                item->outcome = OUTCOME_GONE;
                return 0;
        }
        if (refusal[0]) {
                /* a FIFO, a link, a device, a foreign file: never opened */
                (void) snprintf(reason, sizeof(reason), "queue file not opened: %s", refusal);
                item->outcome = OUTCOME_QUARANTINED;
                return quarantine_message(w, id, reason);
        }
        if (r == -EFBIG) {
                item->outcome = OUTCOME_QUARANTINED;
                return quarantine_message(w, id, "queue file larger than receive or deliver write "
                                                 "(max_message_size and the header limits)");
        }
        if (r < 0)
                return log_msg_errno(LOG_ERR, r, &(LogFields) { .queue_id = id }, "Cannot read message: %m");

        r = envelope_parse(l->file.data, l->file.len, &env, &env_len, &line);
        if (r < 0) {
                (void) snprintf(reason, sizeof(reason), r == -EPROTONOSUPPORT ?
                                "unknown queue file version" : "malformed envelope at line %u", line);
                item->outcome = OUTCOME_QUARANTINED;
                return quarantine_message(w, id, reason);
        }
        msg = l->file.data + env_len;
        n = l->file.len - env_len;
        if (!streq(env.id, id)) {
                item->outcome = OUTCOME_QUARANTINED;
                return quarantine_message(w, id, "the envelope names another queue ID than the file "
                                                 "(after a crash: an older file's blocks under this name)");
        }
        if (envelope_check_verify(&env, msg, n) < 0) {
                item->outcome = OUTCOME_QUARANTINED;
                return quarantine_message(w, id, "the message does not match the envelope's check: a "
                                                 "crash cut the file short before it was acknowledged");
        }

        r = header_section_parse(msg, n, &h);
        if (r < 0) {
                item->outcome = OUTCOME_QUARANTINED;
                return quarantine_message(w, id, r == -EMSGSIZE ? "header section over the size limits"
                                                                : "malformed header section");
        }

        r = header_section_find_one(&h, msg, "From", &from);
        if (r >= 0) {
                const HeaderField *f = &h.fields[from];

                r = header_from_address(msg + f->offset + f->value, f->len - f->value, local, domain);
                if (r < 0)
                        (void) snprintf(reason, sizeof(reason), "From: holds no single valid author address");
        } else
                (void) snprintf(reason, sizeof(reason), r == -ENOENT ? "no From: header" : "more than one From: header");
        if (r < 0) {
                policy = w->config->sign.on_bad_from;
                policy_key = "on_bad_from";
        } else {
                n_choices = sign_keys_select(w->keys, local, domain, choices);
                if (n_choices == 0)
                        (void) snprintf(reason, sizeof(reason), "no key for From: domain %s", domain);
                policy = w->config->sign.on_no_key;
                policy_key = "on_no_key";
        }

        if (n_choices == 0 && policy == SIGN_POLICY_QUARANTINE) {
                item->outcome = OUTCOME_QUARANTINED;
                return quarantine_message(w, id, reason);
        }
        if (n_choices > 0) {
                r = sign_message(w, l, msg, n, &h, choices, n_choices, item->detail, sizeof(item->detail));
                if (r == -E2BIG) {
                        item->outcome = OUTCOME_QUARANTINED;
                        return quarantine_message(w, id, "too many header fields to sign");
                }
                if (r < 0)
                        return log_msg_errno(LOG_ERR, r, &(LogFields) { .queue_id = id }, "Cannot sign: %m");
                item->outcome = OUTCOME_SIGNED;
        } else {
                buf_reset(&l->sigs);
                (void) snprintf(item->detail, sizeof(item->detail), "%s (%s = %s)", reason, policy_key,
                                policy_verb(policy));
                item->outcome = OUTCOME_UNSIGNED;
        }

        /* a client's message was written by receive and may go back to it
         * as a spare; a notification was written by deliver */
        item->give_back = env.kind == ENVELOPE_KIND_MAIL;
        /* The signed copy is published like receive's file (renamed, then
         * synced: SPOOL_CHECKED), so it carries its own check. */
        buf_reset(&l->envelope);
        env.has_check = true;
        r = envelope_check_of2(l->sigs.data, l->sigs.len, msg, n, &env.check);
        if (r >= 0)
                r = envelope_format(&env, &l->envelope);
        if (r >= 0) {
                pthread_mutex_lock(&w->create_lock);
                r = spool_file_create_reusing(w->signed_dir, id, "sign", &item->file);
                pthread_mutex_unlock(&w->create_lock);
        }
        if (r >= 0)
                r = spool_spare_write(&item->file, l->envelope.data, l->envelope.len);
        if (r >= 0)
                r = spool_spare_write(&item->file, l->sigs.data, l->sigs.len);
        if (r >= 0)
                r = spool_spare_write(&item->file, msg, n);
        if (r < 0) {
                spool_file_abort(&item->file);
                return log_msg_errno(LOG_ERR, r, &(LogFields) { .queue_id = id },
                                     "Cannot write signed copy: %m");
        }
        return 0;
}

static void log_outcome(SignWorker *w, const char *id, const SignItem *item) {
        if (item->outcome == OUTCOME_SIGNED) {
                w->n_signed++;
                log_msg(LOG_INFO, &(LogFields) { .message_id = LOG_ID_SIGNED, .queue_id = id, .status = "signed" },
                        "signed: %s", item->detail);
        } else {
                w->n_unsigned++;
                log_msg(LOG_NOTICE, &(LogFields) { .message_id = LOG_ID_UNSIGNED, .queue_id = id,
                                                   .status = "unsigned" },
                        "passed on unsigned: %s", item->detail);
        }
}

int sign_worker_sync_removals(SignWorker *w) {
        int r;

        if (w->n_removed == 0)
                return 0;
        r = spool_dir_sync(w->incoming);
        if (r < 0)
                log_error_errno(r, "Cannot sync incoming/new: %m");
        for (size_t j = 0; j < w->n_removed; j++)
                spool_spare_ready(w->incoming, w->removed[j].id, w->incoming, w->removed[j].spare_slot, r >= 0);
        w->n_removed = 0;
        return r;
}

/*
 * Removes the published inputs: each that receive wrote goes back to it
 * as a spare (shared/spool-spare.c), the rest are unlinked, all at once:
 * on a file system mounted with discard each unlink waits for its discard.
 * The removals are made durable later, by sign_worker_sync_removals(),
 * and only then may the spares be overwritten.
 */
static int remove_inputs(SignWorker *w, char * const *done, size_t n_done, const SignItem *items,
                         const size_t *idx) {
        char *unlink_ids[SIGN_BATCH_MAX];
        int removed[SIGN_BATCH_MAX], r = 0;
        size_t n_unlink = 0;

        if (w->n_removed + n_done > SIGN_REMOVED_MAX)
                r = sign_worker_sync_removals(w);
        for (size_t j = 0; j < n_done; j++) {
                int slot = items[idx[j]].give_back ? spool_spare_give(w->incoming, done[j], w->incoming) : -EFBIG;
                SignRemoved *rm = &w->removed[w->n_removed++];

                memcpy(rm->id, done[j], QUEUE_ID_LEN + 1);
                rm->spare_slot = slot;
                /* not given back (no room, not worth it, or an error): unlinked */
                if (slot < 0 && slot != -ENOENT)
                        unlink_ids[n_unlink++] = done[j];
        }
        spool_remove_batch(w->incoming, unlink_ids, n_unlink, removed);
        for (size_t j = 0; j < n_unlink; j++)
                if (removed[j] < 0 && removed[j] != -ENOENT)
                        log_msg_errno(LOG_WARNING, removed[j], &(LogFields) { .queue_id = unlink_ids[j] },
                                      "Signed copy published, but cannot remove the input: %m");
        for (size_t j = 0; j < n_done; j++)
                log_outcome(w, done[j], &items[idx[j]]);
        return r;
}

typedef struct LaneRun {
        SignWorker *w;
        char * const *ids;
        SignItem *items;
        int *results;
        size_t n;
        size_t next;                    /* next message to take (atomic) */
} LaneRun;

/* One lane's share of a batch: whatever message is next, until none is
 * left, so a lane with big messages takes fewer. */
static void lane_run(size_t lane, void *userdata) {
        LaneRun *lr = userdata;
        size_t i;

        while ((i = __atomic_fetch_add(&lr->next, 1, __ATOMIC_RELAXED)) < lr->n)
                lr->results[i] = process_one(lr->w, &lr->w->lanes[lane], lr->ids[i], &lr->items[i]);
}

int sign_worker_run(SignWorker *w, char * const *ids, size_t n) {
        SignItem items[SIGN_BATCH_MAX];
        SpoolFile files[SIGN_BATCH_MAX];
        char *done[SIGN_BATCH_MAX];
        int results[SIGN_BATCH_MAX];
        size_t idx[SIGN_BATCH_MAX], k = 0, n_done = 0;
        LaneRun lr = { .w = w, .ids = ids, .items = items, .results = results, .n = n };
        int r = 0, q, publish;

        if (n > SIGN_BATCH_MAX)
                return -E2BIG;
        for (size_t i = 0; i < n; i++)
                items[i] = (SignItem) { .file = SPOOL_FILE_NULL, .outcome = OUTCOME_GONE };
        run_concurrently(n < w->n_lanes ? n : w->n_lanes, lane_run, &lr);
        for (size_t i = 0; i < n; i++) {
                q = results[i];
                if (q < 0) {
                        r = q;
                        continue;
                }
                if (items[i].outcome == OUTCOME_SIGNED || items[i].outcome == OUTCOME_UNSIGNED) {
                        files[k] = items[i].file;
                        idx[k++] = i;
                }
        }
        if (k == 0)
                return r;

        /* Group commit: renamed, then every file and signed/new synced at
         * once: one device flush for the whole batch. */
        publish = spool_publish_batch(files, k, SPOOL_CHECKED);
        if (publish < 0) {
                log_error_errno(publish, "Cannot publish %zu signed message(s): %m", k);
                r = publish;
        }
        for (size_t j = 0; j < k; j++) {
                if (spool_file_pending(&files[j])) {    /* not published: stays in incoming, retried */
                        spool_file_abort(&files[j]);
                        continue;
                }
                /* After a failed publish even a renamed copy may not be
                 * durable (the fsync of signed/new failed): keep the input,
                 * so the worst case is a second hand-over under the same
                 * ID, which deliver recognises, never a loss. */
                if (publish < 0)
                        continue;
                done[n_done] = ids[idx[j]];
                idx[n_done++] = idx[j];
        }
        q = remove_inputs(w, done, n_done, items, idx);
        return r < 0 ? r : q;
}
