/* SPDX-License-Identifier: MIT */
/*
 * pochtar-receive: the ESMTP server applications hand mail to. One
 * process, one sd-event loop, many sessions; socket-activated
 * (Accept=no) or binding [receive] listen itself. A message is
 * acknowledged with 250 only once it is durable in incoming/new.
 *
 * SECURITY: runs as its own user (pochtar-receive); writes only
 * [spool] dir/incoming; talks only to clients inside [receive] allow
 * (loopback by default), answering everyone else 554.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "config-build.h"
#include "services/receive/receive-server.h"
#include "shared/config.h"
#include "shared/log.h"
#include "shared/macro.h"
#include "shared/notify.h"

static const char *arg_config = NULL;

static void help(void) {
        printf("Usage: pochtar-receive [--config PATH]\n\n"
               "ESMTP server for local applications; see pochtar-receive(8).\n\n"
               "  -c, --config PATH  configuration file (default " POCHTAR_CONFIG ")\n"
               "  -h, --help         show this help\n"
               "      --version      print the version\n");
}

static int parse_argv(int argc, char **argv) {
        enum { ARG_VERSION = 0x100 };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        arg_config = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("pochtar-receive %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                log_error("Unexpected argument '%s'.", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

static int load_config(Config *c) {
        _cleanup_free_ char *error = NULL;
        const char *path = arg_config ?: POCHTAR_CONFIG;
        int r;

        r = config_init(c);
        if (r < 0)
                return log_oom();
        /* A missing default file means defaults; a missing --config is an error. */
        if (!arg_config && access(path, F_OK) < 0 && errno == ENOENT)
                return 0;
        r = config_load(c, path, &error);
        if (r == -EINVAL)
                return log_error_errno(r, "%s", error);
        if (r < 0)
                return log_error_errno(r, "Failed to read '%s': %m", path);
        return 0;
}

/* systemctl reload: the submission certificate is read again (certbot's
 * deploy hook); sessions, and the loopback listener, go on untouched. */
static int on_reload(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata) {
        Server *server = userdata;

        notify_reloading();
        server_reload(server);
        notify_ready();
        return 0;
}

static int run(void) {
        _cleanup_(config_done) Config config = {};
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(server_freep) Server *server = NULL;
        struct rlimit rl;
        sigset_t mask;
        int r;

        r = load_config(&config);
        if (r < 0)
                return r;

        /* One descriptor per session plus one per message being written: raise
         * the soft limit to the hard one, as systemd's services may. */
        if (getrlimit(RLIMIT_NOFILE, &rl) >= 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }

        /* sd-event's signal sources need the signals blocked first. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        (void) signal(SIGPIPE, SIG_IGN);

        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "Failed to create the event loop: %m");
        /* NULL handler: sd_event_exit(), a clean stop; unfinished transactions
         * are aborted when the sessions are freed, acknowledged ones are durable. */
        if ((r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL)) < 0 ||
            (r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL)) < 0)
                return log_error_errno(r, "Failed to watch signals: %m");
        (void) sd_event_set_watchdog(event, true);

        r = server_new(event, &config, &server);
        if (r < 0)
                return r;
        r = server_start(server);
        if (r < 0)
                return r;
        r = sd_event_add_signal(event, NULL, SIGHUP, on_reload, server);
        if (r < 0)
                return log_error_errno(r, "Failed to watch SIGHUP: %m");

        log_info("Ready: %zu listener(s)%s, spool '%s', hostname %s",
                 server->n_listeners, server->socket_activated ? " from systemd" : "",
                 config.spool.dir, server->hostname);
        notify_ready();
        notify_status("accepting mail");

        r = sd_event_loop(event);
        notify_stopping();
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}

int main(int argc, char **argv) {
        int r;

        log_setup("receive");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EX_USAGE : EXIT_SUCCESS;
        r = run();
        /* a bad value or a missing file or spool directory named by the
         * configuration (logged where found) */
        if (r == -EINVAL || r == -ENOENT || r == -ENOTDIR)
                return EX_CONFIG;
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
