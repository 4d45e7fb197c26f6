/* SPDX-License-Identifier: MIT */
#include "shared/envelope.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Envelope e = {}, p = {};
        Buf b = BUF_INIT(0);
        size_t len;

        if (size > 65535)
                return 0;
        if (envelope_parse(data, size, &e, &len, NULL) < 0)
                return 0;
        /* whatever parses must format and parse back to the same envelope */
        if (envelope_format(&e, &b) < 0 || envelope_parse(b.data, b.len, &p, NULL, NULL) < 0)
                abort();
        if (!streq(p.sender, e.sender) || p.n_rcpts != e.n_rcpts)
                abort();
        envelope_done(&e);
        envelope_done(&p);
        buf_done(&b);
        return 0;
}
