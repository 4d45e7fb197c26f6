/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the bounce writer with values that did not pass the envelope's
 * reader (a stage before may lie): whatever the ENVID, ORCPT, remote
 * diagnostic, relay name, addresses and returned message hold, a report
 * that is written has exactly its own header fields, exactly its three
 * parts, only the delivery-status fields RFC 3464 names, and CRLF lines.
 * Input: NUL-separated envid, orcpt, diagnostic, relay, sender,
 * recipient, then the returned message (the rest, any bytes).
 */
#include <stdlib.h>

#include "services/deliver/deliver-bounce.h"
#include "shared/macro.h"
#include "tests/report-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *next_field(const uint8_t **p, const uint8_t *end, char *buf, size_t n) {
        const uint8_t *z = memchr(*p, 0, (size_t) (end - *p));
        size_t k = z ? (size_t) (z - *p) : (size_t) (end - *p);

        if (k >= n)
                k = n - 1;
        memcpy(buf, *p, k);
        buf[k] = 0;
        *p = z ? z + 1 : end;
        return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char envid[256], orcpt[600], diag[600], relay[300], sender[300], addr[300];
        const uint8_t *p = data, *end = data + size;
        Envelope e = { .id = "0KQ3M5Z7A8B2C4D6", .arrival_usec = 1764300000000000 };
        Recipient rc = {};
        Dsn d = { .status = DELIVERY_BOUNCED, .code = "5.1.1", .remote = true, .valid = true };
        BounceRcpt br[2];
        BounceInfo info;
        Buf b = BUF_INIT(0);

        if (size < 1 || size > 65536)
                return 0;
        e.ret = (p[0] & 1) ? DSN_RET_HDRS : DSN_RET_FULL;
        p++;
        e.envid = (char *) next_field(&p, end, envid, sizeof(envid));
        rc.orcpt = (char *) next_field(&p, end, orcpt, sizeof(orcpt));
        d.diagnostic = (char *) next_field(&p, end, diag, sizeof(diag));
        d.relay = (char *) next_field(&p, end, relay, sizeof(relay));
        e.sender = (char *) next_field(&p, end, sender, sizeof(sender));
        rc.addr = (char *) next_field(&p, end, addr, sizeof(addr));
        br[0] = br[1] = (BounceRcpt) { &rc, &d };
        info = (BounceInfo) {
                .kind = (BounceKind) (data[0] >> 1) % 3, .reporting_mta = "mail.example.com", .env = &e,
                .message = p, .message_len = (size_t) (end - p), .rcpts = br, .n_rcpts = 1 + (data[0] >> 3) % 2,
                .now_usec = 1764300600000000, .retry_until_usec = 1764700000000000,
                .boundary = "=_fuzz_boundary__", .message_id = "id@mail.example.com",
        };
        if (bounce_compose(&info, &b) >= 0)
                report_check(&b, info.boundary, info.n_rcpts, envid, NULL);
        buf_done(&b);
        return 0;
}
