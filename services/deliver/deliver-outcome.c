/* SPDX-License-Identifier: MIT */
/*
 * The outcome of a delivery attempt (deliver-outcome.h): each recipient's
 * result of this attempt, then the message's lifetime and delay warning
 * over those still pending. Which notices the sender wants is
 * bounce_wanted()'s rule (deliver-bounce.c); the schedule is
 * deliver-retry.c's.
 */
#include "services/deliver/deliver-outcome.h"
#include "shared/limits.h"
#include "shared/macro.h"

static void owe_notice(OutcomeRcpt *o, const Envelope *env, size_t i, BounceKind kind) {
        if (bounce_wanted(env, &env->rcpts[i], kind)) {
                o->notify = true;
                o->notice = kind;
        }
}

void outcome_classify(const OutcomeInput *in, OutcomeRcpt *rcpts, Outcome *out) {
        const Envelope *env = in->env;
        size_t n = env->n_rcpts;
        bool pending = false;
        uint64_t next = 0;

        *out = (Outcome) {
                .rcpts = rcpts,
                .n_rcpts = n,
                .attempts = in->state->attempts + 1,
                .warned = in->state->warned,
        };
        for (size_t i = 0; i < n; i++) {
                const Dsn *d = &in->results[i];
                OutcomeRcpt *o = &rcpts[i];

                *o = (OutcomeRcpt) { .state = in->state->rcpts[i].state };
                if (o->state == RCPT_SENT || o->state == RCPT_BOUNCED)
                        continue;
                if (!d->valid) {
                        pending = true;
                        continue;
                }
                o->result = true;
                switch (d->status) {
                case DELIVERY_SENT:
                        o->state = RCPT_SENT;
                        /* RFC 3461 §5.2.2: a hop without DSN leaves the success notice to us */
                        if (!d->dsn_passed)
                                owe_notice(o, env, i, BOUNCE_SUCCESS);
                        break;
                case DELIVERY_BOUNCED:
                        o->state = RCPT_BOUNCED;
                        owe_notice(o, env, i, BOUNCE_FAILED);
                        break;
                default:
                        o->state = RCPT_DEFERRED;
                        pending = true;
                }
        }
        if (pending && retry_next(in->retry, env->arrival_usec, in->now, out->attempts, &next) == RETRY_EXPIRED) {
                for (size_t i = 0; i < n; i++) {
                        OutcomeRcpt *o = &rcpts[i];

                        if (o->state != RCPT_DEFERRED && o->state != RCPT_PENDING)
                                continue;
                        o->expired = true;
                        o->last_error = o->result ? in->results[i].diagnostic : in->state->rcpts[i].diagnostic;
                        o->state = RCPT_BOUNCED;
                        owe_notice(o, env, i, BOUNCE_FAILED);
                }
                pending = false;
        } else if (pending && retry_warn_due(in->retry, env->arrival_usec, in->now, out->warned)) {
                /* about the recipients this attempt deferred; once, wanted or not */
                for (size_t i = 0; i < n; i++)
                        if (rcpts[i].result && rcpts[i].state == RCPT_DEFERRED)
                                owe_notice(&rcpts[i], env, i, BOUNCE_DELAYED);
                out->warned = true;
        }
        out->finished = !pending;
        out->scheduled = next != 0;
        out->next_usec = next ? next : in->now + retry_delay(in->retry, out->attempts);
}

void outcome_failure_notice_lost(Outcome *o, const OutcomeInput *in) {
        for (size_t i = 0; i < o->n_rcpts; i++)
                if (o->rcpts[i].notify && o->rcpts[i].notice == BOUNCE_FAILED)
                        o->rcpts[i].state = RCPT_DEFERRED;
        o->finished = false;
        if (!o->scheduled)
                o->next_usec = in->now + in->retry->min;
}

int outcome_expire(Dsn *d, const char *last_error) {
        char diag[SMTP_REPLY_LINE_MAX * 3];

        /* @last_error may be @d's own diagnostic, which dsn_set() frees */
        (void) snprintf(diag, sizeof(diag), "delivery time expired; last error: %s",
                        last_error ? last_error : "none");
        return dsn_set(d, DELIVERY_BOUNCED, "5.4.7", diag, false);
}
