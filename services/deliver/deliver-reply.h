/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"

/*
 * Remote SMTP replies, parsed as hostile input (RFC 5321 §4.2): three
 * digits, the first 2-5, then '-' (more lines follow) or ' ' (last
 * line); every line of one reply carries the same code. Lines are
 * bounded (SMTP_REPLY_LINE_MAX: the rest of a longer line is discarded)
 * and so is their count (SMTP_REPLY_LINES_MAX: -EBADMSG past it). The
 * text is kept raw here and censored by whoever shows it
 * (reply_diagnostic()). Pure: no I/O, no logging.
 */
typedef enum ReplyResult {
        REPLY_MORE = 1,         /* consumed everything; the reply is not complete */
        REPLY_DONE,             /* a whole reply is in parser->reply */
} ReplyResult;

typedef struct SmtpReply {
        unsigned code;                          /* 200..599 */
        char enhanced[sizeof("5.999.999")];     /* RFC 2034/3463 code from the first line, or "" */
        Buf text;                               /* each line's text after "NNN-", '\n'-separated */
        unsigned n_lines;
        bool truncated;                         /* a line was longer than the limit */
} SmtpReply;

typedef struct ReplyParser {
        Buf line;
        bool skipping;
        SmtpReply reply;
} ReplyParser;

void reply_parser_init(ReplyParser *p);
void reply_parser_done(ReplyParser *p);
/* Starts a fresh reply; call after using a REPLY_DONE result. */
void reply_parser_reset(ReplyParser *p);
int reply_parser_feed(ReplyParser *p, const uint8_t *data, size_t n, size_t *ret_consumed);
/* "550 5.1.1 text of line one text of line two", censored, bounded. */
int reply_diagnostic(const SmtpReply *r, Buf *out);

typedef struct EhloCaps {
        bool pipelining;
        bool eightbitmime;
        bool smtputf8;
        bool dsn;
        bool starttls;
        bool size;
        uint64_t size_max;              /* 0: no fixed limit announced */
        bool auth_plain;
        bool auth_login;
} EhloCaps;

/* Capabilities from a 250 reply to EHLO (the first line is the greeting). */
int ehlo_parse(const SmtpReply *r, EhloCaps *ret);
