/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "services/receive/receive-access.h"
#include "services/receive/receive-commit.h"
#include "services/receive/receive-headers.h"
#include "services/receive/receive-session.h"
#include "shared/config.h"
#include "shared/spool-owner.h"
#include "shared/spool.h"

typedef struct ServerSession ServerSession;

/* What a listening socket is for: its session policy and allow list.
 * From systemd, by the socket's FileDescriptorName= ("submission",
 * "submissions"; any other name is the loopback listener); else by the
 * key that named it ([receive] listen, [submission] listen, listen_tls). */
typedef enum ListenerKind {
        LISTENER_LOOPBACK,
        LISTENER_SUBMISSION,            /* STARTTLS, then AUTH (587) */
        LISTENER_SUBMISSIONS,           /* implicit TLS, then AUTH (465) */
        _LISTENER_KIND_MAX,
} ListenerKind;

typedef struct Listener {
        struct Server *server;
        ListenerKind kind;
        sd_event_source *source;
} Listener;

/*
 * The server: listeners, admission (allow list, max_sessions), idle exit,
 * and the sessions it started, each of which it knows only through the
 * session's functions; it hands them their parameters and a SessionOps
 * table, and the group commit (receive-commit.c) its GroupCommitOps.
 */
typedef struct Server {
        sd_event *event;
        const ReceiveConfig *config;
        const SubmissionConfig *submission;
        char *hostname;
        char *origin_domain;
        AccessList access;              /* [receive] allow */
        AccessList submission_access;   /* [submission] allow */
        SenderMap sender_map;
        bool has_sender_map;

        int spool_root_fd;
        SpoolDir incoming;
        SpoolOwners owners;     /* incoming's spares must be our own */
        SessionParams session_params[_LISTENER_KIND_MAX];       /* what every session is given */

        /* submission, set up when a submission listener exists */
        TlsServer *tls;
        AuthVerifier *verifier;
        AuthLimit *auth_limit;

        Listener **listeners;
        size_t n_listeners;
        bool socket_activated;
        bool accept_paused;             /* out of descriptors: listeners off until a session ends */
        sd_event_source *idle_timer;
        sd_event_source *spare_timer;   /* unlinks unused spares after [spool] spare_keep */
        usec_t spare_keep;

        ServerSession *sessions;
        unsigned n_sessions;
        GroupCommit *commit;

        uint64_t n_queued;
        uint64_t n_refused;
} Server;

int server_new(sd_event *event, const Config *config, Server **ret);
Server *server_free(Server *s);
int server_start(Server *s);
/* SIGHUP (systemctl reload): the submission certificate read again; the
 * sessions running keep the one they started with. */
void server_reload(Server *s);

static inline void server_freep(Server **s) {
        if (*s)
                *s = server_free(*s);
}
