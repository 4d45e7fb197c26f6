/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * SMTP command parsing (RFC 5321 §4.1): one line, without its CRLF, in;
 * the verb, the path and the ESMTP parameters out, as spans into the
 * line. Pure: no allocation, no I/O; values are validated by the session.
 */

/* RFC 5321 §4.1.2 allows any number of esmtp-params; we know eight
 * (SIZE BODY SMTPUTF8 RET ENVID on MAIL, NOTIFY ORCPT on RCPT), so more
 * than this many on one command is a syntax error, not a buffer to grow. */
#define COMMAND_PARAMS_MAX 16

typedef enum CommandVerb {
        COMMAND_UNKNOWN,
        COMMAND_HELO,
        COMMAND_EHLO,
        COMMAND_MAIL,
        COMMAND_RCPT,
        COMMAND_DATA,
        COMMAND_RSET,
        COMMAND_NOOP,
        COMMAND_QUIT,
        COMMAND_VRFY,
        COMMAND_EXPN,
        COMMAND_HELP,
        COMMAND_STARTTLS,
        COMMAND_AUTH,
        COMMAND_BDAT,
} CommandVerb;

typedef struct Span {
        const char *p;
        size_t n;
} Span;

typedef struct CommandParam {
        Span key;
        Span value;             /* .p == NULL: the keyword had no "=value" */
} CommandParam;

typedef struct Command {
        CommandVerb verb;
        Span arg;               /* HELO/EHLO domain; MAIL/RCPT path without <>; else the rest */
        CommandParam params[COMMAND_PARAMS_MAX];
        size_t n_params;
} Command;

int command_parse(const uint8_t *line, size_t n, Command *ret);
