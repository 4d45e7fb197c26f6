/* SPDX-License-Identifier: MIT */
/*
 * pochtar.conf through inih and every option's parser. The bytes are read
 * from memory (fmemopen), so the fuzzer touches no file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "shared/config.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_fclose_ FILE *f = NULL;
        char *err = NULL;
        Config c;
        int r;

        if (size == 0 || size > 16384)
                return 0;
        f = fmemopen((void *) data, size, "r");
        if (!f)
                return 0;
        if (config_init(&c) < 0)
                return 0;
        r = config_load_stream(&c, f, "fuzz.conf", &err);
        /* a refused file always says why, and only then */
        if ((r == -EINVAL) != (err != NULL))
                abort();
        free(err);
        config_done(&c);
        return 0;
}
