/* SPDX-License-Identifier: MIT */
/*
 * What an attempt's results come to: each recipient's new state, the
 * notices owed (NOTIFY, never to <> or about a notice), expiry at
 * max_queue_lifetime, the delay warning once, and the next attempt.
 */
#include "services/deliver/deliver-outcome.h"
#include "shared/macro.h"
#include "shared/tests.h"

#define SEC USEC_PER_SEC
#define HOUR (3600 * SEC)
#define ARRIVAL UINT64_C(1764300000000000)
#define MAX_RCPTS 4

/* zero is "none", so a table entry names only what it has */
enum { R_NONE, R_SENT, R_BOUNCED, R_DEFERRED };
enum { N_NONE, N_FAILED, N_DELAYED, N_SUCCESS };
static const DeliveryStatus result_status[] = {
        [R_SENT] = DELIVERY_SENT, [R_BOUNCED] = DELIVERY_BOUNCED, [R_DEFERRED] = DELIVERY_DEFERRED,
};
static const BounceKind notice_kind[] = {
        [N_FAILED] = BOUNCE_FAILED, [N_DELAYED] = BOUNCE_DELAYED, [N_SUCCESS] = BOUNCE_SUCCESS,
};

/* retry_min 5 min doubling to 1 h, max_queue_lifetime 5 days, delay_warning 4 h */
static const RetryPolicy policy = { .min = 300 * SEC, .max = HOUR, .lifetime = 120 * HOUR, .warning = 4 * HOUR };

typedef struct RcptCase {
        unsigned notify;
        RcptState before;
        const char *before_diag;
        int result;                     /* R_*: this attempt's, or none */
        bool dsn_passed, final;
        const char *diag;
        /* wanted */
        RcptState after;
        bool recorded, expired;
        int notice;                     /* N_*: the notice owed about it */
        const char *last_error;
} RcptCase;

typedef struct Case {
        const char *name;
        const char *sender;
        EnvelopeKind kind;
        uint64_t age;                   /* now - arrival */
        unsigned attempts;              /* before */
        bool warned;                    /* before */
        bool notice_lost;               /* the failure notice cannot be written */
        size_t n;
        RcptCase rcpts[MAX_RCPTS];
        /* wanted */
        bool finished, warned_after, scheduled;
        uint64_t next_in;               /* next_usec - now */
} Case;

static const Case cases[] = {
        {
                .name = "all sent", .n = 2,
                .rcpts = {
                        { .result = R_SENT, .after = RCPT_SENT, .recorded = true },
                        { .result = R_SENT, .notify = DSN_NOTIFY_FAILURE, .after = RCPT_SENT,
                          .recorded = true },
                },
                .finished = true, .next_in = 300 * SEC,
        },
        {
                .name = "bounced without NOTIFY: a failure notice (RFC 3461 §4.1)", .n = 1,
                .rcpts = {
                        { .result = R_BOUNCED, .after = RCPT_BOUNCED, .recorded = true, .notice = N_FAILED },
                },
                .finished = true, .next_in = 300 * SEC,
        },
        {
                .name = "bounced with NOTIFY=NEVER", .n = 1,
                .rcpts = {
                        { .result = R_BOUNCED, .notify = DSN_NOTIFY_NEVER, .after = RCPT_BOUNCED,
                          .recorded = true },
                },
                .finished = true, .next_in = 300 * SEC,
        },
        {
                .name = "bounced with NOTIFY=SUCCESS", .n = 1,
                .rcpts = {
                        { .result = R_BOUNCED, .notify = DSN_NOTIFY_SUCCESS, .after = RCPT_BOUNCED,
                          .recorded = true },
                },
                .finished = true, .next_in = 300 * SEC,
        },
        {
                .name = "bounced with NOTIFY=FAILURE", .n = 1,
                .rcpts = {
                        { .result = R_BOUNCED, .notify = DSN_NOTIFY_FAILURE, .after = RCPT_BOUNCED,
                          .recorded = true, .notice = N_FAILED },
                },
                .finished = true, .next_in = 300 * SEC,
        },
        {
                .name = "bounced with NOTIFY=DELAY", .n = 1,
                .rcpts = {
                        { .result = R_BOUNCED, .notify = DSN_NOTIFY_DELAY, .after = RCPT_BOUNCED,
                          .recorded = true },
                },
                .finished = true, .next_in = 300 * SEC,
        },
        {
                .name = "bounced with NOTIFY=SUCCESS,FAILURE", .n = 1,
                .rcpts = {
                        { .result = R_BOUNCED, .notify = DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE,
                          .after = RCPT_BOUNCED, .recorded = true, .notice = N_FAILED },
                },
                .finished = true, .next_in = 300 * SEC,
        },
        {
                .name = "deferred before max_queue_lifetime: the back-off", .age = 60 * SEC, .n = 1,
                .rcpts = {
                        { .result = R_DEFERRED, .diag = "451 4.4.1 later", .after = RCPT_DEFERRED,
                          .recorded = true },
                },
                .scheduled = true, .next_in = 300 * SEC,
        },
        {
                .name = "deferred again: the back-off doubles", .age = HOUR, .attempts = 2, .n = 1,
                .rcpts = {
                        { .result = R_DEFERRED, .before = RCPT_DEFERRED, .after = RCPT_DEFERRED,
                          .recorded = true },
                },
                .scheduled = true, .next_in = 1200 * SEC,
        },
        {
                .name = "deferred near the end: one last attempt at max_queue_lifetime",
                .age = 120 * HOUR - 60 * SEC, .attempts = 50, .warned = true, .n = 1,
                .rcpts = {
                        { .result = R_DEFERRED, .before = RCPT_DEFERRED, .after = RCPT_DEFERRED,
                          .recorded = true },
                },
                .warned_after = true, .scheduled = true, .next_in = 60 * SEC,
        },
        {
                .name = "deferred at max_queue_lifetime: expired, bounced 5.4.7 after this attempt's error",
                .age = 120 * HOUR, .attempts = 51, .warned = true, .n = 1,
                .rcpts = {
                        { .result = R_DEFERRED, .before = RCPT_DEFERRED, .before_diag = "old",
                          .diag = "451 4.4.1 later", .after = RCPT_BOUNCED, .recorded = true, .expired = true,
                          .notice = N_FAILED, .last_error = "451 4.4.1 later" },
                },
                .finished = true, .warned_after = true, .next_in = HOUR,
        },
        {
                .name = "no result at max_queue_lifetime: expired after the state's error",
                .age = 121 * HOUR, .attempts = 51, .warned = true, .n = 1,
                .rcpts = {
                        { .before = RCPT_DEFERRED, .before_diag = "old", .after = RCPT_BOUNCED,
                          .expired = true, .notice = N_FAILED, .last_error = "old" },
                },
                .finished = true, .warned_after = true, .next_in = HOUR,
        },
        {
                .name = "never tried at max_queue_lifetime: expired, no error to tell",
                .age = 120 * HOUR, .n = 1,
                .rcpts = {
                        { .after = RCPT_BOUNCED, .expired = true, .notice = N_FAILED },
                },
                .finished = true, .next_in = 300 * SEC,
        },
        {
                .name = "expired with NOTIFY=NEVER: bounced, no notice", .age = 120 * HOUR, .attempts = 51,
                .warned = true, .n = 1,
                .rcpts = {
                        { .result = R_DEFERRED, .notify = DSN_NOTIFY_NEVER, .after = RCPT_BOUNCED,
                          .recorded = true, .expired = true },
                },
                .finished = true, .warned_after = true, .next_in = HOUR,
        },
        {
                .name = "expired with NOTIFY=DELAY: bounced, no notice", .age = 120 * HOUR, .attempts = 51,
                .warned = true, .n = 1,
                .rcpts = {
                        { .result = R_DEFERRED, .notify = DSN_NOTIFY_DELAY, .after = RCPT_BOUNCED,
                          .recorded = true, .expired = true },
                },
                .finished = true, .warned_after = true, .next_in = HOUR,
        },
        {
                .name = "before delay_warning: no warning", .age = 4 * HOUR - 1, .attempts = 5, .n = 1,
                .rcpts = {
                        { .result = R_DEFERRED, .after = RCPT_DEFERRED, .recorded = true },
                },
                .scheduled = true, .next_in = HOUR,
        },
        {
                .name = "after delay_warning: a delay notice", .age = 4 * HOUR, .attempts = 5, .n = 1,
                .rcpts = {
                        { .result = R_DEFERRED, .after = RCPT_DEFERRED, .recorded = true,
                          .notice = N_DELAYED },
                },
                .warned_after = true, .scheduled = true, .next_in = HOUR,
        },
        {
                .name = "after delay_warning, warned already: never twice", .age = 5 * HOUR, .attempts = 6,
                .warned = true, .n = 1,
                .rcpts = {
                        { .result = R_DEFERRED, .after = RCPT_DEFERRED, .recorded = true },
                },
                .warned_after = true, .scheduled = true, .next_in = HOUR,
        },
        {
                .name = "delay warning with NOTIFY=DELAY", .age = 4 * HOUR, .attempts = 5, .n = 1,
                .rcpts = {
                        { .result = R_DEFERRED, .notify = DSN_NOTIFY_DELAY, .after = RCPT_DEFERRED,
                          .recorded = true, .notice = N_DELAYED },
                },
                .warned_after = true, .scheduled = true, .next_in = HOUR,
        },
        {
                .name = "delay warning with NOTIFY=FAILURE: none, and none later", .age = 4 * HOUR,
                .attempts = 5, .n = 1,
                .rcpts = {
                        { .result = R_DEFERRED, .notify = DSN_NOTIFY_FAILURE, .after = RCPT_DEFERRED,
                          .recorded = true },
                },
                .warned_after = true, .scheduled = true, .next_in = HOUR,
        },
        {
                .name = "delay warning about the recipients deferred in this attempt only", .age = 4 * HOUR,
                .attempts = 5, .n = 3,
                .rcpts = {
                        { .result = R_DEFERRED, .after = RCPT_DEFERRED, .recorded = true,
                          .notice = N_DELAYED },
                        { .before = RCPT_DEFERRED, .after = RCPT_DEFERRED },
                        { .result = R_SENT, .after = RCPT_SENT, .recorded = true },
                },
                .warned_after = true, .scheduled = true, .next_in = HOUR,
        },
        {
                .name = "sent with NOTIFY=SUCCESS to a hop without DSN: relayed notice", .n = 1,
                .rcpts = {
                        { .result = R_SENT, .notify = DSN_NOTIFY_SUCCESS, .after = RCPT_SENT, .recorded = true,
                          .notice = N_SUCCESS },
                },
                .finished = true, .next_in = 300 * SEC,
        },
        {
                .name = "sent with NOTIFY=SUCCESS to a hop that took NOTIFY: no notice", .n = 1,
                .rcpts = {
                        { .result = R_SENT, .notify = DSN_NOTIFY_SUCCESS, .dsn_passed = true,
                          .after = RCPT_SENT, .recorded = true },
                },
                .finished = true, .next_in = 300 * SEC,
        },
        {
                .name = "delivered with NOTIFY=SUCCESS into a mailbox: delivered notice", .n = 1,
                .rcpts = {
                        { .result = R_SENT, .notify = DSN_NOTIFY_SUCCESS, .final = true, .after = RCPT_SENT,
                          .recorded = true, .notice = N_SUCCESS },
                },
                .finished = true, .next_in = 300 * SEC,
        },
        {
                .name = "null sender: no notice of any kind", .sender = "", .age = 4 * HOUR, .attempts = 5, .n = 3,
                .rcpts = {
                        { .result = R_SENT, .notify = DSN_NOTIFY_SUCCESS, .after = RCPT_SENT,
                          .recorded = true },
                        { .result = R_BOUNCED, .notify = DSN_NOTIFY_FAILURE, .after = RCPT_BOUNCED,
                          .recorded = true },
                        { .result = R_DEFERRED, .notify = DSN_NOTIFY_DELAY, .after = RCPT_DEFERRED,
                          .recorded = true },
                },
                .warned_after = true, .scheduled = true, .next_in = HOUR,
        },
        {
                .name = "null sender, expired: bounced, no notice", .sender = "", .age = 120 * HOUR, .n = 1,
                .rcpts = {
                        { .result = R_DEFERRED, .after = RCPT_BOUNCED, .recorded = true, .expired = true },
                },
                .finished = true, .next_in = 300 * SEC,
        },
        {
                .name = "a notification: no notice of any kind", .kind = ENVELOPE_KIND_DSN, .age = 4 * HOUR,
                .attempts = 5, .n = 3,
                .rcpts = {
                        { .result = R_SENT, .notify = DSN_NOTIFY_SUCCESS, .after = RCPT_SENT,
                          .recorded = true },
                        { .result = R_BOUNCED, .notify = DSN_NOTIFY_FAILURE, .after = RCPT_BOUNCED,
                          .recorded = true },
                        { .result = R_DEFERRED, .notify = DSN_NOTIFY_DELAY, .after = RCPT_DEFERRED,
                          .recorded = true },
                },
                .warned_after = true, .scheduled = true, .next_in = HOUR,
        },
        {
                .name = "mixed: what was decided stays, the rest is decided, one stays pending",
                .age = 600 * SEC, .attempts = 1, .n = 4,
                .rcpts = {
                        { .result = R_BOUNCED, .before = RCPT_SENT, .after = RCPT_SENT },
                        { .result = R_SENT, .before = RCPT_DEFERRED, .after = RCPT_SENT, .recorded = true },
                        { .result = R_BOUNCED, .after = RCPT_BOUNCED, .recorded = true, .notice = N_FAILED },
                        { .result = R_DEFERRED, .notify = DSN_NOTIFY_NEVER, .after = RCPT_DEFERRED,
                          .recorded = true },
                },
                .scheduled = true, .next_in = 600 * SEC,
        },
        {
                .name = "decided before: a result of this attempt changes nothing", .attempts = 2, .n = 2,
                .rcpts = {
                        { .result = R_SENT, .notify = DSN_NOTIFY_SUCCESS, .before = RCPT_BOUNCED,
                          .after = RCPT_BOUNCED },
                        { .result = R_DEFERRED, .before = RCPT_SENT, .after = RCPT_SENT },
                },
                .finished = true, .next_in = 1200 * SEC,
        },
        {
                .name = "mixed: one bounced already, one pending without a result", .attempts = 3, .n = 2,
                .rcpts = {
                        { .before = RCPT_BOUNCED, .after = RCPT_BOUNCED },
                        { .before = RCPT_PENDING },
                },
                .scheduled = true, .next_in = 2400 * SEC,
        },
        {
                .name = "mixed at max_queue_lifetime: bounced now and expired both owe a failure notice",
                .age = 120 * HOUR, .attempts = 51, .warned = true, .n = 3,
                .rcpts = {
                        { .result = R_DEFERRED, .diag = "421 busy", .after = RCPT_BOUNCED, .recorded = true,
                          .expired = true, .notice = N_FAILED, .last_error = "421 busy" },
                        { .result = R_BOUNCED, .after = RCPT_BOUNCED, .recorded = true, .notice = N_FAILED },
                        { .result = R_SENT, .notify = DSN_NOTIFY_SUCCESS, .after = RCPT_SENT, .recorded = true,
                          .notice = N_SUCCESS },
                },
                .finished = true, .warned_after = true, .next_in = HOUR,
        },
        {
                .name = "failure notice lost: its recipients stay deferred, tried again after retry_min",
                .notice_lost = true, .n = 3,
                .rcpts = {
                        { .result = R_BOUNCED, .after = RCPT_DEFERRED, .recorded = true, .notice = N_FAILED },
                        { .result = R_BOUNCED, .notify = DSN_NOTIFY_NEVER, .after = RCPT_BOUNCED,
                          .recorded = true },
                        { .result = R_SENT, .after = RCPT_SENT, .recorded = true },
                },
                .next_in = 300 * SEC,
        },
        {
                .name = "failure notice lost after the back-off grew: retry_min, not the back-off",
                .notice_lost = true, .age = 5 * HOUR, .attempts = 8, .warned = true, .n = 1,
                .rcpts = {
                        { .result = R_BOUNCED, .before = RCPT_DEFERRED, .after = RCPT_DEFERRED,
                          .recorded = true, .notice = N_FAILED },
                },
                .warned_after = true, .next_in = 300 * SEC,
        },
        {
                .name = "failure notice lost while others wait: the schedule stands", .notice_lost = true,
                .age = 600 * SEC, .attempts = 1, .n = 2,
                .rcpts = {
                        { .result = R_BOUNCED, .after = RCPT_DEFERRED, .recorded = true, .notice = N_FAILED },
                        { .result = R_DEFERRED, .after = RCPT_DEFERRED, .recorded = true },
                },
                .scheduled = true, .next_in = 600 * SEC,
        },
};

static void run(const Case *c) {
        Envelope env = { .id = "0KQ3M5Z7A8B2C4D6", .arrival_usec = ARRIVAL, .kind = c->kind };
        DeliverState state;
        Dsn results[MAX_RCPTS] = {};
        OutcomeRcpt rcpts[MAX_RCPTS];
        OutcomeInput in = { .env = &env, .state = &state, .results = results, .retry = &policy,
                            .now = ARRIVAL + c->age };
        Outcome o;

        fprintf(stderr, "%s\n", c->name);
        env.sender = strdup(c->sender ? c->sender : "app@example.com");
        ASSERT_TRUE(env.sender);
        ASSERT_OK(deliver_state_init(&state, c->n));
        state.attempts = c->attempts;
        state.warned = c->warned;
        for (size_t i = 0; i < c->n; i++) {
                const RcptCase *rc = &c->rcpts[i];
                char addr[64];

                (void) snprintf(addr, sizeof(addr), "rcpt%zu@example.org", i);
                ASSERT_OK(envelope_add_rcpt(&env, addr, NULL, rc->notify));
                state.rcpts[i].state = rc->before;
                if (rc->before_diag)
                        ASSERT_TRUE(state.rcpts[i].diagnostic = strdup(rc->before_diag));
                if (rc->result != R_NONE) {
                        ASSERT_OK(dsn_set(&results[i], result_status[rc->result],
                                          rc->result == R_SENT ? "2.0.0" : "4.0.0", rc->diag, true));
                        results[i].dsn_passed = rc->dsn_passed;
                        results[i].final = rc->final;
                }
        }

        outcome_classify(&in, rcpts, &o);
        if (c->notice_lost)
                outcome_failure_notice_lost(&o, &in);

        ASSERT_TRUE(o.rcpts == rcpts);
        ASSERT_EQ(o.n_rcpts, c->n);
        ASSERT_EQ(o.attempts, c->attempts + 1);
        ASSERT_EQ(o.warned, c->warned_after);
        ASSERT_EQ(o.finished, c->finished);
        ASSERT_EQ(o.scheduled, c->scheduled);
        ASSERT_EQ(o.next_usec, in.now + c->next_in);
        for (size_t i = 0; i < c->n; i++) {
                const RcptCase *rc = &c->rcpts[i];
                const OutcomeRcpt *r = &rcpts[i];

                fprintf(stderr, "  rcpt %zu\n", i);
                ASSERT_EQ(r->state, rc->after);
                ASSERT_EQ(r->result, rc->recorded);
                ASSERT_EQ(r->expired, rc->expired);
                ASSERT_EQ(r->notify, rc->notice != N_NONE);
                if (r->notify)
                        ASSERT_EQ(r->notice, notice_kind[rc->notice]);
                if (rc->last_error)
                        ASSERT_STREQ(r->last_error, rc->last_error);
                else
                        ASSERT_TRUE(!r->last_error);
        }

        for (size_t i = 0; i < c->n; i++)
                dsn_done(&results[i]);
        deliver_state_done(&state);
        envelope_done(&env);
}

/* The bounce an expired recipient gets, also when the last error is the
 * result's own diagnostic, which it replaces. */
static void test_expire(void) {
        Dsn d = {};

        ASSERT_OK(dsn_set(&d, DELIVERY_DEFERRED, "4.4.1", "451 4.4.1 no answer", true));
        d.relay = strdup("mx.example.org[203.0.113.25]:25");
        ASSERT_OK(outcome_expire(&d, d.diagnostic));
        ASSERT_EQ(d.status, DELIVERY_BOUNCED);
        ASSERT_STREQ(d.code, "5.4.7");
        ASSERT_STREQ(d.diagnostic, "delivery time expired; last error: 451 4.4.1 no answer");
        ASSERT_TRUE(!d.remote);
        ASSERT_TRUE(d.valid);
        ASSERT_STREQ(d.relay, "mx.example.org[203.0.113.25]:25");
        ASSERT_OK(outcome_expire(&d, NULL));
        ASSERT_STREQ(d.diagnostic, "delivery time expired; last error: none");
        dsn_done(&d);
}

int main(void) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                run(&cases[i]);
        test_expire();
        return 0;
}
