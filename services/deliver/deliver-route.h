/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

#include "services/deliver/deliver-queue.h"
#include "services/deliver/deliver-tls.h"
#include "shared/config.h"

/*
 * The SMTP transport: splits an attempt into one job per recipient
 * domain (or one for the relay host), queues jobs per destination, and
 * runs clients under the global (max_connections) and per-destination
 * (max_per_destination) limits. Each destination has its own queue and
 * connections, so a slow or dead domain holds up only itself.
 */
typedef struct Route Route;

/* @receive_listen: [receive] listen, the addresses mode = mx never delivers to */
int route_new(sd_event *e, const DeliverConfig *cfg, char * const *receive_listen, Route **ret);
Route *route_free(Route *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Route *, route_free);
int route_attempt(Message *m, void *userdata);

/* Pure: "[host]:port", "host:port", "[host]", "host". *ret_literal for brackets. */
int relayhost_parse(const char *s, char **ret_host, uint16_t *ret_port, bool *ret_literal);
/* Pure: one line of tls_policy_map, "domain policy"; 0 for a blank or comment line, 1 for an entry. */
int tls_policy_line_parse(const char *p, size_t n, char **ret_domain, TlsPolicy *ret_policy);
