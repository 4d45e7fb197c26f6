/* SPDX-License-Identifier: MIT */
/*
 * deliver/state/new/ID, read for the admin. The file is written by
 * pochtar-deliver, but the CLI trusts the spool no more than the stages
 * trust each other: every line is checked against the documented grammar,
 * indices are bounded by the envelope's recipient count, and diagnostics
 * (remote servers' text) are xtext-decoded and censored again.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/deliver-status.h"
#include "shared/escape.h"
#include "shared/macro.h"
#include "shared/xtext.h"

static const char * const kind_names[_RCPT_STATUS_MAX] = {
        [RCPT_STATUS_PENDING] = "pending",
        [RCPT_STATUS_SENT] = "sent",
        [RCPT_STATUS_BOUNCED] = "bounced",
        [RCPT_STATUS_DEFERRED] = "deferred",
};

const char *rcpt_status_to_string(RcptStatusKind k) {
        return kind_names[k];
}

void deliver_status_done(DeliverStatus *s) {
        for (size_t i = 0; i < s->n_rcpts; i++)
                free(s->rcpts[i].diagnostic);
        free(s->rcpts);
        *s = (DeliverStatus) {};
}

static bool span_is(const char *p, size_t n, const char *lit) {
        return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

static int parse_u64(const char *p, size_t n, uint64_t *ret) {
        uint64_t v = 0;

        if (n == 0 || n > 20)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                if (p[i] < '0' || p[i] > '9' || v > (UINT64_MAX - (uint64_t) (p[i] - '0')) / 10)
                        return -EBADMSG;
                v = v * 10 + (uint64_t) (p[i] - '0');
        }
        *ret = v;
        return 0;
}

/* RFC 3463 §2: class "." subject "." detail, class 2, 4 or 5, 1-3 digits each. */
static bool code_valid(const char *p, size_t n) {
        size_t i = 1, digits;

        if (n < 5 || n > STRLEN("5.999.999") || (p[0] != '2' && p[0] != '4' && p[0] != '5'))
                return false;
        for (int part = 0; part < 2; part++) {
                if (i >= n || p[i++] != '.')
                        return false;
                for (digits = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++)
                        digits++;
                if (digits < 1 || digits > 3)
                        return false;
        }
        return i == n;
}

/* "INDEX STATE CODE DIAG", exactly four fields separated by one space. */
static int parse_rcpt(const char *p, size_t n, DeliverStatus *s) {
        const char *f[4];
        size_t fn[4], k = 0;
        uint64_t idx;
        RcptStatus *rs;
        int kind = -1;

        for (const char *c = p, *end = p + n; k < 4; k++) {
                const char *sp = k < 3 ? memchr(c, ' ', (size_t) (end - c)) : NULL;

                f[k] = c;
                fn[k] = (size_t) ((sp ?: end) - c);
                if (fn[k] == 0 || (k < 3 && !sp))
                        return -EBADMSG;
                c = sp ? sp + 1 : end;
        }
        if (memchr(f[3], ' ', fn[3]) || parse_u64(f[0], fn[0], &idx) < 0 || idx >= s->n_rcpts)
                return -EBADMSG;
        for (int i = RCPT_STATUS_SENT; i < _RCPT_STATUS_MAX; i++)
                if (span_is(f[1], fn[1], kind_names[i]))
                        kind = i;
        if (kind < 0)
                return -EBADMSG;
        rs = &s->rcpts[idx];
        if (span_is(f[2], fn[2], "-"))
                rs->code[0] = 0;
        else if (code_valid(f[2], fn[2])) {
                memcpy(rs->code, f[2], fn[2]);
                rs->code[fn[2]] = 0;
        } else
                return -EBADMSG;
        free(rs->diagnostic);
        rs->diagnostic = NULL;
        if (!span_is(f[3], fn[3], "-")) {
                Buf b = BUF_INIT(DELIVER_STATUS_MAX);
                int r = xtext_decode(f[3], fn[3], &b);

                if (r >= 0)
                        rs->diagnostic = escape_printable_dup(b.data, b.len, DELIVER_DIAGNOSTIC_MAX);
                buf_done(&b);
                if (r < 0)
                        return -EBADMSG;
                if (!rs->diagnostic)
                        return -ENOMEM;
        }
        rs->kind = (RcptStatusKind) kind;
        return 0;
}

int deliver_status_parse(const uint8_t *data, size_t n, size_t n_rcpts, DeliverStatus *ret) {
        _cleanup_(deliver_status_done) DeliverStatus s = {};
        const char *c = (const char *) data, *end = c + n;
        bool first = true;
        uint64_t v;
        int r;

        if (n > DELIVER_STATUS_MAX || memchr(data, 0, n))
                return -EBADMSG;
        s.rcpts = calloc(n_rcpts ?: 1, sizeof(RcptStatus));
        if (!s.rcpts)
                return -ENOMEM;
        s.n_rcpts = n_rcpts;
        while (c < end) {
                const char *nl = memchr(c, '\n', (size_t) (end - c)), *sp, *val;
                size_t klen, vlen;

                if (!nl)
                        return -EBADMSG;
                sp = memchr(c, ' ', (size_t) (nl - c));
                if (!sp)
                        return -EBADMSG;
                klen = (size_t) (sp - c);
                val = sp + 1;
                vlen = (size_t) (nl - val);
                if (first) {
                        if (!span_is(c, klen, DELIVER_STATUS_MAGIC) || parse_u64(val, vlen, &v) < 0)
                                return -EBADMSG;
                        if (v != DELIVER_STATUS_VERSION)
                                return -EPROTONOSUPPORT;
                        first = false;
                } else if (span_is(c, klen, "attempts")) {
                        if (parse_u64(val, vlen, &v) < 0 || v > UINT32_MAX)
                                return -EBADMSG;
                        s.attempts = (unsigned) v;
                } else if (span_is(c, klen, "next")) {
                        if (parse_u64(val, vlen, &s.next_usec) < 0)
                                return -EBADMSG;
                } else if (span_is(c, klen, "warned")) {
                        if (!span_is(val, vlen, "yes") && !span_is(val, vlen, "no"))
                                return -EBADMSG;
                        s.warned = span_is(val, vlen, "yes");
                } else if (span_is(c, klen, "rcpt")) {
                        r = parse_rcpt(val, vlen, &s);
                        if (r < 0)
                                return r;
                } else
                        return -EBADMSG;
                c = nl + 1;
        }
        if (first)
                return -EBADMSG;
        *ret = s;
        s = (DeliverStatus) {};
        return 0;
}
