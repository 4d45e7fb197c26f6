/* SPDX-License-Identifier: MIT */
#include "shared/macro.h"
#include "shared/secret-file.h"
#include "shared/tests.h"

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
        return 0;
}
