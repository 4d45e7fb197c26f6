/* SPDX-License-Identifier: MIT */
/*
 * One SMTP session: the RFC 5321 state machine over a non-blocking
 * socket. Input is processed strictly in order, as pipelining (RFC 2920)
 * requires: a buffer may hold several commands, a whole message and the
 * commands after it. Replies are queued and written when the input runs
 * dry or before the session waits. The message is streamed to a tmp file
 * in the spool; the 250 is only sent by session_committed(), after the
 * server's group commit made the file durable in incoming/new.
 *
 * On a submission listener the session also runs TLS (STARTTLS, or the
 * handshake before the greeting) through receive-tls.c, and AUTH
 * (receive-session-auth.c): TLS before AUTH, AUTH before MAIL, and MAIL
 * FROM and From: limited to the user's senders. The Session itself is in
 * receive-session-private.h, for these two files alone.
 */
#include <netinet/in.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <xxhash.h>

#include "services/receive/receive-access.h"
#include "services/receive/receive-command.h"
#include "services/receive/receive-data.h"
#include "services/receive/receive-headers.h"
#include "services/receive/receive-params.h"
#include "services/receive/receive-reencode.h"
#include "services/receive/receive-session-private.h"
#include "shared/address.h"
#include "shared/buf.h"
#include "shared/envelope.h"
#include "shared/clock.h"
#include "shared/escape.h"
#include "shared/event-util.h"
#include "shared/rfc5322.h"
#include "shared/limits.h"
#include "shared/log-ids.h"
#include "shared/log.h"
#include "shared/spool-spare.h"

/* Bytes read per read(2), and the input buffered at most: a pipelined
 * batch longer than this waits until the commands before it are done. */
#define SESSION_READ_CHUNK (64 * 1024)
/* Replies queued before the session stops reading until the client reads
 * them: a client that pipelines without reading cannot make us buffer
 * without bound. */
#define SESSION_OUT_HIGH (16 * 1024)
/* Decoded message bytes gathered before they are written to the tmp
 * file: small messages take one write(2), large ones stream. */
#define SESSION_FLUSH_SIZE (256 * 1024)
/* Postfix smtpd_hard_error_limit: a client that keeps sending garbage is
 * told 421 and disconnected. */
#define SESSION_ERRORS_MAX 20
/* Postfix smtpd_junk_command_limit: past this many NOOP, RSET, VRFY, EXPN
 * or HELP since the last message, each one counts as an error too, so a
 * client cannot hold a session with them. */
#define SESSION_JUNK_MAX 100



/* States in which the session reads from the client. */
static bool session_reading(const Session *s) {
        return s->state == SESSION_COMMAND || s->state == SESSION_DATA || s->state == SESSION_AUTH;
}

void session_reply(Session *s, const char *fmt, ...) {
        va_list ap;
        char line[SMTP_REPLY_LINE_MAX];
        int n;

        va_start(ap, fmt);
        n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t) n > sizeof(line) - 3)
                n = (int) sizeof(line) - 3;
        line[n++] = '\r';
        line[n++] = '\n';
        if (buf_append(&s->out, line, (size_t) n) < 0)
                s->state = SESSION_CLOSING;     /* out of memory: nothing sensible left to say */
}

static void transaction_reset(Session *s) {
        spool_file_abort(&s->file);
        s->file = SPOOL_FILE_NULL;
        envelope_done(&s->env);
        buf_done(&s->data);
        s->in_mail = false;
        s->headers_done = false;
        s->hops = 0;
        s->refusal = NULL;
        s->reencoded = false;
        s->write_error = 0;
        s->check_skip = 0;
}

Session *session_free(Session *s) {
        if (!s)
                return NULL;
        if (s->state == SESSION_COMMIT && s->ops)
                s->ops->commit_cancel(s, s->userdata);
        transaction_reset(s);
        session_auth_done(s);
        sd_event_source_disable_unref(s->pending);
        tls_conn_free(s->tls);
        sd_event_source_disable_unref(s->io);
        sd_event_source_disable_unref(s->timer);
        sd_event_source_disable_unref(s->deadline);
        safe_close(s->fd);
        buf_done(&s->in);
        buf_done(&s->out);
        free(s->helo);
        XXH3_freeState(s->check);
        if (s->ops)
                s->ops->gone(s, s->userdata);
        free(s);
        return NULL;
}

static int session_flush(Session *s) {
        if (s->state == SESSION_HANDSHAKE)
                return 0;       /* nothing of ours goes out before TLS is up */
        while (s->out.len > 0) {
                ssize_t k;

                if (s->tls)
                        k = tls_conn_write(s->tls, s->out.data, s->out.len);
                else {
                        k = send(s->fd, s->out.data, s->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
                        if (k < 0)
                                k = -errno;
                }
                if (k == -EINTR)
                        continue;
                if (k == -EAGAIN)
                        return 0;
                if (k < 0)
                        return (int) k;
                buf_consume(&s->out, (size_t) k);
        }
        return 0;
}

/* Reads into @p: plain, or through TLS. Bytes, 0 at the end, or -errno. */
static ssize_t session_recv(Session *s, void *p, size_t n) {
        ssize_t k;

        if (s->tls)
                return tls_conn_read(s->tls, p, n);
        k = read(s->fd, p, n);
        return k < 0 ? -errno : k;
}

static void session_arm_timer(Session *s) {
        const ReceiveConfig *c = s->p->config;
        usec_t t = s->state == SESSION_DATA ? c->data_timeout : c->command_timeout;

        if (t == 0)
                return;
        event_timer_arm(s->timer, t);
}

static char *address_store(Session *s, Span a, bool sender) {
        HeaderContext ctx = {
                .origin_domain = s->p->origin_domain,
                .sender_map = s->p->sender_map,
        };
        Buf b = BUF_INIT(SMTP_PATH_MAX + SMTP_DOMAIN_MAX);

        if (address_rewrite(&ctx, a.p, a.n, sender, &b) < 0) {
                buf_done(&b);
                return NULL;
        }
        return buf_steal_str(&b);
}

void session_reply_oom(Session *s) {
        s->state = SESSION_CLOSING;
        session_reply(s, "421 4.3.0 %s Error: out of memory", s->p->hostname);
}

static void on_mail(Session *s, const Command *c) {
        _cleanup_(mail_params_done) MailParams mp = {};
        char reply[SMTP_REPLY_LINE_MAX];
        unsigned flags = ADDRESS_UNQUALIFIED;
        int r;

        if (!s->helo)
                return session_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
        /* RFC 4954 §6: a submission server that relays only for its users */
        if (s->p->submission && !s->auth_user)
                return session_reply(s, "530 5.7.0 Authentication required");
        if (s->in_mail)
                return session_reply(s, "503 5.5.1 Error: nested MAIL command");
        if (c->n_params > 0 && !s->esmtp)
                return session_reply(s, "555 5.5.4 Unsupported option: parameters need EHLO");
        r = mail_params_parse(c->params, c->n_params, &mp, reply, sizeof(reply));
        if (r == -ENOMEM)
                return session_reply_oom(s);
        if (r < 0)
                return session_reply(s, "%s", reply);
        if (mp.has_size && s->p->config->max_message_size > 0 && mp.size > s->p->config->max_message_size)
                return session_reply(s, "552 5.3.4 Message size exceeds fixed limit");
        if (mp.smtputf8)
                flags |= ADDRESS_UTF8;
        if (c->arg.n > 0 && address_valid(c->arg.p, c->arg.n, flags) < 0)
                return session_reply(s, "501 5.1.7 Bad sender address syntax");

        envelope_done(&s->env);
        s->env.sender = c->arg.n > 0 ? address_store(s, c->arg, true) : strdup("");
        if (!s->env.sender)
                return session_reply_oom(s);
        /* the address as it will leave (after sender_map), and never <> */
        if (s->p->submission && !session_sender_allowed(s, s->env.sender)) {
                _cleanup_free_ char *shown = escape_printable_dup(s->env.sender, strlen(s->env.sender), 256);

                log_msg(LOG_NOTICE, &(LogFields) { .client = s->client, .sasl_user = s->auth_user },
                        "reject: MAIL FROM <%s> from [%s]: not a sender of user %s", strempty(shown), s->client,
                        s->auth_user);
                envelope_done(&s->env);
                return session_reply(s, "553 5.7.1 Error: sender address not allowed for user %s", s->auth_user);
        }
        s->env.ret = mp.ret;
        s->env.envid = TAKE_PTR(mp.envid);
        s->env.body = mp.body;
        s->env.smtputf8 = mp.smtputf8;
        s->in_mail = true;
        session_reply(s, "250 2.1.0 Ok");
}

static void on_rcpt(Session *s, const Command *c) {
        _cleanup_(rcpt_params_done) RcptParams rp = {};
        _cleanup_free_ char *addr = NULL;
        char reply[SMTP_REPLY_LINE_MAX];
        unsigned flags = ADDRESS_UNQUALIFIED;
        int r;

        if (!s->in_mail)
                return session_reply(s, "503 5.5.1 Error: need MAIL command");
        if (s->env.n_rcpts >= s->p->config->max_recipients)
                return session_reply(s, "452 4.5.3 Error: too many recipients");
        if (c->n_params > 0 && !s->esmtp)
                return session_reply(s, "555 5.5.4 Unsupported option: parameters need EHLO");
        r = rcpt_params_parse(c->params, c->n_params, &rp, reply, sizeof(reply));
        if (r == -ENOMEM)
                return session_reply_oom(s);
        if (r < 0)
                return session_reply(s, "%s", reply);
        if (s->env.smtputf8)
                flags |= ADDRESS_UTF8;
        if (address_valid(c->arg.p, c->arg.n, flags) < 0)
                return session_reply(s, "501 5.1.3 Bad recipient address syntax");
        addr = address_store(s, c->arg, false);
        if (!addr || envelope_add_rcpt(&s->env, addr, rp.orcpt, rp.notify) < 0)
                return session_reply_oom(s);
        session_reply(s, "250 2.1.5 Ok");
}

static void on_data(Session *s) {
        int r;

        if (!s->in_mail)
                return session_reply(s, "503 5.5.1 Error: need MAIL command");
        if (s->env.n_rcpts == 0)
                return session_reply(s, "554 5.5.1 Error: no valid recipients");
        r = queue_id_new(s->env.id);
        if (r < 0) {
                s->state = SESSION_CLOSING;
                return session_reply(s, "421 4.3.0 %s Error: internal error", s->p->hostname);
        }
        s->env.arrival_usec = now_realtime_usec();
        free(s->env.client);
        s->env.client = strdup(s->client);
        free(s->env.helo);
        s->env.helo = strdup(s->helo);
        free(s->env.auth);
        s->env.auth = s->auth_user ? strdup(s->auth_user) : NULL;
        if (!s->env.client || !s->env.helo || (s->auth_user && !s->env.auth)) {
                s->state = SESSION_CLOSING;
                return session_reply(s, "421 4.3.0 %s Error: out of memory", s->p->hostname);
        }
        s->decoder = s->p->config->bare_newline == BARE_NEWLINE_NORMALIZE ?
                     DATA_DECODER_INIT_NORMALIZE(s->p->config->max_message_size) :
                     DATA_DECODER_INIT(s->p->config->max_message_size);
        s->data = BUF_INIT(0);
        s->headers_done = false;
        s->hops = 0;
        s->refusal = NULL;
        s->write_error = 0;
        s->state = SESSION_DATA;
        session_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void on_helo(Session *s, const Command *c, bool esmtp) {
        const ReceiveConfig *cfg = s->p->config;
        char *h;

        /* The argument is client text: stored censored, bounded. */
        h = escape_printable_dup(c->arg.p, c->arg.n, SMTP_DOMAIN_MAX);
        if (!h) {
                s->state = SESSION_CLOSING;
                return session_reply(s, "421 4.3.0 %s Error: out of memory", s->p->hostname);
        }
        free(s->helo);
        s->helo = h;
        s->esmtp = esmtp;
        transaction_reset(s);   /* RFC 5321 §4.1.4: EHLO implies RSET */
        if (!esmtp)
                return session_reply(s, "250 %s", s->p->hostname);
        session_reply(s, "250-%s", s->p->hostname);
        if (s->p->tls && !s->tls)
                session_reply(s, "250-STARTTLS");
        /* RFC 4954 §4 leaves it to policy; ours: AUTH only inside TLS */
        if (s->p->submission && s->tls && !s->auth_user)
                session_reply(s, "250-AUTH PLAIN LOGIN");
        session_reply(s, "250-PIPELINING");
        session_reply(s, "250-SIZE %" PRIu64, cfg->max_message_size);
        session_reply(s, "250-8BITMIME");
        session_reply(s, "250-SMTPUTF8");
        session_reply(s, "250-ENHANCEDSTATUSCODES");
        session_reply(s, "250 DSN");
}

/* ---- STARTTLS and AUTH (submission) ---- */

static void on_starttls(Session *s, const Command *c) {
        if (!s->p->tls)
                return session_reply(s, "502 5.5.1 Error: command not implemented");
        if (s->tls)
                return session_reply(s, "554 5.5.1 Error: TLS already active");
        if (c->arg.n > 0)
                return session_reply(s, "501 5.5.4 Syntax: STARTTLS");
        if (s->in_mail)
                return session_reply(s, "503 5.5.1 Error: MAIL transaction in progress");
        session_reply(s, "220 2.0.0 Ready to start TLS");
        /* the handshake starts once the 220 is out (session_settle()) */
        s->state = SESSION_TLS_START;
}

/* The 220 is out: what the client sent after STARTTLS, before it could
 * have read the 220, came in clear text and is dropped unread (RFC 3207
 * §4.2, the command injection of CVE-2011-0411); then the handshake. */
static int session_tls_start(Session *s) {
        int r;

        if (s->in.len > 0) {
                log_msg(LOG_NOTICE, &(LogFields) { .client = s->client },
                        "Dropped %zu octets [%s] sent after STARTTLS in clear text", s->in.len, s->client);
                buf_reset(&s->in);
        }
        r = tls_conn_new(s->p->tls, s->fd, &s->tls);
        if (r < 0)
                return log_error_errno(r, "Failed to start TLS for [%s]: %m", s->client);
        s->state = SESSION_HANDSHAKE;
        return 0;
}

static bool command_is_junk(CommandVerb v) {
        return v == COMMAND_NOOP || v == COMMAND_RSET || v == COMMAND_VRFY || v == COMMAND_EXPN ||
               v == COMMAND_HELP;
}

static void session_command(Session *s, const uint8_t *line, size_t n) {
        Command c;
        int r;

        r = command_parse(line, n, &c);
        if (r < 0 || c.verb == COMMAND_UNKNOWN)
                s->bad_commands++;
        else if (command_is_junk(c.verb) && ++s->junk_commands > SESSION_JUNK_MAX)
                s->bad_commands++;
        if (s->bad_commands > SESSION_ERRORS_MAX) {
                s->state = SESSION_CLOSING;
                return session_reply(s, "421 4.7.0 %s Error: too many errors", s->p->hostname);
        }
        if (r < 0) {
                switch (c.verb) {
                case COMMAND_HELO:
                case COMMAND_EHLO:
                        return session_reply(s, "501 5.5.4 Syntax: %s hostname",
                                             c.verb == COMMAND_EHLO ? "EHLO" : "HELO");
                case COMMAND_MAIL:
                        return session_reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
                case COMMAND_RCPT:
                        return session_reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
                default:
                        return session_reply(s, "501 5.5.4 Syntax error in parameters or arguments");
                }
        }
        switch (c.verb) {
        case COMMAND_EHLO:
                return on_helo(s, &c, true);
        case COMMAND_HELO:
                return on_helo(s, &c, false);
        case COMMAND_MAIL:
                return on_mail(s, &c);
        case COMMAND_RCPT:
                return on_rcpt(s, &c);
        case COMMAND_DATA:
                return on_data(s);
        case COMMAND_RSET:
                transaction_reset(s);
                return session_reply(s, "250 2.0.0 Ok");
        case COMMAND_NOOP:
                return session_reply(s, "250 2.0.0 Ok");
        case COMMAND_QUIT:
                s->state = SESSION_CLOSING;
                return session_reply(s, "221 2.0.0 Bye");
        case COMMAND_VRFY:
                /* RFC 5321 §3.5.3 */
                return session_reply(s, "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery");
        case COMMAND_HELP:
                return session_reply(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP");
        case COMMAND_STARTTLS:
                return on_starttls(s, &c);
        case COMMAND_AUTH:
                return session_on_auth(s, &c);
        case COMMAND_EXPN:
        case COMMAND_BDAT:
                return session_reply(s, "502 5.5.1 Error: command not implemented");
        case COMMAND_UNKNOWN:
                return session_reply(s, "500 5.5.2 Error: command not recognized");
        }
}

/* ---- the message ---- */

/*
 * Writes what is buffered, hashing the message part of it for the
 * envelope's check. At the end (@complete) the check goes into the
 * envelope: into the buffer when the whole file is still in it (a small
 * message: one write), else with a pwrite() over its placeholder.
 */
static int session_write_out(Session *s, bool complete) {
        bool whole = s->file.fd < 0;
        char hex[ENVELOPE_CHECK_LEN];
        int r;

        if (s->data.len < s->check_skip)
                return -EINVAL;
        if (XXH3_64bits_update(s->check, s->data.data + s->check_skip, s->data.len - s->check_skip) != XXH_OK)
                return -EINVAL;
        s->check_skip = 0;
        if (complete && whole) {
                envelope_check_put((char *) s->data.data + ENVELOPE_CHECK_OFFSET, XXH3_64bits_digest(s->check));
                complete = false;
        }
        if (s->data.len > 0) {
                if (s->file.fd < 0) {
                        r = spool_file_create_reusing(s->p->incoming, s->env.id, "receive", &s->file);
                        if (r < 0)
                                return r;
                }
                r = spool_spare_write(&s->file, s->data.data, s->data.len);
                buf_reset(&s->data);
                if (r < 0)
                        return r;
        }
        if (!complete)
                return 0;
        envelope_check_put(hex, XXH3_64bits_digest(s->check));
        return spool_file_pwrite(&s->file, hex, sizeof(hex), ENVELOPE_CHECK_OFFSET);
}

/* The message will be refused at the end of DATA with @reply (the rest is
 * read and dropped); the log line says why. */
void session_refuse(Session *s, const char *reply, const char *fmt, ...) {
        va_list ap;

        s->refusal = reply;
        va_start(ap, fmt);
        (void) vsnprintf(s->refusal_log, sizeof(s->refusal_log), fmt, ap);
        va_end(ap);
        buf_reset(&s->data);
        spool_file_abort(&s->file);
}

/* Whether the header section receive writes, @p[0..@n) with its blank
 * line, is one sign's parser takes (shared/rfc5322.c): the limits
 * of every stage are checked here, at SMTP time. */
static void session_check_header_section(Session *s, const uint8_t *p, size_t n) {
        _cleanup_(header_section_done) HeaderSection h = {};
        int r;

        r = header_section_parse(p, n, &h);
        if (r == -EMSGSIZE)
                session_refuse(s, "552 5.3.4 Error: message header exceeds limits",
                               "header section over the limits (%d octets, %d fields, %d octets a field)",
                               HEADER_SECTION_MAX, HEADER_FIELDS_MAX, HEADER_VALUE_MAX);
        else if (r < 0)
                session_refuse(s, "554 5.6.0 Error: malformed message header", "malformed header section");
        else if (s->auth_user)
                session_check_from(s, p, &h);
}

/* The WITH of Received: (RFC 5321 §4.4): ESMTP, with S for TLS and A for
 * AUTH (RFC 3848), UTF8SMTP for SMTPUTF8 (RFC 6531 §4.3). */
static const char *session_protocol(const Session *s, char buf[static 16]) {
        if (!s->esmtp)
                return "SMTP";
        (void) snprintf(buf, 16, "%s%s%s", s->env.smtputf8 ? "UTF8SMTP" : "ESMTP", s->tls ? "S" : "",
                        s->auth_user ? "A" : "");
        return buf;
}

/* Once the header section is known, replaces s->data by the envelope +
 * Received: + rewritten headers + whatever followed them: the start of
 * the queue file, so that a small message is written with one write(2). */
static int session_headers(Session *s, bool complete) {
        HeaderContext ctx = {
                .origin_domain = s->p->origin_domain,
                .sender_map = s->p->sender_map,
                .hostname = s->p->hostname,
                .queue_id = s->env.id,
                .now_usec = s->env.arrival_usec,
        };
        _cleanup_(buf_done) Buf out = BUF_INIT(0);
        char protocol[16];
        size_t end = 0;
        int r;

        r = header_section_end(s->data.data, s->data.len, complete, &end);
        if (r == 0) {
                if (s->data.len < HEADER_SECTION_MAX)
                        return 0;
                /* No end of the header section within Postfix's
                 * header_size_limit: no stage could sign it. */
                s->headers_done = true;
                session_refuse(s, "552 5.3.4 Error: message header exceeds limits",
                               "no end of the header section within %d octets", HEADER_SECTION_MAX);
                return 0;
        }
        /* The fields the client sent, before ours is prepended: a message
         * that arrives with more than max_hops is refused at the end of
         * DATA, and nothing of it is written meanwhile. */
        s->hops = header_section_count(s->data.data, end, "Received");
        if (s->hops > s->p->config->max_hops) {
                s->headers_done = true;
                /* Postfix's hopcount_limit; X.4.6 is RFC 3463's "routing loop detected" */
                session_refuse(s, "554 5.4.6 Error: too many hops",
                               "too many hops, %zu Received: fields, max_hops %u", s->hops,
                               s->p->config->max_hops);
                return 0;
        }
        if (!s->check && !(s->check = XXH3_createState()))
                return -ENOMEM;
        if (XXH3_64bits_reset(s->check) != XXH_OK)
                return -EINVAL;
        s->env.has_check = true;
        r = envelope_format(&s->env, &out);
        s->check_skip = s->envelope_len = out.len;
        if (r >= 0)
                r = headers_format_received(&ctx, s->helo, s->client, session_protocol(s, protocol),
                                            s->tls ? tls_conn_describe(s->tls) : NULL,
                                            s->env.n_rcpts == 1 ? s->env.rcpts[0].addr : NULL, &out);
        if (r >= 0)
                r = headers_rewrite(&ctx, s->data.data, end, &out);
        /* A body that starts without the empty line (the first line is not
         * a field): the line that ends the section is added, as Postfix does. */
        if (r >= 0 && (s->data.len - end < 2 || memcmp(s->data.data + end, "\r\n", 2) != 0))
                r = buf_append_str(&out, "\r\n");
        else if (r >= 0) {
                r = buf_append_str(&out, "\r\n");
                end += 2;
        }
        if (r >= 0)
                session_check_header_section(s, out.data + s->check_skip, out.len - s->check_skip);
        if (r >= 0 && !s->refusal)
                r = buf_append(&out, s->data.data + end, s->data.len - end);
        if (r < 0)
                return r;
        s->headers_done = true;
        if (s->refusal)
                return 0;
        buf_done(&s->data);
        s->data = out;
        out = BUF_INIT(0);
        return 0;
}

static void session_stream(Session *s, bool complete) {
        int r = 0;

        if (s->decoder.errors || s->write_error)
                return;
        if (!s->headers_done)
                r = session_headers(s, complete);
        if (r >= 0 && s->refusal) {
                buf_reset(&s->data);
                return;
        }
        if (r >= 0 && s->headers_done && (complete || s->data.len >= SESSION_FLUSH_SIZE))
                r = session_write_out(s, complete);
        if (r < 0) {
                s->write_error = r;
                spool_file_abort(&s->file);
                buf_done(&s->data);
        }
}

/*
 * A line over 998 octets must not leave the machine: the message streamed
 * to the spool is read back, re-encoded (receive-reencode.c) and written
 * again with its new check. What cannot be re-encoded, or would then be
 * larger than any stage reads, is refused.
 */
static void session_reencode(Session *s) {
        uint64_t max = spool_message_max(s->p->config->max_message_size, false);
        _cleanup_(buf_done) Buf file = BUF_INIT(0), out = BUF_INIT(0);
        const char *why = NULL;
        int r;

        r = spool_file_read_back(&s->file, s->envelope_len + max, &file);
        if (r >= 0 && file.len < s->envelope_len)
                r = -EIO;
        if (r >= 0)
                r = buf_append(&out, file.data, s->envelope_len);
        if (r >= 0)
                r = reencode_long_lines(file.data + s->envelope_len, file.len - s->envelope_len, &out, &why);
        if (r == -EBADMSG)
                return session_refuse(s, "550 5.6.0 Error: a line longer than 998 octets that cannot be re-encoded",
                                      "a line over 998 octets: %s", why);
        if (r >= 0 && out.len - s->envelope_len > max)
                return session_refuse(s, "552 5.3.4 Error: message size exceeds fixed limit once its long lines "
                                      "are re-encoded", "over the size limit once re-encoded: %zu octets",
                                      out.len - s->envelope_len);
        if (r >= 0) {
                session_check_header_section(s, out.data + s->envelope_len, out.len - s->envelope_len);
                if (s->refusal)
                        return;
                envelope_check_put((char *) out.data + ENVELOPE_CHECK_OFFSET,
                                   envelope_check_of(out.data + s->envelope_len, out.len - s->envelope_len));
                r = spool_file_rewrite(&s->file, out.data, out.len);
        }
        if (r < 0) {
                s->write_error = r;
                spool_file_abort(&s->file);
                return;
        }
        s->reencoded = true;
}

static void session_data_end(Session *s) {
        LogFields f = { .queue_id = s->env.id };
        int r;

        s->state = SESSION_COMMAND;
        if (s->decoder.errors & DATA_ERROR_TOO_BIG) {
                session_reply(s, "552 5.3.4 Message size exceeds fixed limit");
                log_msg(LOG_NOTICE, &f, "reject: message too big from [%s]: %" PRIu64 " bytes",
                        s->client, s->decoder.size);
        } else if (s->decoder.errors & DATA_ERROR_BARE_LF) {
                session_reply(s, "550 5.5.2 Error: bare <LF> received");
                log_msg(LOG_NOTICE, &f, "reject: bare <LF> in DATA from [%s]", s->client);
        } else if (s->decoder.errors & DATA_ERROR_BARE_CR) {
                session_reply(s, "550 5.5.2 Error: bare <CR> received");
                log_msg(LOG_NOTICE, &f, "reject: bare <CR> in DATA from [%s]", s->client);
        } else {
                session_stream(s, true);
                if (s->write_error == 0 && !s->refusal && s->decoder.long_line && s->file.fd >= 0)
                        session_reencode(s);
                if (s->write_error == 0 && s->refusal) {
                        session_reply(s, "%s", s->refusal);
                        log_msg(LOG_NOTICE, &f, "reject: from [%s]: %s", s->client, s->refusal_log);
                        transaction_reset(s);
                        return;
                }
                if (s->write_error == 0 && s->file.fd >= 0) {
                        r = s->ops->commit(s, &s->file, s->userdata);
                        if (r >= 0) {
                                s->state = SESSION_COMMIT;
                                return;
                        }
                        s->write_error = r;
                }
                session_reply(s, "452 4.3.1 Insufficient system storage");
                log_msg_errno(LOG_ERR, s->write_error ?: -EIO, &f,
                              "Failed to write message from [%s] to the spool: %m", s->client);
        }
        transaction_reset(s);
}

/**
 * session_committed() - the group commit is done for this session's file:
 * @error 0 means it is durable in incoming/new. Only now the client hears
 * 250; any failure is 452 and the tmp file is removed.
 */
void session_committed(Session *s, int error) {
        LogFields f = {
                .message_id = LOG_ID_RECEIVED,
                .queue_id = s->env.id,
                .status = error == 0 ? "queued" : NULL,
                .client = s->client,
                .sasl_user = s->auth_user,
        };

        s->state = SESSION_COMMAND;
        if (error == 0) {
                _cleanup_free_ char *from = escape_printable_dup(s->env.sender, strlen(s->env.sender), 256);

                session_reply(s, "250 2.0.0 Ok: queued as %s", s->env.id);
                s->junk_commands = 0;   /* a client that sends mail is not idling */
                log_msg(LOG_INFO, &f, "from=<%s>, size=%" PRIu64 ", nrcpt=%zu, client=[%s]%s%s (queued)%s%s",
                        strempty(from), s->decoder.size, s->env.n_rcpts, s->client,
                        s->auth_user ? ", sasl_username=" : "", strempty(s->auth_user),
                        s->decoder.lf_normalized ? ", bare LF written as CRLF" : "",
                        s->reencoded ? ", lines over 998 octets re-encoded" : "");
        } else {
                session_reply(s, "452 4.3.1 Insufficient system storage");
                (void) log_msg_errno(LOG_ERR, error, &f, "Failed to publish message from [%s]: %m", s->client);
        }
        transaction_reset(s);
}

/* ---- I/O ---- */

static void session_process(Session *s) {
        while (session_reading(s)) {
                if (s->out.len >= SESSION_OUT_HIGH)
                        break;
                if (s->state == SESSION_DATA) {
                        size_t consumed = 0;
                        int r;

                        if (s->in.len == 0)
                                break;
                        r = data_decoder_feed(&s->decoder, s->in.data, s->in.len, &s->data, &consumed);
                        buf_consume(&s->in, consumed);
                        if (r < 0) {
                                /* only -ENOMEM: say so and end this session, as STYLE 3.3.7 asks */
                                s->state = SESSION_CLOSING;
                                session_reply(s, "421 4.3.0 %s Error: out of memory", s->p->hostname);
                                break;
                        }
                        if (s->decoder.errors && s->file.fd >= 0)
                                spool_file_abort(&s->file);
                        if (s->decoder.errors)
                                buf_done(&s->data);
                        if (r == DATA_END) {
                                session_data_end(s);
                                if (s->state == SESSION_COMMAND)
                                        session_arm_timer(s);   /* refused: the next command's time */
                        } else
                                session_stream(s, false);
                        continue;
                }

                uint8_t *eol = memchr(s->in.data, '\n', s->in.len);
                size_t len;

                if (!eol) {
                        if (s->in.len > SMTP_COMMAND_LINE_MAX) {
                                /* Postfix's SMTP_GET_FLAG_SKIP: drop to the end of the line, then answer */
                                s->skipping = true;
                                buf_reset(&s->in);
                        }
                        break;
                }
                len = (size_t) (eol - s->in.data) + 1;
                if (s->skipping || len > SMTP_COMMAND_LINE_MAX) {
                        s->skipping = false;
                        s->bad_commands++;
                        session_reply(s, "500 5.5.2 Error: line too long");
                } else if (len < 2 || s->in.data[len - 2] != '\r') {
                        s->bad_commands++;
                        session_reply(s, "500 5.5.2 Error: bare <LF> received");
                } else if (s->state == SESSION_AUTH)
                        session_auth_response(s, (const char *) s->in.data, len - 2);
                else
                        session_command(s, s->in.data, len - 2);
                buf_consume(&s->in, len);
                /* the next command line's time starts now */
                if (session_reading(s))
                        session_arm_timer(s);
        }
}

static void session_update_io(Session *s) {
        uint32_t events = 0;
        bool read_more;

        if (s->state == SESSION_HANDSHAKE) {
                (void) sd_event_source_set_io_events(s->io, tls_conn_wants_write(s->tls) ? EPOLLOUT : EPOLLIN);
                return;
        }
        if (s->out.len > 0)
                events |= EPOLLOUT;
        /* Read while there is room and nothing is owed: a session waiting for
         * its commit or with a full reply queue reads nothing more, and
         * level-triggered epoll then stays quiet. */
        read_more = session_reading(s) && s->out.len < SESSION_OUT_HIGH && s->in.len < SESSION_READ_CHUNK;
        if (read_more)
                events |= EPOLLIN;
        (void) sd_event_source_set_io_events(s->io, events);
        /* what GnuTLS decrypted and holds is no event for epoll */
        if (s->pending)
                (void) sd_event_source_set_enabled(s->pending, read_more && s->tls && tls_conn_pending(s->tls) > 0
                                                   ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
}

static bool session_handshake(Session *s);

/* Flushes replies and decides whether the session lives on. Returns false
 * when it was freed. */
static bool session_settle(Session *s) {
        if (session_flush(s) < 0) {
                session_free(s);
                return false;
        }
        if (s->state == SESSION_CLOSING && s->out.len == 0) {
                if (s->tls)
                        tls_conn_bye(s->tls);
                session_free(s);
                return false;
        }
        if (s->state == SESSION_TLS_START && s->out.len == 0) {
                if (session_tls_start(s) < 0) {
                        session_free(s);
                        return false;
                }
                return session_handshake(s);
        }
        session_update_io(s);
        return true;
}

/* A step of the TLS handshake; done, the session starts again from the
 * greeting (implicit TLS) or from EHLO (RFC 3207 §4.2: nothing the client
 * said before counts). Returns false when the session was freed. */
static bool session_handshake(Session *s) {
        int r = tls_conn_handshake(s->tls);

        if (r == -EAGAIN) {
                session_update_io(s);
                return true;
        }
        if (r < 0) {
                log_msg(LOG_NOTICE, &(LogFields) { .client = s->client }, "TLS handshake with [%s] failed: %s",
                        s->client, tls_conn_error(s->tls));
                session_free(s);
                return false;
        }
        log_msg(LOG_INFO, &(LogFields) { .client = s->client, .tls = tls_conn_describe(s->tls) },
                "TLS with [%s]: %s%s", s->client, tls_conn_describe(s->tls),
                tls_conn_resumed(s->tls) ? ", resumed" : "");
        free(s->helo);
        s->helo = NULL;
        s->esmtp = false;
        transaction_reset(s);
        s->state = SESSION_COMMAND;
        if (s->p->implicit_tls && s->out.len == 0)
                session_reply(s, "220 %s ESMTP pochtar", s->p->hostname);
        session_arm_timer(s);
        return session_settle(s);
}

static int on_pending(sd_event_source *es, void *userdata);

static int on_io(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        Session *s = userdata;

        if (s->state == SESSION_HANDSHAKE) {
                (void) session_handshake(s);
                return 0;
        }
        if ((revents & EPOLLIN) && session_reading(s)) {
                ssize_t k;
                int r;

                /* s->in never reaches its max here: session_update_io() stops
                 * reading when it is full */
                r = buf_reserve(&s->in, SESSION_READ_CHUNK - s->in.len);
                if (r < 0) {
                        session_free(s);
                        return 0;
                }
                k = session_recv(s, s->in.data + s->in.len, SESSION_READ_CHUNK - s->in.len);
                if (k < 0 && k != -EAGAIN && k != -EINTR) {
                        if (s->tls)
                                log_msg(LOG_INFO, &(LogFields) { .client = s->client }, "TLS read from [%s] failed: %s",
                                        s->client, tls_conn_error(s->tls));
                        session_free(s);
                        return 0;
                }
                if (k == 0) {
                        /* The client went away: an unfinished message leaves nothing. */
                        if (s->state == SESSION_DATA)
                                log_info("Client [%s] disconnected during DATA, message discarded", s->client);
                        session_free(s);
                        return 0;
                }
                if (k > 0) {
                        s->in.len += (size_t) k;
                        /* in DATA any bytes are progress; a command line
                         * must be whole within command_timeout, however
                         * slowly its bytes come (session_process() arms it) */
                        if (s->state == SESSION_DATA)
                                session_arm_timer(s);
                }
        } else if ((revents & (EPOLLHUP | EPOLLERR)) && !(revents & EPOLLOUT)) {
                session_free(s);
                return 0;
        }
        session_process(s);
        /* counted before the settle, which may free s: the group commit only
         * starts a batch on its thread from here, it calls no session back */
        s->ops->turn(s->userdata);
        (void) session_settle(s);
        return 0;
}

/* GnuTLS holds decrypted bytes epoll knows nothing of: read them as if
 * the socket were readable. */
static int on_pending(sd_event_source *es, void *userdata) {
        return on_io(es, -1, EPOLLIN, userdata);
}

/* session_timeout: the whole session is over, however it went. A message
 * in its commit is answered first (it may be durable already). */
static int on_deadline(sd_event_source *es, uint64_t usec, void *userdata) {
        Session *s = userdata;

        if (s->state == SESSION_COMMIT) {
                /* after session_committed() the 250 or 452 goes out, then this */
                event_timer_arm(s->deadline, USEC_PER_SEC / 10);
                return 0;
        }
        log_info("Session from [%s] closed after session_timeout%s", s->client,
                 s->state == SESSION_DATA ? ", during DATA: message discarded" : "");
        if (s->state == SESSION_HANDSHAKE) {
                session_free(s);        /* no reply fits in a handshake */
                return 0;
        }
        session_reply(s, "421 4.4.2 %s Error: session too long", s->p->hostname);
        (void) session_flush(s);
        session_free(s);
        return 0;
}

static int on_timeout(sd_event_source *es, uint64_t usec, void *userdata) {
        Session *s = userdata;

        if (s->state == SESSION_COMMIT || s->state == SESSION_AUTH_WAIT)
                return 0;       /* the commit or the check answers; the timer is re-armed after it */
        log_info("Timeout after %s from [%s]", s->state == SESSION_DATA ? "DATA" :
                 s->state == SESSION_HANDSHAKE ? "the TLS handshake began" : "command", s->client);
        if (s->state == SESSION_HANDSHAKE) {
                session_free(s);
                return 0;
        }
        /* RFC 5321 §4.5.3.2: the server may close after its timeout */
        session_reply(s, "421 4.4.2 %s Error: timeout exceeded", s->p->hostname);
        (void) session_flush(s);
        session_free(s);
        return 0;
}

/**
 * session_shutdown() - the server is stopping: tell the client (RFC 5321
 * §3.8, 421) and end the session. An unfinished message is discarded; its
 * client never got 250 and will send it again.
 */
void session_shutdown(Session *s) {
        if (s->state != SESSION_HANDSHAKE)
                session_reply(s, "421 4.3.2 %s Service shutting down", s->p->hostname);
        (void) session_flush(s);
        session_free(s);
}

/* Called by the server after the group commit: answer, then read on. */
void session_resume(Session *s) {
        session_arm_timer(s);
        session_process(s);
        (void) session_settle(s);
}

/**
 * session_new() - start a session on accepted socket @fd (which it owns
 * from then on, even on failure) and greet the client. @p must outlive
 * the session.
 */
int session_new(const SessionParams *p, const SessionOps *ops, void *userdata, int fd, const struct sockaddr *sa,
                socklen_t salen, Session **ret) {
        Session *s;
        int r;

        s = calloc(1, sizeof(Session));
        if (!s) {
                safe_close(fd);
                return -ENOMEM;
        }
        *s = (Session) {
                .p = p,
                .userdata = userdata,
                .fd = fd,
                .state = SESSION_COMMAND,
                .in = BUF_INIT(SESSION_READ_CHUNK),
                .out = BUF_INIT(0),
                .file = SPOOL_FILE_NULL,
        };
        /* an AF_UNIX peer (a test's socketpair) stays "" */
        (void) access_peer_format(sa, salen, s->client, sizeof(s->client));
        log_debug("connect from [%s]", s->client);

        r = sd_event_add_io(p->event, &s->io, fd, EPOLLIN, on_io, s);
        if (r >= 0)
                r = sd_event_add_time_relative(p->event, &s->timer, CLOCK_MONOTONIC,
                                               p->config->command_timeout ?: UINT64_MAX / 2,
                                               USEC_PER_SEC, on_timeout, s);
        if (r >= 0)
                r = sd_event_add_time_relative(p->event, &s->deadline, CLOCK_MONOTONIC,
                                               p->config->session_timeout, USEC_PER_SEC / 10,
                                               on_deadline, s);
        if (r >= 0 && p->tls) {
                r = sd_event_add_defer(p->event, &s->pending, on_pending, s);
                if (r >= 0)
                        r = sd_event_source_set_enabled(s->pending, SD_EVENT_OFF);
        }
        /* port 465: the handshake first, the greeting inside TLS */
        if (r >= 0 && p->implicit_tls)
                r = session_tls_start(s);
        if (r < 0) {
                session_free(s);
                return r;
        }
        if (p->config->command_timeout == 0)
                (void) sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
        /* from here on the caller hears of this session's end through ops */
        s->ops = ops;
        *ret = s;
        if (s->state == SESSION_HANDSHAKE)
                (void) session_handshake(s);
        else {
                session_reply(s, "220 %s ESMTP pochtar", p->hostname);
                (void) session_settle(s);
        }
        return 0;
}
