/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A reader of deliver's per-recipient state files (deliver/state/new/ID,
 * "State file format (version 1)" in docs/spool-format.md), for
 * `pochtar queue`: what happened to each recipient, the last error and
 * the next retry. Read-only and strict: a file that breaks the documented
 * format is reported as damaged, never guessed at. Pure: no I/O.
 */
#define DELIVER_STATUS_MAGIC "pochtar-deliver-state"
#define DELIVER_STATUS_VERSION 1
/* deliver's own bound on a state file (DELIVER_STATE_MAX) */
#define DELIVER_STATUS_MAX (4 * 1024 * 1024)
/* What we keep of one diagnostic for display */
#define DELIVER_DIAGNOSTIC_MAX 512

typedef enum RcptStatusKind {
        RCPT_STATUS_PENDING = 0,        /* no line: not tried yet */
        RCPT_STATUS_SENT,
        RCPT_STATUS_BOUNCED,
        RCPT_STATUS_DEFERRED,
        _RCPT_STATUS_MAX,
} RcptStatusKind;

typedef struct RcptStatus {
        RcptStatusKind kind;
        char code[sizeof("5.999.999")]; /* RFC 3463, or "" */
        char *diagnostic;               /* censored, or NULL */
} RcptStatus;

typedef struct DeliverStatus {
        unsigned attempts;
        uint64_t next_usec;
        bool warned;
        RcptStatus *rcpts;
        size_t n_rcpts;
} DeliverStatus;

/* Parses @p for a message with @n_rcpts recipients: 0, -EBADMSG, or
 * -EPROTONOSUPPORT for another version. */
int deliver_status_parse(const uint8_t *p, size_t n, size_t n_rcpts, DeliverStatus *ret);
void deliver_status_done(DeliverStatus *s);
const char *rcpt_status_to_string(RcptStatusKind k);
