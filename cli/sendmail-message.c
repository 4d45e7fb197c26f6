/* SPDX-License-Identifier: MIT */
/*
 * Turns a locally written message into the bytes pochtar-sendmail sends
 * after DATA. Local programs (cron, PHP's mail(), mail(1)) write LF line
 * ends; SMTP needs CRLF and dot-stuffing (RFC 5321 §4.5.2). A CR before
 * LF is kept as part of the line end, so CRLF input stays as it was.
 */
#include <stdlib.h>

#include "cli/sendmail-message.h"
#include "shared/rfc5322.h"
#include "shared/address.h"
#include "shared/macro.h"

void sendmail_message_done(SendmailMessage *m) {
        buf_done(&m->wire);
        for (size_t i = 0; i < m->n_rcpts; i++)
                free(m->rcpts[i]);
        free(m->rcpts);
        *m = (SendmailMessage) {};
}

typedef struct RcptList {
        char ***rcpts;
        size_t *n;
} RcptList;

static int add_rcpt(const char *v, size_t s, size_t e, void *userdata) {
        RcptList *l = userdata;
        char **t, *a;

        if (address_valid(v + s, e - s, ADDRESS_UNQUALIFIED | ADDRESS_UTF8) < 0)
                return -EINVAL;
        a = strndup(v + s, e - s);
        if (!a)
                return -ENOMEM;
        t = reallocarray(*l->rcpts, *l->n + 1, sizeof(char *));
        if (!t) {
                free(a);
                return -ENOMEM;
        }
        *l->rcpts = t;
        (*l->rcpts)[(*l->n)++] = a;
        return 0;
}

/**
 * sendmail_add_rcpts() - add the addresses of an address list ("a@b.c",
 * "root", "Bob <bob@x.org>, carol") to *rcpts. -EINVAL if one is not a
 * valid address.
 */
int sendmail_add_rcpts(const char *list, char ***rcpts, size_t *n_rcpts) {
        RcptList l = { rcpts, n_rcpts };

        return address_list_walk(list, strlen(list), add_rcpt, &l);
}

/* LF or CRLF lines to CRLF lines; with !ignore_dots a line "." ends it (sendmail(1)). */
static int to_crlf(const uint8_t *in, size_t n, bool ignore_dots, Buf *out) {
        size_t i = 0;
        int r;

        while (i < n) {
                const uint8_t *lf = memchr(in + i, '\n', n - i);
                size_t end = lf ? (size_t) (lf - in) : n, len = end - i;

                if (len > 0 && in[end - 1] == '\r')
                        len--;
                if (!ignore_dots && len == 1 && in[i] == '.')
                        break;
                r = buf_append(out, in + i, len);
                if (r >= 0)
                        r = buf_append(out, "\r\n", 2);
                if (r < 0)
                        return r;
                i = end + 1;
        }
        return 0;
}

/* Appends p[0..n) (CRLF lines) to @out with a "." doubled at each line start. */
static int dot_stuff(const uint8_t *p, size_t n, Buf *out) {
        size_t i = 0;
        int r;

        while (i < n) {
                const uint8_t *eol = memmem(p + i, n - i, "\r\n", 2);
                size_t end = eol ? (size_t) (eol - p) + 2 : n;

                if (p[i] == '.' && (r = buf_append_byte(out, '.')) < 0)
                        return r;
                if ((r = buf_append(out, p + i, end - i)) < 0)
                        return r;
                i = end;
        }
        return 0;
}

/**
 * sendmail_message_prepare() - build the wire form and, with -t, the
 * recipient list. A missing From: is added from the full name and the
 * envelope sender, as sendmail(1) does. Returns -EINVAL when -t finds an
 * address that is not valid.
 */
int sendmail_message_prepare(const uint8_t *in, size_t n, const SendmailInput *opts, SendmailMessage *ret) {
        _cleanup_(buf_done) Buf msg = BUF_INIT(0);
        SendmailMessage m = { .wire = BUF_INIT(0) };
        bool have_from = false;
        size_t end = 0, i = 0;
        int r;

        r = to_crlf(in, n, opts->ignore_dots, &msg);
        if (r < 0)
                return r;
        for (size_t k = 0; k < msg.len; k++)
                if (msg.data[k] >= 0x80) {
                        m.eightbit = true;
                        break;
                }
        (void) header_section_end(msg.data, msg.len, true, &end);

        while (i < end && r >= 0) {
                size_t start = i;
                HeaderField f;
                bool bcc;

                i = header_field_next(msg.data, end, start, &f);
                have_from = have_from || header_field_is(&f, msg.data, "From");
                bcc = header_field_is(&f, msg.data, "Bcc");
                if (opts->extract &&
                    (bcc || header_field_is(&f, msg.data, "To") || header_field_is(&f, msg.data, "Cc"))) {
                        RcptList l = { &m.rcpts, &m.n_rcpts };

                        r = address_list_walk((const char *) msg.data + start + f.value, f.len - f.value,
                                              add_rcpt, &l);
                }
                /* Bcc is removed with -t, as sendmail(1) does; without -t it stays */
                if (r >= 0 && !(bcc && opts->extract))
                        r = dot_stuff(msg.data + start, i - start, &m.wire);
        }
        if (r >= 0 && !have_from && opts->sender && opts->sender[0]) {
                if (opts->full_name) {
                        /* -F is a quoted-string: escape quote and backslash, drop controls */
                        r = buf_append_str(&m.wire, "From: \"");
                        for (const char *c = opts->full_name; *c && r >= 0; c++)
                                if (*c == '"' || *c == '\\')
                                        r = buf_printf(&m.wire, "\\%c", *c);
                                else if ((unsigned char) *c >= 0x20 && *c != 0x7f)
                                        r = buf_append_byte(&m.wire, (uint8_t) *c);
                        if (r >= 0)
                                r = buf_printf(&m.wire, "\" <%s>\r\n", opts->sender);
                } else
                        r = buf_printf(&m.wire, "From: %s\r\n", opts->sender);
        }
        if (r >= 0)
                r = dot_stuff(msg.data + end, msg.len - end, &m.wire);
        if (r >= 0)
                r = buf_append_str(&m.wire, ".\r\n");
        if (r < 0) {
                sendmail_message_done(&m);
                return r;
        }
        *ret = m;
        return 0;
}
