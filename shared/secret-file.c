/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "shared/macro.h"
#include "shared/secret-file.h"

bool secret_file_in_credentials(const char *path, const char *credentials_dir) {
        size_t n = credentials_dir ? strlen(credentials_dir) : 0;

        return n > 0 && strncmp(path, credentials_dir, n) == 0 && path[n] == '/';
}

int secret_file_check(const struct stat *st, uid_t service_uid, bool exempt, char *reason, size_t size) {
        /* a FIFO or a device would hang or feed the reader forever */
        if (!S_ISREG(st->st_mode)) {
                (void) snprintf(reason, size, "not a regular file but %s", file_type_name(st->st_mode));
                return -EPERM;
        }
        if (exempt)
                return 0;
        if (st->st_mode & (S_IRWXG | S_IRWXO)) {
                (void) snprintf(reason, size, "mode %04o lets group or others access it; chmod 0600 or 0400",
                                (unsigned) (st->st_mode & 07777));
                return -EPERM;
        }
        if (st->st_uid != 0 && st->st_uid != service_uid) {
                (void) snprintf(reason, size, "owned by uid %u, not by root or the service user (uid %u); "
                                "chown root", (unsigned) st->st_uid, (unsigned) service_uid);
                return -EPERM;
        }
        return 0;
}

int secret_file_open(int dir_fd, const char *path, uid_t service_uid, const char *credentials_dir, char *reason,
                     size_t size) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        if (fd < 0 && errno == ELOOP) {
                (void) snprintf(reason, size, "it is a symbolic link; name the file itself");
                return -ELOOP;
        }
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = negative_errno();
                (void) snprintf(reason, size, "%s", strerror(-r));
                return r;
        }
        r = secret_file_check(&st, service_uid, secret_file_in_credentials(path, credentials_dir), reason, size);
        if (r < 0)
                return r;
        return TAKE_FD(fd);
}
