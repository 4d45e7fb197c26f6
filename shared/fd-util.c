/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/fd-util.h"
#include "shared/macro.h"

int read_full_stream(int fd, off_t size_hint, size_t max, Buf *out) {
        int r;

        if (size_hint > 0 && (uint64_t) size_hint > max)
                return -EFBIG;
        r = buf_reserve(out, size_hint > 0 ? (size_t) size_hint : 0);
        if (r < 0)
                return r;
        for (;;) {
                ssize_t k;

                r = buf_reserve(out, 4096);
                if (r < 0)
                        return r == -EMSGSIZE ? -EFBIG : r;
                k = read(fd, out->data + out->len, out->cap - out->len - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                out->len += (size_t) k;
                if (out->len > max)
                        return -EFBIG;
        }
        out->data[out->len] = 0;
        return 0;
}

int read_full_fd(int fd, size_t max, Buf *out) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        return read_full_stream(fd, st.st_size, max, out);
}

int write_full_fd(int fd, const void *p, size_t n) {
        const uint8_t *s = p;

        while (n > 0) {
                ssize_t k = write(fd, s, n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                s += k;
                n -= (size_t) k;
        }
        return 0;
}

int dir_each(int dir_fd, DirEachFn fn, void *userdata) {
        struct dirent *de;
        DIR *dir;
        int fd, r = 0;

        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        dir = fdopendir(fd);
        if (!dir) {
                r = -errno;
                close(fd);
                return r;
        }
        while ((errno = 0, de = readdir(dir))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                r = fn(dirfd(dir), de->d_name, userdata);
                if (r < 0)
                        break;
        }
        if (r >= 0 && errno != 0)
                r = -errno;
        closedir(dir);
        return r < 0 ? r : 0;
}
