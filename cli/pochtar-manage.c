/* SPDX-License-Identifier: MIT */
/*
 * `pochtar delete|hold|release ID…` and `pochtar flush [ID]`: postsuper
 * and postqueue -f for pochtar. Each acts on the spool with the stages
 * running (queue-ops.c says how), logs what it did with the message's
 * POCHTAR_QUEUE_ID so the journal keeps the message's whole story, and
 * exits non-zero if any ID could not be acted on.
 */
#include <getopt.h>
#include <stdio.h>
#include <sysexits.h>

#include "cli/cli-util.h"
#include "cli/pochtar.h"
#include "cli/queue-ops.h"
#include "shared/log-ids.h"
#include "shared/log.h"

typedef enum ManageVerb {
        VERB_DELETE,
        VERB_HOLD,
        VERB_RELEASE,
        VERB_FLUSH,
} ManageVerb;

static const struct {
        const char *name;
        const char *usage;
        const char *text;
} verbs[] = {
        [VERB_DELETE] = { "delete", "ID...",
                "Removes each message from whatever queue holds it (incoming, signed,\n"
                "deliver, hold, quarantine), with its quarantine reason and deliver state.\n"
                "Nothing is sent and no bounce is made." },
        [VERB_HOLD] = { "hold", "ID...",
                "Moves each message from incoming/ or signed/ into hold/, where no stage\n"
                "touches it until 'pochtar release'." },
        [VERB_RELEASE] = { "release", "ID...",
                "Moves each held message back to the queue it was held from." },
        [VERB_FLUSH] = { "flush", "[ID|all]",
                "Asks pochtar-deliver to retry deferred mail now: every deferred message, or\n"
                "only ID. A request made while deliver is stopped waits in the spool." },
};

static ManageVerb help_verb;

static void help(void) {
        ManageVerb v = help_verb;

        printf("Usage: pochtar %s %s [--config PATH]\n\n%s\n\n"
               "  --config PATH      pochtar.conf to read (default %s)\n"
               "  -h, --help         show this help\n",
               verbs[v].name, verbs[v].usage, verbs[v].text, cli_default_config());
}

static void describe_location(int root, const char *id, char *buf, size_t size) {
        QueueWhere w;

        if (queue_locate(root, id, &w) < 0)
                (void) snprintf(buf, size, "no such message");
        else if (queue_where_held_from(w))
                (void) snprintf(buf, size, "it is already held");
        else
                (void) snprintf(buf, size, "it is in %s/, which %s", queue_where_path(w),
                                w == WHERE_DELIVER ? "pochtar-deliver owns (use 'pochtar delete', or "
                                                     "stop pochtar-deliver first)"
                                                   : "this command does not act on");
}

static int act(ManageVerb v, int root, const char *spool, const char *id) {
        LogFields f = { .message_id = LOG_ID_REMOVED, .queue_id = id };
        QueueWhere w;
        unsigned mask;
        char why[256];
        int r;

        switch (v) {
        case VERB_DELETE:
                r = queue_delete(root, id, &mask);
                if (r == -ENOENT)
                        break;
                if (r < 0)
                        return log_error_errno(r, "%s: failed to delete: %m", id);
                for (w = 0; w < _WHERE_MAX; w++)
                        if (mask & (1u << w)) {
                                f.status = "removed";
                                log_msg(LOG_NOTICE, &f, "removed from %s/ by the administrator",
                                        queue_where_path(w));
                        }
                return 0;
        case VERB_HOLD:
                r = queue_hold(root, id, &w);
                if (r == -ENOENT)
                        break;
                if (r < 0)
                        return log_error_errno(r, "%s: failed to hold: %m", id);
                f = (LogFields) { .queue_id = id, .status = "held" };
                log_msg(LOG_NOTICE, &f, "held (from %s/)", queue_where_path(w));
                return 0;
        case VERB_RELEASE:
                r = queue_release(root, id, &w);
                if (r == -ENOENT) {
                        log_error("%s: not held", id);
                        return -ENOENT;
                }
                if (r < 0)
                        return log_error_errno(r, "%s: failed to release: %m", id);
                f = (LogFields) { .queue_id = id, .status = "released" };
                log_msg(LOG_NOTICE, &f, "released to %s/", queue_where_path(w));
                return 0;
        case VERB_FLUSH:
                r = queue_flush_request(root, id);
                if (r == -ENOENT)
                        return log_error_errno(r, "No %s/control/flush/: pochtar-deliver makes it when it "
                                               "starts; is pochtar-deliver installed and started?",
                                               spool);
                if (r < 0)
                        return log_error_errno(r, "Failed to request a flush of %s: %m", id);
                if (!streq(id, "all") && queue_locate(root, id, &w) >= 0 && w != WHERE_DELIVER)
                        log_warning("%s: is in %s/, not deferred: the flush changes nothing for it", id,
                                    queue_where_path(w));
                printf("flush of %s requested\n", id);
                return 0;
        }
        describe_location(root, id, why, sizeof(why));
        log_error("%s: cannot %s: %s", id, verbs[v].name, why);
        return -ENOENT;
}

static int run_verb(ManageVerb v, int argc, char **argv) {
        _cleanup_(config_done) Config config = {};
        _cleanup_close_ int root = -EBADF;
        const char *config_path;
        int r, failed = 0;

        help_verb = v;
        r = cli_parse_options(argc, argv, NULL, NULL, NULL, help, &config_path);
        if (r >= 0)
                return r;
        if (v == VERB_FLUSH ? argc - optind > 1 : optind == argc)
                return cli_usage_error(verbs[v].name, "expected %s", verbs[v].usage);
        for (int i = optind; i < argc; i++)
                if (!queue_id_valid(argv[i]) && !(v == VERB_FLUSH && streq(argv[i], "all")))
                        return cli_usage_error(verbs[v].name, "'%s' is not a queue ID", argv[i]);
        if (cli_config_load(config_path, &config) < 0)
                return EX_CONFIG;
        if (cli_spool_open(&config, &root) < 0)
                return EX_NOINPUT;
        if (v == VERB_FLUSH && optind == argc)
                return act(v, root, config.spool.dir, "all") < 0 ? EX_IOERR : EX_OK;
        for (int i = optind; i < argc; i++)
                if (act(v, root, config.spool.dir, argv[i]) < 0)
                        failed++;
        return failed ? 1 : EX_OK;
}

int run_delete(int argc, char **argv) {
        return run_verb(VERB_DELETE, argc, argv);
}

int run_hold(int argc, char **argv) {
        return run_verb(VERB_HOLD, argc, argv);
}

int run_release(int argc, char **argv) {
        return run_verb(VERB_RELEASE, argc, argv);
}

int run_flush(int argc, char **argv) {
        return run_verb(VERB_FLUSH, argc, argv);
}
