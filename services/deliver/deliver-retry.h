/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "shared/config.h"

/*
 * The retry schedule, pure: exponential back-off from retry_min doubling
 * up to retry_max, give up after max_queue_lifetime, warn once after
 * delay_warning (0: never).
 */
typedef struct RetryPolicy {
        usec_t min;
        usec_t max;
        usec_t lifetime;
        usec_t warning;
} RetryPolicy;

typedef enum RetryDecision {
        RETRY_LATER,            /* *ret_next is the next attempt */
        RETRY_EXPIRED,          /* bounce the pending recipients (5.4.7) */
} RetryDecision;

/* Delay before attempt number @attempts + 1, after @attempts failed ones (≥ 1). */
usec_t retry_delay(const RetryPolicy *p, unsigned attempts);
RetryDecision retry_next(const RetryPolicy *p, uint64_t arrival, uint64_t now, unsigned attempts,
                         uint64_t *ret_next);
bool retry_warn_due(const RetryPolicy *p, uint64_t arrival, uint64_t now, bool warned);
