/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * The failure rate limit of AUTH, per client address. Every failed AUTH
 * is also a journal line with the client address in a field, and
 * fail2ban (or an operator) blocks a guessing address at the firewall
 * from those lines; this limit is the part inside the process: it slows
 * guessing from one address down to a few tries a minute before any
 * firewall acts, without keeping a real user out for long after a typo.
 *
 * Pure: no clock is read inside; @now is CLOCK_MONOTONIC in usec, as
 * sd-event counts it. Addresses are the text the session shows
 * (inet_ntop() form, "203.0.113.5", "2001:db8::1"); an IPv6 address
 * counts for its /64, the block one host is normally given, so that
 * walking through the addresses of one's own /64 gains nothing. An
 * IPv4-mapped IPv6 address counts as the IPv4 address; text that is no
 * address counts as itself (its first 16 bytes).
 *
 * Memory is bounded: AUTH_LIMIT_ADDRESSES_MAX addresses are remembered,
 * and a failure from one more forgets the one whose last failure is
 * oldest. Someone with more addresses than that can push their own out;
 * the journal lines still name every address for the firewall.
 */

/* Addresses remembered at once: ~200 KiB at most. */
#define AUTH_LIMIT_ADDRESSES_MAX 4096
/* An address's failures are forgotten when it has not failed for this
 * long: the time fail2ban's default findtime (10 min) fits in, and a
 * user who mistyped is not held up when they come back. */
#define AUTH_LIMIT_WINDOW_USEC (15 * 60 * UINT64_C(1000000))
/* The delay before the 535 of the Nth failure in the window: 0 for the
 * first (a typo costs nothing), then AUTH_LIMIT_DELAY_FIRST_USEC doubled
 * each time, at most AUTH_LIMIT_DELAY_MAX_USEC: one session can then try
 * about two passwords a minute, and a delay stays well below a client's
 * reply timeout (RFC 5321 §4.5.3.2 gives 5 minutes for most replies). */
#define AUTH_LIMIT_DELAY_FIRST_USEC (1 * UINT64_C(1000000))
#define AUTH_LIMIT_DELAY_MAX_USEC (30 * UINT64_C(1000000))
/* From this many failures in the window AUTH is refused outright
 * (454 4.7.0) until the address has not failed for a window: no more
 * guesses at all, while a user who knows the password has had ten. */
#define AUTH_LIMIT_BLOCK_FAILURES 10

typedef struct AuthLimit AuthLimit;

int auth_limit_new(AuthLimit **ret);
AuthLimit *auth_limit_free(AuthLimit *l);

/* A failure from @addr at @now: returns the delay (usec) before the 535
 * may be answered, by the number of failures in the window (this one
 * included): 0, 1 s, 2 s, 4 s, 8 s, 16 s, 30 s, 30 s, ... */
uint64_t auth_limit_failed(AuthLimit *l, const char *addr, uint64_t now);
/* Whether @addr has failed AUTH_LIMIT_BLOCK_FAILURES times in the window
 * before @now, so that AUTH is refused without trying the password. */
bool auth_limit_blocked(AuthLimit *l, const char *addr, uint64_t now);
/* A successful AUTH from @addr: its failures are forgotten. */
void auth_limit_succeeded(AuthLimit *l, const char *addr);

static inline void auth_limit_freep(AuthLimit **l) {
        if (*l)
                *l = auth_limit_free(*l);
}
