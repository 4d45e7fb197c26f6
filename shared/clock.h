/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <time.h>

/*
 * The clocks, in microseconds, as sd-event counts them. Realtime is for
 * what is stored or shown (arrival times, retry times, dates); monotonic
 * for what is timed (timeouts, durations), which a clock step must not
 * shorten or stretch.
 */
typedef uint64_t usec_t;
#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)

static inline uint64_t clock_usec(clockid_t clock) {
        struct timespec ts;

        (void) clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static inline uint64_t now_realtime_usec(void) {
        return clock_usec(CLOCK_REALTIME);
}

static inline uint64_t now_monotonic_usec(void) {
        return clock_usec(CLOCK_MONOTONIC);
}
