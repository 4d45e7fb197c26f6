/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "shared/macro.h"

/*
 * Logging: native journal protocol with structured fields when stderr is
 * the journal ($JOURNAL_STREAM), "pochtar-STAGE: text" on stderr
 * otherwise. Per-message lines carry POCHTAR_* fields (DESIGN.md
 * "Logging") so `journalctl POCHTAR_QUEUE_ID=X` follows one message.
 * The log_*() functions return the negative errno they were given, so a
 * call site reads `return log_error_errno(r, "…: %m");`.
 */
typedef struct LogFields {
        const char *message_id;         /* LOG_ID_* */
        const char *queue_id;
        const char *rcpt;
        const char *relay;
        const char *status;             /* sent | deferred | bounced | quarantined | … */
        const char *dsn;
        const char *tls;
        const char *client;             /* the SMTP client's address (receive) */
        const char *sasl_user;          /* the user the client authenticated as (submission) */
        const char *extra;              /* one more "KEY=value" field, or NULL */
} LogFields;

void log_setup(const char *stage);
void log_set_max_level(int level);
int log_get_max_level(void);
bool log_to_journal(void);
const char *log_stage(void);

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const LogFields *fields, const char *fmt, ...) _printf_(7, 8);

#define log_full_errno(level, error, ...) \
        log_internal(level, error, __FILE__, __LINE__, __func__, NULL, __VA_ARGS__)
#define log_full(level, ...) (void) log_full_errno(level, 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_notice_errno(e, ...) log_full_errno(LOG_NOTICE, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)

/* A line about one message, with its structured fields. */
#define log_msg(level, fields, ...) \
        (void) log_internal(level, 0, __FILE__, __LINE__, __func__, fields, __VA_ARGS__)
#define log_msg_errno(level, error, fields, ...) \
        log_internal(level, error, __FILE__, __LINE__, __func__, fields, __VA_ARGS__)

#define log_oom() log_full_errno(LOG_ERR, -ENOMEM, "Out of memory.")
