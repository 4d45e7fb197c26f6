/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"

/*
 * The message side of pochtar-sendmail, pure: what a local program wrote
 * on stdin (LF or CRLF lines) becomes SMTP wire form (CRLF, dot-stuffed,
 * terminated by ".\r\n"); with -t the recipients come from To/Cc/Bcc and
 * Bcc is removed. Nothing is qualified here: receive does that.
 */
typedef struct SendmailMessage {
        Buf wire;               /* after DATA, up to and including ".\r\n" */
        char **rcpts;           /* with -t: the header recipients */
        size_t n_rcpts;
        bool eightbit;          /* a byte >= 0x80: BODY=8BITMIME */
} SendmailMessage;

typedef struct SendmailInput {
        bool ignore_dots;       /* -i / -oi: a line "." does not end the input */
        bool extract;           /* -t */
        const char *sender;     /* envelope sender, for a missing From: */
        const char *full_name;  /* -F */
} SendmailInput;

int sendmail_message_prepare(const uint8_t *in, size_t n, const SendmailInput *opts, SendmailMessage *ret);
void sendmail_message_done(SendmailMessage *m);
int sendmail_add_rcpts(const char *list, char ***rcpts, size_t *n_rcpts);
