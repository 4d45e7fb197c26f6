/* SPDX-License-Identifier: MIT */
/*
 * The group commit on its own, with plain waiters instead of sessions:
 * who hears committed() and when, that resume() comes only after every
 * waiter of the batch heard it, what a cancelled waiter leaves behind,
 * a failed batch, and the stop.
 */
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#include "services/receive/receive-commit.h"
#include "shared/clock.h"
#include "shared/fd-util.h"
#include "shared/macro.h"
#include "shared/queue-id.h"
#include "shared/tests.h"

typedef struct Waiter {
        char id[QUEUE_ID_LEN + 1];
        int committed;          /* times committed() was called */
        int error;
        int resumed;
        int order;              /* when committed() came, in calls */
        bool add_on_resume;     /* resume() hands over one more message */
} Waiter;

typedef struct Record {
        GroupCommit *g;
        SpoolDir *dir;
        int calls;
        int last_commit_call;   /* the call number of the last committed() */
        int first_resume_call;
        size_t batches, published;
        Waiter extra;           /* the message a resume() adds */
} Record;

static Record rec;
static char root[] = "/tmp/test-receive-commit-XXXXXX";

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(p);
}

static void on_committed(void *waiter, int error, void *userdata) {
        Waiter *w = waiter;
        Record *r = userdata;

        w->committed++;
        w->error = error;
        w->order = ++r->calls;
        r->last_commit_call = r->calls;
}

static void add(Record *r, Waiter *w);

static void on_resume(void *waiter, void *userdata) {
        Waiter *w = waiter;
        Record *r = userdata;

        w->resumed++;
        if (r->first_resume_call == 0)
                r->first_resume_call = ++r->calls;
        if (w->add_on_resume) {
                w->add_on_resume = false;
                add(r, &r->extra);
        }
}

static void on_batch_done(size_t n_published, void *userdata) {
        Record *r = userdata;

        r->batches++;
        r->published += n_published;
}

static const GroupCommitOps ops = {
        .committed = on_committed,
        .resume = on_resume,
        .batch_done = on_batch_done,
};

static void add(Record *r, Waiter *w) {
        SpoolFile f = SPOOL_FILE_NULL;

        *w = (Waiter) { .add_on_resume = w->add_on_resume };
        ASSERT_OK(queue_id_new(w->id));
        ASSERT_OK(spool_file_create(r->dir, w->id, "receive", &f));
        ASSERT_OK(spool_file_write(&f, "X-Test: 1\r\n\r\nbody\r\n", 19));
        ASSERT_OK(group_commit_add(r->g, &f, w));
        /* the group commit owns the file now */
        ASSERT_EQ(f.fd, -EBADF);
}

static bool in_new(const char *id) {
        return faccessat(rec.dir->new_fd, id, F_OK, 0) == 0;
}

static int count_name(int dir_fd, const char *name, void *userdata) {
        (*(size_t *) userdata)++;
        return 0;
}

static size_t tmp_files(void) {
        size_t n = 0;

        ASSERT_OK(dir_each(rec.dir->tmp_fd, count_name, &n));
        return n;
}

static void run_until_batches(sd_event *e, size_t n) {
        for (int i = 0; i < 1000 && rec.batches < n; i++)
                ASSERT_TRUE(sd_event_run(e, 5 * USEC_PER_SEC) >= 0);
        ASSERT_EQ(rec.batches, n);
}

int main(void) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        SpoolDir dir = SPOOL_DIR_NULL;
        Waiter a = {}, b = {}, c = {}, d = {}, x = {}, y = {};
        int root_fd = -EBADF;

        ASSERT_TRUE(mkdtemp(root));
        ASSERT_OK(spool_root_open(root, true, &root_fd));
        ASSERT_OK(spool_queue_open(root_fd, SPOOL_QUEUE_INCOMING, true, &dir));
        ASSERT_OK(sd_event_new(&e));
        rec.dir = &dir;
        ASSERT_OK(group_commit_new(e, &ops, &rec, &rec.g));

        /* three finished messages, one of whose clients leaves before the batch */
        add(&rec, &a);
        add(&rec, &b);
        add(&rec, &c);
        ASSERT_EQ(group_commit_pending(rec.g), 3);
        group_commit_cancel(rec.g, &b);
        ASSERT_EQ(group_commit_pending(rec.g), 2);
        run_until_batches(e, 1);
        ASSERT_EQ(a.committed, 1);
        ASSERT_EQ(a.error, 0);
        ASSERT_EQ(c.committed, 1);
        ASSERT_EQ(c.error, 0);
        ASSERT_EQ(b.committed, 0);
        ASSERT_EQ(rec.published, 2);
        ASSERT_TRUE(in_new(a.id) && in_new(c.id));
        /* the cancelled one was never acknowledged: gone, not published */
        ASSERT_TRUE(!in_new(b.id));
        ASSERT_EQ(tmp_files(), 0);
        /* every 250 before any session reads on */
        ASSERT_TRUE(a.resumed == 1 && c.resumed == 1);
        ASSERT_TRUE(rec.first_resume_call > rec.last_commit_call);
        ASSERT_EQ(group_commit_pending(rec.g), 0);

        /* a client that leaves while its file is on disk: published, not answered */
        add(&rec, &d);
        group_commit_poll(rec.g, 0);    /* no other session: the batch starts now */
        group_commit_cancel(rec.g, &d);
        run_until_batches(e, 2);
        ASSERT_EQ(d.committed, 0);
        ASSERT_EQ(d.resumed, 0);
        ASSERT_TRUE(in_new(d.id));
        ASSERT_EQ(rec.published, 3);

        /* a batch that fails: nobody hears 250, nothing is left in tmp */
        add(&rec, &x);
        {
                char name[SPOOL_TMP_NAME_MAX];

                ASSERT_OK(spool_tmp_name(x.id, "receive", name));
                ASSERT_OK(unlinkat(dir.tmp_fd, name, 0));
        }
        run_until_batches(e, 3);
        ASSERT_EQ(x.committed, 1);
        ASSERT_TRUE(x.error < 0);
        ASSERT_TRUE(!in_new(x.id));
        ASSERT_EQ(rec.published, 3);

        /* the stop: what waits is published in this thread, and so is what a
         * resume() hands over meanwhile (a pipelined next message) */
        y.add_on_resume = true;
        add(&rec, &y);
        group_commit_flush(rec.g);
        ASSERT_EQ(y.committed, 1);
        ASSERT_EQ(y.error, 0);
        ASSERT_EQ(rec.extra.committed, 1);
        ASSERT_EQ(rec.extra.error, 0);
        ASSERT_TRUE(in_new(y.id) && in_new(rec.extra.id));
        ASSERT_EQ(group_commit_pending(rec.g), 0);

        /* added after the stop and never published: removed with the group commit */
        rec.extra.add_on_resume = false;
        add(&rec, &x);
        rec.g = group_commit_free(rec.g);
        ASSERT_TRUE(!in_new(x.id));
        ASSERT_EQ(tmp_files(), 0);

        spool_dir_done(&dir);
        safe_close(root_fd);
        ASSERT_OK(nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS));
        return 0;
}
