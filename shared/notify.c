/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "shared/notify.h"

void notify_ready(void) {
        (void) sd_notify(0, "READY=1");
}

void notify_reloading(void) {
        (void) sd_notify(0, "RELOADING=1");
}

void notify_stopping(void) {
        (void) sd_notify(0, "STOPPING=1");
}

void notify_status(const char *fmt, ...) {
        char text[256];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        (void) sd_notifyf(0, "STATUS=%s", text);
}
