/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/deliver-status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        DeliverStatus s;

        if (size > 65535)
                return 0;
        if (deliver_status_parse(data, size, 4, &s) < 0)
                return 0;
        for (size_t i = 0; i < s.n_rcpts; i++)
                if (s.rcpts[i].kind >= _RCPT_STATUS_MAX || strlen(s.rcpts[i].code) >= sizeof(s.rcpts[i].code) ||
                    (s.rcpts[i].diagnostic && strpbrk(s.rcpts[i].diagnostic, "\n\r\x1b")))
                        abort();
        deliver_status_done(&s);
        return 0;
}
