/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the SASL base64 decoder. What is taken must be the one canonical
 * form of what it decodes to (encoding the result gives the input back:
 * no white space, no stray padding, no pad bits slipped through GnuTLS's
 * lenient decoder); what is refused must hold a byte outside the alphabet
 * or a wrong length or padding, never be a well-formed unpadded string.
 */
#include <stdlib.h>

#include "services/receive/receive-tls.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool alphabet_only(const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
                      p[i] == '+' || p[i] == '/'))
                        return false;
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Buf dec = BUF_INIT(0), enc = BUF_INIT(0);
        int r;

        if (size > 64 * 1024)
                return 0;
        r = tls_base64_decode((const char *) data, size, &dec);
        if (r == -ENOMEM)
                goto finish;
        if (r < 0) {
                if (r != -EINVAL || (size % 4 == 0 && alphabet_only(data, size)))
                        abort();
                if (dec.len != 0)
                        abort();
                goto finish;
        }
        if (dec.len != size / 4 * 3 - (size > 0 && data[size - 1] == '=') - (size > 1 && data[size - 2] == '='))
                abort();
        if (tls_base64_encode(dec.data, dec.len, &enc) == -ENOMEM)
                goto finish;
        if (enc.len != size || (size > 0 && memcmp(enc.data, data, size) != 0))
                abort();
finish:
        buf_done(&dec);
        buf_done(&enc);
        return 0;
}
