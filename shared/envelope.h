/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"
#include "shared/queue-id.h"

/*
 * The spool envelope: the versioned text block at the head of every queue
 * file, followed by the message in wire form. The format is specified in
 * docs/spool-format.md; envelope_format() and envelope_parse() are its only
 * writer and reader. Every variable field is xtext (RFC 3461 §4) so no
 * byte of client or remote input can forge a line or a field.
 */
#define ENVELOPE_MAGIC "pochtar-queue"
#define ENVELOPE_VERSION 1

typedef enum DsnNotify {
        DSN_NOTIFY_NEVER = 1 << 0,
        DSN_NOTIFY_SUCCESS = 1 << 1,
        DSN_NOTIFY_FAILURE = 1 << 2,
        DSN_NOTIFY_DELAY = 1 << 3,
} DsnNotify;

typedef enum DsnRet {
        DSN_RET_UNSET = 0,
        DSN_RET_FULL,
        DSN_RET_HDRS,
} DsnRet;

typedef enum BodyType {
        BODY_7BIT = 0,
        BODY_8BITMIME,
} BodyType;

typedef enum EnvelopeKind {
        ENVELOPE_KIND_MAIL = 0,         /* submitted by a client */
        ENVELOPE_KIND_DSN,              /* a bounce or delay notice made by pochtar */
} EnvelopeKind;

typedef struct Recipient {
        char *addr;             /* validated mailbox */
        char *orcpt;            /* RFC 3461 ORCPT, decoded ("rfc822;a@b"), or NULL */
        unsigned notify;        /* DsnNotify bits; 0: not given */
} Recipient;

typedef struct Envelope {
        char id[QUEUE_ID_LEN + 1];
        uint64_t arrival_usec;          /* CLOCK_REALTIME, µs */
        char *client;                   /* peer address, e.g. "127.0.0.1", or NULL */
        char *helo;                     /* client's EHLO/HELO argument, or NULL */
        char *sender;                   /* "" is the null sender <> */
        DsnRet ret;
        char *envid;                    /* RFC 3461 ENVID, decoded, or NULL */
        BodyType body;
        bool smtputf8;
        EnvelopeKind kind;
        Recipient *rcpts;
        size_t n_rcpts;
} Envelope;

void envelope_done(Envelope *e);
int envelope_add_rcpt(Envelope *e, const char *addr, const char *orcpt, unsigned notify);
/* Appends the whole envelope block, ending with its blank line. */
int envelope_format(const Envelope *e, Buf *out);
/*
 * Parses the envelope at the start of p[0..n). On success *ret_len is the
 * length of the envelope block; the message starts there. Returns -EBADMSG
 * for a malformed envelope (and *ret_line, if given, names the line),
 * -EPROTONOSUPPORT for an unknown version.
 */
int envelope_parse(const uint8_t *p, size_t n, Envelope *ret, size_t *ret_len, unsigned *ret_line);

const char *dsn_ret_to_string(DsnRet r);
int dsn_notify_format(unsigned notify, Buf *out);
int dsn_notify_parse(const char *p, size_t n, unsigned *ret);
