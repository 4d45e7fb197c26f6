/* SPDX-License-Identifier: MIT */
/*
 * Format and parse deliver/state/new/ID. The file is ours, but the spool
 * is not trusted: every line is checked, indices are bounded by the
 * envelope's recipient count, and diagnostics are xtext so no remote
 * reply can add a line (CVE-2020-8794 put one into OpenSMTPD's queue).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "shared/deliver-state.h"
#include "shared/macro.h"
#include "shared/xtext.h"

static const char * const state_names[] = {
        [RCPT_PENDING] = "pending",
        [RCPT_SENT] = "sent",
        [RCPT_BOUNCED] = "bounced",
        [RCPT_DEFERRED] = "deferred",
};

const char *rcpt_state_to_string(RcptState s) {
        return (size_t) s < ELEMENTSOF(state_names) ? state_names[s] : NULL;
}

bool dsn_code_valid(const char *p, size_t n) {
        size_t part = 0, digits = 0;

        if (n < 5 || n >= sizeof(((RcptRecord *) 0)->code) || (p[0] != '2' && p[0] != '4' && p[0] != '5'))
                return false;
        for (size_t i = 0; i < n; i++) {
                if (p[i] == '.') {
                        if (digits == 0)
                                return false;
                        part++;
                        digits = 0;
                } else if (p[i] >= '0' && p[i] <= '9') {
                        /* RFC 3463 §2: class 1 digit, subject and detail 1-3 */
                        if (++digits > (part == 0 ? 1u : 3u))
                                return false;
                } else
                        return false;
        }
        return part == 2 && digits > 0;
}

int deliver_state_init(DeliverState *s, size_t n_rcpts) {
        *s = (DeliverState) {};
        s->rcpts = calloc(n_rcpts ? n_rcpts : 1, sizeof(RcptRecord));
        if (!s->rcpts)
                return -ENOMEM;
        s->n_rcpts = n_rcpts;
        return 0;
}

void deliver_state_done(DeliverState *s) {
        for (size_t i = 0; i < s->n_rcpts; i++)
                free(s->rcpts[i].diagnostic);
        free(s->rcpts);
        *s = (DeliverState) {};
}

bool deliver_state_done_all(const DeliverState *s) {
        for (size_t i = 0; i < s->n_rcpts; i++)
                if (s->rcpts[i].state == RCPT_PENDING || s->rcpts[i].state == RCPT_DEFERRED)
                        return false;
        return true;
}

int deliver_state_format(const DeliverState *s, Buf *out) {
        int r;

        r = buf_printf(out, "%s %d\nattempts %u\nnext %" PRIu64 "\nwarned %s\n", DELIVER_STATE_MAGIC,
                       DELIVER_STATE_VERSION, s->attempts, s->next_usec, s->warned ? "yes" : "no");
        for (size_t i = 0; i < s->n_rcpts && r >= 0; i++) {
                const RcptRecord *rr = &s->rcpts[i];

                if (rr->state == RCPT_PENDING)
                        continue;
                r = buf_printf(out, "rcpt %zu %s %s ", i, state_names[rr->state], rr->code[0] ? rr->code : "-");
                /* "-" means none: an empty diagnostic is written as none (an
                 * empty field would not parse), a literal "-" is escaped */
                if (r < 0)
                        break;
                if (!rr->diagnostic || rr->diagnostic[0] == 0)
                        r = buf_append_str(out, "-");
                else if (streq(rr->diagnostic, "-"))
                        r = buf_append_str(out, "+2D");
                else
                        r = xtext_encode(out, rr->diagnostic, strlen(rr->diagnostic));
                if (r >= 0)
                        r = buf_append_byte(out, '\n');
        }
        return r;
}

/* Splits off the next space-separated field of [*p, end). */
static bool next_field(const char **p, const char *end, const char **ret, size_t *ret_n) {
        const char *s = *p, *e;

        if (s >= end)
                return false;
        e = memchr(s, ' ', (size_t) (end - s));
        if (!e)
                e = end;
        *ret = s;
        *ret_n = (size_t) (e - s);
        *p = e < end ? e + 1 : end;
        return *ret_n > 0;
}

static int parse_rcpt(const char *p, const char *end, DeliverState *s) {
        const char *f[4];
        size_t fn[4];
        uint64_t idx;
        RcptRecord *rr;
        int state = -1, r;

        for (size_t i = 0; i < 4; i++)
                if (!next_field(&p, end, &f[i], &fn[i]))
                        return -EBADMSG;
        if (p != end)
                return -EBADMSG;
        if (parse_u64_span(f[0], fn[0], &idx) < 0 || idx >= s->n_rcpts)
                return -EBADMSG;
        for (size_t i = RCPT_SENT; i < ELEMENTSOF(state_names); i++)
                if (ascii_strncaseeq(f[1], fn[1], state_names[i]))
                        state = (int) i;
        if (state < 0)
                return -EBADMSG;
        rr = &s->rcpts[idx];
        if (ascii_strncaseeq(f[2], fn[2], "-"))
                rr->code[0] = 0;
        else if (dsn_code_valid(f[2], fn[2])) {
                memcpy(rr->code, f[2], fn[2]);
                rr->code[fn[2]] = 0;
        } else
                return -EBADMSG;
        free(rr->diagnostic);
        rr->diagnostic = NULL;
        if (!ascii_strncaseeq(f[3], fn[3], "-")) {
                Buf b = BUF_INIT(DELIVER_STATE_MAX);

                r = xtext_decode(f[3], fn[3], &b);
                if (r < 0 || memchr(b.data, 0, b.len)) {
                        buf_done(&b);
                        return -EBADMSG;
                }
                rr->diagnostic = buf_steal_str(&b);
                if (!rr->diagnostic)
                        return -ENOMEM;
        }
        rr->state = (RcptState) state;
        return 0;
}

/**
 * deliver_state_parse() - read a state file written by deliver_state_format().
 * @p, @n: the file. @s: initialised for the envelope's recipient count.
 * Returns 0, -EBADMSG for a malformed file or -EPROTONOSUPPORT for an
 * unknown version.
 */
int deliver_state_parse(const uint8_t *p, size_t n, DeliverState *s) {
        const char *c = (const char *) p, *end = c + n;
        bool first = true;
        int r;

        if (n > DELIVER_STATE_MAX || memchr(p, 0, n))
                return -EBADMSG;
        while (c < end) {
                const char *nl = memchr(c, '\n', (size_t) (end - c)), *key;
                size_t kn;
                uint64_t v;

                if (!nl)
                        return -EBADMSG;
                if (!next_field(&c, nl, &key, &kn))
                        return -EBADMSG;
                if (first) {
                        if (!ascii_strncaseeq(key, kn, DELIVER_STATE_MAGIC))
                                return -EBADMSG;
                        if (parse_u64_span(c, (size_t) (nl - c), &v) < 0)
                                return -EBADMSG;
                        if (v != DELIVER_STATE_VERSION)
                                return -EPROTONOSUPPORT;
                        first = false;
                } else if (ascii_strncaseeq(key, kn, "attempts")) {
                        if (parse_u64_span(c, (size_t) (nl - c), &v) < 0 || v > UINT32_MAX)
                                return -EBADMSG;
                        s->attempts = (unsigned) v;
                } else if (ascii_strncaseeq(key, kn, "next")) {
                        if (parse_u64_span(c, (size_t) (nl - c), &s->next_usec) < 0)
                                return -EBADMSG;
                } else if (ascii_strncaseeq(key, kn, "warned")) {
                        if (ascii_strncaseeq(c, (size_t) (nl - c), "yes"))
                                s->warned = true;
                        else if (ascii_strncaseeq(c, (size_t) (nl - c), "no"))
                                s->warned = false;
                        else
                                return -EBADMSG;
                } else if (ascii_strncaseeq(key, kn, "rcpt")) {
                        r = parse_rcpt(c, nl, s);
                        if (r < 0)
                                return r;
                } else
                        return -EBADMSG;
                c = nl + 1;
        }
        return first ? -EBADMSG : 0;
}
