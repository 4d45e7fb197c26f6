/* SPDX-License-Identifier: MIT */
/*
 * pochtar-deliver: takes signed messages from signed/new and hands them to
 * the recipients' mail servers (mode = mx), to a relay host (mode =
 * relay), or to a local maildir (mode = capture). main() only wires
 * config, the queue and the transport into one sd-event loop.
 *
 * SECURITY: runs as pochtar-deliver. Writes only deliver/, the control/
 * directory, incoming/ (notifications), quarantine/ and signed/ (the
 * claim removes the file). It is the only stage that talks to the
 * network beyond loopback. Everything read from the spool, DNS and remote
 * servers is parsed with bounds and censored before it is logged.
 */
#include <sysexits.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>

#include "config-build.h"
#include "services/deliver/deliver-capture.h"
#include "services/deliver/deliver-queue.h"
#include "services/deliver/deliver-route.h"
#include "shared/config.h"
#include "shared/limits.h"
#include "shared/log.h"
#include "shared/macro.h"
#include "shared/notify.h"
#include "shared/spool-check.h"
#include "shared/spool.h"

static const char *arg_config = POCHTAR_CONFIG;

static int parse_argv(int argc, char **argv) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "c:hV", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        arg_config = optarg;
                        break;
                case 'h':
                        printf("%s [--config PATH]\n\nDeliver signed mail from the pochtar spool.\n",
                               program_invocation_short_name);
                        return 0;
                case 'V':
                        printf("pochtar-deliver %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(-EINVAL, "Unexpected argument '%s'.", argv[optind]);
        return 1;
}

/* helo_name default: the host's FQDN (Postfix myhostname). */
static int default_helo(Config *c) {
        char host[DNS_NAME_MAX + 1] = {};
        struct addrinfo hints = { .ai_flags = AI_CANONNAME }, *ai = NULL;

        if (c->deliver.helo_name)
                return 0;
        if (gethostname(host, sizeof(host) - 1) < 0)
                return -errno;
        if (!strchr(host, '.') && getaddrinfo(host, NULL, &hints, &ai) == 0 && ai->ai_canonname &&
            strchr(ai->ai_canonname, '.'))
                (void) snprintf(host, sizeof(host), "%s", ai->ai_canonname);
        if (ai)
                freeaddrinfo(ai);
        c->deliver.helo_name = strdup(host);
        return c->deliver.helo_name ? 0 : -ENOMEM;
}

static int run(Config *cfg) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(queue_freep) Queue *q = NULL;
        _cleanup_(capture_freep) Capture *cap = NULL;
        _cleanup_(route_freep) Route *route = NULL;
        Transport t;
        sigset_t ss;
        int r;

        r = sd_event_default(&e);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate event loop: %m");
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        (void) sigprocmask(SIG_BLOCK, &ss, NULL);
        (void) signal(SIGPIPE, SIG_IGN);
        r = sd_event_add_signal(e, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_set_watchdog(e, true);
        if (r < 0)
                return log_error_errno(r, "Failed to set up event loop: %m");

        r = queue_new(e, cfg, &q);
        if (r < 0)
                return r;
        if (cfg->deliver.mode == DELIVER_MODE_CAPTURE) {
                if (!cfg->deliver.capture_dir)
                        return log_error_errno(-EINVAL, "mode = capture needs capture_dir.");
                r = capture_new(cfg->deliver.capture_dir, &cap);
                if (r < 0)
                        return r;
                t = (Transport) { .attempt = capture_attempt, .userdata = cap };
        } else {
                r = route_new(e, &cfg->deliver, cfg->receive.listen, &route);
                if (r < 0)
                        return r;
                t = (Transport) { .attempt = route_attempt, .userdata = route };
        }
        queue_set_transport(q, &t);
        r = queue_start(q);
        if (r < 0)
                return r;
        notify_ready();
        log_info("started (mode %s)", cfg->deliver.mode == DELIVER_MODE_CAPTURE ? "capture" :
                 cfg->deliver.mode == DELIVER_MODE_RELAY ? "relay" : "mx");
        r = sd_event_loop(e);
        notify_stopping();
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}

/* The shared queues are tmpfiles'; deliver/ and control/ inside the tree
 * are deliver's own and made by it (deliver-queue.c, deliver-flush.c)
 * when missing. */
static int check_spool(const Config *c) {
        static const SpoolQueue queues[] = { SPOOL_QUEUE_SIGNED, SPOOL_QUEUE_INCOMING, SPOOL_QUEUE_QUARANTINE };
        _cleanup_free_ char *missing = NULL;
        int r;

        r = spool_check_queues(c->spool.dir, queues, ELEMENTSOF(queues), &missing);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, SPOOL_CHECK_ERROR_FMT, missing);
        return 0;
}

int main(int argc, char **argv) {
        Config cfg;
        _cleanup_free_ char *error = NULL;
        int r;

        log_setup("deliver");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        r = config_init(&cfg);
        if (r < 0)
                return log_oom(), EXIT_FAILURE;
        r = config_load(&cfg, arg_config, &error);
        if (r < 0) {
                if (error)
                        log_error("%s", error);
                else
                        log_error_errno(r, "Failed to load '%s': %m", arg_config);
                config_done(&cfg);
                return EX_CONFIG;
        }
        r = check_spool(&cfg);
        if (r < 0) {
                config_done(&cfg);
                return r == -ENOENT || r == -ENOTDIR ? EX_CONFIG : EXIT_FAILURE;
        }
        r = default_helo(&cfg);
        if (r >= 0)
                r = run(&cfg);
        config_done(&cfg);
        /* as receive: a bad value, or a file the configuration names that
         * cannot be used (logged where found, naming the key) */
        if (r == -EINVAL || r == -ENOENT || r == -ENOTDIR)
                return EX_CONFIG;
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
