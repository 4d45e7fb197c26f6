/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "shared/fd-util.h"
#include "shared/macro.h"
#include "shared/spool-owner.h"
#include "shared/spool-spare.h"
#include "shared/tests.h"

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(p);
}

static void publish(SpoolDir *d, const char *id, const char *data, size_t n) {
        SpoolFile f = SPOOL_FILE_NULL;

        ASSERT_OK(spool_file_create(d, id, "receive", &f));
        ASSERT_OK(spool_file_write(&f, data, n));
        ASSERT_OK(spool_file_publish(&f, SPOOL_NOREPLACE));
}

static unsigned count_spares(SpoolDir *d) {
        unsigned n = 0;

        for (unsigned i = 0; i < SPOOL_SPARE_SLOTS; i++) {
                char name[16];
                struct stat st;

                (void) snprintf(name, sizeof(name), "spare.%03u", i);
                if (fstatat(d->tmp_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        n++;
        }
        return n;
}

/* give, sync, ready: the way sign and deliver remove a consumed file */
static int give_back(SpoolDir *d, const char *id) {
        int slot = spool_spare_give(d, id, d);

        if (slot >= 0) {
                ASSERT_OK(spool_dir_sync(d));
                spool_spare_ready(d, id, d, slot, true);
        }
        return slot;
}

/* A writer that runs out of space drops its spares and goes on. Needs a
 * small file system of its own: a tmpfs in a mount namespace. */
static int test_enospc(void) {
        char root[] = "/tmp/test-spare-full-XXXXXX", id[QUEUE_ID_LEN + 1];
        SpoolDir d = SPOOL_DIR_NULL;
        SpoolFile f = SPOOL_FILE_NULL;
        _cleanup_free_ char *chunk = malloc(64 * 1024);
        int root_fd, n = 0;
        SpoolOwners owners;
        struct stat st;

        ASSERT_TRUE(chunk);
        memset(chunk, 'x', 64 * 1024);
        ASSERT_TRUE(mkdtemp(root));
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", root, "tmpfs", 0, "size=1m") < 0) {
                fprintf(stderr, "no tmpfs of our own (%m): the out-of-space case is not run\n");
                (void) rmdir(root);
                return EXIT_TEST_SKIP;
        }
        ASSERT_OK(spool_root_open(root, false, &root_fd));
        ASSERT_OK(spool_queue_open(root_fd, SPOOL_QUEUE_INCOMING, true, &d));
        ASSERT_OK(spool_owners_resolve(&owners));
        spool_dir_set_owners(&d, SPOOL_QUEUE_INCOMING, &owners);
        /* fill the file system with spares of 64 KiB (each written
         * around spool_spare_write(), which would drop them) */
        for (;;) {
                int r;

                ASSERT_OK(queue_id_new(id));
                ASSERT_OK(spool_file_create(&d, id, "receive", &f));
                r = write_full_fd(f.fd, chunk, 64 * 1024);      /* as a plain create would */
                if (r == -ENOSPC) {
                        spool_file_abort(&f);
                        break;
                }
                ASSERT_OK(r);
                ASSERT_OK(spool_file_publish(&f, SPOOL_NOREPLACE));
                ASSERT_TRUE(give_back(&d, id) >= 0);
                n++;
        }
        ASSERT_TRUE(n >= 8);
        ASSERT_EQ(count_spares(&d), (unsigned) n);
        /* without spares (a plain create) the same write would fail; this
         * one drops them and succeeds, complete */
        ASSERT_OK(queue_id_new(id));
        ASSERT_OK(spool_file_create(&d, id, "receive", &f));     /* a new file, not a spare */
        ASSERT_OK(spool_spare_write(&f, chunk, 64 * 1024));
        ASSERT_OK(spool_spare_write(&f, chunk, 64 * 1024));
        ASSERT_OK(spool_file_publish(&f, SPOOL_NOREPLACE));
        ASSERT_EQ(count_spares(&d), 0);
        ASSERT_EQ(fstatat(d.new_fd, id, &st, 0), 0);
        ASSERT_EQ(st.st_size, 128 * 1024);
        spool_dir_done(&d);
        close(root_fd);
        ASSERT_EQ(umount(root), 0);
        ASSERT_EQ(rmdir(root), 0);
        return 0;
}

int main(void) {
        char root[] = "/tmp/test-spool-spare-XXXXXX", ids[SPOOL_SPARE_SLOTS + 8][QUEUE_ID_LEN + 1];
        char gone[QUEUE_ID_LEN + 8], long_text[300], **list = NULL;
        SpoolDir in = SPOOL_DIR_NULL;
        SpoolFile f = SPOOL_FILE_NULL;
        Buf b = BUF_INIT(0);
        unsigned removed;
        struct stat st;
        size_t n = 0;
        int root_fd, slot;
        SpoolOwners owners;
        char refusal[SPOOL_REFUSAL_MAX];

        ASSERT_TRUE(mkdtemp(root));
        ASSERT_OK(spool_root_open(root, false, &root_fd));
        ASSERT_OK(spool_queue_open(root_fd, SPOOL_QUEUE_INCOMING, true, &in));
        ASSERT_OK(spool_owners_resolve(&owners));
        spool_dir_set_owners(&in, SPOOL_QUEUE_INCOMING, &owners);
        for (size_t i = 0; i < ELEMENTSOF(ids); i++)
                queue_id_format(UINT64_C(7000) + i, 0, ids[i]);
        memset(long_text, 'L', sizeof(long_text));

        /* give: new/ID is gone at once (the removal), the spare exists only
         * after ready, and it is overwritten with no trace of the old tail */
        publish(&in, ids[0], long_text, sizeof(long_text));
        slot = spool_spare_give(&in, ids[0], &in);
        ASSERT_EQ(slot, 0);
        ASSERT_EQ(spool_exists(&in, ids[0]), 0);
        (void) snprintf(gone, sizeof(gone), "%s.gone", ids[0]);
        ASSERT_EQ(fstatat(in.new_fd, gone, &st, 0), 0);
        ASSERT_OK(spool_scan_new(&in, &list, &n));
        ASSERT_EQ(n, 0);                                /* not a queue ID: no reader sees it */
        spool_ids_free(list, n);
        ASSERT_EQ(count_spares(&in), 0);
        ASSERT_OK(spool_dir_sync(&in));
        spool_spare_ready(&in, ids[0], &in, slot, true);
        ASSERT_EQ(count_spares(&in), 1);
        ASSERT_EQ(fstatat(in.new_fd, gone, &st, 0), -1);

        ASSERT_OK(spool_file_create_reusing(&in, ids[1], "receive", &f));
        ASSERT_EQ(f.reused, true);
        ASSERT_EQ(count_spares(&in), 0);
        ASSERT_OK(spool_file_write(&f, "short\n", 6));
        ASSERT_OK(spool_file_publish(&f, SPOOL_NOREPLACE));
        ASSERT_OK(spool_read_new(&in, ids[1], 1024, &b, refusal));
        ASSERT_STREQ((char *) b.data, "short\n");
        ASSERT_OK(spool_remove_new(&in, ids[1], false));

        /* no spare left: a new file */
        ASSERT_OK(spool_file_create_reusing(&in, ids[2], "receive", &f));
        ASSERT_EQ(f.reused, false);
        spool_file_abort(&f);

        /* a failed sync: the file is removed as usual, no spare */
        publish(&in, ids[2], "x", 1);
        slot = spool_spare_give(&in, ids[2], &in);
        ASSERT_TRUE(slot >= 0);
        spool_spare_ready(&in, ids[2], &in, slot, false);
        ASSERT_EQ(count_spares(&in), 0);
        ASSERT_EQ(spool_exists(&in, ids[2]), 0);
        (void) snprintf(gone, sizeof(gone), "%s.gone", ids[2]);
        ASSERT_EQ(fstatat(in.new_fd, gone, &st, 0), -1);

        /* what is not worth keeping: too big, or with another name */
        {
                _cleanup_free_ char *big = calloc(1, SPOOL_SPARE_SIZE_MAX + 1);

                ASSERT_TRUE(big);
                publish(&in, ids[3], big, SPOOL_SPARE_SIZE_MAX + 1);
                ASSERT_EQ(spool_spare_give(&in, ids[3], &in), -EFBIG);
                ASSERT_EQ(spool_exists(&in, ids[3]), 1);
                publish(&in, ids[4], "y", 1);
                ASSERT_EQ(linkat(in.new_fd, ids[4], in.tmp_fd, "other-name", 0), 0);
                ASSERT_EQ(spool_spare_give(&in, ids[4], &in), -EFBIG);
                ASSERT_EQ(unlinkat(in.tmp_fd, "other-name", 0), 0);
                ASSERT_OK(spool_remove_new(&in, ids[3], false));
                ASSERT_OK(spool_remove_new(&in, ids[4], false));
        }
        ASSERT_EQ(spool_spare_give(&in, ids[5], &in), -ENOENT);
        ASSERT_EQ(spool_spare_give(&in, "../../etc", &in), -EINVAL);

        /* bounded: never more than SPOOL_SPARE_SLOTS spares; the rest are
         * refused (-EXFULL) and stay for the caller to unlink */
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                publish(&in, ids[i], "z", 1);
                slot = give_back(&in, ids[i]);
                if (i < SPOOL_SPARE_SLOTS)
                        ASSERT_TRUE(slot >= 0);
                else {
                        ASSERT_EQ(slot, -EXFULL);
                        ASSERT_OK(spool_remove_new(&in, ids[i], false));
                }
        }
        ASSERT_EQ(count_spares(&in), SPOOL_SPARE_SLOTS);
        /* taker and giver go round the slots: take some, give as many back */
        for (size_t i = 0; i < 5; i++) {
                ASSERT_OK(spool_file_create_reusing(&in, ids[i], "receive", &f));
                ASSERT_EQ(f.reused, true);
                ASSERT_OK(spool_file_write(&f, "w", 1));
                ASSERT_OK(spool_file_publish(&f, SPOOL_NOREPLACE));
        }
        ASSERT_EQ(count_spares(&in), SPOOL_SPARE_SLOTS - 5);
        for (size_t i = 0; i < 5; i++) {
                /* a giver that probes where the slots are full looks
                 * further the next time: round the ring in a few tries */
                slot = -EXFULL;
                for (unsigned tries = 0; slot == -EXFULL && tries <= SPOOL_SPARE_SLOTS; tries++)
                        slot = give_back(&in, ids[i]);
                ASSERT_TRUE(slot >= 0);
        }
        ASSERT_EQ(count_spares(&in), SPOOL_SPARE_SLOTS);
        ASSERT_EQ(spool_spare_drop(&in), SPOOL_SPARE_SLOTS);
        ASSERT_EQ(count_spares(&in), 0);

        /* what is not a plain file of ours in the taker's next slot is
         * removed, never opened blocking: a FIFO (alarm() ends a hang),
         * a second name of a file */
        {
                char next[16];

                (void) snprintf(next, sizeof(next), "spare.%03u", in.spare_take_next % SPOOL_SPARE_SLOTS);
                alarm(10);
                ASSERT_EQ(mkfifoat(in.tmp_fd, next, 0600), 0);
                ASSERT_EQ(count_spares(&in), 1);
                ASSERT_OK(spool_file_create_reusing(&in, ids[7], "receive", &f));
                ASSERT_EQ(f.reused, false);
                ASSERT_EQ(count_spares(&in), 0);
                spool_file_abort(&f);
                (void) snprintf(next, sizeof(next), "spare.%03u", in.spare_take_next % SPOOL_SPARE_SLOTS);
                publish(&in, ids[8], "h", 1);
                ASSERT_EQ(linkat(in.new_fd, ids[8], in.tmp_fd, next, 0), 0);
                ASSERT_OK(spool_file_create_reusing(&in, ids[7], "receive", &f));
                ASSERT_EQ(f.reused, false);
                ASSERT_EQ(count_spares(&in), 0);
                spool_file_abort(&f);
                ASSERT_OK(spool_remove_new(&in, ids[8], false));
                alarm(0);
        }

        /* start-up: the giver removes what a crash left between give and ready */
        publish(&in, ids[6], "g", 1);
        ASSERT_TRUE(spool_spare_give(&in, ids[6], &in) >= 0);
        ASSERT_OK(spool_spare_clean_given(&in, &removed));
        ASSERT_EQ(removed, 1);
        ASSERT_OK(spool_scan_new(&in, &list, &n));
        ASSERT_EQ(n, 0);
        spool_ids_free(list, n);

        buf_done(&b);
        spool_dir_done(&in);
        close(root_fd);
        ASSERT_OK(nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS));
        return test_enospc();
}
