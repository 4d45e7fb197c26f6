/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "services/deliver/deliver-bounce.h"
#include "services/deliver/deliver-dsn.h"
#include "services/deliver/deliver-retry.h"
#include "shared/deliver-state.h"
#include "shared/envelope.h"

/*
 * The outcome of a delivery attempt, decided without I/O: what each
 * recipient becomes, which notices the sender is owed, and whether the
 * message is finished or when it is tried next. The queue
 * (queue_attempt_done()) records it, writes the notices and logs.
 */
typedef struct OutcomeInput {
        const Envelope *env;            /* NOTIFY per recipient, sender, kind, arrival */
        const DeliverState *state;      /* before the attempt */
        const Dsn *results;             /* this attempt's, per recipient; valid if set in it */
        const RetryPolicy *retry;       /* the schedule and the lifetimes */
        uint64_t now;                   /* µs, CLOCK_REALTIME */
} OutcomeInput;

typedef struct OutcomeRcpt {
        RcptState state;                /* after the attempt */
        bool result;                    /* this attempt's result is recorded (and logged) */
        /* then bounced 5.4.7 (outcome_expire()): still pending at
         * max_queue_lifetime. @last_error is why it stayed pending, the
         * diagnostic of its result or else of its state (the input's), or
         * NULL */
        bool expired;
        const char *last_error;
        bool notify;                    /* the sender is owed a notice of @notice about it */
        BounceKind notice;
} OutcomeRcpt;

typedef struct Outcome {
        OutcomeRcpt *rcpts;             /* the caller's array, one per recipient */
        size_t n_rcpts;
        unsigned attempts;
        bool warned;                    /* the delay warning is out (or was not wanted) */
        bool finished;                  /* no recipient pending: remove the message */
        /* when it is tried next if it stays: the retry schedule's time
         * (@scheduled), else one back-off interval from now */
        uint64_t next_usec;
        bool scheduled;
} Outcome;

/* Decides @in's attempt into @out, whose rcpts holds in->env->n_rcpts entries. */
void outcome_classify(const OutcomeInput *in, OutcomeRcpt *rcpts, Outcome *out);
/* The failure notice could not be written: its recipients stay deferred,
 * so the next attempt bounces them again, at least retry_min from now. */
void outcome_failure_notice_lost(Outcome *o, const OutcomeInput *in);
/* @d becomes the bounce of a recipient that expired after @last_error. */
int outcome_expire(Dsn *d, const char *last_error);
