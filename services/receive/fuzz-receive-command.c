/* SPDX-License-Identifier: MIT */
/* Fuzzes the command parser: every span it returns must lie inside the line. */
#include <stdlib.h>

#include "services/receive/receive-command.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_span(Span s, const uint8_t *data, size_t size) {
        if (s.p && ((const uint8_t *) s.p < data || (const uint8_t *) s.p + s.n > data + size))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Command c;

        if (size > 4096)
                return 0;
        if (command_parse(data, size, &c) < 0)
                return 0;
        if (c.n_params > COMMAND_PARAMS_MAX)
                abort();
        check_span(c.arg, data, size);
        for (size_t i = 0; i < c.n_params; i++) {
                check_span(c.params[i].key, data, size);
                check_span(c.params[i].value, data, size);
                if (c.params[i].key.n == 0)
                        abort();
        }
        return 0;
}
