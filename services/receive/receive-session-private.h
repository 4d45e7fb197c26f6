/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The inside of a session, shared by the files that make it up and by
 * nothing else: receive-session.c (the SMTP state machine, TLS and the
 * message) and receive-session-auth.c (AUTH and the senders a user may
 * use). The server and everyone else see only receive-session.h.
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <xxhash.h>

#include "services/receive/receive-command.h"
#include "services/receive/receive-data.h"
#include "services/receive/receive-sasl.h"
#include "services/receive/receive-session.h"
#include "shared/buf.h"
#include "shared/envelope.h"
#include "shared/macro.h"
#include "shared/rfc5322.h"
#include "shared/spool.h"

typedef enum SessionState {
        SESSION_COMMAND,        /* reading command lines */
        SESSION_DATA,           /* after 354: decoding the message */
        SESSION_COMMIT,         /* message complete, waiting for the group commit */
        SESSION_CLOSING,        /* flushing the last reply, then gone */
        SESSION_TLS_START,      /* flushing STARTTLS's 220, then the handshake */
        SESSION_HANDSHAKE,      /* TLS handshake: reads and writes are GnuTLS's */
        SESSION_AUTH,           /* after a 334: reading the client's response line */
        SESSION_AUTH_WAIT,      /* the password check, or a failure's delay */
} SessionState;

struct Session {
        const SessionParams *p;
        const SessionOps *ops;          /* NULL until session_new() succeeded */
        void *userdata;

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

        /* submission: TLS */
        TlsConn *tls;           /* from STARTTLS (or accept, implicit) on; the handshake done outside SESSION_HANDSHAKE */
        sd_event_source *pending;       /* reads what GnuTLS holds decrypted, which epoll cannot see */
        /* submission: AUTH */
        char *auth_user;        /* authenticated as */
        char **auth_senders;    /* what auth_user may send as */
        SaslMech auth_mech;
        bool auth_login_password;       /* LOGIN: the next response is the password */
        char auth_name[SASL_USER_MAX + 1];      /* the user being checked, for the log */
        AuthRequest *auth_request;
        sd_event_source *auth_delay;    /* a failure's 535 held back (receive-auth-limit.c) */
};

/* Queues one reply line (CRLF added). */
void session_reply(Session *s, const char *fmt, ...) _printf_(2, 3);
/* 421 and the end of the session: out of memory. */
void session_reply_oom(Session *s);
/* The message will be refused at the end of DATA with @reply, a string
 * literal (the rest is read and dropped); the log line says why. */
void session_refuse(Session *s, const char *reply, const char *fmt, ...) _printf_(3, 4);

/* receive-session-auth.c */
void session_on_auth(Session *s, const Command *c);
/* A client response to a 334, the line without its CRLF. */
void session_auth_response(Session *s, const char *b64, size_t n);
/* Whether the authenticated user may send as @addr (pochtar-users(5)). */
bool session_sender_allowed(const Session *s, const char *addr);
/* Submission: every From: of the section receive writes (@p, parsed as
 * @h) must be the user's; else the message is refused (session_refuse()). */
void session_check_from(Session *s, const uint8_t *p, const HeaderSection *h);
/* The session ends: its check is cancelled, what AUTH holds freed. */
void session_auth_done(Session *s);
