/* SPDX-License-Identifier: MIT */
/*
 * `pochtar metrics`: counters from the journal and queue gauges from the
 * spool, in the text format Prometheus' node_exporter textfile collector
 * reads (or OpenMetrics with --openmetrics). Meant to be run by a timer
 * that writes the output to the collector's directory atomically.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <sysexits.h>
#include <time.h>

#include "cli/cli-util.h"
#include "cli/journal-counters.h"
#include "cli/pochtar.h"
#include "cli/queue-scan.h"
#include "shared/log.h"

typedef struct Exposition {
        bool openmetrics;
        const char *directory;
} Exposition;

/* In OpenMetrics the family is named without "_total"; in the Prometheus
 * text format the TYPE line names the sample itself. */
static void counter(const Exposition *x, const char *name, const char *help, uint64_t v) {
        printf("# HELP %s%s %s\n# TYPE %s%s counter\n%s_total %" PRIu64 "\n", name, x->openmetrics ? "" : "_total",
               help, name, x->openmetrics ? "" : "_total", name, v);
}

static void histogram(const JournalCounters *c) {
        static const unsigned bounds[] = DELAY_BUCKETS;

        printf("# HELP pochtar_delivery_delay_seconds Time from arrival to a recipient's successful delivery.\n"
               "# TYPE pochtar_delivery_delay_seconds histogram\n");
        for (size_t i = 0; i < ELEMENTSOF(bounds); i++)
                printf("pochtar_delivery_delay_seconds_bucket{le=\"%u.0\"} %" PRIu64 "\n", bounds[i],
                       c->delay_buckets[i]);
        printf("pochtar_delivery_delay_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
               "pochtar_delivery_delay_seconds_count %" PRIu64 "\n"
               "pochtar_delivery_delay_seconds_sum %.6f\n", c->delay_count, c->delay_count, c->delay_sum);
}

/* The place a gauge counts @w in: the first with its name (the two hold
 * queues are one "hold"). */
static QueueWhere gauge_of(QueueWhere w) {
        for (QueueWhere k = 0; k < w; k++)
                if (streq(queue_where_to_string(k), queue_where_to_string(w)))
                        return k;
        return w;
}

static int queue_gauges(const Config *config) {
        uint64_t count[_WHERE_MAX] = {}, oldest[_WHERE_MAX];
        _cleanup_close_ int root = -EBADF;
        QueueList l = {};
        uint64_t now;
        int r;

        r = cli_spool_open(config, &root);
        if (r < 0)
                return r;
        r = queue_scan(root, false, &l);
        if (r < 0)
                return log_error_errno(r, "Failed to scan the spool %s: %m", config->spool.dir);
        now = now_realtime_usec();
        for (QueueWhere w = 0; w < _WHERE_MAX; w++)
                oldest[w] = now;
        for (size_t i = 0; i < l.n; i++) {
                QueueWhere g = gauge_of(l.entries[i].where);
                uint64_t t = queue_id_usec(l.entries[i].id);

                count[g]++;
                if (t < oldest[g])
                        oldest[g] = t;
        }
        queue_list_done(&l);

        printf("# HELP pochtar_queue_messages Messages in each spool queue.\n"
               "# TYPE pochtar_queue_messages gauge\n");
        for (QueueWhere w = 0; w < _WHERE_MAX; w++)
                if (gauge_of(w) == w)
                        printf("pochtar_queue_messages{queue=\"%s\"} %" PRIu64 "\n", queue_where_to_string(w),
                               count[w]);
        printf("# HELP pochtar_queue_oldest_seconds Age of the oldest message in each queue (0 if empty).\n"
               "# TYPE pochtar_queue_oldest_seconds gauge\n");
        for (QueueWhere w = 0; w < _WHERE_MAX; w++)
                if (gauge_of(w) == w)
                        printf("pochtar_queue_oldest_seconds{queue=\"%s\"} %" PRIu64 "\n", queue_where_to_string(w),
                               (now - oldest[w]) / USEC_PER_SEC);
        return 0;
}

static void help(void) {
        printf("Usage: pochtar metrics [--openmetrics] [--directory DIR] [--config PATH]\n\n"
               "Prints counters (received, signed, quarantined, sent, deferred, bounced), the\n"
               "delivery-delay histogram, both read from the journal, and each queue's size\n"
               "and oldest message, for node_exporter's textfile collector.\n\n"
               "  --openmetrics      OpenMetrics text instead of the Prometheus text format\n"
               "  --directory DIR    read the journal files in DIR (as journalctl -D)\n"
               "  --config PATH      pochtar.conf to read (default %s)\n"
               "  -h, --help         show this help\n", cli_default_config());
}

static int parse_option(int opt, const char *arg, void *userdata) {
        Exposition *x = userdata;

        if (opt == 'D')
                x->directory = arg;
        else
                x->openmetrics = true;
        return 0;
}

int run_metrics(int argc, char **argv) {
        static const struct option options[] = {
                { "directory", required_argument, NULL, 'D' },
                { "openmetrics", no_argument, NULL, 'o' },
                {}
        };
        _cleanup_(config_done) Config config = {};
        const char *config_path, *directory;
        Exposition x = {};
        JournalCounters c;
        int r, failed = 0;

        r = cli_parse_options(argc, argv, options, parse_option, &x, help, &config_path);
        if (r >= 0)
                return r;
        directory = x.directory;
        if (optind != argc)
                return cli_usage_error("metrics", "unexpected argument '%s'", argv[optind]);
        if (cli_config_load(config_path, &config) < 0)
                return EX_CONFIG;

        r = journal_count(directory, &c);
        if (r < 0) {
                /* no counters rather than zeros: a scrape must not see a reset */
                log_error_errno(r, "Failed to read the journal%s%s: %m", directory ? " in " : "", strempty(directory));
                failed++;
        } else {
                counter(&x, "pochtar_received", "Messages accepted by pochtar-receive.", c.received);
                counter(&x, "pochtar_signed", "Messages DKIM-signed by pochtar-sign.", c.signed_);
                counter(&x, "pochtar_quarantined", "Messages a stage moved to quarantine.", c.quarantined);
                counter(&x, "pochtar_sent", "Recipients delivered (remote 250).", c.sent);
                counter(&x, "pochtar_deferred", "Delivery attempts deferred, per recipient.", c.deferred);
                counter(&x, "pochtar_bounced", "Recipients bounced (permanent failure or expiry).", c.bounced);
                histogram(&c);
        }
        if (queue_gauges(&config) < 0)
                failed++;
        if (x.openmetrics)
                printf("# EOF\n");
        return failed ? 1 : EX_OK;
}
