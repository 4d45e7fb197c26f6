/* SPDX-License-Identifier: MIT */
/* Fuzzes client parameter bytes through receive, the spool and deliver's
 * writers: see tests/param-chain.h. */
#include "tests/param-chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        param_chain_check(data, size);
        return 0;
}
