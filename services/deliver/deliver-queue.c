/* SPDX-License-Identifier: MIT */
/*
 * The queue manager. A message goes signed/new/ID → (rename: the claim)
 * deliver/queue/new/ID; recipients that are done are recorded in
 * deliver/state/new/ID (tmp, fdatasync, rename, fsync) before the next
 * attempt; when every recipient is sent or bounced, the queue file and
 * the state are removed. A restart reloads deliver/queue with its state,
 * so a recipient that got 250 is never tried again, except in the window
 * between the remote 250 and our record, and deferred mail keeps its
 * retry time. Trusts nothing it reads: envelopes and state are parsed
 * strictly, and a file that fails goes to quarantine.
 *
 * This file keeps the registry of queued messages (loading, state files)
 * and the scheduler (retry timers, the ready list, DELIVER_ACTIVE_MAX).
 * The claims and removals and their syncs are deliver-commit.c's; what
 * an attempt's results mean is deliver-outcome.c's, and
 * queue_attempt_done() carries it out; flush requests are
 * deliver-flush.c's.
 */
#include <inttypes.h>

#include "services/deliver/deliver-body.h"
#include "services/deliver/deliver-bounce.h"
#include "services/deliver/deliver-commit.h"
#include "services/deliver/deliver-flush.h"
#include "services/deliver/deliver-outcome.h"
#include "services/deliver/deliver-queue.h"
#include "shared/clock.h"
#include "shared/limits.h"
#include "shared/log-ids.h"
#include "shared/log.h"
#include "shared/macro.h"
#include "shared/notify.h"
#include "shared/spool-owner.h"
#include "shared/spool-spare.h"

struct Queue {
        sd_event *event;
        const Config *cfg;
        RetryPolicy retry;
        int root_fd;
        SpoolDir signed_dir, incoming_dir, quarantine_dir, queue_dir, state_dir;
        SpoolOwners owners;     /* whose files queue_dir and state_dir may hold */
        SpoolWatch *watch;      /* signed/new */
        Commit *commit;         /* claims and removals, made durable in rounds */
        FlushWatch *flush;
        Transport transport;
        Message *messages;
        unsigned n_messages, n_active, n_deferred;
        Message *ready_head, *ready_tail;
        Message *held;          /* claimed, waiting for the claim's fsync */
        bool pumping;
};

static void queue_status(Queue *q) {
        notify_status("%u queued, %u active, %u deferred", q->n_messages, q->n_active, q->n_deferred);
}

unsigned queue_size(const Queue *q) {
        return q->n_messages;
}

/* The message after its envelope; empty when this attempt could not read
 * it (a notice owed then returns no original, rather than reading past). */
const char *message_body(const Message *m, size_t *ret_len) {
        if (!m->data.data || m->body_offset > m->data.len) {
                *ret_len = 0;
                return "";
        }
        *ret_len = m->data.len - m->body_offset;
        return (const char *) m->data.data + m->body_offset;
}

static Message *message_free(Message *m) {
        if (!m)
                return NULL;
        sd_event_source_disable_unref(m->timer);
        if (m->results) {
                for (size_t i = 0; i < m->env.n_rcpts; i++)
                        dsn_done(&m->results[i]);
                free(m->results);
        }
        envelope_done(&m->env);
        deliver_state_done(&m->state);
        buf_done(&m->data);
        free(m);
        return NULL;
}

static void message_unlink(Message *m) {
        Queue *q = m->queue;

        if (m->prev)
                m->prev->next = m->next;
        else
                q->messages = m->next;
        if (m->next)
                m->next->prev = m->prev;
        q->n_messages--;
}

static Message *queue_find(Queue *q, const char *id) {
        for (Message *m = q->messages; m; m = m->next)
                if (streq(m->id, id))
                        return m;
        return NULL;
}

static void queue_pump(Queue *q);

static void message_make_ready(Message *m) {
        Queue *q = m->queue;

        if (m->ready || m->active)
                return;
        (void) sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
        m->ready = true;
        m->ready_next = NULL;
        if (q->ready_tail)
                q->ready_tail->ready_next = m;
        else
                q->ready_head = m;
        q->ready_tail = m;
}

static int on_retry_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Message *m = userdata;

        m->queue->n_deferred--;
        message_make_ready(m);
        queue_pump(m->queue);
        return 0;
}

/* Arms the retry timer at m->state.next_usec (CLOCK_REALTIME). */
static int message_schedule(Message *m) {
        Queue *q = m->queue;
        int r;

        if (!m->timer) {
                r = sd_event_add_time(q->event, &m->timer, CLOCK_REALTIME, m->state.next_usec,
                                      USEC_PER_SEC / 10, on_retry_timer, m);
                if (r < 0)
                        return r;
        } else {
                r = sd_event_source_set_time(m->timer, m->state.next_usec);
                if (r < 0)
                        return r;
        }
        r = sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
        if (r < 0)
                return r;
        q->n_deferred++;
        return 0;
}

static void quarantine(Queue *q, SpoolDir *from, const char *id, const char *reason) {
        LogFields f = { .message_id = LOG_ID_QUARANTINED, .queue_id = id, .status = "quarantined" };
        int r;

        r = spool_quarantine(from, &q->quarantine_dir, id, DELIVER_STAGE, reason);
        if (r < 0)
                (void) log_msg_errno(LOG_ERR, r, &f, "Failed to quarantine message (%s): %m", reason);
        else
                log_msg(LOG_WARNING, &f, "status=quarantined (%s)", reason);
}

/* A refusal (shared/spool.c) says why in @refusal. */
static int message_read(Message *m, char refusal[static SPOOL_REFUSAL_MAX]) {
        buf_reset(&m->data);
        m->body_offset = 0;     /* the last attempt's, until the envelope is parsed again */
        uint64_t max = spool_message_max(m->queue->cfg->receive.max_message_size, true) + ENVELOPE_MAX;

        return spool_read_new(&m->queue->queue_dir, m->id, (size_t) max, &m->data, refusal);
}

static int state_load(Queue *q, Message *m, char refusal[static SPOOL_REFUSAL_MAX]) {
        Buf b = BUF_INIT(DELIVER_STATE_MAX);
        int r;

        r = spool_read_new(&q->state_dir, m->id, DELIVER_STATE_MAX, &b, refusal);
        if (r == -ENOENT)
                return 0;
        if (r >= 0)
                r = deliver_state_parse(b.data, b.len, &m->state);
        buf_done(&b);
        return r;
}

/*
 * A file in deliver/queue/new or deliver/state/new that a reader must not
 * open (a FIFO, a link, a device, a foreign file; shared/spool.c): the
 * message goes to quarantine with the reason, and its state file, which
 * means nothing without it, is removed.
 */
static void quarantine_refused(Queue *q, const char *id, const char *what, const char *refusal) {
        char reason[64 + SPOOL_REFUSAL_MAX];
        int r;

        (void) snprintf(reason, sizeof(reason), "deliver: %s not opened: %s", what, refusal);
        quarantine(q, &q->queue_dir, id, reason);
        r = spool_remove_new(&q->state_dir, id, true);
        if (r < 0 && r != -ENOENT)
                log_msg_errno(LOG_WARNING, r, &(LogFields) { .queue_id = id }, "Cannot remove the state file: %m");
}

static int state_save(Queue *q, Message *m) {
        SpoolFile f = SPOOL_FILE_NULL;
        Buf b = BUF_INIT(DELIVER_STATE_MAX);
        int r;

        r = deliver_state_format(&m->state, &b);
        if (r >= 0)
                r = spool_file_create(&q->state_dir, m->id, DELIVER_STAGE, &f);
        if (r >= 0)
                r = spool_file_write(&f, b.data, b.len);
        if (r >= 0)
                r = spool_file_publish(&f, 0);
        if (r < 0)
                spool_file_abort(&f);
        buf_done(&b);
        return r;
}

/*
 * Loads deliver/queue/new/ID with its state. A file we cannot parse is
 * quarantined; a file that vanished is not an error.
 */
static int queue_load(Queue *q, const char *id, bool hold) {
        char refusal[SPOOL_REFUSAL_MAX];
        Message *m;
        unsigned line = 0;
        size_t env_len;
        int r;

        if (queue_find(q, id))
                return 0;
        m = calloc(1, sizeof(*m));
        if (!m)
                return log_oom();
        m->queue = q;
        m->data = BUF_INIT(0);
        memcpy(m->id, id, QUEUE_ID_LEN + 1);
        r = message_read(m, refusal);
        if (r == -ENOENT) {
                message_free(m);
                return 0;
        }
        if (refusal[0]) {
                message_free(m);
                quarantine_refused(q, id, "queue file", refusal);
                return 0;
        }
        if (r == -EFBIG) {
                message_free(m);
                quarantine(q, &q->queue_dir, id, "deliver: queue file larger than sign writes "
                           "(max_message_size and the header limits)");
                return 0;
        }
        if (r >= 0) {
                r = envelope_parse(m->data.data, m->data.len, &m->env, &env_len, &line);
                if (r >= 0 && !streq(m->env.id, id))
                        r = -EBADMSG;
                if (r >= 0 && envelope_check_verify(&m->env, m->data.data + env_len, m->data.len - env_len) < 0) {
                        /* sign renames before it syncs: what a crash left of a
                         * copy whose input sign still has, and signs again */
                        message_free(m);
                        quarantine(q, &q->queue_dir, id, "deliver: the message does not match the "
                                   "envelope's check: a crash cut the signed copy short");
                        return 0;
                }
                if (r < 0) {
                        char reason[128];

                        (void) snprintf(reason, sizeof(reason), "deliver: bad envelope (line %u): %s", line,
                                        strerror(-r));
                        message_free(m);
                        quarantine(q, &q->queue_dir, id, reason);
                        return 0;
                }
                if (body_has_bare_cr_lf(m->data.data + env_len, m->data.len - env_len)) {
                        message_free(m);
                        quarantine(q, &q->queue_dir, id, "deliver: a bare CR or LF in the message, which no "
                                   "stage writes and which a server could read as a line end");
                        return 0;
                }
        }
        if (r >= 0)
                r = deliver_state_init(&m->state, m->env.n_rcpts);
        if (r >= 0) {
                r = state_load(q, m, refusal);
                if (refusal[0]) {
                        message_free(m);
                        quarantine_refused(q, id, "state file", refusal);
                        return 0;
                }
                if (r == -EBADMSG || r == -EPROTONOSUPPORT) {
                        /* A damaged state would risk a second delivery or
                         * a lost one; the operator decides. */
                        message_free(m);
                        quarantine(q, &q->queue_dir, id, "deliver: damaged state file");
                        (void) spool_remove_new(&q->state_dir, id, true);
                        return 0;
                }
        }
        if (r >= 0 && !(m->results = calloc(m->env.n_rcpts, sizeof(Dsn))))
                r = -ENOMEM;
        if (r < 0) {
                message_free(m);
                return log_error_errno(r, "Failed to load queued message %s: %m", id);
        }
        buf_done(&m->data);
        m->next = q->messages;
        if (q->messages)
                q->messages->prev = m;
        q->messages = m;
        q->n_messages++;
        if (m->state.next_usec > now_realtime_usec()) {
                r = message_schedule(m);
                if (r < 0)
                        return log_error_errno(r, "Failed to schedule %s: %m", id);
        } else if (hold) {
                m->held = true;
                m->ready_next = q->held;
                q->held = m;
        } else
                message_make_ready(m);
        return 0;
}

/* A round of the group commit is done: the claimed messages may be attempted. */
static void on_durable(void *userdata) {
        Queue *q = userdata;

        while (q->held) {
                Message *m = q->held;

                q->held = m->ready_next;
                m->held = false;
                message_make_ready(m);
        }
        queue_pump(q);
}

/*
 * signed/new/ID appeared: claim it (deliver-commit.c), and hold it until
 * the claim is durable. Failures are logged, never returned: a handler
 * that fails disables its inotify source, and one odd name must not stop
 * deliver from claiming the rest.
 */
static int on_signed(const char *id, void *userdata) {
        Queue *q = userdata;

        if (commit_claim(q->commit, id) > 0)
                (void) queue_load(q, id, true);
        return 0;
}

static void queue_start_attempt(Queue *q, Message *m) {
        LogFields f = { .queue_id = m->id };
        char refusal[SPOOL_REFUSAL_MAX];
        int r;

        m->active = true;
        q->n_active++;
        m->attempt_start = now_realtime_usec();
        r = message_read(m, refusal);
        if (refusal[0])
                quarantine_refused(q, m->id, "queue file", refusal);
        if (r == -ENOENT || refusal[0]) {
                /* removed behind our back (pochtar delete), or replaced by
                 * what we refuse to read: forget it */
                message_unlink(m);
                q->n_active--;
                message_free(m);
                return;
        }
        if (r >= 0) {
                Envelope e = {};

                r = envelope_parse(m->data.data, m->data.len, &e, &m->body_offset, NULL);
                envelope_done(&e);
        }
        if (r >= 0)
                r = q->transport.attempt(m, q->transport.userdata);
        if (r < 0) {
                (void) log_msg_errno(LOG_ERR, r, &f, "Failed to start delivery attempt: %m");
                /* count as a deferral of every pending recipient */
                for (size_t i = 0; i < m->env.n_rcpts; i++)
                        if (m->state.rcpts[i].state == RCPT_PENDING || m->state.rcpts[i].state == RCPT_DEFERRED)
                                (void) dsn_set(&m->results[i], DELIVERY_DEFERRED, "4.3.0",
                                               "local error starting the attempt", false);
                queue_attempt_done(m);
        }
}

static void queue_pump(Queue *q) {
        /* an attempt may finish inside queue_start_attempt() (capture,
         * DNS failures) and call us again: the outer loop carries on, so
         * the stack does not grow with the queue */
        if (q->pumping)
                return;
        q->pumping = true;
        while (q->ready_head && q->n_active < DELIVER_ACTIVE_MAX) {
                Message *m = q->ready_head;

                q->ready_head = m->ready_next;
                if (!q->ready_head)
                        q->ready_tail = NULL;
                m->ready = false;
                queue_start_attempt(q, m);
        }
        q->pumping = false;
        queue_status(q);
}

static void log_result(const Message *m, size_t i, const Dsn *d, uint64_t now) {
        uint64_t delay = now > m->env.arrival_usec ? now - m->env.arrival_usec : 0;
        const char *status = delivery_status_to_string(d->status);
        LogFields f = {
                .message_id = LOG_ID_DELIVERY,
                .queue_id = m->id,
                .rcpt = m->env.rcpts[i].addr,
                .relay = d->relay ? d->relay : "none",
                .status = status,
                .dsn = d->code,
                .tls = d->tls,
        };

        log_msg(LOG_INFO, &f, "to=<%s>, relay=%s, delay=%" PRIu64 ".%" PRIu64 ", dsn=%s, status=%s (%s)",
                m->env.rcpts[i].addr, f.relay, delay / USEC_PER_SEC, delay % USEC_PER_SEC / 100000, d->code,
                status, strempty(d->diagnostic));
}

/* Publishes the notice of @kind the outcome @o owes about @m, if any; @rcpts has room for
 * every recipient. */
static int notify_sender(Queue *q, Message *m, const Outcome *o, BounceKind kind, BounceRcpt *rcpts,
                         uint64_t now) {
        char msgid[128], id[QUEUE_ID_LEN + 1], extra[64];
        size_t body_len, n = 0;
        const char *body = message_body(m, &body_len);
        const char *helo = q->cfg->deliver.helo_name;
        BounceInfo info = {
                .kind = kind,
                .reporting_mta = helo,
                .env = &m->env,
                .message = (const uint8_t *) body,
                .message_len = body_len,
                .rcpts = rcpts,
                .now_usec = now,
                .retry_until_usec = m->env.arrival_usec + q->retry.lifetime,
                .message_id = msgid,
                .size_max = (size_t) spool_message_max(q->cfg->receive.max_message_size, false),
        };
        LogFields f = { .queue_id = m->id };
        const char *what = kind == BOUNCE_FAILED ? "non-delivery" : kind == BOUNCE_DELAYED ? "delay" : "delivery";
        int r;

        /* in the order they were decided: this attempt's results, then the expired */
        for (int expired = 0; expired <= 1; expired++)
                for (size_t i = 0; i < o->n_rcpts; i++)
                        if (o->rcpts[i].notify && o->rcpts[i].notice == kind && o->rcpts[i].expired == expired)
                                rcpts[n++] = (BounceRcpt) { &m->env.rcpts[i], &m->results[i] };
        if (n == 0)
                return 0;
        info.n_rcpts = n;
        (void) snprintf(msgid, sizeof(msgid), "%s.%s.%" PRIu64 "@%s",
                        kind == BOUNCE_FAILED ? "bounce" : kind == BOUNCE_DELAYED ? "delay" : "success", m->id, now,
                        helo);
        r = bounce_publish(&q->incoming_dir, &info, id);
        if (r < 0)
                return log_msg_errno(LOG_ERR, r, &f, "Failed to write %s notification: %m", what);
        /* the notification is a message of its own: its ID links the two stories */
        (void) snprintf(extra, sizeof(extra), "POCHTAR_DSN_QUEUE_ID=%s", id);
        f.message_id = LOG_ID_BOUNCE;
        f.extra = extra;
        log_msg(LOG_INFO, &f, "sender %s notification: %s", what, id);
        return 0;
}

static void record(RcptRecord *rr, RcptState st, const Dsn *d) {
        rr->state = st;
        (void) snprintf(rr->code, sizeof(rr->code), "%s", d->code);
        free(rr->diagnostic);
        rr->diagnostic = d->diagnostic ? strdup(d->diagnostic) : NULL;
}

/**
 * queue_attempt_done() - the transport finished with @m: every recipient
 * it was given has a valid result. Decides the outcome (deliver-outcome.c),
 * logs it, sends the notifications, records it durably, and either
 * removes the message or schedules a retry. On an error writing the
 * record, the message stays queued with its old state and is retried
 * later (a duplicate is possible, a loss is not).
 */
void queue_attempt_done(Message *m) {
        Queue *q = m->queue;
        LogFields f = { .queue_id = m->id };
        size_t n = m->env.n_rcpts;
        _cleanup_free_ OutcomeRcpt *rcpts = calloc(n, sizeof(OutcomeRcpt));
        _cleanup_free_ BounceRcpt *notice = calloc(n, sizeof(BounceRcpt));
        uint64_t now = now_realtime_usec();
        OutcomeInput in = { .env = &m->env, .state = &m->state, .results = m->results, .retry = &q->retry,
                            .now = now };
        Outcome o;
        int r;

        if (rcpts && notice)
                outcome_classify(&in, rcpts, &o);
        else {
                (void) log_oom();
                /* nothing decided: the old state stands, and is tried again */
                o = (Outcome) { .attempts = m->state.attempts + 1, .warned = m->state.warned,
                                .next_usec = now + retry_delay(&q->retry, m->state.attempts + 1) };
        }
        for (size_t i = 0; i < o.n_rcpts; i++)
                if (o.rcpts[i].result)
                        log_result(m, i, &m->results[i], now);
        for (size_t i = 0; i < o.n_rcpts; i++)
                if (o.rcpts[i].expired) {
                        (void) outcome_expire(&m->results[i], o.rcpts[i].last_error);
                        log_result(m, i, &m->results[i], now);
                }

        /* notifications first: once the record says "bounced" we would
         * never write them again. A failure notice that cannot be written
         * leaves its recipients deferred, so the next attempt bounces
         * them again; a lost delay or success notice is only logged. */
        if (notify_sender(q, m, &o, BOUNCE_FAILED, notice, now) < 0)
                outcome_failure_notice_lost(&o, &in);
        (void) notify_sender(q, m, &o, BOUNCE_DELAYED, notice, now);
        (void) notify_sender(q, m, &o, BOUNCE_SUCCESS, notice, now);

        m->state.attempts = o.attempts;
        m->state.warned = o.warned;
        for (size_t i = 0; i < o.n_rcpts; i++)
                if (o.rcpts[i].result || o.rcpts[i].expired)
                        record(&m->state.rcpts[i], o.rcpts[i].state, &m->results[i]);
        r = 0;
        if (o.finished) {
                /* a state file exists only once an earlier attempt wrote one */
                r = commit_remove(q->commit, m->id, m->state.attempts > 1);
                if (r >= 0) {
                        f.message_id = LOG_ID_REMOVED;
                        log_msg(LOG_INFO, &f, "removed");
                        message_unlink(m);
                        q->n_active--;
                        message_free(m);
                        queue_pump(q);
                        return;
                }
        }
        if (r >= 0) {
                m->state.next_usec = o.next_usec;
                r = state_save(q, m);
        }
        if (r < 0) {
                (void) log_msg_errno(LOG_ERR, r, &f, "Failed to record delivery state, will retry: %m");
                m->state.next_usec = now + q->retry.min;
        }
        for (size_t i = 0; i < m->env.n_rcpts; i++)
                dsn_done(&m->results[i]);
        buf_done(&m->data);
        m->active = false;
        q->n_active--;
        r = message_schedule(m);
        if (r < 0)
                (void) log_msg_errno(LOG_ERR, r, &f, "Failed to schedule retry: %m");
        queue_pump(q);
}

void queue_flush(Queue *q, const char *id) {
        for (Message *m = q->messages; m; m = m->next) {
                if (id && !streq(m->id, id))
                        continue;
                if (!m->active && !m->ready && !m->held) {
                        if (m->timer && sd_event_source_get_enabled(m->timer, NULL) > 0)
                                q->n_deferred--;
                        message_make_ready(m);
                }
        }
        queue_pump(q);
}

static void on_flush_request(const char *id, void *userdata) {
        queue_flush(userdata, id);
}

static int open_dirs(Queue *q) {
        int r;

        r = spool_root_open(q->cfg->spool.dir, false, &q->root_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to open spool '%s': %m", q->cfg->spool.dir);
        /* the shared queues are systemd-tmpfiles' (spool_check_queues() ran) */
        r = spool_queue_open(q->root_fd, SPOOL_QUEUE_SIGNED, false, &q->signed_dir);
        if (r >= 0)
                r = spool_queue_open(q->root_fd, SPOOL_QUEUE_INCOMING, false, &q->incoming_dir);
        if (r >= 0)
                r = spool_queue_open(q->root_fd, SPOOL_QUEUE_QUARANTINE, false, &q->quarantine_dir);
        if (r < 0)
                return log_error_errno(r, "Failed to open spool queues in '%s': %m", q->cfg->spool.dir);
        /* deliver's own, made on first use */
        r = spool_queue_open(q->root_fd, SPOOL_QUEUE_DELIVER, true, &q->queue_dir);
        if (r >= 0)
                r = spool_queue_open(q->root_fd, SPOOL_QUEUE_DELIVER_STATE, true, &q->state_dir);
        if (r < 0)
                return log_error_errno(r, "Failed to open deliver's queue directories: %m");
        r = spool_owners_resolve(&q->owners);
        if (r < 0)
                return log_error_errno(r, "Failed to look up the stage users: %m");
        /* the files we read: sign's, claimed by a rename, and our own state */
        spool_dir_set_owners(&q->queue_dir, SPOOL_QUEUE_DELIVER, &q->owners);
        spool_dir_set_owners(&q->state_dir, SPOOL_QUEUE_DELIVER_STATE, &q->owners);
        return flush_watch_new(q->root_fd, on_flush_request, q, &q->flush);
}

int queue_new(sd_event *e, const Config *cfg, Queue **ret) {
        _cleanup_(queue_freep) Queue *q = NULL;
        int r;

        q = calloc(1, sizeof(*q));
        if (!q)
                return log_oom();
        q->event = sd_event_ref(e);
        q->cfg = cfg;
        q->root_fd = -EBADF;
        q->signed_dir = q->incoming_dir = q->quarantine_dir = q->queue_dir = q->state_dir = SPOOL_DIR_NULL;
        q->retry = (RetryPolicy) {
                .min = cfg->deliver.retry_min,
                .max = cfg->deliver.retry_max,
                .lifetime = cfg->deliver.max_queue_lifetime,
                .warning = cfg->deliver.delay_warning,
        };
        r = open_dirs(q);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(q);
        return 0;
}

void queue_set_transport(Queue *q, const Transport *t) {
        q->transport = *t;
}

int queue_start(Queue *q) {
        char **ids = NULL;
        size_t n = 0;
        unsigned removed = 0;
        int r;

        r = spool_clean_tmp(&q->state_dir, DELIVER_STAGE, &removed);
        if (r >= 0)
                r = spool_clean_tmp(&q->incoming_dir, DELIVER_STAGE, &removed);
        if (r >= 0)
                r = spool_clean_tmp(&q->quarantine_dir, DELIVER_STAGE, &removed);
        if (r >= 0)     /* files a crash caught between giving them back and handing them over */
                r = spool_spare_clean_given(&q->queue_dir, &removed);
        if (r < 0)
                log_warning_errno(r, "Failed to clean leftover temporary files, ignoring: %m");
        r = spool_scan_new(&q->queue_dir, &ids, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to scan deliver's queue: %m");
        for (size_t i = 0; i < n && r >= 0; i++)
                r = queue_load(q, ids[i], false);
        spool_ids_free(ids, n);
        if (r < 0)
                return r;
        r = commit_new(q->event, &q->signed_dir, &q->queue_dir, &q->state_dir, on_durable, q, &q->commit);
        if (r < 0)
                return r;
        r = spool_watch_new(q->event, &q->signed_dir, on_signed, q, &q->watch);
        if (r < 0)
                return log_error_errno(r, "Failed to watch signed/new: %m");
        r = spool_watch_rescan(q->watch);
        if (r < 0)
                return r;
        r = flush_watch_start(q->flush, q->event);
        if (r < 0)
                return r;
        log_info("queue loaded: %u messages", q->n_messages);
        queue_pump(q);
        return 0;
}

Queue *queue_free(Queue *q) {
        if (!q)
                return NULL;
        while (q->messages) {
                Message *m = q->messages;

                message_unlink(m);
                message_free(m);
        }
        q->held = NULL;         /* those were in q->messages too */
        commit_free(q->commit);
        spool_watch_free(q->watch);
        flush_watch_free(q->flush);
        spool_dir_done(&q->signed_dir);
        spool_dir_done(&q->incoming_dir);
        spool_dir_done(&q->quarantine_dir);
        spool_dir_done(&q->queue_dir);
        spool_dir_done(&q->state_dir);
        safe_close(q->root_fd);
        sd_event_unref(q->event);
        free(q);
        return NULL;
}
