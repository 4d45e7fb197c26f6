/* SPDX-License-Identifier: MIT */
/*
 * spool_open_checked(): what a reader opens, and what it refuses without
 * blocking. The whole test runs under alarm(): a blocking open of a FIFO
 * would hang it, and SIGALRM fails it instead.
 */
#include <fcntl.h>
#include <ftw.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include "shared/fd-util.h"
#include "shared/macro.h"
#include "shared/spool-owner.h"
#include "shared/spool.h"
#include "shared/tests.h"

#define STRANGER 12345

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(p);
}

static void put_file(SpoolDir *d, const char *id, const char *text) {
        _cleanup_close_ int fd = openat(d->new_fd, id, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);

        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(write_full_fd(fd, text, strlen(text)));
}

/* A refusal: @r, the reason, no descriptor, for reading and for writing. */
static void expect_refused(SpoolDir *d, const char *id, int r, const char *why) {
        char refusal[SPOOL_REFUSAL_MAX];

        for (int i = 0; i < 2; i++) {
                int mode = i ? O_WRONLY : O_RDONLY;

                ASSERT_EQ(spool_open_checked(d->new_fd, id, mode, d->owners, d->queue, NULL, refusal), r);
                ASSERT_STREQ(refusal, why);
        }
}

static void new_id(char id[static QUEUE_ID_LEN + 1]) {
        ASSERT_OK(queue_id_new(id));
}

int main(void) {
        char root[] = "/tmp/test-spool-open-XXXXXX", id[QUEUE_ID_LEN + 1], other[QUEUE_ID_LEN + 1];
        char refusal[SPOOL_REFUSAL_MAX] = "stale";
        SpoolDir in = SPOOL_DIR_NULL, sig = SPOOL_DIR_NULL;
        SpoolOwners owners;
        bool root_user = geteuid() == 0;
        struct stat st;
        Buf b = BUF_INIT(0);
        int fd, root_fd;

        alarm(20);
        ASSERT_TRUE(mkdtemp(root));
        ASSERT_OK(spool_root_open(root, false, &root_fd));
        ASSERT_OK(spool_queue_open(root_fd, SPOOL_QUEUE_INCOMING, true, &in));
        ASSERT_OK(spool_queue_open(root_fd, SPOOL_QUEUE_SIGNED, true, &sig));
        ASSERT_OK(spool_owners_resolve(&owners));
        spool_dir_set_owners(&in, SPOOL_QUEUE_INCOMING, &owners);
        spool_dir_set_owners(&sig, SPOOL_QUEUE_SIGNED, &owners);

        /* a regular file of ours: opened, with what fstat() says */
        new_id(id);
        put_file(&in, id, "hello\n");
        fd = spool_open_checked(in.new_fd, id, O_RDONLY, &owners, SPOOL_QUEUE_INCOMING, &st, refusal);
        ASSERT_TRUE(fd >= 0);
        ASSERT_STREQ(refusal, "");
        ASSERT_TRUE(S_ISREG(st.st_mode));
        ASSERT_EQ(st.st_size, 6);
        ASSERT_TRUE((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
        ASSERT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        close(fd);
        ASSERT_OK(spool_read_new(&in, id, 1024, &b, refusal));
        ASSERT_STREQ((char *) b.data, "hello\n");
        /* a name that is not there: gone, not refused */
        new_id(other);
        ASSERT_EQ(spool_read_new(&in, other, 1024, &b, refusal), -ENOENT);
        ASSERT_STREQ(refusal, "");
        /* modes other than plain reading and writing; no owners set */
        ASSERT_EQ(spool_open_checked(in.new_fd, id, O_RDWR, &owners, SPOOL_QUEUE_INCOMING, NULL, refusal), -EINVAL);
        ASSERT_EQ(spool_open_checked(in.new_fd, id, O_RDONLY, NULL, SPOOL_QUEUE_INCOMING, NULL, refusal), -EINVAL);

        /* a second name: 2 links (the other name in the same queue, as a
         * hard link of a valid queue file would be) */
        new_id(other);
        ASSERT_EQ(linkat(in.new_fd, id, in.new_fd, other, 0), 0);
        expect_refused(&in, id, -EMLINK, "2 hard links, not one");
        expect_refused(&in, other, -EMLINK, "2 hard links, not one");
        ASSERT_EQ(unlinkat(in.new_fd, other, 0), 0);
        ASSERT_OK(spool_read_new(&in, id, 1024, &b, refusal));

        /* a FIFO: never opened, so neither reading nor writing blocks */
        new_id(id);
        ASSERT_EQ(mkfifoat(in.new_fd, id, 0640), 0);
        expect_refused(&in, id, -ESPIPE, "a FIFO, not a regular file");
        ASSERT_EQ(spool_read_new(&in, id, 1024, &b, refusal), -ESPIPE);
        ASSERT_STREQ(refusal, "a FIFO, not a regular file");

        /* a symbolic link, to a queue file and to a file outside */
        new_id(other);
        put_file(&in, other, "x");
        new_id(id);
        ASSERT_EQ(symlinkat(other, in.new_fd, id), 0);
        expect_refused(&in, id, -ELOOP, "a symbolic link, not a regular file");
        new_id(id);
        ASSERT_EQ(symlinkat("/etc/passwd", in.new_fd, id), 0);
        expect_refused(&in, id, -ELOOP, "a symbolic link, not a regular file");

        /* a directory */
        new_id(id);
        ASSERT_EQ(mkdirat(in.new_fd, id, 0750), 0);
        expect_refused(&in, id, -EISDIR, "a directory, not a regular file");

        /* a socket */
        {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                _cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

                new_id(id);
                ASSERT_TRUE(s >= 0);
                (void) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/incoming/new/%s", root, id);
                ASSERT_EQ(bind(s, (struct sockaddr *) &sa, sizeof(sa)), 0);
                expect_refused(&in, id, -ENXIO, "a socket, not a regular file");
        }

        /* a character device (/dev/null's numbers) and a file of another
         * user: only root can make them */
        if (root_user) {
                SpoolOwners stranger_writes_incoming = owners;

                new_id(id);
                ASSERT_EQ(mknodat(in.new_fd, id, S_IFCHR | 0640, makedev(1, 3)), 0);
                expect_refused(&in, id, -ENODEV, "a character device, not a regular file");

                new_id(id);
                put_file(&in, id, "foreign");
                ASSERT_EQ(fchownat(in.new_fd, id, STRANGER, 0, AT_SYMLINK_NOFOLLOW), 0);
                expect_refused(&in, id, -EPERM, "owned by uid 12345, which does not write this queue");
                /* the same file in a queue that user writes: accepted */
                stranger_writes_incoming.writers[SPOOL_WRITER_RECEIVE] = STRANGER;
                fd = spool_open_checked(in.new_fd, id, O_RDONLY, &stranger_writes_incoming, SPOOL_QUEUE_INCOMING,
                                        NULL, refusal);
                ASSERT_TRUE(fd >= 0);
                close(fd);
                /* … but not in one it does not (sign writes signed/) */
                ASSERT_EQ(spool_open_checked(in.new_fd, id, O_RDONLY, &stranger_writes_incoming,
                                             SPOOL_QUEUE_SIGNED, NULL, refusal), -EPERM);
                ASSERT_EQ(renameat(in.new_fd, id, sig.new_fd, id), 0);
                expect_refused(&sig, id, -EPERM, "owned by uid 12345, which does not write this queue");
        } else
                fprintf(stderr, "not root: the device and foreign owner cases are not run\n");

        alarm(0);
        buf_done(&b);
        spool_dir_done(&in);
        spool_dir_done(&sig);
        close(root_fd);
        ASSERT_OK(nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS));
        return 0;
}
