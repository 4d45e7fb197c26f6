/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/stat.h>

#include "shared/macro.h"
#include "shared/secret-file.h"
#include "shared/tests.h"

/* secret_file_open() on real files: what it opens is what it checked */
static void test_open(void) {
        char dir[] = "/tmp/test-secret-file-XXXXXX", reason[256];
        _cleanup_close_ int d = -EBADF, fd = -EBADF;

        ASSERT_TRUE(mkdtemp(dir));
        d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(d >= 0);
        fd = openat(d, "key", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        fd = safe_close(fd);
        ASSERT_EQ(symlinkat("key", d, "link"), 0);
        ASSERT_EQ(mkfifoat(d, "fifo", 0600), 0);        /* opened non-blocking: no hang */

        fd = secret_file_open(d, "key", geteuid(), NULL, reason, sizeof(reason));
        ASSERT_OK(fd);
        fd = safe_close(fd);
        ASSERT_EQ(secret_file_open(d, "link", geteuid(), NULL, reason, sizeof(reason)), -ELOOP);
        ASSERT_STREQ(reason, "it is a symbolic link; name the file itself");
        ASSERT_EQ(secret_file_open(d, "fifo", geteuid(), NULL, reason, sizeof(reason)), -EPERM);
        ASSERT_STREQ(reason, "not a regular file but a FIFO");
        ASSERT_EQ(secret_file_open(d, "missing", geteuid(), NULL, reason, sizeof(reason)), -ENOENT);
        ASSERT_STREQ(reason, strerror(ENOENT));
        ASSERT_EQ(fchmodat(d, "key", 0640, 0), 0);
        ASSERT_EQ(secret_file_open(d, "key", geteuid(), NULL, reason, sizeof(reason)), -EPERM);
        ASSERT_STREQ(reason, "mode 0640 lets group or others access it; chmod 0600 or 0400");
        /* a credentials copy: the mode is systemd's business */
        {
                char path[sizeof(dir) + 8];

                (void) snprintf(path, sizeof(path), "%s/key", dir);
                fd = secret_file_open(AT_FDCWD, path, geteuid(), dir, reason, sizeof(reason));
                ASSERT_OK(fd);
        }

        ASSERT_EQ(unlinkat(d, "key", 0), 0);
        ASSERT_EQ(unlinkat(d, "link", 0), 0);
        ASSERT_EQ(unlinkat(d, "fifo", 0), 0);
        ASSERT_EQ(rmdir(dir), 0);
}

int main(void) {
        static const struct {
                mode_t mode;
                uid_t uid;
                bool exempt;
                const char *reason;     /* NULL: accepted */
        } cases[] = {
                { S_IFREG | 0600, 0, false, NULL },
                { S_IFREG | 0400, 0, false, NULL },
                { S_IFREG | 0600, 1000, false, NULL },           /* the service user */
                { S_IFREG | 0640, 0, false, "mode 0640 lets group or others access it; chmod 0600 or 0400" },
                { S_IFREG | 0604, 0, false, "mode 0604 lets group or others access it; chmod 0600 or 0400" },
                { S_IFREG | 0610, 0, false, "mode 0610 lets group or others access it; chmod 0600 or 0400" },
                { S_IFREG | 0600, 12345, false,
                  "owned by uid 12345, not by root or the service user (uid 1000); chown root" },
                /* mode before owner: the leak is the worse news */
                { S_IFREG | 0644, 12345, false, "mode 0644 lets group or others access it; chmod 0600 or 0400" },
                { S_IFIFO | 0600, 0, false, "not a regular file but a FIFO" },
                { S_IFDIR | 0700, 0, false, "not a regular file but a directory" },
                { S_IFCHR | 0600, 0, false, "not a regular file but a character device" },
                { S_IFSOCK | 0600, 0, false, "not a regular file but a socket" },
                { S_IFLNK | 0777, 0, false, "not a regular file but a symbolic link" },
                /* systemd's credential copies: mode and owner are systemd's business ... */
                { S_IFREG | 0644, 12345, true, NULL },
                /* ... but a FIFO is a FIFO wherever it is */
                { S_IFIFO | 0600, 0, true, "not a regular file but a FIFO" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct stat st = { .st_mode = cases[i].mode, .st_uid = cases[i].uid };
                char reason[256] = "";
                int r = secret_file_check(&st, 1000, cases[i].exempt, reason, sizeof(reason));

                if (!cases[i].reason) {
                        ASSERT_EQ(r, 0);
                        continue;
                }
                ASSERT_EQ(r, -EPERM);
                ASSERT_STREQ(reason, cases[i].reason);
        }

        ASSERT_TRUE(secret_file_in_credentials("/run/credentials/x.service/relay-password",
                                               "/run/credentials/x.service"));
        ASSERT_TRUE(!secret_file_in_credentials("/run/credentials/x.service2/relay-password",
                                                "/run/credentials/x.service"));
        ASSERT_TRUE(!secret_file_in_credentials("/run/credentials/x.service", "/run/credentials/x.service"));
        ASSERT_TRUE(!secret_file_in_credentials("/etc/pochtar/relay-password", NULL));
        ASSERT_TRUE(!secret_file_in_credentials("/etc/pochtar/relay-password", ""));
        test_open();
        return 0;
}
