/* SPDX-License-Identifier: MIT */
/* Body and header canonicalization on arbitrary bytes, with invariants. */
#include "services/sign/dkim-canon.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void collect(const uint8_t *p, size_t n, void *userdata) {
        if (buf_append(userdata, p, n) < 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Buf a = BUF_INIT(0), b = BUF_INIT(0);

        if (size > 65536)
                return 0;
        for (DkimCanon c = DKIM_CANON_SIMPLE; c <= DKIM_CANON_RELAXED; c++) {
                buf_reset(&a);
                buf_reset(&b);
                dkim_canon_body(c, data, size, collect, &a);
                /* Canonicalization is idempotent: canonical input stays as it is. */
                dkim_canon_body(c, a.data ? a.data : (const uint8_t *) "", a.len, collect, &b);
                if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
                        abort();
                /* A non-empty result ends with CRLF. */
                if (a.len > 0 && (a.len < 2 || a.data[a.len - 2] != '\r' || a.data[a.len - 1] != '\n'))
                        abort();
                buf_reset(&a);
                (void) dkim_canon_header(c, data, size, true, &a);
        }
        buf_done(&a);
        buf_done(&b);
        return 0;
}
