/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "services/receive/receive-access.h"
#include "services/receive/receive-commit.h"
#include "services/receive/receive-headers.h"
#include "shared/config.h"
#include "shared/spool-owner.h"
#include "shared/spool.h"

typedef struct Session Session;

/*
 * The server: listeners, the sessions, and the group commit that
 * publishes the messages finished while the previous batch was on disk
 * with one spool_publish_batch() before any of them gets its 250.
 */
typedef struct Server {
        sd_event *event;
        const ReceiveConfig *config;
        char *hostname;
        char *origin_domain;
        AccessList access;
        SenderMap sender_map;
        bool has_sender_map;

        int spool_root_fd;
        SpoolDir incoming;
        SpoolOwners owners;     /* incoming's spares must be our own */

        sd_event_source **listeners;
        size_t n_listeners;
        bool socket_activated;
        bool accept_paused;             /* out of descriptors: listeners off until a session ends */
        sd_event_source *idle_timer;
        sd_event_source *spare_timer;   /* unlinks unused spares after [spool] spare_keep */
        usec_t spare_keep;

        Session *sessions;
        unsigned n_sessions;

        sd_event_source *commit_source;         /* deferred: starts a batch */
        Session **commit_queue;                 /* finished messages waiting for the next batch */
        size_t n_commit;
        uint64_t commit_waits;                  /* session I/O events since the queue became non-empty */
        Committer committer;
        sd_event_source *commit_done_source;    /* the committer's eventfd */
        Session **inflight;                     /* the batch on disk; NULL where the client left */
        SpoolFile *inflight_files;
        size_t n_inflight;

        uint64_t n_queued;
        uint64_t n_refused;
} Server;

int server_new(sd_event *event, const Config *config, Server **ret);
Server *server_free(Server *s);
int server_start(Server *s);
int server_commit_enqueue(Server *s, Session *session);
void server_commit_dequeue(Server *s, Session *session);
void server_commit_poll(Server *s);
void server_session_gone(Server *s);

static inline void server_freep(Server **s) {
        if (*s)
                *s = server_free(*s);
}
