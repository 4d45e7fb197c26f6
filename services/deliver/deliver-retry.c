/* SPDX-License-Identifier: MIT */
/*
 * Back-off, expiry and delay warning, as pure arithmetic on µs so the
 * unit test can walk the whole schedule without waiting.
 */
#include "services/deliver/deliver-retry.h"

usec_t retry_delay(const RetryPolicy *p, unsigned attempts) {
        usec_t d = p->min ? p->min : 1;

        for (unsigned i = 1; i < attempts && d < p->max; i++)
                d = d > p->max / 2 ? p->max : d * 2;
        return d < p->max ? d : (p->max ? p->max : d);
}

RetryDecision retry_next(const RetryPolicy *p, uint64_t arrival, uint64_t now, unsigned attempts,
                         uint64_t *ret_next) {
        uint64_t next, deadline = arrival + p->lifetime;

        if (now >= deadline)
                return RETRY_EXPIRED;
        next = now + retry_delay(p, attempts);
        /* one last attempt at the end of the lifetime rather than a bounce
         * a whole back-off interval early, as Postfix does */
        *ret_next = next < deadline ? next : deadline;
        return RETRY_LATER;
}

bool retry_warn_due(const RetryPolicy *p, uint64_t arrival, uint64_t now, bool warned) {
        return !warned && p->warning > 0 && p->warning < p->lifetime && now >= arrival + p->warning;
}
