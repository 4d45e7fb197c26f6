/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/deliver-state.h"
#include "shared/envelope.h"
#include "shared/queue-id.h"
#include "shared/spool.h"

/*
 * Every message in the spool, wherever it is: incoming/, signed/,
 * deliver's queue, hold/ and quarantine/. The scanner reads only each
 * file's envelope (at most ENVELOPE_MAX bytes) and never trusts it: a file
 * that does not parse is listed with the reason, not skipped and not
 * fatal. Used by `pochtar queue`, `status` and `metrics`.
 */

/* Where a message can be, in pipeline order. */
typedef enum QueueWhere {
        WHERE_INCOMING,
        WHERE_SIGNED,
        WHERE_DELIVER,          /* deliver/queue: claimed by deliver, pending or deferred */
        WHERE_HOLD_INCOMING,    /* hold/incoming: held by the admin, came from incoming/ */
        WHERE_HOLD_SIGNED,
        WHERE_QUARANTINE,
        _WHERE_MAX,
} QueueWhere;

/* A quarantine reason is one line written by a stage; we show this much. */
#define QUARANTINE_REASON_MAX 4096
/* What we show of one recipient's diagnostic from deliver's state file */
#define DELIVER_DIAGNOSTIC_MAX 512

typedef struct QueueEntry {
        QueueWhere where;
        char id[QUEUE_ID_LEN + 1];
        uint64_t size;
        uint64_t mtime_usec;            /* when it entered this queue */
        Envelope env;
        int error;                      /* 0, or why env is empty: -EBADMSG, -EPROTONOSUPPORT, -errno
                                         * (a refusal when refusal is set) */
        unsigned error_line;            /* for -EBADMSG */
        char *refusal;                  /* why the file was not opened (a FIFO, a link, ...), or NULL */
        char *reason;                   /* quarantine: the stage's reason, censored */
        bool has_state;                 /* deliver: a per-recipient state file exists */
        DeliverState state;             /* … and what it says, if it parsed (diagnostics censored) */
        int status_error;               /* 0, or why it did not */
        char *state_refusal;            /* why the state file was not opened, or NULL */
} QueueEntry;

typedef struct QueueList {
        QueueEntry *entries;
        size_t n;
} QueueList;

/* The queue's name as the listing and --json show it: "incoming", "hold", … */
const char *queue_where_to_string(QueueWhere w);
/* For held messages, the queue release returns them to; else NULL. */
const char *queue_where_held_from(QueueWhere w);
/* The directory path under the spool root: "hold/signed", "deliver/queue", … */
const char *queue_where_path(QueueWhere w);

/* Opens a place's queue under the spool root (hold/ is made on first use). */
int queue_where_open(int root_fd, QueueWhere w, bool create, SpoolDir *ret);

/* Scans every queue under @root_fd; with @envelopes false, files are only
 * stat()ed (status and metrics need counts and ages, not senders). */
int queue_scan(int root_fd, bool envelopes, QueueList *ret);
void queue_list_done(QueueList *l);
