/* SPDX-License-Identifier: MIT */
#pragma once

#include <netinet/in.h>
#include <systemd/sd-event.h>

#include "services/deliver/deliver-dsn.h"
#include "services/deliver/deliver-mx.h"
#include "services/deliver/deliver-tls.h"
#include "shared/config.h"
#include "shared/envelope.h"

/*
 * One SMTP client connection to one destination: tries the MxList hosts
 * in order until one gives a session, then runs as many transactions as
 * the owner hands it (connection reuse), one ClientJob at a time. Each
 * recipient of a job gets its own Dsn.
 */
typedef struct ClientJob {
        const Envelope *env;
        const uint8_t *body;
        size_t body_len;
        size_t *rcpts;                  /* indices into env->rcpts */
        size_t n_rcpts;
        Dsn *results;                   /* indexed like env->rcpts */
        void *userdata;
        struct ClientJob *next;
} ClientJob;

typedef struct ClientParams {
        sd_event *event;
        TlsContext *tls;
        TlsPolicy policy;
        const char *tls_name;           /* SNI and the name to verify (the relayhost as configured); NULL:
                                         * each host's own name */
        bool implicit_tls;              /* port 465: TLS from the first byte */
        const char *helo;
        const char *auth_user;          /* SMTP AUTH (RFC 4954) to a relay, over verified TLS only; or NULL */
        const char *auth_password;
        bool auth_unverified;           /* relay_password_to_unverified_host: TLS enough, verified or not */
        const struct in_addr *bind;     /* NULL: any */
        usec_t connect_timeout;
        usec_t command_timeout;
        usec_t data_timeout;
        usec_t idle_timeout;            /* keep a session with no job this long; 0: QUIT at once */
} ClientParams;

typedef struct Client Client;

typedef struct ClientOps {
        ClientJob *(*pull)(Client *c, void *userdata);
        void (*job_done)(Client *c, ClientJob *j, void *userdata);
        /* after the connection is closed; @failure when no host gave a session */
        void (*closed)(Client *c, const Dsn *failure, void *userdata);
} ClientOps;

int client_new(const ClientParams *p, const MxList *hosts, const ClientOps *ops, void *userdata, Client **ret);
bool client_wake(Client *c);
void client_retire(Client *c);
Client *client_free(Client *c);
