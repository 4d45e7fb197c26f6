/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"

/*
 * deliver's durable per-message state, deliver/state/new/ID: how many
 * attempts were made, when the next one is due, whether the delay
 * warning went out, and each recipient that is no longer pending (sent,
 * bounced) or was deferred, with its last code and censored diagnostic.
 * The format is in docs/spool-format.md; these are its only writer and
 * reader, used by deliver and by `pochtar queue`. Pure: no I/O.
 */
#define DELIVER_STATE_MAGIC "pochtar-deliver-state"
#define DELIVER_STATE_VERSION 1
/* A state line per recipient, each at most a code and a bounded reply. */
#define DELIVER_STATE_MAX (4 * 1024 * 1024)

typedef enum RcptState {
        RCPT_PENDING = 0,
        RCPT_SENT,
        RCPT_BOUNCED,
        RCPT_DEFERRED,          /* still pending; last attempt's reason kept for `pochtar queue` */
} RcptState;

typedef struct RcptRecord {
        RcptState state;
        char code[sizeof("5.999.999")];
        char *diagnostic;       /* censored, or NULL */
} RcptRecord;

typedef struct DeliverState {
        unsigned attempts;
        uint64_t next_usec;     /* CLOCK_REALTIME µs of the next attempt; 0: due now */
        bool warned;            /* delay warning DSN sent */
        RcptRecord *rcpts;
        size_t n_rcpts;
} DeliverState;

const char *rcpt_state_to_string(RcptState s);
/* Well-formed RFC 3463 code "C.S.D" with class 2, 4 or 5, within bounds. */
bool dsn_code_valid(const char *p, size_t n);

int deliver_state_init(DeliverState *s, size_t n_rcpts);
void deliver_state_done(DeliverState *s);
int deliver_state_format(const DeliverState *s, Buf *out);
/* Parses over an initialised state for @s->n_rcpts recipients; -EBADMSG if
 * malformed, and then @s holds a partial result to deliver_state_done(). */
int deliver_state_parse(const uint8_t *p, size_t n, DeliverState *s);
bool deliver_state_done_all(const DeliverState *s);
