/* SPDX-License-Identifier: MIT */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "services/deliver/deliver-dsn.h"
#include "shared/limits.h"
#include "shared/macro.h"

/*
 * Where to deliver mail for a domain: MX records by preference (equal
 * preferences shuffled), the domain's own A record when it has no MX
 * (RFC 5321 §5.1), IPv4 only. The outcome, not an errno, says what
 * happened, modelled on Postfix's dns.h: libresolv's TRY_AGAIN becomes
 * MX_RETRY (defer), NXDOMAIN MX_NOTFOUND (bounce 5.1.2), a null MX
 * (RFC 7505) MX_NULLMX (bounce 5.1.10).
 */
typedef enum MxOutcome {
        MX_OK,
        MX_NODATA,              /* the name exists but has no records of the type */
        MX_NOTFOUND,            /* NXDOMAIN */
        MX_NULLMX,
        MX_RETRY,               /* SERVFAIL, timeout, malformed answer */
} MxOutcome;

/* MX names before address lookup; more are ignored (Postfix caps too). */
#define MX_NAMES_MAX 16

typedef struct MxName {
        uint16_t pref;
        char name[DNS_NAME_MAX + 1];
} MxName;

typedef struct MxNames {
        MxName names[MX_NAMES_MAX];
        size_t n;
} MxNames;

typedef struct MxHost {
        char name[DNS_NAME_MAX + 1];
        struct in_addr addr;
        uint16_t port;
} MxHost;

typedef struct MxList {
        MxOutcome outcome;
        MxHost hosts[MX_HOSTS_MAX];
        size_t n;
} MxList;

/* Pure: an MX answer (as res_nquery returns it, read by dns/) → names
 * sorted by preference, equal ones in the order given. */
MxOutcome mx_parse_mx(const uint8_t *answer, size_t len, MxNames *ret);
/* Pure: an A answer → up to @max IPv4 addresses. */
MxOutcome mx_parse_a(const uint8_t *answer, size_t len, struct in_addr *ret, size_t max, size_t *ret_n);
/* Fills @d for a failed lookup of @domain (bounce or defer). */
int mx_outcome_dsn(MxOutcome o, const char *domain, Dsn *d);

typedef struct MxResolver MxResolver;
typedef void (*MxDoneFn)(const MxList *list, void *userdata);

int mx_resolver_new(sd_event *e, MxResolver **ret);
MxResolver *mx_resolver_free(MxResolver *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(MxResolver *, mx_resolver_free);
/*
 * Looks up @domain on a worker thread and calls @done from the event
 * loop. With @literal, @domain is a host name to use as is (a relay
 * host, "[host]"): no MX lookup. @port is stored in every MxHost.
 */
int mx_resolve(MxResolver *r, const char *domain, bool literal, uint16_t port, MxDoneFn done, void *userdata);
