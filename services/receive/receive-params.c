/* SPDX-License-Identifier: MIT */
/*
 * MAIL and RCPT parameters: see receive-params.h. A value the grammar
 * does not allow is refused here, with the reason, before anything is
 * stored: what reaches the envelope is data that later stages check
 * again (envelope_parse()) and write xtext-encoded where it leaves the
 * machine, never a piece of syntax.
 */
#include <stdarg.h>
#include <stdio.h>

#include "services/receive/receive-params.h"
#include "shared/address.h"
#include "shared/limits.h"
#include "shared/macro.h"
#include "shared/xtext.h"

/* The key as the reply names it: a keyword (command_parse() checked its
 * grammar), cut to a sane length. */
#define KEY_SHOWN_MAX 32

void mail_params_done(MailParams *p) {
        free(p->envid);
        *p = (MailParams) {};
}

void rcpt_params_done(RcptParams *p) {
        free(p->orcpt);
        *p = (RcptParams) {};
}

static bool key_is(const CommandParam *p, const char *key) {
        return ascii_strncaseeq(p->key.p, p->key.n, key);
}

static int refuse(char *reply, size_t size, const char *fmt, ...) _printf_(3, 4);

static int refuse(char *reply, size_t size, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(reply, size, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static int unsupported(const CommandParam *p, char *reply, size_t size) {
        return refuse(reply, size, "555 5.5.4 Unsupported option: %.*s",
                      (int) (p->key.n < KEY_SHOWN_MAX ? p->key.n : KEY_SHOWN_MAX), p->key.p);
}

/* A keyword given twice, or a value missing or given where none belongs. */
static int check_form(const CommandParam *p, bool *seen, bool wants_value, char *reply, size_t size) {
        int shown = (int) (p->key.n < KEY_SHOWN_MAX ? p->key.n : KEY_SHOWN_MAX);

        if (*seen)
                return refuse(reply, size, "501 5.5.4 Bad %.*s parameter: given twice", shown, p->key.p);
        *seen = true;
        if (wants_value && !p->value.p)
                return refuse(reply, size, "501 5.5.4 Bad %.*s parameter: needs a value", shown, p->key.p);
        if (!wants_value && p->value.p)
                return refuse(reply, size, "501 5.5.4 Bad %.*s parameter: takes no value", shown, p->key.p);
        return 0;
}

/* RFC 4954 §5: "AUTH=" xtext, decoding to "<>" or an addr-spec. */
static int auth_check(Span v) {
        _cleanup_(buf_done) Buf b = BUF_INIT(SMTP_PATH_MAX);

        if (xtext_decode(v.p, v.n, &b) < 0)
                return -EINVAL;
        if (b.len == 2 && memcmp(b.data, "<>", 2) == 0)
                return 0;
        return address_valid((const char *) b.data, b.len, ADDRESS_UTF8) < 0 ? -EINVAL : 0;
}

int mail_params_parse(const CommandParam *params, size_t n, MailParams *ret, char *reply, size_t size) {
        _cleanup_(mail_params_done) MailParams m = {};
        bool seen_size = false, seen_body = false, seen_utf8 = false, seen_ret = false, seen_envid = false,
             seen_auth = false;
        const char *why;
        int r;

        for (size_t i = 0; i < n; i++) {
                const CommandParam *p = &params[i];

                if (key_is(p, "SIZE")) {
                        r = check_form(p, &seen_size, true, reply, size);
                        if (r < 0)
                                return r;
                        /* RFC 1870: size-value ::= 1*20DIGIT */
                        if (parse_u64_span(p->value.p, p->value.n, &m.size) < 0)
                                return refuse(reply, size, "501 5.5.4 Bad SIZE parameter: expected a number");
                        m.has_size = true;
                } else if (key_is(p, "BODY")) {
                        r = check_form(p, &seen_body, true, reply, size);
                        if (r < 0)
                                return r;
                        if (ascii_strncaseeq(p->value.p, p->value.n, "7BIT"))
                                m.body = BODY_7BIT;
                        else if (ascii_strncaseeq(p->value.p, p->value.n, "8BITMIME"))
                                m.body = BODY_8BITMIME;
                        else
                                return refuse(reply, size, "501 5.5.4 Bad BODY parameter: expected 7BIT or 8BITMIME");
                } else if (key_is(p, "SMTPUTF8")) {
                        r = check_form(p, &seen_utf8, false, reply, size);
                        if (r < 0)
                                return r;
                        m.smtputf8 = true;
                } else if (key_is(p, "RET")) {
                        r = check_form(p, &seen_ret, true, reply, size);
                        if (r < 0)
                                return r;
                        m.ret = dsn_ret_from_string(p->value.p, p->value.n);
                        if (m.ret == DSN_RET_UNSET)
                                return refuse(reply, size, "501 5.5.4 Bad RET parameter: expected FULL or HDRS");
                } else if (key_is(p, "ENVID")) {
                        r = check_form(p, &seen_envid, true, reply, size);
                        if (r < 0)
                                return r;
                        r = dsn_envid_decode(p->value.p, p->value.n, &m.envid, &why);
                        if (r == -EINVAL)
                                return refuse(reply, size, "501 5.5.4 Bad ENVID parameter: %s", why);
                        if (r < 0)
                                return r;
                } else if (key_is(p, "AUTH")) {
                        r = check_form(p, &seen_auth, true, reply, size);
                        if (r < 0)
                                return r;
                        if (auth_check(p->value) < 0)
                                return refuse(reply, size,
                                              "501 5.5.4 Bad AUTH parameter: expected xtext of <> or an address");
                        m.has_auth = true;
                } else
                        return unsupported(p, reply, size);
        }
        *ret = m;
        m = (MailParams) {};
        return 0;
}

int rcpt_params_parse(const CommandParam *params, size_t n, RcptParams *ret, char *reply, size_t size) {
        _cleanup_(rcpt_params_done) RcptParams rp = {};
        bool seen_notify = false, seen_orcpt = false;
        const char *why;
        int r;

        for (size_t i = 0; i < n; i++) {
                const CommandParam *p = &params[i];

                if (key_is(p, "NOTIFY")) {
                        r = check_form(p, &seen_notify, true, reply, size);
                        if (r < 0)
                                return r;
                        if (dsn_notify_parse(p->value.p, p->value.n, &rp.notify) < 0)
                                return refuse(reply, size, "501 5.5.4 Bad NOTIFY parameter: expected NEVER, "
                                              "or SUCCESS, FAILURE and DELAY separated by commas");
                } else if (key_is(p, "ORCPT")) {
                        r = check_form(p, &seen_orcpt, true, reply, size);
                        if (r < 0)
                                return r;
                        r = dsn_orcpt_decode(p->value.p, p->value.n, &rp.orcpt, &why);
                        if (r == -EINVAL)
                                return refuse(reply, size, "501 5.5.4 Bad ORCPT parameter: %s", why);
                        if (r < 0)
                                return r;
                } else
                        return unsupported(p, reply, size);
        }
        *ret = rp;
        rp = (RcptParams) {};
        return 0;
}
