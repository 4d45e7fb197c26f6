/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "shared/fd-util.h"
#include "shared/macro.h"
#include "shared/spool-owner.h"
#include "shared/spool.h"
#include "shared/tests.h"

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(p);
}

/* inotify events of @ifd naming each of @ids, into @counts, until it is
 * quiet for 200 ms */
static void count_events(int ifd, char ids[][QUEUE_ID_LEN + 1], size_t n, size_t *counts) {
        char evbuf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        struct pollfd pfd = { .fd = ifd, .events = POLLIN };

        for (size_t i = 0; i < n; i++)
                counts[i] = 0;
        while (poll(&pfd, 1, 200) > 0) {
                ssize_t k = read(ifd, evbuf, sizeof(evbuf));

                ASSERT_TRUE(k > 0);
                for (char *q = evbuf; q < evbuf + k;) {
                        const struct inotify_event *ev = (const struct inotify_event *) q;

                        for (size_t i = 0; i < n; i++)
                                if (ev->len > 0 && streq(ev->name, ids[i]))
                                        counts[i]++;
                        q += sizeof(*ev) + ev->len;
                }
        }
}

/* files in @d's tmp/ */
static size_t count_tmp(SpoolDir *d) {
        DIR *dir = fdopendir(dup(d->tmp_fd));
        struct dirent *de;
        size_t n = 0;

        ASSERT_TRUE(dir != NULL);
        rewinddir(dir);
        while ((de = readdir(dir)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(dir);
        return n;
}

int main(void) {
        char root[] = "/tmp/test-spool-XXXXXX";
        SpoolDir in = SPOOL_DIR_NULL, out = SPOOL_DIR_NULL;
        SpoolFile f = SPOOL_FILE_NULL, batch[3];
        char ids[3][QUEUE_ID_LEN + 1], **list = NULL;
        size_t n = 0;
        unsigned removed;
        int root_fd;
        Buf b = BUF_INIT(0);
        struct stat st;
        SpoolOwners owners;
        char refusal[SPOOL_REFUSAL_MAX];

        ASSERT_TRUE(mkdtemp(root));
        ASSERT_OK(spool_owners_resolve(&owners));
        ASSERT_OK(spool_root_open(root, false, &root_fd));
        ASSERT_OK(spool_queue_open(root_fd, SPOOL_QUEUE_INCOMING, true, &in));
        ASSERT_OK(spool_queue_open(root_fd, SPOOL_QUEUE_SIGNED, true, &out));
        spool_dir_set_owners(&in, SPOOL_QUEUE_INCOMING, &owners);
        spool_dir_set_owners(&out, SPOOL_QUEUE_SIGNED, &owners);

        /* tmp is invisible to a scan until published */
        ASSERT_OK(queue_id_new(ids[0]));
        ASSERT_OK(spool_file_create(&in, ids[0], "receive", &f));
        ASSERT_OK(spool_file_write(&f, "hello\n", 6));
        ASSERT_OK(spool_scan_new(&in, &list, &n));
        ASSERT_EQ(n, 0);
        spool_ids_free(list, n);
        ASSERT_OK(spool_file_publish(&f, SPOOL_NOREPLACE));
        ASSERT_EQ(f.fd, -EBADF);
        ASSERT_OK(spool_scan_new(&in, &list, &n));
        ASSERT_EQ(n, 1);
        ASSERT_STREQ(list[0], ids[0]);
        spool_ids_free(list, n);
        ASSERT_OK(spool_read_new(&in, ids[0], 1024, &b, refusal));
        ASSERT_STREQ((char *) b.data, "hello\n");
        ASSERT_EQ(spool_read_new(&in, ids[0], 3, &b, refusal), -EFBIG);
        ASSERT_EQ(fstatat(in.tmp_fd, ids[0], &st, 0), -1);       /* nothing left in tmp */

        /* a fresh ID never replaces an existing message */
        ASSERT_OK(spool_file_create(&in, ids[0], "receive", &f));
        ASSERT_EQ(spool_file_publish(&f, SPOOL_NOREPLACE), -EEXIST);
        spool_file_abort(&f);
        /* a repeated hand-over (crash recovery) does */
        ASSERT_OK(spool_file_create(&out, ids[0], "sign", &f));
        ASSERT_OK(spool_file_publish(&f, 0));
        ASSERT_OK(spool_file_create(&out, ids[0], "sign", &f));
        ASSERT_OK(spool_file_write(&f, "v2", 2));
        ASSERT_OK(spool_file_publish(&f, 0));
        buf_reset(&b);
        ASSERT_OK(spool_read_new(&out, ids[0], 1024, &b, refusal));
        ASSERT_STREQ((char *) b.data, "v2");

        /* group commit: three files, one directory sync, scan in time order */
        for (int i = 0; i < 3; i++) {
                queue_id_format(UINT64_C(1000) + (uint64_t) (2 - i), 0, ids[i]);
                ASSERT_OK(spool_file_create(&in, ids[i], "receive", &batch[i]));
                ASSERT_OK(spool_file_write(&batch[i], "x", 1));
        }
        ASSERT_OK(spool_publish_batch(batch, 3, SPOOL_NOREPLACE));
        ASSERT_OK(spool_scan_new(&in, &list, &n));
        ASSERT_EQ(n, 4);
        ASSERT_STREQ(list[0], ids[2]);
        ASSERT_STREQ(list[2], ids[0]);
        spool_ids_free(list, n);

        /* a batch larger than the thread pool: every file synced and
         * published; then removed as one concurrent batch, with a result
         * per ID (ENOENT for one that is not there) */
        {
                SpoolDir big = SPOOL_DIR_NULL;
                SpoolFile many[40];
                char many_ids[41][QUEUE_ID_LEN + 1], *names[41];
                int results[41];

                ASSERT_OK(spool_dir_open(root_fd, "batch", true, &big));
                spool_dir_set_owners(&big, SPOOL_QUEUE_INCOMING, &owners);
                for (size_t i = 0; i < 40; i++) {
                        queue_id_format(UINT64_C(5000) + i, 0, many_ids[i]);
                        names[i] = many_ids[i];
                        ASSERT_OK(spool_file_create(&big, many_ids[i], "receive", &many[i]));
                        ASSERT_OK(spool_file_write(&many[i], many_ids[i], QUEUE_ID_LEN));
                }
                ASSERT_OK(spool_publish_batch(many, 40, SPOOL_NOREPLACE));
                ASSERT_OK(spool_scan_new(&big, &list, &n));
                ASSERT_EQ(n, 40);
                spool_ids_free(list, n);
                for (size_t i = 0; i < 40; i++) {
                        ASSERT_EQ(many[i].fd, -EBADF);
                        buf_reset(&b);
                        ASSERT_OK(spool_read_new(&big, many_ids[i], 1024, &b, refusal));
                        ASSERT_STREQ((char *) b.data, many_ids[i]);
                }
                queue_id_format(UINT64_C(9999), 0, many_ids[40]);
                names[40] = many_ids[40];
                spool_remove_batch(&big, names, 41, results);
                for (size_t i = 0; i < 40; i++)
                        ASSERT_EQ(results[i], 0);
                ASSERT_EQ(results[40], -ENOENT);
                ASSERT_OK(spool_scan_new(&big, &list, &n));
                ASSERT_EQ(n, 0);
                spool_ids_free(list, n);
                spool_dir_done(&big);
        }

        /* move between queues; exists; remove */
        ASSERT_OK(spool_move(&in, &out, ids[1], true));
        ASSERT_EQ(spool_exists(&in, ids[1]), 0);
        ASSERT_EQ(spool_exists(&out, ids[1]), 1);
        ASSERT_OK(spool_remove_new(&out, ids[1], true));
        ASSERT_EQ(spool_remove_new(&out, ids[1], true), -ENOENT);

        /* quarantine: the reason beside the message, the same name the
         * CLI reads; nothing left in tmp/ */
        {
                SpoolDir q = SPOOL_DIR_NULL;
                char reason[QUEUE_ID_LEN + sizeof(SPOOL_REASON_SUFFIX)];
                int fd;

                ASSERT_OK(spool_queue_open(root_fd, SPOOL_QUEUE_QUARANTINE, true, &q));
                ASSERT_OK(spool_quarantine(&in, &q, ids[2], "sign", "no From: field"));
                ASSERT_EQ(spool_exists(&in, ids[2]), 0);
                ASSERT_EQ(spool_exists(&q, ids[2]), 1);
                (void) snprintf(reason, sizeof(reason), "%s.reason", ids[2]);
                fd = openat(q.new_fd, reason, O_RDONLY | O_CLOEXEC);
                ASSERT_TRUE(fd >= 0);
                buf_reset(&b);
                ASSERT_OK(read_full_fd(fd, 1024, &b));
                close(fd);
                ASSERT_STREQ((char *) b.data, "no From: field\n");
                ASSERT_OK(spool_clean_tmp(&q, "sign", &removed));
                ASSERT_EQ(removed, 0);
                /* a reason file is not a message: scans skip it */
                ASSERT_OK(spool_scan_new(&q, &list, &n));
                ASSERT_EQ(n, 1);
                ASSERT_STREQ(list[0], ids[2]);
                spool_ids_free(list, n);
                /* a message that is not there: the reason is written, nothing moves */
                ASSERT_EQ(spool_quarantine(&in, &q, ids[1], "deliver", "gone"), -ENOENT);
                /* names are validated as for any hand-over */
                ASSERT_EQ(spool_quarantine(&in, &q, "../x", "sign", "r"), -EINVAL);
                ASSERT_EQ(spool_quarantine(&in, &q, ids[0], "Sign/", "r"), -EINVAL);
                spool_dir_done(&q);
        }

        /* start-up clean-up removes only this stage's leftovers */
        ASSERT_OK(spool_file_create(&in, ids[0], "receive", &f));
        f.fd = safe_close(f.fd);                                  /* "crash" */
        ASSERT_OK(spool_file_create(&in, ids[1], "deliver", &f));
        f.fd = safe_close(f.fd);
        ASSERT_OK(spool_clean_tmp(&in, "receive", &removed));
        ASSERT_EQ(removed, 1);
        ASSERT_OK(spool_clean_tmp(&in, "deliver", &removed));
        ASSERT_EQ(removed, 1);

        /* hostile names are refused before any syscall */
        ASSERT_EQ(spool_file_create(&in, "../../etc/passwd", "receive", &f), -EINVAL);
        ASSERT_EQ(spool_file_create(&in, ids[0], "../x", &f), -EINVAL);
        ASSERT_EQ(spool_open_new(&in, "..", &root_fd, NULL, refusal), -EINVAL);

        /* a reader watching new/ as the stages do (shared/watch.c) hears of
         * a hand-over once: the file is closed before it is renamed there,
         * and SPOOL_CHECKED syncs it after the rename through a read-only
         * descriptor, whose close raises no IN_CLOSE_WRITE */
        {
                int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
                char path[64];
                SpoolFile checked[3];
                char bids[3][QUEUE_ID_LEN + 1];
                size_t counts[3];

                ASSERT_TRUE(ifd >= 0);
                (void) snprintf(path, sizeof(path), "/proc/self/fd/%d", out.new_fd);
                ASSERT_TRUE(inotify_add_watch(ifd, path, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) >= 0);
                ASSERT_OK(queue_id_new(ids[2]));
                ASSERT_OK(spool_file_create(&out, ids[2], "sign", &f));
                ASSERT_OK(spool_file_write(&f, "once", 4));
                ASSERT_OK(spool_file_publish(&f, SPOOL_NOREPLACE));
                count_events(ifd, &ids[2], 1, counts);
                ASSERT_EQ(counts[0], 1);

                for (size_t i = 0; i < ELEMENTSOF(checked); i++) {
                        ASSERT_OK(queue_id_new(bids[i]));
                        ASSERT_OK(spool_file_create(&out, bids[i], "sign", &checked[i]));
                        ASSERT_OK(spool_file_write(&checked[i], "0123456789", 10));
                        /* the check's place, written after the rest */
                        ASSERT_OK(spool_file_pwrite(&checked[i], "ab", 2, 3));
                }
                ASSERT_EQ(spool_file_pwrite(&checked[0], "ab", 2, 9), -EINVAL);       /* past what was written */
                ASSERT_OK(spool_publish_batch(checked, ELEMENTSOF(checked), SPOOL_NOREPLACE | SPOOL_CHECKED));
                count_events(ifd, bids, ELEMENTSOF(checked), counts);
                for (size_t i = 0; i < ELEMENTSOF(checked); i++) {
                        ASSERT_TRUE(!spool_file_pending(&checked[i]));
                        ASSERT_EQ(counts[i], 1);
                        buf_reset(&b);
                        ASSERT_OK(spool_read_new(&out, bids[i], 1 << 20, &b, refusal));
                        ASSERT_MEMEQ(b.data, b.len, "012ab56789", 10);
                }
                ASSERT_EQ(count_tmp(&out), 0);
                /* an ID already in new/ is refused and stays in tmp/ for the caller */
                ASSERT_OK(spool_file_create(&out, bids[0], "sign", &checked[0]));
                ASSERT_OK(spool_file_write(&checked[0], "x", 1));
                ASSERT_EQ(spool_publish_batch(checked, 1, SPOOL_NOREPLACE | SPOOL_CHECKED), -EEXIST);
                ASSERT_TRUE(spool_file_pending(&checked[0]));
                spool_file_abort(&checked[0]);
                ASSERT_EQ(count_tmp(&out), 0);
                close(ifd);
        }

        /* a symlink planted in new/ is not followed */
        ASSERT_OK(queue_id_new(ids[2]));
        ASSERT_EQ(symlinkat("/etc/passwd", in.new_fd, ids[2]), 0);
        ASSERT_EQ(spool_read_new(&in, ids[2], 1 << 20, &b, refusal), -ELOOP);
        ASSERT_STREQ(refusal, "a symbolic link, not a regular file");
        /* a directory whose owners were never set cannot be read */
        {
                SpoolDir unset = SPOOL_DIR_NULL;

                ASSERT_OK(spool_queue_open(root_fd, SPOOL_QUEUE_INCOMING, false, &unset));
                ASSERT_EQ(spool_read_new(&unset, ids[2], 1024, &b, refusal), -EINVAL);
                spool_dir_done(&unset);
        }

        buf_done(&b);
        spool_dir_done(&in);
        spool_dir_done(&out);
        close(root_fd);
        ASSERT_OK(nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS));
        return 0;
}
