/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes xtext (RFC 3461 §4) and the DSN values built on it: encoding
 * round-trips and writes only xchars and "+XX"; decoding takes exactly
 * what xtext_valid() calls valid and never grows; whatever the ENVID and
 * ORCPT decoders take passes their checks, holds no control byte, and
 * comes back the same through the writer deliver uses.
 */
#include <stdlib.h>

#include "shared/dsn-param.h"
#include "shared/macro.h"
#include "shared/xtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void no_controls(const char *v) {
        for (const char *c = v; *c; c++)
                if ((unsigned char) *c < ' ' || *c == 0x7f)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *p = (const char *) data, *why;
        Buf e = BUF_INIT(0), d = BUF_INIT(0);
        char *v = NULL, *w = NULL;
        int r;

        if (size > 4096)
                return 0;
        /* encode: only xchars and "+XX", and back to the same bytes */
        if (xtext_encode(&e, data, size) < 0 || !xtext_valid((char *) e.data, e.len))
                abort();
        for (size_t i = 0; i < e.len; i++)
                if (e.data[i] < '!' || e.data[i] > '~' || e.data[i] == '=')
                        abort();
        if (xtext_decode((char *) e.data, e.len, &d) < 0 || d.len != size || (size && memcmp(d.data, data, size)))
                abort();
        /* decode: exactly the valid inputs, never longer */
        buf_reset(&d);
        r = xtext_decode(p, size, &d);
        if ((r >= 0) != !!xtext_valid(p, size) || (r >= 0 && d.len > size))
                abort();
        /* the DSN values */
        if (dsn_envid_decode(p, size, &v, &why) >= 0) {
                no_controls(v);
                if (dsn_envid_check(v) < 0)
                        abort();
        }
        free(v);
        v = NULL;
        if (dsn_orcpt_decode(p, size, &v, &why) >= 0) {
                buf_reset(&e);
                no_controls(v);
                if (dsn_orcpt_check(v) < 0 || dsn_orcpt_encode(v, &e) < 0 ||
                    dsn_orcpt_decode((char *) e.data, e.len, &w, &why) < 0 || strcmp(v, w) != 0)
                        abort();
        }
        free(v);
        free(w);
        buf_done(&e);
        buf_done(&d);
        return 0;
}
