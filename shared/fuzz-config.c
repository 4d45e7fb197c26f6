/* SPDX-License-Identifier: MIT */
#include <fcntl.h>

#include "shared/config.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char path[] = "/tmp/fuzz-config-XXXXXX";
        char *err = NULL;
        Config c;
        int fd;

        if (size > 16384)
                return 0;
        /* inih reads files; a private temporary file is the honest input */
        fd = mkstemp(path);
        if (fd < 0)
                return 0;
        if (write(fd, data, size) != (ssize_t) size) {
                close(fd);
                unlink(path);
                return 0;
        }
        close(fd);
        if (config_init(&c) >= 0) {
                (void) config_load(&c, path, &err);
                free(err);
                config_done(&c);
        }
        unlink(path);
        return 0;
}
