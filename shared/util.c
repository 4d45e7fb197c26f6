/* SPDX-License-Identifier: MIT */
#include <strings.h>

#include "shared/macro.h"

int ascii_strncaseeq(const char *a, size_t n, const char *lit) {
        size_t m = strlen(lit);

        return n == m && strncasecmp(a, lit, n) == 0;
}
