/* SPDX-License-Identifier: MIT */
#pragma once

#include <errno.h>
#include <stdbool.h>

/*
 * The outcome of one delivery attempt for one recipient. Temporary or
 * permanent is decided once, where the reply or DNS answer is read
 * (deliver-client.c, deliver-mx.c); retry, bounce and logging only read
 * a Dsn. The diagnostic is always censored text (shared/escape.h).
 */
typedef enum DeliveryStatus {
        DELIVERY_SENT,
        DELIVERY_DEFERRED,      /* 4xx, timeouts, DNS TRY_AGAIN, TLS required but absent */
        DELIVERY_BOUNCED,       /* 5xx, NXDOMAIN, null MX (RFC 7505) */
        _DELIVERY_STATUS_MAX,
        _DELIVERY_STATUS_INVALID = -EINVAL,
} DeliveryStatus;

typedef struct Dsn {
        DeliveryStatus status;
        char code[sizeof("5.999.999")];  /* enhanced status code, RFC 3463 */
        char *diagnostic;                 /* censored, bounded; reply text or local reason */
        char *relay;                      /* "mx.example.org[203.0.113.25]:25", or NULL */
        char *tls;                        /* "TLSv1.3 ...", or NULL */
        bool remote;                      /* diagnostic is a remote SMTP reply */
        bool dsn_passed;                  /* sent: the next hop offered DSN and took NOTIFY over */
        bool final;                       /* sent: delivered into a mailbox (capture), not relayed */
        bool valid;                       /* set in this attempt */
} Dsn;

void dsn_done(Dsn *d);
/* Sets status, code and diagnostic (censored copy of @diag[0..n)). */
int dsn_set(Dsn *d, DeliveryStatus s, const char *code, const char *diag, bool remote);
int dsn_copy(Dsn *dst, const Dsn *src);
const char *delivery_status_to_string(DeliveryStatus s);
DeliveryStatus delivery_status_from_string(const char *s);
