/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "services/receive/receive-auth-limit.h"
#include "services/receive/receive-auth.h"
#include "services/receive/receive-headers.h"
#include "services/receive/receive-tls.h"
#include "shared/config.h"
#include "shared/spool.h"

/*
 * One SMTP session (receive-session.c). It knows nothing of the server
 * that started it: it gets its parameters, which outlive it, and a
 * SessionOps table for the three things it needs from outside (the group
 * commit of its finished message, a turn taken, its end), as deliver's
 * client does with ClientOps.
 */
typedef struct Session Session;

typedef struct SessionParams {
        sd_event *event;
        const ReceiveConfig *config;
        const char *hostname;
        const char *origin_domain;
        const SenderMap *sender_map;    /* NULL: none */
        SpoolDir *incoming;             /* where messages are written (its spares reused) */

        /* The submission policy (pochtar-receive(8), SUBMISSION); all unset on
         * the loopback listener, which offers neither STARTTLS nor AUTH. */
        bool submission;                /* TLS before AUTH, AUTH before MAIL, senders per user */
        bool implicit_tls;              /* the handshake before the greeting (port 465) */
        TlsServer *tls;                 /* STARTTLS offered, or the implicit handshake */
        AuthVerifier *verifier;
        AuthLimit *auth_limit;
} SessionParams;

typedef struct SessionOps {
        /* The message is complete in @file: queue it for the group commit,
         * which takes the file on success; session_committed() follows. */
        int (*commit)(Session *s, SpoolFile *file, void *userdata);
        /* The session goes away while its message is in the group commit. */
        void (*commit_cancel)(Session *s, void *userdata);
        /* After each I/O event of the session (it may be gone by then). */
        void (*turn)(void *userdata);
        /* The session is freed: the last call with @userdata. */
        void (*gone)(Session *s, void *userdata);
} SessionOps;

/* Starts a session on accepted socket @fd, which it owns from then on,
 * even on failure (then without calling ops->gone). */
int session_new(const SessionParams *p, const SessionOps *ops, void *userdata, int fd, const struct sockaddr *sa,
                socklen_t salen, Session **ret);
Session *session_free(Session *s);
void session_committed(Session *s, int error);
void session_resume(Session *s);
void session_shutdown(Session *s);
