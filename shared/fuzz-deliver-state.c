/* SPDX-License-Identifier: MIT */
/*
 * deliver's state file, as deliver and `pochtar queue` read it from a
 * spool they do not trust: whatever parses must format and parse back to
 * the same state.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/deliver-state.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        DeliverState s, t;
        Buf b = BUF_INIT(0);

        if (size > 65535)
                return 0;
        if (deliver_state_init(&s, 4) < 0)
                return 0;
        if (deliver_state_parse(data, size, &s) < 0) {
                deliver_state_done(&s);
                return 0;
        }
        if (deliver_state_format(&s, &b) < 0 || deliver_state_init(&t, 4) < 0 ||
            deliver_state_parse(b.data, b.len, &t) < 0)
                abort();
        if (t.attempts != s.attempts || t.next_usec != s.next_usec || t.warned != s.warned)
                abort();
        for (size_t i = 0; i < s.n_rcpts; i++)
                if (t.rcpts[i].state != s.rcpts[i].state || !streq(t.rcpts[i].code, s.rcpts[i].code) ||
                    !streq(strempty(t.rcpts[i].diagnostic), strempty(s.rcpts[i].diagnostic)))
                        abort();
        deliver_state_done(&s);
        deliver_state_done(&t);
        buf_done(&b);
        return 0;
}
