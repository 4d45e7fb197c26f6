/* SPDX-License-Identifier: MIT */
/*
 * Reply and EHLO parsing: a push parser fed with whatever the socket (or
 * TLS) read returned, so a reply split anywhere, or several replies in
 * one read (PIPELINING), come out the same. Modelled on OpenSMTPD's
 * parse_smtp_response(); bounded as Postfix's smtp_get() is.
 */
#include <string.h>

#include "services/deliver/deliver-dsn.h"
#include "services/deliver/deliver-reply.h"
#include "shared/deliver-state.h"
#include "shared/escape.h"
#include "shared/limits.h"
#include "shared/macro.h"

void reply_parser_init(ReplyParser *p) {
        *p = (ReplyParser) {
                .line = BUF_INIT(SMTP_REPLY_LINE_MAX),
                .reply.text = BUF_INIT(SMTP_REPLY_LINE_MAX * SMTP_REPLY_LINES_MAX),
        };
}

void reply_parser_done(ReplyParser *p) {
        buf_done(&p->line);
        buf_done(&p->reply.text);
}

void reply_parser_reset(ReplyParser *p) {
        buf_reset(&p->line);
        buf_reset(&p->reply.text);
        p->skipping = false;
        p->reply.code = 0;
        p->reply.enhanced[0] = 0;
        p->reply.n_lines = 0;
        p->reply.truncated = false;
}

static void parse_enhanced(SmtpReply *r, const uint8_t *t, size_t n) {
        size_t k = 0;

        while (k < n && t[k] != ' ')
                k++;
        /* RFC 3463 §2: the class must match the reply's first digit */
        if (dsn_code_valid((const char *) t, k) && t[0] == '0' + r->code / 100) {
                memcpy(r->enhanced, t, k);
                r->enhanced[k] = 0;
        }
}

/* One complete line (without CRLF). Returns REPLY_MORE, REPLY_DONE or -EBADMSG. */
static int parse_line(ReplyParser *p, const uint8_t *l, size_t n) {
        SmtpReply *r = &p->reply;
        unsigned code;
        bool last;
        int k;

        /* RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39 */
        if (n < 3 || l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '5' || l[2] < '0' || l[2] > '9')
                return -EBADMSG;
        if (n > 3 && l[3] != ' ' && l[3] != '-')
                return -EBADMSG;
        code = (unsigned) (l[0] - '0') * 100 + (unsigned) (l[1] - '0') * 10 + (unsigned) (l[2] - '0');
        last = n == 3 || l[3] == ' ';
        if (r->n_lines > 0 && code != r->code)
                return -EBADMSG;
        if (r->n_lines >= SMTP_REPLY_LINES_MAX)
                return -EBADMSG;
        if (r->n_lines == 0) {
                r->code = code;
                if (n > 4)
                        parse_enhanced(r, l + 4, n - 4);
        } else if ((k = buf_append_byte(&r->text, '\n')) < 0)
                return k;
        if (n > 4 && (k = buf_append(&r->text, l + 4, n - 4)) < 0)
                return k;
        r->n_lines++;
        return last ? REPLY_DONE : REPLY_MORE;
}

/**
 * reply_parser_feed() - push bytes of the server's reply stream.
 * @ret_consumed: how many bytes were used; after REPLY_DONE the rest
 * belongs to the next reply (feed it again after reply_parser_reset()).
 * A bare LF ends a line too (servers do send it; it cannot smuggle
 * anything into a reply). Returns REPLY_MORE, REPLY_DONE, -EBADMSG for a
 * malformed reply or -ENOMEM.
 */
int reply_parser_feed(ReplyParser *p, const uint8_t *data, size_t n, size_t *ret_consumed) {
        size_t i = 0;
        int r;

        while (i < n) {
                const uint8_t *nl = memchr(data + i, '\n', n - i);
                size_t take = nl ? (size_t) (nl - (data + i)) : n - i;

                if (!p->skipping) {
                        size_t room = SMTP_REPLY_LINE_MAX - p->line.len;

                        if (take > room) {
                                p->skipping = true;
                                p->reply.truncated = true;
                        }
                        r = buf_append(&p->line, data + i, take < room ? take : room);
                        if (r < 0)
                                return r;
                }
                i += take;
                if (!nl)
                        break;
                i++;    /* the LF */
                if (p->line.len > 0 && p->line.data[p->line.len - 1] == '\r')
                        p->line.len--;
                r = parse_line(p, p->line.data ? p->line.data : (const uint8_t *) "", p->line.len);
                buf_reset(&p->line);
                p->skipping = false;
                if (r != REPLY_MORE) {
                        *ret_consumed = i;
                        return r;
                }
        }
        *ret_consumed = i;
        return REPLY_MORE;
}

/**
 * reply_diagnostic() - the reply as one censored line for logs, bounces
 * and the state file: code, then each line's text joined by spaces.
 */
int reply_diagnostic(const SmtpReply *r, Buf *out) {
        int k;

        k = buf_printf(out, "%03u", r->code);
        for (size_t i = 0; i < r->text.len && k >= 0;) {
                const uint8_t *nl = memchr(r->text.data + i, '\n', r->text.len - i);
                size_t len = nl ? (size_t) (nl - (r->text.data + i)) : r->text.len - i;

                k = buf_append_byte(out, ' ');
                if (k >= 0)
                        k = escape_printable(r->text.data + i, len, SMTP_REPLY_LINE_MAX, 0, out);
                i += len + (nl ? 1 : 0);
                if (out->len > SMTP_REPLY_LINE_MAX * 2) {
                        k = buf_append_str(out, " ...");
                        break;
                }
        }
        return k;
}

static bool keyword(const uint8_t *l, size_t n, const char *kw, const uint8_t **ret_arg, size_t *ret_n) {
        size_t k = strlen(kw);

        if (n < k || !ascii_strncaseeq((const char *) l, k, kw) || (n > k && l[k] != ' ' && l[k] != '='))
                return false;
        *ret_arg = l + k + (n > k ? 1 : 0);
        *ret_n = n > k ? n - k - 1 : 0;
        return true;
}

static void parse_auth(const uint8_t *a, size_t n, EhloCaps *c) {
        for (size_t i = 0; i < n;) {
                size_t j = i;

                while (j < n && a[j] != ' ')
                        j++;
                if (ascii_strncaseeq((const char *) a + i, j - i, "PLAIN"))
                        c->auth_plain = true;
                else if (ascii_strncaseeq((const char *) a + i, j - i, "LOGIN"))
                        c->auth_login = true;
                i = j + 1;
        }
}

/**
 * ehlo_parse() - capabilities from an EHLO reply (RFC 5321 §4.1.1.1).
 * Unknown keywords are ignored; a SIZE argument that is not a number is
 * treated as "no fixed limit".
 */
int ehlo_parse(const SmtpReply *r, EhloCaps *ret) {
        EhloCaps c = {};
        size_t i = 0;
        bool first = true;

        while (i <= r->text.len && r->text.len > 0) {
                const uint8_t *l = r->text.data + i, *arg, *nl;
                size_t n, an;

                nl = memchr(l, '\n', r->text.len - i);
                n = nl ? (size_t) (nl - l) : r->text.len - i;
                i += n + 1;
                if (first) {
                        first = false;
                        continue;
                }
                if (keyword(l, n, "PIPELINING", &arg, &an))
                        c.pipelining = true;
                else if (keyword(l, n, "8BITMIME", &arg, &an))
                        c.eightbitmime = true;
                else if (keyword(l, n, "SMTPUTF8", &arg, &an))
                        c.smtputf8 = true;
                else if (keyword(l, n, "DSN", &arg, &an))
                        c.dsn = true;
                else if (keyword(l, n, "STARTTLS", &arg, &an))
                        c.starttls = true;
                else if (keyword(l, n, "AUTH", &arg, &an))
                        parse_auth(arg, an, &c);
                else if (keyword(l, n, "SIZE", &arg, &an)) {
                        uint64_t v = 0;
                        bool ok = an > 0 && an <= 19;

                        for (size_t k = 0; k < an && ok; k++) {
                                if (arg[k] < '0' || arg[k] > '9')
                                        ok = false;
                                else
                                        v = v * 10 + (uint64_t) (arg[k] - '0');
                        }
                        c.size = true;
                        c.size_max = ok ? v : 0;
                }
                if (!nl)
                        break;
        }
        *ret = c;
        return 0;
}
