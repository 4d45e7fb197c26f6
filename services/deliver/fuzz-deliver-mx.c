/* SPDX-License-Identifier: MIT */
/* DNS answers through ns_initparse()/ns_parserr(), as MX and as A. */
#include "services/deliver/deliver-mx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        MxNames names;
        struct in_addr a[MX_HOSTS_MAX];
        size_t n;

        if (size > 65535)
                return 0;
        if (mx_parse_mx(data, size, &names) == MX_OK && (names.n == 0 || names.n > MX_NAMES_MAX))
                __builtin_trap();
        if (mx_parse_a(data, size, a, MX_HOSTS_MAX, &n) == MX_OK && (n == 0 || n > MX_HOSTS_MAX))
                __builtin_trap();
        return 0;
}
