/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

/*
 * Counts of what the stages did, read back from the journal, where every
 * stage logs each message event with MESSAGE_ID= (shared/log-ids.h) and
 * POCHTAR_* fields: the journal is the one record that survives restarts
 * of the services, so the counters need no state of their own. They
 * cover what the journal still holds (a counter "reset" after rotation
 * is what Prometheus' rate() expects from a restarted process).
 */

/* Delivery delay histogram bounds in seconds (arrival to remote 250). */
#define DELAY_BUCKETS { 1, 5, 30, 60, 300, 1800, 3600, 14400, 86400 }
#define DELAY_BUCKETS_N 9

typedef struct JournalCounters {
        uint64_t received;
        uint64_t signed_;
        uint64_t quarantined;
        uint64_t sent;                  /* per recipient */
        uint64_t deferred;              /* per recipient and attempt */
        uint64_t bounced;               /* per recipient */
        uint64_t delay_buckets[DELAY_BUCKETS_N];        /* cumulative, as exposed */
        uint64_t delay_count;
        double delay_sum;
} JournalCounters;

/* @directory: a journal directory (journalctl -D), or NULL for the
 * local system journal. */
int journal_count(const char *directory, JournalCounters *ret);
