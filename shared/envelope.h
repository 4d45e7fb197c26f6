/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"
#include "shared/dsn-param.h"
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
/*
 * Version 2 is version 1 with a "check" line second: the XXH3-64 of the
 * message (every byte after the envelope), 16 lowercase hex digits. A
 * writer that renames a file into new/ before it is durable (receive,
 * see spool_publish_batch()) writes version 2, so that a reader can tell
 * a file a crash cut short from a whole one. The value sits at a fixed
 * offset, so it can be written after the message has streamed by.
 */
#define ENVELOPE_VERSION_CHECKED 2
#define ENVELOPE_CHECK_OFFSET (sizeof(ENVELOPE_MAGIC " 2\ncheck ") - 1)
#define ENVELOPE_CHECK_LEN 16

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
        char *orcpt;            /* RFC 3461 ORCPT, decoded ("rfc822;a@b"), or NULL: dsn-param.h */
        unsigned notify;        /* DsnNotify bits; 0: not given */
} Recipient;

typedef struct Envelope {
        char id[QUEUE_ID_LEN + 1];
        uint64_t arrival_usec;          /* CLOCK_REALTIME, µs */
        char *client;                   /* peer address, e.g. "127.0.0.1", or NULL */
        char *helo;                     /* client's EHLO/HELO argument, or NULL */
        char *auth;                     /* the submission user who sent it (AUTH), or NULL */
        char *sender;                   /* "" is the null sender <> */
        DsnRet ret;
        char *envid;                    /* RFC 3461 ENVID, decoded, or NULL: dsn-param.h */
        BodyType body;
        bool smtputf8;
        EnvelopeKind kind;
        Recipient *rcpts;
        size_t n_rcpts;
        bool has_check;                 /* version 2: check is the XXH3-64 of the message */
        uint64_t check;
} Envelope;

void envelope_done(Envelope *e);
int envelope_add_rcpt(Envelope *e, const char *addr, const char *orcpt, unsigned notify);
/* Appends the whole envelope block, ending with its blank line; version 2
 * with e->check at ENVELOPE_CHECK_OFFSET of it if e->has_check. */
int envelope_format(const Envelope *e, Buf *out);
/* Writes @check as the ENVELOPE_CHECK_LEN hex digits at @at. */
void envelope_check_put(char *at, uint64_t check);
/* The check of a message: XXH3-64 of @msg[0..@n). */
uint64_t envelope_check_of(const void *msg, size_t n);
/* The same, of a message in two pieces: @a[0..@na) then @b[0..@nb).
 * Returns -ENOMEM or 0 with the check in *ret. */
int envelope_check_of2(const void *a, size_t na, const void *b, size_t nb, uint64_t *ret);
/* 0 if @e has no check or its check matches @msg[0..@n), else -EBADMSG. */
int envelope_check_verify(const Envelope *e, const void *msg, size_t n);
/*
 * Parses the envelope at the start of p[0..n). On success *ret_len is the
 * length of the envelope block; the message starts there. Returns -EBADMSG
 * for a malformed envelope (and *ret_line, if given, names the line),
 * -EPROTONOSUPPORT for an unknown version. The check of a version 2
 * envelope is parsed, not verified: see envelope_check_verify().
 */
int envelope_parse(const uint8_t *p, size_t n, Envelope *ret, size_t *ret_len, unsigned *ret_line);
