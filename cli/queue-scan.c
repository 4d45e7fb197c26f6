/* SPDX-License-Identifier: MIT */
/*
 * Lists the spool for the admin. Every file is looked at before it is
 * opened, and opened only if it is a regular file with one link and an
 * expected owner, non-blocking (spool_open_checked()); it is read only as
 * far as the envelope can reach, and parsed by envelope_parse(); whatever
 * fails is recorded in the entry, so one damaged or hostile file never
 * hides the others, or hangs the listing.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cli/queue-scan.h"
#include "shared/escape.h"
#include "shared/limits.h"
#include "shared/macro.h"
#include "shared/spool-owner.h"
#include "shared/spool.h"

/* The listing's places: each a queue of the spool (shared/spool.h). */
static const struct {
        const char *name;
        SpoolQueue queue;
        int held_from;          /* a QueueWhere, or -1 */
} wheres[_WHERE_MAX] = {
        [WHERE_INCOMING] = { "incoming", SPOOL_QUEUE_INCOMING, -1 },
        [WHERE_SIGNED] = { "signed", SPOOL_QUEUE_SIGNED, -1 },
        [WHERE_DELIVER] = { "deliver", SPOOL_QUEUE_DELIVER, -1 },
        [WHERE_HOLD_INCOMING] = { "hold", SPOOL_QUEUE_HOLD_INCOMING, WHERE_INCOMING },
        [WHERE_HOLD_SIGNED] = { "hold", SPOOL_QUEUE_HOLD_SIGNED, WHERE_SIGNED },
        [WHERE_QUARANTINE] = { "quarantine", SPOOL_QUEUE_QUARANTINE, -1 },
};

const char *queue_where_to_string(QueueWhere w) {
        return wheres[w].name;
}

const char *queue_where_held_from(QueueWhere w) {
        return wheres[w].held_from < 0 ? NULL : wheres[wheres[w].held_from].name;
}

const char *queue_where_path(QueueWhere w) {
        return spool_queue_path(wheres[w].queue);
}

void queue_list_done(QueueList *l) {
        for (size_t i = 0; i < l->n; i++) {
                envelope_done(&l->entries[i].env);
                deliver_state_done(&l->entries[i].state);
                free(l->entries[i].reason);
                free(l->entries[i].refusal);
                free(l->entries[i].state_refusal);
        }
        free(l->entries);
        *l = (QueueList) {};
}

/* Envelopes are a few hundred bytes; read in steps of this much until the
 * blank line that ends one, instead of up to ENVELOPE_MAX of every message. */
#define ENVELOPE_READ_STEP 16384

/* Reads from the start of @fd up to @max bytes, or with @stop_at_blank_line
 * only until the envelope's terminating "\n\n" has been read. */
static int read_prefix(int fd, size_t max, bool stop_at_blank_line, Buf *out) {
        int r = buf_reserve(out, max + 1);

        if (r < 0)
                return r;
        while (out->len < max) {
                size_t want = max - out->len, seen = out->len;
                ssize_t k;

                if (stop_at_blank_line && want > ENVELOPE_READ_STEP)
                        want = ENVELOPE_READ_STEP;
                k = read(fd, out->data + out->len, want);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                out->len += (size_t) k;
                /* look from one byte back: the "\n\n" may straddle two reads */
                seen = seen ? seen - 1 : 0;
                if (stop_at_blank_line && memmem(out->data + seen, out->len - seen, "\n\n", 2))
                        break;
        }
        out->data[out->len] = 0;
        return 0;
}

/* @refusal of spool_open_checked() for the entry: -ENOMEM, or @r */
static int keep_refusal(const char *refusal, char **ret, int r) {
        if (refusal[0] && !(*ret = strdup(refusal)))
                return -ENOMEM;
        return r;
}

static void read_reason(SpoolDir *d, const char *id, QueueEntry *e) {
        char name[SPOOL_REASON_NAME_MAX], refusal[SPOOL_REFUSAL_MAX];
        _cleanup_close_ int fd = -EBADF;
        Buf b = BUF_INIT(0);

        if (spool_reason_name(id, name) < 0)
                return;
        fd = spool_open_checked(d->new_fd, name, O_RDONLY, d->owners, d->queue, NULL, refusal);
        if (refusal[0]) {
                if (asprintf(&e->reason, "(the reason file was not opened: %s)", refusal) < 0)
                        e->reason = NULL;
                return;
        }
        if (fd < 0 || read_prefix(fd, QUARANTINE_REASON_MAX, false, &b) < 0) {
                buf_done(&b);
                return;
        }
        while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
                b.len--;
        e->reason = escape_printable_dup(b.data, b.len, QUARANTINE_REASON_MAX);
        buf_done(&b);
}

static void read_entry(SpoolDir *d, QueueEntry *e, bool envelopes) {
        _cleanup_close_ int fd = -EBADF;
        char refusal[SPOOL_REFUSAL_MAX];
        Buf b = BUF_INIT(0);
        struct stat st;
        size_t len;
        int r;

        r = spool_open_new(d, e->id, &fd, &st, refusal);
        if (r < 0) {
                e->error = keep_refusal(refusal, &e->refusal, r);
                return;
        }
        e->size = (uint64_t) st.st_size;
        e->mtime_usec = (uint64_t) st.st_mtim.tv_sec * 1000000 + (uint64_t) st.st_mtim.tv_nsec / 1000;
        if (!envelopes)
                return;
        r = read_prefix(fd, ENVELOPE_MAX, true, &b);
        if (r >= 0)
                r = envelope_parse(b.data, b.len, &e->env, &len, &e->error_line);
        if (r >= 0 && !streq(e->env.id, e->id)) {
                envelope_done(&e->env);
                r = -EBADMSG;           /* a file under another message's name */
                e->error_line = 2;
        }
        e->error = r < 0 ? r : 0;
        buf_done(&b);
}

int queue_where_open(int root_fd, QueueWhere w, bool create, SpoolDir *ret) {
        return spool_queue_open(root_fd, wheres[w].queue, create, ret);
}

/* Diagnostics are remote servers' text: deliver censored them when it
 * wrote them, but the spool is not trusted, so again before display. */
static int censor_diagnostics(DeliverState *s) {
        for (size_t i = 0; i < s->n_rcpts; i++) {
                char *d = s->rcpts[i].diagnostic;

                if (!d)
                        continue;
                s->rcpts[i].diagnostic = escape_printable_dup(d, strlen(d), DELIVER_DIAGNOSTIC_MAX);
                free(d);
                if (!s->rcpts[i].diagnostic)
                        return -ENOMEM;
        }
        return 0;
}

/* deliver's per-recipient state, read only when the envelope parsed: the
 * state's indices mean nothing without the envelope's recipients. */
static void read_status(SpoolDir *state, QueueEntry *e, bool envelopes) {
        char refusal[SPOOL_REFUSAL_MAX];
        Buf b = BUF_INIT(0);
        int r;

        e->has_state = spool_exists(state, e->id) > 0;
        if (!e->has_state || !envelopes || e->error)
                return;
        r = spool_read_new(state, e->id, DELIVER_STATE_MAX, &b, refusal);
        r = keep_refusal(refusal, &e->state_refusal, r);
        if (r >= 0)
                r = deliver_state_init(&e->state, e->env.n_rcpts);
        if (r >= 0)
                r = deliver_state_parse(b.data, b.len, &e->state);
        if (r >= 0)
                r = censor_diagnostics(&e->state);
        if (r < 0)
                deliver_state_done(&e->state);
        e->status_error = r == -EFBIG ? -EBADMSG : r < 0 ? r : 0;
        buf_done(&b);
}

static int scan_one(int root_fd, const SpoolOwners *owners, QueueWhere w, bool envelopes, QueueList *l) {
        SpoolDir d = SPOOL_DIR_NULL, state = SPOOL_DIR_NULL;
        char **ids = NULL;
        size_t n = 0;
        int r;

        r = queue_where_open(root_fd, w, false, &d);
        if (r == -ENOENT)
                return 0;               /* a queue nobody has made yet is empty */
        if (r < 0)
                return r;
        spool_dir_set_owners(&d, wheres[w].queue, owners);
        if (w == WHERE_DELIVER && spool_queue_open(root_fd, SPOOL_QUEUE_DELIVER_STATE, false, &state) >= 0)
                spool_dir_set_owners(&state, SPOOL_QUEUE_DELIVER_STATE, owners);
        r = spool_scan_new(&d, &ids, &n);
        if (r >= 0) {
                QueueEntry *t = reallocarray(l->entries, l->n + n + 1, sizeof(QueueEntry));

                if (!t)
                        r = -ENOMEM;
                else
                        l->entries = t;
        }
        for (size_t i = 0; r >= 0 && i < n; i++) {
                QueueEntry *e = &l->entries[l->n++];

                *e = (QueueEntry) { .where = w };
                memcpy(e->id, ids[i], QUEUE_ID_LEN + 1);
                read_entry(&d, e, envelopes);
                if (w == WHERE_QUARANTINE)
                        read_reason(&d, e->id, e);
                if (w == WHERE_DELIVER && state.new_fd >= 0)
                        read_status(&state, e, envelopes);
        }
        spool_ids_free(ids, n);
        spool_dir_done(&d);
        spool_dir_done(&state);
        return r;
}

int queue_scan(int root_fd, bool envelopes, QueueList *ret) {
        SpoolOwners owners;
        QueueList l = {};
        int r;

        r = spool_owners_resolve(&owners);
        if (r < 0)
                return r;
        for (QueueWhere w = 0; w < _WHERE_MAX; w++) {
                r = scan_one(root_fd, &owners, w, envelopes, &l);
                if (r < 0) {
                        queue_list_done(&l);
                        return r;
                }
        }
        *ret = l;
        return 0;
}
