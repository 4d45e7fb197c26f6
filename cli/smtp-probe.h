/* SPDX-License-Identifier: MIT */
#pragma once

#include <netinet/in.h>
#include <stdint.h>

#include "shared/limits.h"

/*
 * Can this host reach port 25 anywhere? Many hosting providers block
 * outbound SMTP, and mail then sits deferred for days unnoticed. The
 * probe looks up the MX of a domain (libresolv), connects to the best
 * exchanges over IPv4 and reads the greeting, then closes without a
 * single command: nothing is sent.
 */
#define PROBE_HOSTS_MAX 2

typedef struct ProbeResult {
        int error;                      /* 0: a greeting came; else the last failure */
        const char *step;               /* what failed: "MX lookup", "connect", … */
        char host[DNS_NAME_MAX + 1];    /* the exchange tried last */
        struct in_addr addr;
        char greeting[SMTP_REPLY_LINE_MAX + 1];  /* censored first line */
        uint64_t elapsed_usec;
} ProbeResult;

/* @bind: source address (deliver's bind_address), or NULL. */
int smtp_probe(const char *domain, const char *bind, uint64_t timeout_usec, ProbeResult *ret);
