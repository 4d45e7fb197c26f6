/* SPDX-License-Identifier: MIT */
/*
 * pochtar-sign(8): DKIM-signs every message that appears in incoming/new
 * and hands it to signed/new. main() only wires things: config, keys,
 * spool directories, the inotify watch and the event loop. IDs reported
 * by the watch are collected and handled as one batch when the loop is
 * otherwise idle, so a burst costs one group commit instead of one per
 * message.
 */
#include <sysexits.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-event.h>

#include "config-build.h"
#include "services/sign/sign-worker.h"
#include "shared/event-util.h"
#include "shared/log.h"
#include "shared/notify.h"
#include "shared/spool-check.h"
#include "shared/spool-owner.h"
#include "shared/spool-spare.h"
#include "shared/watch.h"

#define RETRY_USEC (10 * USEC_PER_SEC)
/* how long removals of signed inputs may wait for their sync: the window
 * in which a crash makes sign sign them again (a duplicate, never a loss) */
#define REMOVAL_SYNC_USEC (20 * USEC_PER_MSEC)

typedef struct Manager {
        sd_event *event;
        sd_event_source *batch;
        sd_event_source *retry;
        sd_event_source *removal_sync;
        sd_event_source *spare_timer;   /* unlinks unused spares after [spool] spare_keep */
        SpoolWatch *watch;
        SignWorker worker;
        char ids[SIGN_BATCH_MAX][QUEUE_ID_LEN + 1];
        char *pending[SIGN_BATCH_MAX];
        size_t n_pending;
} Manager;

static int run_batch(Manager *m) {
        int r;

        if (m->n_pending == 0)
                return 0;
        r = sign_worker_run(&m->worker, m->pending, m->n_pending);
        m->n_pending = 0;
        (void) sd_event_source_set_enabled(m->batch, SD_EVENT_OFF);
        if (m->spare_timer)
                event_timer_arm(m->spare_timer, m->worker.config->spool.spare_keep);
        if (sign_worker_removals_pending(&m->worker) &&
            sd_event_source_get_enabled(m->removal_sync, NULL) == 0)
                event_timer_arm(m->removal_sync, REMOVAL_SYNC_USEC);
        notify_status("%u signed, %u unsigned, %u quarantined", m->worker.n_signed,
                      m->worker.n_unsigned, m->worker.n_quarantined);
        if (r < 0) {
                /* Disk full or I/O trouble: the messages are still in
                 * incoming/new; look at the directory again later. */
                event_timer_arm(m->retry, RETRY_USEC);
        }
        return 0;
}

static int on_spare_keep(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        (void) spool_spare_drop(m->worker.signed_dir);
        return 0;
}

static int on_removal_sync(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        (void) sign_worker_sync_removals(&m->worker);
        return 0;
}

static int on_batch(sd_event_source *s, void *userdata) {
        return run_batch(userdata);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        int r;

        r = spool_watch_rescan(m->watch);
        if (r < 0) {
                log_warning_errno(r, "Cannot scan incoming/new, retrying: %m");
                event_timer_arm(m->retry, RETRY_USEC);
        }
        return 0;
}

static int on_id(const char *id, void *userdata) {
        Manager *m = userdata;

        for (size_t i = 0; i < m->n_pending; i++)
                if (streq(m->pending[i], id))
                        return 0;
        memcpy(m->ids[m->n_pending], id, QUEUE_ID_LEN + 1);
        m->pending[m->n_pending] = m->ids[m->n_pending];
        m->n_pending++;
        if (m->n_pending == SIGN_BATCH_MAX)
                return run_batch(m);
        return sd_event_source_set_enabled(m->batch, SD_EVENT_ONESHOT);
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        _cleanup_free_ char *error = NULL;
        SignKeys *keys = NULL;
        int r;

        r = sign_keys_load(&m->worker.config->sign, &keys, &error);
        if (r < 0) {
                log_error("Reload failed, keeping the keys loaded before: %s", error ? error : strerror(-r));
                return 0;
        }
        sign_worker_set_keys(&m->worker, keys);
        log_info("Reloaded %zu signing key(s).", keys->n_keys);
        return 0;
}

static void help(void) {
        printf("Usage: pochtar-sign [--config PATH]\n\n"
               "DKIM-sign the messages of the pochtar spool (incoming/ to signed/).\n\n"
               "  -c, --config PATH  configuration file (default %s)\n"
               "  -h, --help         show this help\n"
               "      --version      print the version\n\n"
               "See pochtar-sign(8).\n", POCHTAR_CONFIG);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        static const SpoolQueue queues[] = { SPOOL_QUEUE_INCOMING, SPOOL_QUEUE_SIGNED, SPOOL_QUEUE_QUARANTINE };
        _cleanup_free_ char *error = NULL, *missing = NULL;
        const char *config_path = POCHTAR_CONFIG;
        SpoolDir incoming = SPOOL_DIR_NULL, signed_dir = SPOOL_DIR_NULL, quarantine = SPOOL_DIR_NULL;
        SpoolOwners owners;
        _cleanup_close_ int root = -EBADF;
        Manager m = {};
        _cleanup_(sign_keys_freep) SignKeys *keys = NULL;
        Config config;
        int c, r, exit_status = EXIT_FAILURE;

        log_setup("sign");
        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        config_path = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("pochtar-sign %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return 2;
                }
        if (optind < argc) {
                log_error("Unexpected argument '%s'.", argv[optind]);
                return 2;
        }

        r = config_init(&config);
        if (r < 0)
                return log_oom(), 1;
        r = config_load(&config, config_path, &error);
        if (r < 0) {
                if (error)
                        log_error("%s", error);
                else
                        log_error_errno(r, "Failed to load '%s': %m", config_path);
                exit_status = EX_CONFIG;
                goto finish;
        }
        r = sign_keys_load(&config.sign, &keys, &error);
        if (r < 0) {
                log_error("%s", error ? error : strerror(-r));
                exit_status = EX_CONFIG;
                goto finish;
        }

        r = spool_check_queues(config.spool.dir, queues, ELEMENTSOF(queues), &missing);
        if (r == -ENOMEM) {
                log_oom();
                goto finish;
        }
        if (r < 0) {
                log_error_errno(r, SPOOL_CHECK_ERROR_FMT, missing);
                exit_status = r == -ENOENT || r == -ENOTDIR ? EX_CONFIG : EXIT_FAILURE;
                goto finish;
        }
        r = spool_root_open(config.spool.dir, false, &root);
        if (r < 0) {
                log_error_errno(r, "Cannot open spool %s: %m", config.spool.dir);
                goto finish;
        }
        if ((r = spool_queue_open(root, SPOOL_QUEUE_INCOMING, false, &incoming)) < 0 ||
            (r = spool_queue_open(root, SPOOL_QUEUE_SIGNED, false, &signed_dir)) < 0 ||
            (r = spool_queue_open(root, SPOOL_QUEUE_QUARANTINE, false, &quarantine)) < 0) {
                log_error_errno(r, "Cannot open the spool queues under %s: %m", config.spool.dir);
                goto finish;
        }
        r = spool_owners_resolve(&owners);
        if (r < 0) {
                log_error_errno(r, "Cannot look up the stage users: %m");
                goto finish;
        }
        /* we read incoming/ and take our spares back from signed/tmp */
        spool_dir_set_owners(&incoming, SPOOL_QUEUE_INCOMING, &owners);
        spool_dir_set_owners(&signed_dir, SPOOL_QUEUE_SIGNED, &owners);
        r = spool_clean_tmp(&signed_dir, "sign", NULL);
        if (r < 0)
                log_warning_errno(r, "Cannot clean signed/tmp: %m");
        r = spool_clean_tmp(&quarantine, "sign", NULL);
        if (r < 0)
                log_warning_errno(r, "Cannot clean quarantine/tmp: %m");
        /* inputs a crash caught between giving them back and handing them over */
        r = spool_spare_clean_given(&incoming, NULL);
        if (r < 0)
                log_warning_errno(r, "Cannot clean incoming/new: %m");

        r = sign_worker_init(&m.worker, &config, &incoming, &signed_dir, &quarantine);
        if (r < 0) {
                log_error_errno(r, "Bad [sign] canonicalization '%s' (simple|relaxed[/simple|relaxed]): %m",
                                config.sign.canonicalization);
                goto finish;
        }
        sign_worker_set_keys(&m.worker, TAKE_PTR(keys));

        sigset_t mask;
        (void) sigemptyset(&mask);
        (void) sigaddset(&mask, SIGTERM);
        (void) sigaddset(&mask, SIGINT);
        (void) sigaddset(&mask, SIGHUP);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);

        r = sd_event_default(&m.event);
        /* WATCHDOG=1 pings when the unit sets WatchdogSec=; a no-op otherwise. */
        if (r >= 0)
                r = sd_event_set_watchdog(m.event, true);
        if (r >= 0)
                r = sd_event_add_signal(m.event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(m.event, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(m.event, NULL, SIGHUP, on_reload, &m);
        if (r >= 0)
                r = sd_event_add_defer(m.event, &m.batch, on_batch, &m);
        /* Idle priority: every queued inotify event joins the batch first. */
        if (r >= 0)
                r = sd_event_source_set_priority(m.batch, SD_EVENT_PRIORITY_IDLE);
        if (r >= 0)
                r = sd_event_source_set_enabled(m.batch, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time_relative(m.event, &m.retry, CLOCK_MONOTONIC, RETRY_USEC, 0, on_retry, &m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m.retry, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time_relative(m.event, &m.removal_sync, CLOCK_MONOTONIC, REMOVAL_SYNC_USEC, 0,
                                               on_removal_sync, &m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m.removal_sync, SD_EVENT_OFF);
        if (r >= 0 && config.spool.spare_keep > 0)
                r = sd_event_add_time_relative(m.event, &m.spare_timer, CLOCK_MONOTONIC, config.spool.spare_keep,
                                               USEC_PER_SEC, on_spare_keep, &m);
        if (r >= 0)
                r = spool_watch_new(m.event, &incoming, on_id, &m, &m.watch);
        if (r < 0) {
                log_error_errno(r, "Cannot set up the event loop: %m");
                goto finish;
        }
        /* After the watch exists: whatever arrived while we were down, or
         * arrives now, is seen at least once. */
        r = spool_watch_rescan(m.watch);
        if (r < 0) {
                log_warning_errno(r, "Start-up scan of incoming/new failed, retrying: %m");
                (void) sd_event_source_set_enabled(m.retry, SD_EVENT_ONESHOT);
        }

        log_info("Signing with %zu key(s), %s canonicalization, %u thread(s), spool %s.", m.worker.keys->n_keys,
                 config.sign.canonicalization, m.worker.n_lanes, config.spool.dir);
        notify_ready();
        r = sd_event_loop(m.event);
        if (r < 0)
                log_error_errno(r, "Event loop failed: %m");
        notify_stopping();
        (void) run_batch(&m);

finish:
        spool_watch_free(m.watch);
        sd_event_source_unref(m.batch);
        sd_event_source_unref(m.retry);
        sd_event_source_unref(m.removal_sync);
        sd_event_source_unref(m.spare_timer);
        sd_event_unref(m.event);
        if (m.worker.config)    /* sign_worker_init() got as far as that */
                sign_worker_done(&m.worker);
        spool_dir_done(&incoming);
        spool_dir_done(&signed_dir);
        spool_dir_done(&quarantine);
        config_done(&config);
        return r < 0 ? exit_status : 0;
}
