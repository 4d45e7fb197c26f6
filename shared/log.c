/* SPDX-License-Identifier: MIT */
/*
 * The only file that talks to sd-journal. State is the stage name, the
 * level and the target, set once at start by log_setup(): the logging
 * target is the one global the style allows.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "shared/log.h"

static struct {
        char identifier[32];
        const char *stage;
        int max_level;
        bool journal;
} log_state = { .identifier = "pochtar", .stage = "", .max_level = LOG_INFO };

static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_setup(const char *stage) {
        const char *lvl = getenv("POCHTAR_LOG_LEVEL");

        log_state.stage = stage;
        (void) snprintf(log_state.identifier, sizeof(log_state.identifier), "pochtar%s%s",
                        *stage ? "-" : "", stage);
        log_state.journal = stderr_is_journal();
        if (lvl) {
                if (streq(lvl, "debug"))
                        log_state.max_level = LOG_DEBUG;
                else if (streq(lvl, "info"))
                        log_state.max_level = LOG_INFO;
                else if (streq(lvl, "notice"))
                        log_state.max_level = LOG_NOTICE;
                else if (streq(lvl, "warning"))
                        log_state.max_level = LOG_WARNING;
                else if (streq(lvl, "err") || streq(lvl, "error"))
                        log_state.max_level = LOG_ERR;
        }
}

void log_set_max_level(int level) {
        log_state.max_level = level;
}

int log_get_max_level(void) {
        return log_state.max_level;
}

bool log_to_journal(void) {
        return log_state.journal;
}

const char *log_stage(void) {
        return log_state.stage;
}

/* Up to this many structured fields per line: the fixed ones plus extras. */
#define LOG_IOV_MAX 20

static void add_field(struct iovec *iov, size_t *n, char **owned, const char *key, const char *value) {
        char *s;

        if (!value || *n >= LOG_IOV_MAX)
                return;
        if (asprintf(&s, "%s=%s", key, value) < 0)
                return;
        owned[*n] = s;
        iov[(*n)++] = (struct iovec) { .iov_base = s, .iov_len = strlen(s) };
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const LogFields *f, const char *fmt, ...) {
        char text[2048];
        va_list ap;
        int saved = errno;

        if (level > log_state.max_level)
                return error < 0 ? error : -abs(error);

        /* %m expands the error we were given, not whatever errno is now */
        errno = abs(error);
        va_start(ap, fmt);
        (void) vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);

        if (log_state.journal) {
                struct iovec iov[LOG_IOV_MAX];
                char *owned[LOG_IOV_MAX] = {};
                char prio[16], err[32];
                size_t n = 0;

                add_field(iov, &n, owned, "MESSAGE", text);
                (void) snprintf(prio, sizeof(prio), "%d", level);
                add_field(iov, &n, owned, "PRIORITY", prio);
                add_field(iov, &n, owned, "SYSLOG_IDENTIFIER", log_state.identifier);
                add_field(iov, &n, owned, "POCHTAR_STAGE", log_state.stage);
                if (error) {
                        (void) snprintf(err, sizeof(err), "%d", abs(error));
                        add_field(iov, &n, owned, "ERRNO", err);
                }
                if (f) {
                        add_field(iov, &n, owned, "MESSAGE_ID", f->message_id);
                        add_field(iov, &n, owned, "POCHTAR_QUEUE_ID", f->queue_id);
                        add_field(iov, &n, owned, "POCHTAR_RCPT", f->rcpt);
                        add_field(iov, &n, owned, "POCHTAR_RELAY", f->relay);
                        add_field(iov, &n, owned, "POCHTAR_STATUS", f->status);
                        add_field(iov, &n, owned, "POCHTAR_DSN", f->dsn);
                        add_field(iov, &n, owned, "POCHTAR_TLS", f->tls);
                        add_field(iov, &n, owned, "POCHTAR_CLIENT", f->client);
                        add_field(iov, &n, owned, "POCHTAR_SASL_USER", f->sasl_user);
                        if (f->extra && n < LOG_IOV_MAX && (owned[n] = strdup(f->extra)))
                                iov[n] = (struct iovec) { .iov_base = owned[n], .iov_len = strlen(owned[n]) }, n++;
                }
                {
                        char cf[512], cl[32], fn[256];

                        (void) snprintf(cf, sizeof(cf), "CODE_FILE=%s", file);
                        (void) snprintf(cl, sizeof(cl), "CODE_LINE=%d", line);
                        (void) snprintf(fn, sizeof(fn), "%s", func);
                        (void) sd_journal_sendv_with_location(cf, cl, fn, iov, (int) n);
                }
                for (size_t i = 0; i < n; i++)
                        free(owned[i]);
        } else {
                if (f && f->queue_id)
                        fprintf(stderr, "%s: %s: %s\n", log_state.identifier, f->queue_id, text);
                else
                        fprintf(stderr, "%s: %s\n", log_state.identifier, text);
        }
        errno = saved;
        return error < 0 ? error : -abs(error);
}
