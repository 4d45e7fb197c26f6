/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

#include "services/deliver/deliver-dsn.h"
#include "services/deliver/deliver-retry.h"
#include "shared/deliver-state.h"
#include "shared/config.h"
#include "shared/envelope.h"
#include "shared/spool.h"
#include "shared/watch.h"

/*
 * deliver's queue: claims messages from signed/new into deliver/queue,
 * keeps per-recipient state in deliver/state, schedules attempts and
 * retries, and hands each attempt to a transport (capture or SMTP). The
 * transport fills Message.results for the recipients it was given and
 * calls queue_attempt_done(). docs/spool-format.md describes the
 * directories and the state file.
 */
#define DELIVER_STAGE "deliver"
/* Messages whose bodies are in memory at once; the rest wait their turn. */
#define DELIVER_ACTIVE_MAX 1000

typedef struct Queue Queue;
typedef struct Message Message;

struct Message {
        Queue *queue;
        char id[QUEUE_ID_LEN + 1];
        Envelope env;
        Buf data;                       /* the queue file, while an attempt runs */
        size_t body_offset;             /* message starts here in data */
        DeliverState state;
        Dsn *results;                   /* this attempt, per recipient */
        unsigned jobs;                  /* transport's outstanding parts of the attempt */
        uint64_t attempt_start;         /* µs, CLOCK_REALTIME */
        sd_event_source *timer;
        bool ready, active, held;
        Message *prev, *next;           /* all messages */
        Message *ready_next;
};

typedef struct Transport {
        /* start an attempt for every pending recipient of @m; results via queue_attempt_done() */
        int (*attempt)(Message *m, void *userdata);
        void *userdata;
} Transport;

int queue_new(sd_event *e, const Config *cfg, Queue **ret);
Queue *queue_free(Queue *q);
DEFINE_TRIVIAL_CLEANUP_FUNC(Queue *, queue_free);
void queue_set_transport(Queue *q, const Transport *t);
/* Scans deliver/queue and signed/new, starts watching; call once the transport is set. */
int queue_start(Queue *q);
void queue_attempt_done(Message *m);
/* Marks every deferred message (or the one named) due now. */
void queue_flush(Queue *q, const char *id);
const char *message_body(const Message *m, size_t *ret_len);
unsigned queue_size(const Queue *q);
