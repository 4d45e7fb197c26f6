/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

/* (Re)arms a timer event source to fire once, @after from now. Errors are
 * ignored as everywhere a timer is re-armed: sd-event fails here only on
 * a source that is not a timer. */
static inline void event_timer_arm(sd_event_source *s, uint64_t after) {
        (void) sd_event_source_set_time_relative(s, after);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}
