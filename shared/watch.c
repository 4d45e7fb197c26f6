/* SPDX-License-Identifier: MIT */
#include <sys/inotify.h>

#include "shared/macro.h"
#include "shared/watch.h"

struct SpoolWatch {
        sd_event_source *source;
        SpoolDir *dir;
        SpoolWatchFn fn;
        void *userdata;
};

int spool_watch_rescan(SpoolWatch *w) {
        char **ids = NULL;
        size_t n = 0;
        int r;

        r = spool_scan_new(w->dir, &ids, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++)
                r = w->fn(ids[i], w->userdata);
        spool_ids_free(ids, n);
        return r;
}

static int on_inotify(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        SpoolWatch *w = userdata;

        if (ev->mask & IN_Q_OVERFLOW)
                return spool_watch_rescan(w);
        if (ev->len == 0 || !queue_id_valid(ev->name))
                return 0;
        return w->fn(ev->name, w->userdata);
}

int spool_watch_new(sd_event *e, SpoolDir *d, SpoolWatchFn fn, void *userdata, SpoolWatch **ret) {
        SpoolWatch *w;
        int r;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        *w = (SpoolWatch) { .dir = d, .fn = fn, .userdata = userdata };
        /* A publish is a rename into new/ (IN_MOVED_TO); IN_CLOSE_WRITE
         * covers tools that write new/ directly, which we do not, but an
         * operator restoring files by hand might. */
        r = sd_event_add_inotify_fd(e, &w->source, d->new_fd, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR,
                                    on_inotify, w);
        if (r < 0) {
                free(w);
                return r;
        }
        *ret = w;
        return 0;
}

SpoolWatch *spool_watch_free(SpoolWatch *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->source);
        free(w);
        return NULL;
}
