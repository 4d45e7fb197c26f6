/* SPDX-License-Identifier: MIT */
/*
 * uid_map_lookup() on any bytes: it must stay inside them, and whatever
 * it answers for one uid it answers again (it is pure).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "shared/uid-map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const uint32_t probes[] = { 0, 1, 998, 65534, 100000, UINT32_MAX - 1, UINT32_MAX };

        for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
                uint32_t a = 0, b = 0;
                int r = uid_map_lookup((const char *) data, size, probes[i], &a);

                if (r != 0 && r != -ENOENT && r != -EBADMSG)
                        abort();
                if (uid_map_lookup((const char *) data, size, probes[i], &b) != r || (r == 0 && a != b))
                        abort();
        }
        return 0;
}
