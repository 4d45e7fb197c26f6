/* SPDX-License-Identifier: MIT */
/*
 * Flush requests (deliver-flush.h). The watch comes before the scan, so a
 * request is seen at least once; seen twice (by the scan and by its
 * event), the second finds the file gone and does nothing.
 */
#include <sys/inotify.h>

#include "services/deliver/deliver-flush.h"
#include "shared/fd-util.h"
#include "shared/log.h"
#include "shared/spool.h"

struct FlushWatch {
        int dir_fd;
        sd_event_source *source;
        FlushFn fn;
        void *userdata;
};

static void flush_request(FlushWatch *w, const char *name) {
        if (!spool_flush_name_valid(name))
                return;
        if (unlinkat(w->dir_fd, name, 0) < 0 && errno == ENOENT)
                return; /* handled already (scan and event for the same file) */
        log_info("flush requested: %s", name);
        w->fn(streq(name, "all") ? NULL : name, w->userdata);
}

static int on_flush(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        FlushWatch *w = userdata;

        if (ev->len > 0)
                flush_request(w, ev->name);
        return 0;
}

static int flush_one(int dir_fd, const char *name, void *userdata) {
        flush_request(userdata, name);
        return 0;
}

int flush_watch_new(int root_fd, FlushFn fn, void *userdata, FlushWatch **ret) {
        _cleanup_(flush_watch_freep) FlushWatch *w = NULL;
        int r;

        w = calloc(1, sizeof(*w));
        if (!w)
                return log_oom();
        *w = (FlushWatch) { .dir_fd = -EBADF, .fn = fn, .userdata = userdata };
        r = spool_flush_open(root_fd, true, &w->dir_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to open control/flush/: %m");
        *ret = TAKE_PTR(w);
        return 0;
}

int flush_watch_start(FlushWatch *w, sd_event *e) {
        int r;

        r = sd_event_add_inotify_fd(e, &w->source, w->dir_fd, IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR,
                                    on_flush, w);
        if (r < 0)
                return log_error_errno(r, "Failed to watch control/flush/: %m");
        r = dir_each(w->dir_fd, flush_one, w);
        if (r < 0)
                log_warning_errno(r, "Failed to scan flush requests, ignoring: %m");
        return 0;
}

FlushWatch *flush_watch_free(FlushWatch *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->source);
        safe_close(w->dir_fd);
        free(w);
        return NULL;
}
