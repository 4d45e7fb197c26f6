/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "cli/dkim-keytable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        DkimKeyEntry *e;
        size_t n;

        if (size > 65535)
                return 0;
        if (dkim_keytable_parse((const char *) data, size, &e, &n) < 0)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (!*e[i].domain || !*e[i].selector || !*e[i].key || strchr(e[i].selector, ':'))
                        abort();
        dkim_keytable_free(e, n);
        return 0;
}
