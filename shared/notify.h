/* SPDX-License-Identifier: MIT */
#pragma once

/* sd_notify helpers: no-ops outside systemd ($NOTIFY_SOCKET unset). */
void notify_ready(void);
void notify_stopping(void);
/* a reload (SIGHUP) begins; notify_ready() when it is done */
void notify_reloading(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
