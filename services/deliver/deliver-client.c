/* SPDX-License-Identifier: MIT */
/*
 * The SMTP client state machine (RFC 5321, with RFC 2920 PIPELINING,
 * RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 3461 DSN and
 * RFC 3207 STARTTLS), on sd-event I/O with non-blocking sockets: nothing
 * here waits. Every reply goes through deliver-reply.c; temporary or
 * permanent is decided here, once, from the reply code. The message is
 * sent byte for byte as signed, only dot-stuffed (RFC 5321 §4.5.2): no
 * 8-bit downgrade, which would break DKIM.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "services/deliver/deliver-body.h"
#include "services/deliver/deliver-client.h"
#include "services/deliver/deliver-command.h"
#include "services/deliver/deliver-reply.h"
#include "shared/address.h"
#include "shared/buf.h"
#include "shared/clock.h"
#include "shared/limits.h"
#include "shared/log.h"

/* How much dot-stuffed body is queued for writing at a time. */
#define CLIENT_BODY_CHUNK (64 * 1024)

typedef enum ClientState {
        CS_CONNECT,
        CS_GREETING,
        CS_EHLO,
        CS_HELO,
        CS_STARTTLS,
        CS_HANDSHAKE,
        CS_AUTH,
        CS_AUTH_USER,
        CS_AUTH_PASS,
        CS_MAIL,
        CS_RCPT,
        CS_DATA,
        CS_BODY,
        CS_DOT,
        CS_RSET,
        CS_IDLE,
        CS_QUIT,
        CS_DONE,
} ClientState;

static const char * const state_names[] = {
        [CS_CONNECT] = "connect", [CS_GREETING] = "greeting", [CS_EHLO] = "EHLO", [CS_HELO] = "HELO",
        [CS_STARTTLS] = "STARTTLS", [CS_HANDSHAKE] = "TLS handshake", [CS_AUTH] = "AUTH", [CS_AUTH_USER] = "AUTH",
        [CS_AUTH_PASS] = "AUTH", [CS_MAIL] = "MAIL FROM",
        [CS_RCPT] = "RCPT TO", [CS_DATA] = "DATA", [CS_BODY] = "message body", [CS_DOT] = "end of data",
        [CS_RSET] = "RSET", [CS_IDLE] = "idle", [CS_QUIT] = "QUIT", [CS_DONE] = "done",
};

struct Client {
        ClientParams p;
        MxList hosts;
        size_t host;
        ClientOps ops;
        void *userdata;

        int fd;
        sd_event_source *io, *timer, *defer;
        ClientState state;
        ReplyParser parser;
        Buf out;
        TlsSession *tls;
        bool plaintext_only;            /* TLS failed under "may": this host in plaintext */
        bool served;                    /* at least one job was pulled */
        EhloCaps caps;
        char relay[DNS_NAME_MAX + sizeof("[255.255.255.255]:65535")];
        char tls_desc[192];
        Dsn failure;

        ClientJob *job;
        size_t rcpt_sent, rcpt_replied, accepted;
        bool *rcpt_ok;
        bool pipelined, mail_failed, dot_ignored;
        size_t body_pos;
        bool line_start;
};

static void client_connect_next(Client *c);
static void client_start_job(Client *c);
static void client_read(Client *c);
static void on_handshake(Client *c);

static void client_arm(Client *c, usec_t timeout) {
        (void) sd_event_source_set_time(c->timer, now_monotonic_usec() + timeout);
        (void) sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

static void client_update_io(Client *c) {
        /* In CS_BODY more of the message waits to be queued even when the
         * buffer has just drained: only EPOLLOUT brings the next chunk. */
        bool want_write = c->out.len > 0 || c->state == CS_BODY;
        uint32_t ev = EPOLLIN;

        if (c->state == CS_CONNECT)
                ev = EPOLLOUT;
        else if (c->tls && (c->state == CS_HANDSHAKE || want_write))
                ev = tls_session_want(c->tls) == TLS_WANT_WRITE || (want_write && c->state != CS_HANDSHAKE)
                     ? EPOLLIN | EPOLLOUT : EPOLLIN;
        else if (want_write)
                ev |= EPOLLOUT;
        (void) sd_event_source_set_io_events(c->io, ev);
}

static void close_socket(Client *c) {
        c->io = sd_event_source_disable_unref(c->io);
        if (c->tls)
                tls_session_bye(c->tls);
        c->tls = tls_session_free(c->tls);
        c->fd = safe_close(c->fd);
        buf_reset(&c->out);
        reply_parser_reset(&c->parser);
        c->tls_desc[0] = 0;
}

static int on_deferred_close(sd_event_source *s, void *userdata) {
        Client *c = userdata;

        c->ops.closed(c, c->failure.valid ? &c->failure : NULL, c->userdata);
        return 0;
}

/* The end: close, and tell the owner from a fresh event-loop iteration
 * (it frees us then, never inside our own callbacks). */
static void client_finish(Client *c, const Dsn *failure) {
        close_socket(c);
        (void) sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        c->state = CS_DONE;
        if (failure)
                (void) dsn_copy(&c->failure, failure);
        if (sd_event_add_defer(c->p.event, &c->defer, on_deferred_close, c) < 0)
                c->ops.closed(c, failure, c->userdata);
}

static void set_result(Client *c, size_t idx, DeliveryStatus st, const char *code, const char *text, bool remote) {
        Dsn *d = &c->job->results[idx];

        (void) dsn_set(d, st, code, text, remote);
        free(d->relay);
        d->relay = c->relay[0] ? strdup(c->relay) : NULL;
        free(d->tls);
        d->tls = c->tls_desc[0] ? strdup(c->tls_desc) : NULL;
        d->dsn_passed = c->caps.dsn;
}

static void set_result_reply(Client *c, size_t idx, const SmtpReply *r) {
        Buf diag = BUF_INIT(SMTP_REPLY_LINE_MAX * 3);
        DeliveryStatus st = r->code < 300 ? DELIVERY_SENT : r->code < 500 ? DELIVERY_DEFERRED : DELIVERY_BOUNCED;
        const char *code = r->enhanced[0] ? r->enhanced :
                           st == DELIVERY_SENT ? "2.0.0" : st == DELIVERY_DEFERRED ? "4.0.0" : "5.0.0";

        (void) reply_diagnostic(r, &diag);
        if (diag.len == 0 || buf_append_byte(&diag, 0) < 0)
                set_result(c, idx, st, code, "(reply not available)", true);
        else
                set_result(c, idx, st, code, (const char *) diag.data, true);
        buf_done(&diag);
}

static void job_finish(Client *c) {
        ClientJob *j = TAKE_PTR(c->job);

        free(c->rcpt_ok);
        c->rcpt_ok = NULL;
        c->ops.job_done(c, j, c->userdata);
}

/* Everything of the current job without a result gets @st/@code/@text. */
static void job_fail_rest(Client *c, DeliveryStatus st, const char *code, const char *text) {
        for (size_t i = 0; i < c->job->n_rcpts; i++) {
                size_t idx = c->job->rcpts[i];

                if (!c->job->results[idx].valid || (c->rcpt_ok && c->rcpt_ok[i]))
                        set_result(c, idx, st, code, text, false);
        }
}

/*
 * The connection broke or timed out. Before a session: try the next host.
 * In a session: defer what the current job has not finished and stop.
 */
static void client_lost(Client *c, const char *what) {
        char text[SMTP_REPLY_LINE_MAX];
        Dsn d = {};

        (void) snprintf(text, sizeof(text), "%s with %s while in %s", what, c->relay, state_names[c->state]);
        log_info("%s", text);
        if (c->job) {
                job_fail_rest(c, DELIVERY_DEFERRED, "4.4.2", text);
                job_finish(c);
        }
        if (c->served || c->state == CS_QUIT) {
                client_finish(c, NULL);
                return;
        }
        (void) dsn_set(&d, DELIVERY_DEFERRED, c->state == CS_CONNECT ? "4.4.1" : "4.4.2", text, false);
        (void) dsn_copy(&c->failure, &d);
        dsn_done(&d);
        close_socket(c);
        c->host++;
        c->plaintext_only = false;
        client_connect_next(c);
}

/* A host answered with an error before the session: remember it, next host. */
static void client_host_refused(Client *c, const SmtpReply *r, const char *code, const char *text) {
        Buf diag = BUF_INIT(SMTP_REPLY_LINE_MAX * 3);

        if (r) {
                (void) buf_printf(&diag, "host %s said: ", c->relay);
                (void) reply_diagnostic(r, &diag);
        } else
                (void) buf_printf(&diag, "%s (host %s)", text, c->relay);
        if (buf_append_byte(&diag, 0) >= 0) {
                log_info("%s", (const char *) diag.data);
                (void) dsn_set(&c->failure, DELIVERY_DEFERRED, code, (const char *) diag.data, r != NULL);
        }
        buf_done(&diag);
        if (c->fd >= 0 && c->state != CS_HANDSHAKE && !c->tls)
                (void) send(c->fd, "QUIT\r\n", 6, MSG_NOSIGNAL | MSG_DONTWAIT); /* courtesy; not awaited */
        close_socket(c);
        c->host++;
        c->plaintext_only = false;
        client_connect_next(c);
}

static int client_flush(Client *c) {
        while (c->out.len > 0) {
                ssize_t k = c->tls ? tls_session_write(c->tls, c->out.data, c->out.len)
                                   : RET_NERRNO(send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL));

                if (k == -EAGAIN || k == -EWOULDBLOCK)
                        break;
                if (k < 0)
                        return (int) k;
                buf_consume(&c->out, (size_t) k);
        }
        client_update_io(c);
        return 0;
}

static int client_send(Client *c, const char *fmt, ...) _printf_(2, 3);
static int client_send(Client *c, const char *fmt, ...) {
        char line[SMTP_COMMAND_LINE_MAX + 1];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n + 2 > SMTP_COMMAND_LINE_MAX)
                return -E2BIG;
        log_debug("%s: > %s", c->relay, line);
        n = buf_append(&c->out, line, (size_t) n);
        if (n >= 0)
                n = buf_append_str(&c->out, "\r\n");
        return n;
}

static void client_send_flush(Client *c) {
        if (client_flush(c) < 0)
                client_lost(c, "lost connection");
}

static bool body_is_8bit(const ClientJob *j) {
        return j->env->body == BODY_8BITMIME || body_has_8bit(j->body, j->body_len);
}

/* RFC 5321 §4.5.2: a line starting with "." gets one more. The body goes
 * out in spans that end where a dot starts a line, not line by line
 * (memchr() and an append per line were a fifth of deliver's CPU in the
 * 100 KB case). */
static void fill_body(Client *c) {
        const ClientJob *j = c->job;

        while (c->body_pos < j->body_len && c->out.len < CLIENT_BODY_CHUNK) {
                const uint8_t *p = j->body + c->body_pos;
                size_t n = j->body_len - c->body_pos, room = CLIENT_BODY_CHUNK - c->out.len;

                if (c->line_start && p[0] == '.' && buf_append_byte(&c->out, '.') < 0)
                        return;
                n = body_span_to_lf_dot(p, n);
                if (n > room)
                        n = room;
                if (buf_append(&c->out, p, n) < 0)
                        return;
                c->body_pos += n;
                c->line_start = p[n - 1] == '\n';
        }
        if (c->body_pos >= j->body_len) {
                if (!(j->body_len >= 2 && j->body[j->body_len - 2] == '\r' && j->body[j->body_len - 1] == '\n'))
                        (void) buf_append_str(&c->out, "\r\n");
                (void) buf_append_str(&c->out, ".\r\n");
                c->state = CS_DOT;
                /* RFC 5321 §4.5.3.2.6: 10 minutes for the reply to the final dot */
                client_arm(c, c->p.data_timeout);
        }
}

static int send_mail(Client *c) {
        const ClientJob *j = c->job;
        _cleanup_(buf_done) Buf line = BUF_INIT(SMTP_COMMAND_LINE_MAX);
        int r;

        r = mail_command_format(j->env, &c->caps, j->body_len, body_is_8bit(j), &line);
        if (r >= 0)
                r = buf_append_byte(&line, 0);
        if (r >= 0)
                r = client_send(c, "%s", (const char *) line.data);
        return r;
}

static int send_rcpt(Client *c, size_t i) {
        const ClientJob *j = c->job;
        _cleanup_(buf_done) Buf line = BUF_INIT(SMTP_COMMAND_LINE_MAX);
        int r;

        r = rcpt_command_format(j->env, &j->env->rcpts[j->rcpts[i]], &c->caps, &line);
        if (r >= 0)
                r = buf_append_byte(&line, 0);
        if (r >= 0)
                r = client_send(c, "%s", (const char *) line.data);
        c->rcpt_sent++;
        return r;
}

/* Whether every command of @j can be written: checked before its MAIL
 * goes out, so a job is refused whole and the session stays in step. */
static int job_commands_check(Client *c, const ClientJob *j) {
        _cleanup_(buf_done) Buf line = BUF_INIT(SMTP_COMMAND_LINE_MAX);
        int r;

        r = mail_command_format(j->env, &c->caps, j->body_len, body_is_8bit(j), &line);
        for (size_t i = 0; r >= 0 && i < j->n_rcpts; i++) {
                buf_reset(&line);
                r = rcpt_command_format(j->env, &j->env->rcpts[j->rcpts[i]], &c->caps, &line);
        }
        return r;
}

/* Session is ready: hand the next job, or say goodbye. */
static void client_start_job(Client *c) {
        ClientJob *j;
        bool utf8_needed;
        int r;

        c->job = j = c->ops.pull(c, c->userdata);
        if (!j && c->p.idle_timeout > 0 && c->state != CS_IDLE) {
                /* Wait a little for the next message to this destination
                 * (client_wake()): a new session costs a DNS lookup, a
                 * connect, EHLO and, with STARTTLS, a handshake. */
                c->state = CS_IDLE;
                client_arm(c, c->p.idle_timeout);
                client_update_io(c);
                return;
        }
        if (!j) {
                c->state = CS_QUIT;
                (void) client_send(c, "QUIT");
                client_arm(c, c->p.command_timeout);
                client_send_flush(c);
                return;
        }
        c->served = true;
        c->rcpt_sent = c->rcpt_replied = c->accepted = 0;
        c->mail_failed = c->dot_ignored = false;
        c->body_pos = 0;
        c->line_start = true;
        c->rcpt_ok = calloc(j->n_rcpts, sizeof(bool));
        if (!c->rcpt_ok) {
                job_fail_rest(c, DELIVERY_DEFERRED, "4.3.0", "out of memory");
                job_finish(c);
                client_start_job(c);
                return;
        }
        /* RFC 1870 §6: a message over the announced fixed limit is refused for good */
        if (c->caps.size && c->caps.size_max > 0 && j->body_len > c->caps.size_max) {
                job_fail_rest(c, DELIVERY_BOUNCED, "5.3.4", "message size exceeds the limit announced by the server");
                job_finish(c);
                client_start_job(c);
                return;
        }
        utf8_needed = j->env->smtputf8 && !address_is_ascii(j->env->sender, strlen(j->env->sender));
        for (size_t i = 0; i < j->n_rcpts && !utf8_needed; i++) {
                const char *a = j->env->rcpts[j->rcpts[i]].addr;

                utf8_needed = j->env->smtputf8 && !address_is_ascii(a, strlen(a));
        }
        if ((utf8_needed || j->env->smtputf8) && !c->caps.smtputf8 && utf8_needed) {
                /* RFC 6531 §3.2: no downgrade of an internationalised address */
                job_fail_rest(c, DELIVERY_BOUNCED, "5.6.7", "SMTPUTF8 is required, but was not offered by the host");
                job_finish(c);
                client_start_job(c);
                return;
        }
        r = job_commands_check(c, j);
        if (r < 0) {
                /* envelope_parse() refuses such values: only a bug gets here */
                job_fail_rest(c, DELIVERY_BOUNCED, "5.5.4", r == -E2BIG ? "envelope too long for an SMTP command line"
                                                                       : "envelope value cannot be sent as data");
                job_finish(c);
                client_start_job(c);
                return;
        }
        c->state = CS_MAIL;
        c->pipelined = c->caps.pipelining;
        r = send_mail(c);
        /* RFC 2920 §3.1: MAIL, RCPT and DATA may go in one group, DATA last */
        for (size_t i = 0; c->pipelined && r >= 0 && i < j->n_rcpts; i++)
                r = send_rcpt(c, i);
        if (r >= 0 && c->pipelined)
                r = client_send(c, "DATA");
        if (r < 0) {
                client_lost(c, "out of memory");
                return;
        }
        client_arm(c, c->p.command_timeout);
        client_send_flush(c);
}

/**
 * client_wake() - an idle session takes the next job (pulls it). False if
 * @c is not idle: it is busy, still connecting or closing.
 */
bool client_wake(Client *c) {
        if (c->state != CS_IDLE)
                return false;
        client_start_job(c);
        return true;
}

static void client_session_ready(Client *c) {
        client_start_job(c);
}

static void txn_end(Client *c, bool rset) {
        if (rset) {
                c->state = CS_RSET;
                (void) client_send(c, "RSET");
                client_arm(c, c->p.command_timeout);
                client_send_flush(c);
                return;
        }
        job_finish(c);
        client_start_job(c);
}

static void rcpts_from_reply(Client *c, const SmtpReply *r, bool only_accepted) {
        for (size_t i = 0; i < c->job->n_rcpts; i++)
                if (!only_accepted || c->rcpt_ok[i])
                        set_result_reply(c, c->job->rcpts[i], r);
}

static void tls_failed(Client *c, const char *why) {
        char text[SMTP_REPLY_LINE_MAX];

        (void) snprintf(text, sizeof(text), "TLS handshake failed: %s", why);
        if (c->p.policy == TLS_POLICY_MAY && !c->p.implicit_tls) {
                /* as Postfix: under "may", try the same host again in plaintext */
                log_info("%s with %s; retrying in plaintext", text, c->relay);
                close_socket(c);
                c->plaintext_only = true;
                client_connect_next(c);
                return;
        }
        client_host_refused(c, NULL, "4.7.5", text);
}

static void on_handshake(Client *c) {
        const char *err = "unknown error";
        int r;

        r = tls_session_handshake(c->tls, &err);
        if (r > 0) {
                client_update_io(c);
                return;
        }
        if (r < 0) {
                tls_failed(c, err);
                return;
        }
        (void) tls_session_describe(c->tls, c->tls_desc, sizeof(c->tls_desc));
        /* the override shows in every delivery's POCHTAR_TLS, not only at start */
        if (c->p.auth_unverified) {
                size_t n = strlen(c->tls_desc);

                (void) snprintf(c->tls_desc + n, sizeof(c->tls_desc) - n,
                                ", password sent unverified (relay_password_to_unverified_host)");
        }
        log_info("TLS connection established to %s: %s", c->relay, c->tls_desc);
        reply_parser_reset(&c->parser);
        if (c->p.implicit_tls) {
                c->state = CS_GREETING;
        } else {
                /* RFC 3207 §4.2: forget what we knew, ask again */
                c->caps = (EhloCaps) {};
                c->state = CS_EHLO;
                (void) client_send(c, "EHLO %s", c->p.helo);
        }
        client_arm(c, c->p.command_timeout);
        client_send_flush(c);
        /* the greeting (port 465) may have come with the last handshake
         * flight and sit in GnuTLS's buffer, where epoll cannot see it */
        if (c->state != CS_DONE && c->tls && tls_session_pending(c->tls))
                client_read(c);
}

/* The first handshake step already reads what a fast peer answered, and
 * may finish or fail (a certificate that does not verify): on_handshake()
 * handles every outcome, as for the later steps. */
static void start_tls(Client *c) {
        if (tls_session_new(c->p.tls, c->fd, c->p.tls_name ? c->p.tls_name : c->hosts.hosts[c->host].name,
                            c->p.policy == TLS_POLICY_VERIFY, &c->tls) < 0) {
                tls_failed(c, "cannot start");
                return;
        }
        c->state = CS_HANDSHAKE;
        on_handshake(c);
}

static bool tls_wanted(const Client *c) {
        return !c->tls && !c->plaintext_only && c->p.policy != TLS_POLICY_NONE;
}

/* Sends a base64 AUTH line; the secret never goes to the debug log. */
static int send_secret(Client *c, const char *prefix, const void *p, size_t n) {
        _cleanup_free_ char *b64 = NULL;
        int r;

        r = tls_base64_encode(p, n, &b64);
        if (r < 0)
                return r;
        r = buf_printf(&c->out, "%s%s\r\n", prefix, b64);
        explicit_bzero(b64, strlen(b64));
        return r;
}

/* RFC 4954 with PLAIN (RFC 4616) or LOGIN; only ever inside TLS. */
static void start_auth(Client *c) {
        const char *u = c->p.auth_user, *pw = c->p.auth_password;
        int r;

        if (!c->tls) {
                client_host_refused(c, NULL, "4.7.0", "refusing to send the relay password without TLS");
                return;
        }
        /* under verify the handshake has failed unless the certificate
         * verified; under any other policy only the override lets it go */
        if (c->p.policy != TLS_POLICY_VERIFY && !c->p.auth_unverified) {
                client_host_refused(c, NULL, "4.7.5", "refusing to send the relay password to an unverified host");
                return;
        }
        if (c->caps.auth_plain) {
                size_t nu = strlen(u), np = strlen(pw), n = nu + np + 2;
                _cleanup_free_ char *msg = malloc(n);

                if (!msg) {
                        client_lost(c, "out of memory");
                        return;
                }
                msg[0] = 0;
                memcpy(msg + 1, u, nu);
                msg[1 + nu] = 0;
                memcpy(msg + 2 + nu, pw, np);
                r = send_secret(c, "AUTH PLAIN ", msg, n);
                explicit_bzero(msg, n);
                c->state = CS_AUTH;
        } else if (c->caps.auth_login) {
                r = client_send(c, "AUTH LOGIN");
                c->state = CS_AUTH_USER;
        } else {
                client_host_refused(c, NULL, "4.7.0", "the relay offers neither AUTH PLAIN nor AUTH LOGIN");
                return;
        }
        if (r < 0) {
                client_lost(c, "out of memory");
                return;
        }
        log_debug("%s: > AUTH (credentials not logged)", c->relay);
        client_arm(c, c->p.command_timeout);
        client_send_flush(c);
}

static void after_ehlo(Client *c) {
        if (!c->tls && c->caps.starttls && tls_wanted(c)) {
                c->state = CS_STARTTLS;
                (void) client_send(c, "STARTTLS");
                client_arm(c, c->p.command_timeout);
                client_send_flush(c);
                return;
        }
        if (!c->tls && c->p.policy >= TLS_POLICY_ENCRYPT) {
                client_host_refused(c, NULL, "4.7.4", "TLS is required, but was not offered");
                return;
        }
        if (c->p.auth_user) {
                start_auth(c);
                return;
        }
        client_session_ready(c);
}

static void handle_reply(Client *c, const SmtpReply *r) {
        unsigned cls = r->code / 100;

        switch (c->state) {
        case CS_GREETING:
                if (cls != 2) {
                        client_host_refused(c, r, r->code >= 500 ? "5.0.0" : "4.0.0", NULL);
                        return;
                }
                c->state = CS_EHLO;
                (void) client_send(c, "EHLO %s", c->p.helo);
                break;
        case CS_EHLO:
                if (cls == 2) {
                        (void) ehlo_parse(r, &c->caps);
                        after_ehlo(c);
                        return;
                }
                if (r->code == 421) {
                        client_host_refused(c, r, "4.0.0", NULL);
                        return;
                }
                c->state = CS_HELO;
                (void) client_send(c, "HELO %s", c->p.helo);
                break;
        case CS_HELO:
                if (cls != 2) {
                        client_host_refused(c, r, "4.0.0", NULL);
                        return;
                }
                c->caps = (EhloCaps) {};
                after_ehlo(c);
                return;
        case CS_STARTTLS:
                if (r->code == 220) {
                        client_arm(c, c->p.command_timeout);
                        start_tls(c);
                        return;
                }
                if (c->p.policy >= TLS_POLICY_ENCRYPT || c->p.auth_user) {
                        client_host_refused(c, r, "4.7.5", NULL);
                        return;
                }
                client_session_ready(c);
                return;
        case CS_AUTH_USER:
        case CS_AUTH_PASS:
                if (r->code == 334) {
                        const char *v = c->state == CS_AUTH_USER ? c->p.auth_user : c->p.auth_password;

                        if (send_secret(c, "", v, strlen(v)) < 0) {
                                client_lost(c, "out of memory");
                                return;
                        }
                        c->state = c->state == CS_AUTH_USER ? CS_AUTH_PASS : CS_AUTH;
                        break;
                }
                __attribute__((fallthrough));
        case CS_AUTH:
                if (r->code == 235) {
                        client_session_ready(c);
                        return;
                }
                /* as Postfix's smtp_sasl_auth_soft_bounce: a refused login
                 * defers, so a password fixed later still delivers */
                client_host_refused(c, r, "4.7.0", NULL);
                return;
        case CS_MAIL:
                if (cls != 2) {
                        rcpts_from_reply(c, r, false);
                        c->mail_failed = true;
                        if (!c->pipelined) {
                                txn_end(c, false);
                                return;
                        }
                } else if (!c->pipelined)
                        (void) send_rcpt(c, 0);
                c->state = CS_RCPT;
                break;
        case CS_RCPT: {
                size_t i = c->rcpt_replied++;

                if (!c->mail_failed) {
                        if (cls == 2) {
                                c->rcpt_ok[i] = true;
                                c->accepted++;
                        } else
                                set_result_reply(c, c->job->rcpts[i], r);
                }
                if (c->rcpt_replied < c->job->n_rcpts) {
                        if (!c->pipelined)
                                (void) send_rcpt(c, c->rcpt_replied);
                        break;
                }
                if (c->pipelined) {
                        c->state = CS_DATA;
                        break;
                }
                if (c->accepted == 0) {
                        txn_end(c, true);
                        return;
                }
                c->state = CS_DATA;
                (void) client_send(c, "DATA");
                break;
        }
        case CS_DATA:
                if (r->code == 354) {
                        if (c->mail_failed || c->accepted == 0) {
                                /* RFC 2920 §3.1: a 354 must be answered with a dot anyway */
                                c->dot_ignored = true;
                                c->state = CS_DOT;
                                (void) client_send(c, ".");
                                break;
                        }
                        c->state = CS_BODY;
                        client_arm(c, c->p.data_timeout);
                        fill_body(c);
                        client_send_flush(c);
                        return;
                }
                if (!c->mail_failed)
                        rcpts_from_reply(c, r, true);
                txn_end(c, true);
                return;
        case CS_DOT:
                if (!c->dot_ignored)
                        rcpts_from_reply(c, r, true);
                txn_end(c, false);
                return;
        case CS_RSET:
                txn_end(c, false);
                return;
        case CS_QUIT:
        case CS_IDLE:   /* e.g. 421 from a server that times out idle sessions */
                client_finish(c, NULL);
                return;
        default:
                return;
        }
        client_arm(c, c->p.command_timeout);
        client_send_flush(c);
}

static void client_read(Client *c) {
        uint8_t buf[4096];

        for (;;) {
                ssize_t k = c->tls ? tls_session_read(c->tls, buf, sizeof(buf))
                                   : RET_NERRNO(recv(c->fd, buf, sizeof(buf), 0));
                size_t off = 0;

                if (k == -EAGAIN || k == -EWOULDBLOCK)
                        return;
                if (k <= 0 && c->state == CS_IDLE) {
                        client_finish(c, NULL);         /* the server ended an idle session */
                        return;
                }
                if (k <= 0) {
                        client_lost(c, k == 0 ? "lost connection" : "connection error");
                        return;
                }
                while (off < (size_t) k) {
                        size_t used = 0;
                        int r = reply_parser_feed(&c->parser, buf + off, (size_t) k - off, &used);
                        TlsSession *tls = c->tls;
                        int fd = c->fd;

                        off += used;
                        if (r < 0) {
                                client_lost(c, "malformed reply");
                                return;
                        }
                        if (r != REPLY_DONE)
                                break;
                        log_debug("%s: < %u (%u lines)", c->relay, c->parser.reply.code, c->parser.reply.n_lines);
                        handle_reply(c, &c->parser.reply);
                        /* the handler may have closed this connection or moved to another;
                         * once TLS has started (and maybe finished) the rest of this
                         * plaintext read is dropped, never taken as replies inside TLS
                         * (STARTTLS response injection) */
                        if (c->state == CS_DONE || c->fd != fd || c->tls != tls)
                                return;
                        reply_parser_reset(&c->parser);
                }
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Client *c = userdata;

        if (c->state == CS_CONNECT) {
                int err = 0;
                socklen_t len = sizeof(err);

                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                        err = errno;
                if (err != 0) {
                        char text[128];

                        (void) snprintf(text, sizeof(text), "connect failed: %s", strerror(err));
                        client_lost(c, text);
                        return 0;
                }
                c->state = CS_GREETING;
                client_arm(c, c->p.command_timeout);
                if (c->p.implicit_tls) {
                        start_tls(c);
                        return 0;
                }
                client_update_io(c);
                return 0;
        }
        if (c->state == CS_HANDSHAKE) {
                on_handshake(c);
                return 0;
        }
        if (revents & EPOLLOUT) {
                if (c->state == CS_BODY) {
                        /* RFC 5321 §4.5.3.2.5: the data block timeout runs per block */
                        client_arm(c, c->p.data_timeout);
                        fill_body(c);
                }
                if (client_flush(c) < 0) {
                        client_lost(c, "lost connection");
                        return 0;
                }
                if (c->state == CS_BODY && c->out.len == 0) {
                        fill_body(c);
                        client_send_flush(c);
                }
        }
        if (c->state != CS_DONE && c->fd == fd && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                client_read(c);
        return 0;
}

/* An idle session ends (QUIT); any other is left alone. */
void client_retire(Client *c) {
        if (c->state != CS_IDLE)
                return;
        c->state = CS_QUIT;
        (void) client_send(c, "QUIT");
        client_arm(c, c->p.command_timeout);
        client_send_flush(c);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Client *c = userdata;

        if (c->state == CS_IDLE) {
                client_retire(c);
                return 0;
        }
        client_lost(c, c->state == CS_CONNECT ? "connect timed out" : "conversation timed out");
        return 0;
}

static void client_connect_next(Client *c) {
        const MxHost *h;
        struct sockaddr_in sa = { .sin_family = AF_INET };
        char ip[INET_ADDRSTRLEN];
        int r;

        if (c->host >= c->hosts.n) {
                if (!c->failure.valid)
                        (void) dsn_set(&c->failure, DELIVERY_DEFERRED, "4.4.1", "no host could be reached", false);
                client_finish(c, &c->failure);
                return;
        }
        h = &c->hosts.hosts[c->host];
        (void) inet_ntop(AF_INET, &h->addr, ip, sizeof(ip));
        (void) snprintf(c->relay, sizeof(c->relay), "%s[%s]:%u", h->name, ip, h->port);
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0) {
                client_lost(c, "cannot create socket");
                return;
        }
        /* commands and the final dot are small writes that wait for a
         * reply: without this, Nagle and delayed ACKs add ~40 ms each */
        (void) setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int) { 1 }, sizeof(int));
        if (c->p.bind) {
                struct sockaddr_in b = { .sin_family = AF_INET, .sin_addr = *c->p.bind };

                if (bind(c->fd, (struct sockaddr *) &b, sizeof(b)) < 0) {
                        client_lost(c, "cannot bind to bind_address");
                        return;
                }
        }
        sa.sin_addr = h->addr;
        sa.sin_port = htons(h->port);
        c->state = CS_CONNECT;
        r = RET_NERRNO(connect(c->fd, (struct sockaddr *) &sa, sizeof(sa)));
        if (r < 0 && r != -EINPROGRESS) {
                char text[128];

                (void) snprintf(text, sizeof(text), "connect failed: %s", strerror(-r));
                client_lost(c, text);
                return;
        }
        r = sd_event_add_io(c->p.event, &c->io, c->fd, EPOLLOUT, on_io, c);
        if (r < 0) {
                client_lost(c, "cannot watch socket");
                return;
        }
        client_arm(c, c->p.connect_timeout);
}

int client_new(const ClientParams *p, const MxList *hosts, const ClientOps *ops, void *userdata, Client **ret) {
        Client *c;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->p = *p;
        c->hosts = *hosts;
        c->ops = *ops;
        c->userdata = userdata;
        c->fd = -EBADF;
        c->out = BUF_INIT(0);
        reply_parser_init(&c->parser);
        r = sd_event_add_time(p->event, &c->timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_timeout, c);
        if (r < 0) {
                client_free(c);
                return r;
        }
        (void) sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        *ret = c;
        client_connect_next(c);
        return 0;
}

Client *client_free(Client *c) {
        if (!c)
                return NULL;
        close_socket(c);
        sd_event_source_disable_unref(c->timer);
        sd_event_source_disable_unref(c->defer);
        reply_parser_done(&c->parser);
        buf_done(&c->out);
        dsn_done(&c->failure);
        free(c->rcpt_ok);
        free(c);
        return NULL;
}
