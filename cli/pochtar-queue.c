/* SPDX-License-Identifier: MIT */
/*
 * `pochtar queue [--json]`: mailq for pochtar. Every message in every
 * queue, oldest first within each queue, with ID, size, arrival, sender
 * and recipients; quarantined ones with the stage's reason, held ones with
 * the queue they return to, damaged files with what is wrong with them.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <sysexits.h>
#include <time.h>

#include "cli/cli-util.h"
#include "cli/json-print.h"
#include "cli/pochtar.h"
#include "cli/queue-scan.h"
#include "shared/escape.h"
#include "shared/log.h"

/* What we print of an address: validated by envelope_parse(), but it may be
 * UTF-8 (SMTPUTF8) and a terminal deserves no surprises. */
#define SHOW_ADDRESS_MAX 320

static void format_time(uint64_t usec, char ret[static sizeof("2026-11-28 02:53:07 UTC")]) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(ret, sizeof("2026-11-28 02:53:07 UTC"), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
                strcpy(ret, "?");
}

static void format_iso(uint64_t usec, char ret[static sizeof("2026-11-28T02:53:07Z")]) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(ret, sizeof("2026-11-28T02:53:07Z"), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                strcpy(ret, "?");
}

static const char *entry_error(const QueueEntry *e, char *buf, size_t size) {
        if (e->refusal)
                (void) snprintf(buf, size, "not opened: %s", e->refusal);
        else if (e->error == -EBADMSG)
                (void) snprintf(buf, size, "malformed envelope (line %u)", e->error_line);
        else if (e->error == -EPROTONOSUPPORT)
                (void) snprintf(buf, size, "unknown envelope version");
        else
                (void) snprintf(buf, size, "unreadable: %s", strerror(-e->error));
        return buf;
}

static uint64_t entry_arrival(const QueueEntry *e) {
        return e->error == 0 ? e->env.arrival_usec : queue_id_usec(e->id);
}

/* deliver's record of recipient @i, if the message is in deliver's queue
 * and its state file parsed */
static const RcptRecord *rcpt_status(const QueueEntry *e, size_t i) {
        if (e->where != WHERE_DELIVER || !e->has_state || e->status_error || i >= e->state.n_rcpts)
                return NULL;
        return &e->state.rcpts[i];
}

static const char *status_error_string(const QueueEntry *e, char *buf, size_t size) {
        if (e->state_refusal)
                (void) snprintf(buf, size, "not opened: %s", e->state_refusal);
        else
                (void) snprintf(buf, size, "%s", e->status_error == -EPROTONOSUPPORT ? "unknown version"
                                : e->status_error == -EBADMSG ? "malformed" : strerror(-e->status_error));
        return buf;
}

static void print_deliver_summary(const QueueEntry *e) {
        char when[sizeof("2026-11-28 02:53:07 UTC")], err[128];

        if (!e->has_state)
                printf("%18snot yet attempted\n", "");
        else if (e->error)
                printf("%18sdeliver state kept, not shown: the envelope is damaged\n", "");
        else if (e->status_error)
                printf("%18sdeliver state damaged: %s\n", "", status_error_string(e, err, sizeof(err)));
        else {
                format_time(e->state.next_usec, when);
                printf("%18s%u attempt%s, next %s%s\n", "", e->state.attempts, e->state.attempts == 1 ? "" : "s",
                       e->state.next_usec ? when : "now", e->state.warned ? ", delay warning sent" : "");
        }
}

static void print_text(const QueueList *l) {
        uint64_t total = 0;

        for (size_t i = 0; i < l->n; i++) {
                const QueueEntry *e = &l->entries[i];
                char when[sizeof("2026-11-28 02:53:07 UTC")], err[128];
                const char *from = queue_where_held_from(e->where);
                _cleanup_free_ char *where = NULL;

                total += e->size;
                format_time(entry_arrival(e), when);
                if (from ? asprintf(&where, "hold(%s)", from) < 0 : !(where = strdup(queue_where_to_string(e->where))))
                        return (void) log_oom();
                if (e->error) {
                        printf("%s  %-14s %9" PRIu64 "  %s  %s\n", e->id, where, e->size, when,
                               entry_error(e, err, sizeof(err)));
                } else {
                        _cleanup_free_ char *sender = escape_printable_dup(e->env.sender, strlen(e->env.sender),
                                                                         SHOW_ADDRESS_MAX);

                        printf("%s  %-14s %9" PRIu64 "  %s  <%s>%s%s%s\n", e->id, where, e->size, when,
                               strempty(sender), e->env.kind == ENVELOPE_KIND_DSN ? " (notification)" : "",
                               e->env.auth ? " auth=" : "", strempty(e->env.auth));
                        for (size_t j = 0; j < e->env.n_rcpts; j++) {
                                _cleanup_free_ char *rcpt = escape_printable_dup(
                                        e->env.rcpts[j].addr, strlen(e->env.rcpts[j].addr), SHOW_ADDRESS_MAX);
                                const RcptRecord *rs = rcpt_status(e, j);

                                printf("%18s<%s>", "", strempty(rcpt));
                                if (rs && rs->state != RCPT_PENDING)
                                        printf("  %s%s%s%s%s", rcpt_state_to_string(rs->state), *rs->code ? " " : "",
                                               rs->code, rs->diagnostic ? ": " : "", strempty(rs->diagnostic));
                                putchar('\n');
                        }
                }
                if (e->reason)
                        printf("%18sreason: %s\n", "", e->reason);
                if (e->where == WHERE_DELIVER)
                        print_deliver_summary(e);
        }
        if (l->n == 0)
                printf("Mail queue is empty\n");
        else
                printf("-- %" PRIu64 " KiB in %zu message%s\n", (total + 1023) / 1024, l->n, l->n == 1 ? "" : "s");
}

static void print_json_deliver(const QueueEntry *e) {
        bool ok = e->has_state && !e->error && !e->status_error;
        char iso[sizeof("2026-11-28T02:53:07Z")], err[128];

        printf(", \"attempted\": %s, \"attempts\": %u, ", e->has_state ? "true" : "false",
               ok ? e->state.attempts : 0);
        format_iso(e->state.next_usec, iso);
        json_print_member(stdout, "next_retry", ok && e->state.next_usec ? iso : NULL);
        printf(", ");
        json_print_member(stdout, "state_error", !e->has_state || !e->status_error ? NULL
                          : status_error_string(e, err, sizeof(err)));
}

static void print_json(const QueueList *l) {
        printf("{\"messages\": [");
        for (size_t i = 0; i < l->n; i++) {
                const QueueEntry *e = &l->entries[i];
                char iso[sizeof("2026-11-28T02:53:07Z")], err[128];

                format_iso(entry_arrival(e), iso);
                printf("%s\n  {", i ? "," : "");
                json_print_member(stdout, "id", e->id);
                printf(", ");
                json_print_member(stdout, "queue", queue_where_to_string(e->where));
                printf(", ");
                json_print_member(stdout, "held_from", queue_where_held_from(e->where));
                printf(", \"size\": %" PRIu64 ", ", e->size);
                json_print_member(stdout, "arrival", iso);
                printf(", \"arrival_usec\": %" PRIu64 ", ", entry_arrival(e));
                json_print_member(stdout, "error", e->error ? entry_error(e, err, sizeof(err)) : NULL);
                printf(", ");
                json_print_member(stdout, "reason", e->reason);
                printf(", ");
                json_print_member(stdout, "sender", e->error ? NULL : e->env.sender);
                printf(", ");
                json_print_member(stdout, "auth", e->error ? NULL : e->env.auth);
                printf(", \"notification\": %s", e->error == 0 && e->env.kind == ENVELOPE_KIND_DSN ? "true" : "false");
                if (e->where == WHERE_DELIVER)
                        print_json_deliver(e);
                printf(", \"recipients\": [");
                for (size_t j = 0; e->error == 0 && j < e->env.n_rcpts; j++) {
                        const RcptRecord *rs = rcpt_status(e, j);

                        printf("%s{", j ? ", " : "");
                        json_print_member(stdout, "address", e->env.rcpts[j].addr);
                        printf(", ");
                        json_print_member(stdout, "status", rs ? rcpt_state_to_string(rs->state)
                                                   : e->where == WHERE_DELIVER ? "pending" : NULL);
                        printf(", ");
                        json_print_member(stdout, "code", rs && *rs->code ? rs->code : NULL);
                        printf(", ");
                        json_print_member(stdout, "diagnostic", rs ? rs->diagnostic : NULL);
                        printf("}");
                }
                printf("]}");
        }
        printf("%s]}\n", l->n ? "\n" : "");
}

static void help(void) {
        printf("Usage: pochtar queue [--json] [--config PATH]\n\n"
               "Lists every message in the spool: incoming (not yet signed), signed (waiting\n"
               "for deliver), deliver (claimed, pending or deferred), hold (held by the admin)\n"
               "and quarantine (refused by a stage, with its reason).\n\n"
               "  --json             one JSON object, {\"messages\": [...]}, for scripts\n"
               "  --config PATH      pochtar.conf to read (default %s)\n"
               "  -h, --help         show this help\n", cli_default_config());
}

static int parse_option(int opt, const char *arg, void *userdata) {
        *(bool *) userdata = true;      /* --json, the only one */
        return 0;
}

int run_queue(int argc, char **argv) {
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                {}
        };
        _cleanup_(config_done) Config config = {};
        _cleanup_close_ int root = -EBADF;
        const char *config_path;
        QueueList l = {};
        bool json = false;
        int r;

        r = cli_parse_options(argc, argv, options, parse_option, &json, help, &config_path);
        if (r >= 0)
                return r;
        if (optind != argc)
                return cli_usage_error("queue", "unexpected argument '%s'", argv[optind]);
        if (cli_config_load(config_path, &config) < 0)
                return EX_CONFIG;
        if (cli_spool_open(&config, &root) < 0)
                return EX_NOINPUT;
        r = queue_scan(root, true, &l);
        if (r < 0) {
                log_error_errno(r, "Failed to scan the spool %s: %m", config.spool.dir);
                return EX_IOERR;
        }
        if (json)
                print_json(&l);
        else
                print_text(&l);
        queue_list_done(&l);
        return EX_OK;
}
