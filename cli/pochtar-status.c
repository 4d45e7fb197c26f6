/* SPDX-License-Identifier: MIT */
/*
 * `pochtar status`: is the chain running and is mail moving? Each unit's
 * state from systemd over D-Bus, each queue's size and oldest message,
 * and whether port 25 is reachable at all from this host. Exit 1 if a
 * unit failed or port 25 is unreachable, so it can serve as a monitoring
 * check.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <systemd/sd-bus.h>
#include <sysexits.h>
#include <time.h>

#include "cli/cli-util.h"
#include "cli/dns-lookup.h"
#include "cli/pochtar.h"
#include "cli/queue-scan.h"
#include "cli/smtp-probe.h"
#include "shared/log.h"

#define PROBE_DOMAIN_DEFAULT "gmail.com"
#define PROBE_TIMEOUT_DEFAULT (10 * USEC_PER_SEC)

static const char * const units[] = {
        "pochtar-receive.socket",
        "pochtar-receive.service",
        "pochtar-sign.service",
        "pochtar-deliver.service",
};


/* Returns the ActiveState ("active", "inactive", "failed", …). */
static int unit_state(sd_bus *bus, const char *unit, char **ret) {
        _cleanup_free_ char *path = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path);
        if (r < 0)
                return r;
        r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Unit",
                                       "ActiveState", &error, ret);
        sd_bus_error_free(&error);
        return r;
}

static void format_age(uint64_t usec, char *buf, size_t size) {
        uint64_t s = usec / USEC_PER_SEC;

        if (s < 120)
                (void) snprintf(buf, size, "%" PRIu64 "s", s);
        else if (s < 7200)
                (void) snprintf(buf, size, "%" PRIu64 "m", s / 60);
        else if (s < 172800)
                (void) snprintf(buf, size, "%" PRIu64 "h", s / 3600);
        else
                (void) snprintf(buf, size, "%" PRIu64 "d", s / 86400);
}

static int show_units(void) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r, failed = 0;

        printf("Units:\n");
        r = sd_bus_open_system(&bus);
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                _cleanup_free_ char *state = NULL;

                if (r >= 0 && unit_state(bus, units[i], &state) >= 0) {
                        printf("  %-26s %s\n", units[i], state);
                        failed += streq(state, "failed");
                } else
                        printf("  %-26s unknown (%s)\n", units[i],
                               r < 0 ? "no system bus" : "systemd does not know it");
        }
        return failed;
}

static int show_queues(const Config *config) {
        _cleanup_close_ int root = -EBADF;
        uint64_t now = now_realtime_usec();
        QueueList l = {};
        int r;

        printf("\nQueues (%s):\n", config->spool.dir);
        r = cli_spool_open(config, &root);
        if (r >= 0)
                r = queue_scan(root, false, &l);
        if (r < 0) {
                printf("  cannot read the spool: %s\n", strerror(-r));
                return r;
        }
        for (QueueWhere w = 0; w < _WHERE_MAX; w++) {
                size_t n = 0;
                uint64_t oldest = UINT64_MAX;
                char age[32] = "-";

                if (w == WHERE_HOLD_SIGNED)
                        continue;       /* counted with hold/incoming as "hold" */
                for (size_t i = 0; i < l.n; i++)
                        if (l.entries[i].where == w ||
                            (w == WHERE_HOLD_INCOMING && l.entries[i].where == WHERE_HOLD_SIGNED)) {
                                uint64_t t = queue_id_usec(l.entries[i].id);

                                n++;
                                if (t < oldest)
                                        oldest = t;
                        }
                if (n)
                        format_age(now > oldest ? now - oldest : 0, age, sizeof(age));
                printf("  %-12s %6zu   oldest %s\n", queue_where_to_string(w), n, age);
        }
        queue_list_done(&l);
        return 0;
}

static int show_probe(const Config *config, const char *domain, uint64_t timeout) {
        ProbeResult p;
        int r;

        printf("\nOutbound port 25 (probe: MX of %s):\n", domain);
        r = smtp_probe(domain, config->deliver.bind_address, timeout, &p);
        if (r >= 0) {
                printf("  reachable: %s [%s]:25 answered in %" PRIu64 " ms: %s\n", p.host, inet_ntoa(p.addr),
                       p.elapsed_usec / USEC_PER_MSEC, p.greeting);
                return 0;
        }
        if (streq(p.step, "MX lookup") || streq(p.step, "address lookup"))
                printf("  unknown: %s of %s failed: %s\n", p.step, *p.host ? p.host : domain, dns_strerror(r));
        else
                printf("  UNREACHABLE: %s to %s [%s]:25 failed: %s\n%s", p.step, p.host, inet_ntoa(p.addr),
                       r == -ECONNREFUSED && *p.greeting ? p.greeting : strerror(-r),
                       r == -ETIMEDOUT ? "  (outbound port 25 is probably blocked by the hosting provider; "
                                         "mail will stay deferred: ask them to open it, or set [deliver] "
                                         "relayhost)\n" : "");
        return r;
}

static void help(void) {
        printf("Usage: pochtar status [--probe-domain DOMAIN] [--timeout SECONDS] [--config PATH]\n\n"
               "Shows each pochtar unit's state, each queue's size and the age of its oldest\n"
               "message, and whether outbound port 25 is reachable: connects to the MX of the\n"
               "probe domain and reads its greeting (no command is sent). Exits 1 if a unit\n"
               "failed or port 25 is unreachable.\n\n"
               "  --probe-domain D   the domain whose MX is probed (default %s)\n"
               "  --no-probe         skip the port 25 probe\n"
               "  --timeout SECONDS  per connection (default %" PRIu64 ")\n"
               "  --config PATH      pochtar.conf to read (default %s)\n"
               "  -h, --help         show this help\n",
               PROBE_DOMAIN_DEFAULT, PROBE_TIMEOUT_DEFAULT / USEC_PER_SEC, cli_default_config());
}

typedef struct StatusArgs {
        const char *probe;              /* NULL: the default, unless deliver does not use MX */
        usec_t timeout;
        bool no_probe;
} StatusArgs;

static int parse_option(int opt, const char *arg, void *userdata) {
        StatusArgs *a = userdata;

        switch (opt) {
        case 'p':
                if (!*arg)
                        return cli_usage_error("status", "empty --probe-domain");
                a->probe = arg;
                return 0;
        case 'n':
                a->no_probe = true;
                return 0;
        case 't':
                if (config_parse_usec(arg, &a->timeout, NULL) < 0 || a->timeout == 0)
                        return cli_usage_error("status", "invalid --timeout '%s'", arg);
                return 0;
        default:
                return EX_USAGE;
        }
}

int run_status(int argc, char **argv) {
        static const struct option options[] = {
                { "probe-domain", required_argument, NULL, 'p' },
                { "no-probe", no_argument, NULL, 'n' },
                { "timeout", required_argument, NULL, 't' },
                {}
        };
        _cleanup_(config_done) Config config = {};
        StatusArgs a = { .timeout = PROBE_TIMEOUT_DEFAULT };
        const char *config_path;
        int r, failed = 0;

        r = cli_parse_options(argc, argv, options, parse_option, &a, help, &config_path);
        if (r >= 0)
                return r;
        if (optind != argc)
                return cli_usage_error("status", "unexpected argument '%s'", argv[optind]);
        if (cli_config_load(config_path, &config) < 0)
                return EX_CONFIG;

        failed += show_units();
        failed += show_queues(&config) < 0;
        /* in relay or capture mode nothing goes to remote MXs: their port 25
         * only matters if the admin asks */
        if (!a.probe && config.deliver.mode != DELIVER_MODE_MX && !a.no_probe)
                printf("\nOutbound port 25: not probed, [deliver] mode is not mx (use --probe-domain to probe)\n");
        else if (!a.no_probe)
                failed += show_probe(&config, a.probe ?: PROBE_DOMAIN_DEFAULT, a.timeout) < 0;
        return failed ? 1 : EX_OK;
}
