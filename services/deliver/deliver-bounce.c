/* SPDX-License-Identifier: MIT */
/*
 * RFC 3464 delivery status notifications. The report is a new message:
 * a human-readable part, the message/delivery-status part with one block
 * per recipient, and the original (headers only for RET=HDRS, the whole
 * message otherwise). All text from remote servers arrives here already
 * censored in Dsn.diagnostic. Addresses and DSN values come from the
 * validated envelope; each is checked again where it becomes a field
 * (field_ok()), and the MIME boundary is random and checked against the
 * finished report, so that no byte a client or a remote server chose can
 * add a header field or a body part.
 */
#include <inttypes.h>
#include <string.h>
#include <sys/random.h>

#include "services/deliver/deliver-body.h"
#include "services/deliver/deliver-bounce.h"
#include "shared/address.h"
#include "shared/macro.h"
#include "shared/rfc5322.h"

bool bounce_wanted(const Envelope *env, const Recipient *rcpt, BounceKind kind) {
        /* RFC 3461 §5.2.1 and RFC 3464 §2.2: never to <>, and never about a
         * notification, so two mailers cannot bounce at each other */
        if (env->sender[0] == 0 || env->kind == ENVELOPE_KIND_DSN)
                return false;
        if (rcpt->notify & DSN_NOTIFY_NEVER)
                return false;
        if (kind == BOUNCE_SUCCESS)
                return (rcpt->notify & DSN_NOTIFY_SUCCESS) != 0;
        /* RFC 3461 §4.1: without NOTIFY, FAILURE (and, at our choice, DELAY) */
        if (rcpt->notify == 0)
                return true;
        return (rcpt->notify & (kind == BOUNCE_FAILED ? DSN_NOTIFY_FAILURE : DSN_NOTIFY_DELAY)) != 0;
}

/* A value that can stand in a field: one line of text, no control. */
static bool field_ok(const char *v) {
        size_t n = strlen(v);

        if (!utf8_valid(v, n))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) v[i] < ' ' || v[i] == 0x7f)
                        return false;
        return true;
}

/* The offset after the header section's empty line, or where the body
 * starts when there is none: what RET=HDRS returns. */
static size_t header_end(const uint8_t *p, size_t n) {
        size_t end;

        (void) header_section_end(p, n, true, &end);
        if (end + 2 <= n && p[end] == '\r' && p[end + 1] == '\n')
                end += 2;
        return end;
}

static int human_part(const BounceInfo *info, Buf *out) {
        int r;

        if (info->kind == BOUNCE_FAILED)
                r = buf_printf(out,
                               "This is the mail system at host %s.\r\n\r\n"
                               "I'm sorry to have to inform you that your message could not\r\n"
                               "be delivered to one or more recipients. It's attached below.\r\n\r\n",
                               info->reporting_mta);
        else if (info->kind == BOUNCE_SUCCESS)
                r = buf_printf(out,
                               "This is the mail system at host %s.\r\n\r\n"
                               "Your message was successfully delivered to the destination(s)\r\n"
                               "listed below. If the message was delivered to a mailbox you will\r\n"
                               "receive no further notifications; otherwise you may still\r\n"
                               "receive notifications of delivery errors from other systems.\r\n\r\n",
                               info->reporting_mta);
        else
                r = buf_printf(out,
                               "This is the mail system at host %s.\r\n\r\n"
                               "####################################################################\r\n"
                               "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n"
                               "####################################################################\r\n\r\n"
                               "Your message could not be delivered yet. The mail system will keep\r\n"
                               "trying to deliver it for a while.\r\n\r\n",
                               info->reporting_mta);
        for (size_t i = 0; i < info->n_rcpts && r >= 0; i++) {
                const BounceRcpt *b = &info->rcpts[i];
                const char *diag = b->dsn->diagnostic && field_ok(b->dsn->diagnostic) ? b->dsn->diagnostic : "";

                r = buf_printf(out, "<%s>: %s\r\n", b->rcpt->addr, diag);
        }
        return r;
}

static const char *action(BounceKind kind, const Dsn *d) {
        switch (kind) {
        case BOUNCE_FAILED:
                return "failed";
        case BOUNCE_DELAYED:
                return "delayed";
        default:
                return d->final ? "delivered" : "relayed";
        }
}

static const char *subject(BounceKind kind) {
        switch (kind) {
        case BOUNCE_FAILED:
                return "Undelivered Mail Returned to Sender";
        case BOUNCE_DELAYED:
                return "Delayed Mail (still being retried)";
        default:
                return "Successful Mail Delivery Report";
        }
}

static int status_part(const BounceInfo *info, Buf *out) {
        char date[RFC5322_DATE_MAX];
        int r;

        r = buf_printf(out, "Reporting-MTA: dns; %s\r\nX-Pochtar-Queue-ID: %s\r\n", info->reporting_mta,
                       info->env->id);
        /* RFC 3464 §2.2.1: the ENVID as given, which dsn-param.c keeps printable US-ASCII */
        if (r >= 0 && info->env->envid && dsn_envid_check(info->env->envid) >= 0)
                r = buf_printf(out, "Original-Envelope-Id: %s\r\n", info->env->envid);
        if (r >= 0 && rfc5322_date_format(info->env->arrival_usec, true, date) >= 0)
                r = buf_printf(out, "Arrival-Date: %s\r\n", date);
        for (size_t i = 0; i < info->n_rcpts && r >= 0; i++) {
                const BounceRcpt *b = &info->rcpts[i];
                bool utf8 = !address_is_ascii(b->rcpt->addr, strlen(b->rcpt->addr));

                /* RFC 6533 §3: "utf-8" address type for a non-ASCII address */
                r = buf_printf(out, "\r\nFinal-Recipient: %s; %s\r\n", utf8 ? "utf-8" : "rfc822", b->rcpt->addr);
                /* RFC 3464 §2.3.1: address-type ";" generic-address, as ORCPT gave them */
                if (r >= 0 && b->rcpt->orcpt && address_is_ascii(b->rcpt->orcpt, strlen(b->rcpt->orcpt)) &&
                    dsn_orcpt_check(b->rcpt->orcpt) >= 0)
                        r = buf_printf(out, "Original-Recipient: %s\r\n", b->rcpt->orcpt);
                if (r >= 0)
                        r = buf_printf(out, "Action: %s\r\nStatus: %s\r\n", action(info->kind, b->dsn), b->dsn->code);
                if (r >= 0 && b->dsn->relay && field_ok(b->dsn->relay))
                        r = buf_printf(out, "Remote-MTA: dns; %s\r\n", b->dsn->relay);
                if (r >= 0 && b->dsn->diagnostic && field_ok(b->dsn->diagnostic))
                        r = buf_printf(out, "Diagnostic-Code: %s; %s\r\n", b->dsn->remote ? "smtp" : "x-pochtar",
                                       b->dsn->diagnostic);
                if (r >= 0 && info->kind == BOUNCE_DELAYED &&
                    rfc5322_date_format(info->retry_until_usec, true, date) >= 0)
                        r = buf_printf(out, "Will-Retry-Until: %s\r\n", date);
        }
        return r;
}

/* What follows the status part, but for the returned message: its part
 * header, a CRLF the copy may need and the close. */
#define REPORT_TAIL_MAX 256

/* The returned message, every line ending in CRLF: the spool's copy has
 * no bare CR or LF (deliver refuses one that has), and this keeps even a
 * damaged one from ending a line of the report where it should not. */
static int append_lines(Buf *out, const uint8_t *p, size_t n) {
        int r = 0;

        if (!body_has_bare_cr_lf(p, n))
                r = buf_append(out, p, n);
        else
                for (size_t i = 0; i < n && r >= 0; i++) {
                        if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
                                continue;       /* the LF writes the pair */
                        r = p[i] == '\r' || p[i] == '\n' ? buf_append_str(out, "\r\n") : buf_append_byte(out, p[i]);
                }
        if (r >= 0 && (n < 2 || p[n - 2] != '\r' || p[n - 1] != '\n'))
                r = buf_append_str(out, "\r\n");
        return r;
}

/* RFC 2046 §5.1.1: 1 to 70 bchars, not ending in a space; ours never has one. */
static bool boundary_ok(const char *b) {
        size_t n = strlen(b);

        if (n == 0 || n > 70)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((b[i] >= '0' && b[i] <= '9') || (b[i] >= 'A' && b[i] <= 'Z') || (b[i] >= 'a' && b[i] <= 'z') ||
                      strchr("'()+_,-./:=?", b[i])))
                        return false;
        return true;
}

/* The lines of @p[0..@n) that start with "--" @boundary: the delimiters. */
static size_t count_delimiters(const uint8_t *p, size_t n, const char *boundary) {
        size_t k = strlen(boundary), found = 0;

        for (size_t i = 0; i + 2 + k <= n; i++)
                if ((i == 0 || p[i - 1] == '\n') && p[i] == '-' && p[i + 1] == '-' &&
                    memcmp(p + i + 2, boundary, k) == 0)
                        found++;
        return found;
}

/**
 * bounce_compose() - the notification message in wire form (CRLF).
 * Returns 0; -EINVAL for a value that cannot stand in its field (the
 * envelope's reader refuses those first); -EMSGSIZE when even the
 * report with the returned header section is over info->size_max;
 * -EEXIST when the boundary
 * occurs in the report other than as its own delimiters (the caller
 * takes another); or -ENOMEM/-EMSGSIZE from @out.
 */
int bounce_compose(const BounceInfo *info, Buf *out) {
        size_t hdr = header_end(info->message, info->message_len);
        bool headers_only = info->env->ret == DSN_RET_HDRS;
        size_t orig_len = headers_only ? hdr : info->message_len, start = out->len;
        char date[RFC5322_DATE_MAX];
        int r;

        if (!boundary_ok(info->boundary) || !field_ok(info->reporting_mta) || !field_ok(info->message_id) ||
            !field_ok(info->env->sender))
                return -EINVAL;
        for (size_t i = 0; i < info->n_rcpts; i++)
                if (!field_ok(info->rcpts[i].rcpt->addr))
                        return -EINVAL;
        r = rfc5322_date_format(info->now_usec, true, date);
        if (r < 0)
                return r;
        r = buf_printf(out,
                       "Date: %s\r\n"
                       "From: MAILER-DAEMON@%s (Mail Delivery System)\r\n"
                       "To: <%s>\r\n"
                       "Subject: %s\r\n"
                       "Message-ID: <%s>\r\n"
                       "Auto-Submitted: auto-replied\r\n"
                       "MIME-Version: 1.0\r\n"
                       "Content-Type: multipart/report; report-type=delivery-status;\r\n"
                       "\tboundary=\"%s\"\r\n"
                       "\r\n"
                       "This is a MIME-encapsulated message.\r\n"
                       "\r\n"
                       "--%s\r\n"
                       "Content-Description: Notification\r\n"
                       "Content-Type: text/plain; charset=utf-8\r\n"
                       "\r\n",
                       date, info->reporting_mta, info->env->sender,
                       subject(info->kind),
                       info->message_id, info->boundary, info->boundary);
        if (r >= 0)
                r = human_part(info, out);
        if (r >= 0)
                r = buf_printf(out, "\r\n--%s\r\nContent-Description: Delivery report\r\n"
                               "Content-Type: message/delivery-status\r\n\r\n", info->boundary);
        if (r >= 0)
                r = status_part(info, out);
        /* the report is a message sign must take: the whole original only
         * if it fits, else its header section, else no report */
        if (r >= 0 && info->size_max > 0 && out->len - start + orig_len + REPORT_TAIL_MAX > info->size_max &&
            !headers_only) {
                headers_only = true;
                orig_len = hdr;
        }
        if (r >= 0 && info->size_max > 0 && out->len - start + orig_len + REPORT_TAIL_MAX > info->size_max)
                r = -EMSGSIZE;
        if (r >= 0)
                r = buf_printf(out, "\r\n--%s\r\nContent-Description: %s\r\nContent-Type: %s\r\n%s\r\n",
                               info->boundary,
                               info->kind == BOUNCE_SUCCESS ? (headers_only ? "Message Headers" : "Message") :
                               headers_only ? "Undelivered Message Headers" : "Undelivered Message",
                               headers_only ? "text/rfc822-headers" : "message/rfc822",
                               body_has_8bit(info->message, orig_len) ? "Content-Transfer-Encoding: 8bit\r\n" : "");
        if (r >= 0)
                r = append_lines(out, info->message, orig_len);
        if (r >= 0)
                r = buf_printf(out, "\r\n--%s--\r\n", info->boundary);
        /* three part delimiters and the close, nothing else */
        if (r >= 0 && count_delimiters(out->data + start, out->len - start, info->boundary) != 4)
                r = -EEXIST;
        if (r < 0)
                out->len = start;
        return r;
}

/* A boundary no one can guess: 16 random letters and digits (95 bits). */
static int boundary_new(char *buf, size_t n) {
        static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        uint8_t rnd[16];

        if (n < sizeof(rnd) + sizeof("=_pochtar_"))
                return -EINVAL;
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t) sizeof(rnd))
                return -errno ?: -EIO;
        memcpy(buf, "=_pochtar_", 10);
        for (size_t i = 0; i < sizeof(rnd); i++)
                buf[10 + i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
        buf[10 + sizeof(rnd)] = 0;
        return 0;
}

/**
 * bounce_publish() - compose the report and hand it to incoming/new
 * under a fresh queue ID, with sender <>, kind dsn and the original
 * sender as the only recipient. Durable when it returns 0.
 */
int bounce_publish(SpoolDir *incoming, BounceInfo *info, char ret_id[static QUEUE_ID_LEN + 1]) {
        char boundary[32];
        Envelope e = {};
        SpoolFile f = SPOOL_FILE_NULL;
        Buf b = BUF_INIT(0);
        int r;

        r = queue_id_new(e.id);
        if (r < 0)
                return r;
        e.arrival_usec = info->now_usec;
        e.kind = ENVELOPE_KIND_DSN;
        e.smtputf8 = info->env->smtputf8;
        e.body = info->env->body;
        e.sender = strdup("");
        if (!e.sender)
                r = -ENOMEM;
        if (r >= 0)
                r = envelope_add_rcpt(&e, info->env->sender, NULL, 0);
        if (r >= 0)
                r = envelope_format(&e, &b);
        /* a boundary that occurs in the report is taken again, a few times */
        for (unsigned tries = 0; r >= 0 && tries < 4; tries++) {
                r = boundary_new(boundary, sizeof(boundary));
                if (r >= 0) {
                        info->boundary = boundary;
                        r = bounce_compose(info, &b);
                }
                if (r != -EEXIST)
                        break;
        }
        if (r >= 0)
                r = spool_file_create(incoming, e.id, "deliver", &f);
        if (r >= 0)
                r = spool_file_write(&f, b.data, b.len);
        if (r >= 0)
                r = spool_file_publish(&f, SPOOL_NOREPLACE);
        if (r < 0)
                spool_file_abort(&f);
        else
                memcpy(ret_id, e.id, QUEUE_ID_LEN + 1);
        buf_done(&b);
        envelope_done(&e);
        return r;
}
