/* SPDX-License-Identifier: MIT */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>

#include "services/deliver/deliver-dsn.h"
#include "services/deliver/deliver-mx.h"

/*
 * Mail loops on the sending side: in mode = mx, an MX (or the A record
 * of a domain without MX) that leads back to receive would have the
 * message queued again, and again. Such hosts are dropped from the list
 * before any connection; a domain left without hosts bounces with 5.4.6,
 * as Postfix's "mail for DOMAIN loops back to myself". An explicit
 * relayhost (mode = relay) is the admin's choice and is never filtered.
 *
 * "Myself" is what Postfix calls it (inet_interfaces): loopback, 0.0.0.0/8
 * (connect() there reaches this host), and the addresses receive listens
 * on, as [receive] listen names them; a wildcard there (0.0.0.0, ::)
 * means every address of this host. An address of this host where
 * receive does not listen (another MTA's, or a test's sink on lo) is
 * not a loop: delivering there never comes back to us.
 */
typedef enum LoopScope {
        LOOP_SCOPE_REMOTE,              /* a unicast address: may be another host */
        LOOP_SCOPE_LOOPBACK,            /* 127.0.0.0/8 */
        LOOP_SCOPE_UNSPECIFIED,         /* 0.0.0.0/8: connect() reaches this host */
        LOOP_SCOPE_NOT_UNICAST,         /* 224.0.0.0/3: multicast, reserved, broadcast */
        LOOP_SCOPE_SELF,                /* where receive listens (LoopSelf) */
} LoopScope;

/* Pure: the scope of @a from its value alone; never LOOP_SCOPE_SELF. */
LoopScope loop_address_scope(struct in_addr a);
/* "a loopback address", ...: for the log. */
const char *loop_scope_to_string(LoopScope s);
/* 1 when @a is an address of this host, 0 when not, -errno when it cannot be told. */
int loop_address_is_local(struct in_addr a);

/* The addresses receive listens on. */
typedef struct LoopSelf {
        struct in_addr *addrs;
        size_t n;
        bool any;                       /* a wildcard: every address of this host */
} LoopSelf;

/* Adds one [receive] listen entry ("HOST:PORT", "[HOST]:PORT"); a host
 * name is resolved (IPv4), IPv6 addresses other than :: are ignored. */
int loop_self_add_listen(LoopSelf *s, const char *spec);
void loop_self_done(LoopSelf *s);
/* 1 when receive listens on @a, 0 when not, -errno when it cannot be told. */
int loop_self_has(const LoopSelf *s, struct in_addr a);

typedef int (*LoopSelfFn)(struct in_addr a, void *userdata);

/*
 * Drops from @l (an MX_OK list for @domain) every host not
 * LOOP_SCOPE_REMOTE or for which @is_self says 1, keeping the order of
 * the others, and logs a warning for each. Returns how many are left, or
 * the -errno of @is_self (the list is then unchanged). *ret_loop says
 * whether a dropped host leads back to us (loopback, unspecified, where
 * receive listens) rather than only not being unicast.
 */
int loop_filter_hosts(MxList *l, const char *domain, LoopSelfFn is_self, void *userdata, bool *ret_loop);
/* Fills @d for @domain when loop_filter_hosts() left no host. */
int loop_dsn(const char *domain, bool loop, Dsn *d);
