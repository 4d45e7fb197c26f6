/* SPDX-License-Identifier: MIT */
/*
 * main() for fuzz targets built without libFuzzer: runs
 * LLVMFuzzerTestOneInput() over every file named, or every file in a
 * named directory, so each corpus is a regression test (systemd pattern).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "shared/buf.h"
#include "shared/fd-util.h"
#include "shared/macro.h"
#include "shared/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
        _cleanup_close_ int fd = -EBADF;
        Buf b = BUF_INIT(0);
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "%s: %m\n", path);
                return -errno;
        }
        r = read_full_fd(fd, 1 << 24, &b);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(-r));
                return r;
        }
        /* as systemd does: each input several times, to catch state leaks */
        for (int i = 0; i < 4; i++)
                (void) LLVMFuzzerTestOneInput(b.data ? b.data : (const uint8_t *) "", b.len);
        buf_done(&b);
        return 0;
}

int main(int argc, char **argv) {
        unsigned n = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "%s: %m\n", argv[i]);
                        return 1;
                }
                if (S_ISDIR(st.st_mode)) {
                        struct dirent **list;
                        int k = scandir(argv[i], &list, NULL, alphasort);

                        if (k < 0)
                                return 1;
                        for (int j = 0; j < k; j++) {
                                char path[4096];

                                if (list[j]->d_name[0] != '.') {
                                        snprintf(path, sizeof(path), "%s/%s", argv[i], list[j]->d_name);
                                        if (run_file(path) < 0)
                                                return 1;
                                        n++;
                                }
                                free(list[j]);
                        }
                        free(list);
                } else {
                        if (run_file(argv[i]) < 0)
                                return 1;
                        n++;
                }
        }
        printf("%u inputs ran without a crash\n", n);
        return n > 0 ? 0 : 77;
}
