/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "services/deliver/deliver-dsn.h"
#include "shared/buf.h"
#include "shared/envelope.h"
#include "shared/spool.h"

/*
 * Delivery status notifications (RFC 3464 multipart/report) to the
 * envelope sender: failures and delay warnings. Never for the null
 * sender and never for a notification (kind dsn): no bounce loops.
 * bounce_compose() is pure; bounce_publish() writes the notification
 * into incoming/new with sender <> and kind dsn, so sign DKIM-signs it.
 */
typedef enum BounceKind {
        BOUNCE_FAILED,
        BOUNCE_DELAYED,
        BOUNCE_SUCCESS,         /* NOTIFY=SUCCESS: "delivered", or "relayed" to a hop without DSN */
} BounceKind;

typedef struct BounceRcpt {
        const Recipient *rcpt;
        const Dsn *dsn;
} BounceRcpt;

typedef struct BounceInfo {
        BounceKind kind;
        const char *reporting_mta;      /* our helo name */
        const Envelope *env;            /* the original message's envelope */
        const uint8_t *message;         /* its wire form */
        size_t message_len;
        const BounceRcpt *rcpts;
        size_t n_rcpts;
        uint64_t now_usec;
        uint64_t retry_until_usec;      /* BOUNCE_DELAYED: when we give up */
        const char *boundary;           /* MIME boundary; bounce_publish() sets a random one */
        /* the largest report, as sign reads it; 0: none. A message that
         * does not fit is returned as its header section (RFC 3462's
         * text/rfc822-headers), as with RET=HDRS. */
        size_t size_max;
        const char *message_id;         /* Message-ID of the report, without <> */
} BounceInfo;

/* true if @env's sender should get a report of @kind for @rcpt (for
 * BOUNCE_SUCCESS, the caller also checks that the next hop did not take
 * NOTIFY over). */
bool bounce_wanted(const Envelope *env, const Recipient *rcpt, BounceKind kind);
int bounce_compose(const BounceInfo *info, Buf *out);
/* Composes with a random boundary and publishes; *ret_id is the
 * report's new queue ID. */
int bounce_publish(SpoolDir *incoming, BounceInfo *info, char ret_id[static QUEUE_ID_LEN + 1]);
