/* SPDX-License-Identifier: MIT */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "services/receive/receive-data.h"
#include "services/receive/receive-server.h"
#include "shared/buf.h"
#include "shared/envelope.h"
#include "shared/spool.h"

typedef enum SessionState {
        SESSION_COMMAND,        /* reading command lines */
        SESSION_DATA,           /* after 354: decoding the message */
        SESSION_COMMIT,         /* message complete, waiting for the group commit */
        SESSION_CLOSING,        /* flushing the last reply, then gone */
} SessionState;

struct Session {
        Server *server;
        Session *prev, *next;

        int fd;
        sd_event_source *io;
        sd_event_source *timer;         /* the next command line, or DATA's next bytes */
        sd_event_source *deadline;      /* the whole session: session_timeout */
        char client[INET6_ADDRSTRLEN];

        SessionState state;
        Buf in;                 /* bytes read, not yet processed */
        Buf out;                /* replies not yet written */
        bool skipping;          /* discarding a command line past SMTP_COMMAND_LINE_MAX */
        unsigned bad_commands;
        unsigned junk_commands; /* NOOP, RSET, VRFY, EXPN, HELP since the last message */

        char *helo;
        bool esmtp;

        /* the transaction */
        bool in_mail;
        Envelope env;
        DataDecoder decoder;
        Buf data;               /* decoded message not yet written to the spool */
        bool headers_done;
        size_t hops;            /* Received: fields the message came with */
        /* set while DATA is read when the message will be refused at its
         * end: the reply, and what the log says; nothing more is written */
        const char *refusal;
        char refusal_log[192];
        SpoolFile file;
        int write_error;
        /* the envelope's check (envelope.h): XXH3-64 of the message as it
         * is written; the first check_skip bytes of data are the envelope */
        struct XXH3_state_s *check;
        size_t check_skip;
        size_t envelope_len;    /* the envelope's bytes at the head of the file */
        bool reencoded;         /* long lines were re-encoded (receive-reencode.c) */
};

int session_new(Server *server, int fd, const struct sockaddr *sa, socklen_t salen);
Session *session_free(Session *s);
void session_committed(Session *s, int error);
void session_resume(Session *s);
void session_shutdown(Session *s);
