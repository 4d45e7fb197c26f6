/* SPDX-License-Identifier: MIT */
#include "shared/address.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 4096)
                return 0;
        if (address_valid((const char *) data, size, ADDRESS_UTF8) == 0) {
                /* a valid address never carries a byte that could break a line */
                for (size_t i = 0; i < size; i++)
                        if (data[i] == '\r' || data[i] == '\n' || data[i] == 0)
                                abort();
        }
        (void) domain_valid((const char *) data, size, 0);
        return 0;
}
