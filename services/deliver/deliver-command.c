/* SPDX-License-Identifier: MIT */
/*
 * MAIL and RCPT command lines: see deliver-command.h. The envelope was
 * checked when it was parsed (shared/dsn-param.c, shared/address.c);
 * the writer checks its own output once more, so that no bug and no
 * stage before this one can make a value into a second command.
 */
#include "services/deliver/deliver-command.h"
#include "shared/address.h"
#include "shared/limits.h"
#include "shared/macro.h"
#include "shared/xtext.h"

/* One command line, CRLF excluded: no control byte (CR, LF, NUL, DEL and
 * the rest), and bytes above ASCII only where SMTPUTF8 allows them. */
static int line_check(const Buf *b, size_t start, bool utf8) {
        const uint8_t *p = b->data + start;
        size_t n = b->len - start;

        if (n + 2 > SMTP_COMMAND_LINE_MAX)
                return -E2BIG;
        for (size_t i = 0; i < n; i++)
                if (p[i] < ' ' || p[i] == 0x7f || (p[i] > 0x7f && !utf8))
                        return -EINVAL;
        if (utf8 && !utf8_valid((const char *) p, n))
                return -EINVAL;
        return 0;
}

static bool utf8_allowed(const Envelope *env, const EhloCaps *caps) {
        return env->smtputf8 && caps->smtputf8;
}

int mail_command_format(const Envelope *env, const EhloCaps *caps, size_t size, bool body_8bit, Buf *out) {
        size_t start = out->len;
        int r;

        if (env->sender[0] && address_valid(env->sender, strlen(env->sender), ADDRESS_UTF8) < 0)
                return -EINVAL;
        r = buf_printf(out, "MAIL FROM:<%s>", env->sender);
        if (r >= 0 && caps->size)
                r = buf_printf(out, " SIZE=%zu", size);
        if (r >= 0 && caps->eightbitmime && body_8bit)
                r = buf_append_str(out, " BODY=8BITMIME");
        if (r >= 0 && utf8_allowed(env, caps))
                r = buf_append_str(out, " SMTPUTF8");
        if (r >= 0 && caps->dsn && env->ret != DSN_RET_UNSET)
                r = buf_printf(out, " RET=%s", dsn_ret_to_string(env->ret));
        if (r >= 0 && caps->dsn && env->envid) {
                if (dsn_envid_check(env->envid) < 0)
                        r = -EINVAL;
                if (r >= 0)
                        r = buf_append_str(out, " ENVID=");
                if (r >= 0)
                        r = xtext_encode(out, env->envid, strlen(env->envid));
        }
        if (r >= 0)
                r = line_check(out, start, utf8_allowed(env, caps));
        if (r < 0)
                out->len = start;
        return r;
}

int rcpt_command_format(const Envelope *env, const Recipient *rc, const EhloCaps *caps, Buf *out) {
        size_t start = out->len;
        int r;

        if (address_valid(rc->addr, strlen(rc->addr), ADDRESS_UTF8) < 0)
                return -EINVAL;
        r = buf_printf(out, "RCPT TO:<%s>", rc->addr);
        if (r >= 0 && caps->dsn && rc->notify) {
                r = buf_append_str(out, " NOTIFY=");
                if (r >= 0)
                        r = dsn_notify_format(rc->notify, out);
        }
        if (r >= 0 && caps->dsn && rc->orcpt) {
                r = buf_append_str(out, " ORCPT=");
                if (r >= 0)
                        r = dsn_orcpt_encode(rc->orcpt, out);
        }
        if (r >= 0)
                r = line_check(out, start, utf8_allowed(env, caps));
        if (r < 0)
                out->len = start;
        return r;
}
