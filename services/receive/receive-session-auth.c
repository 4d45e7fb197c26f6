/* SPDX-License-Identifier: MIT */
/*
 * AUTH inside a submission session (RFC 4954, PLAIN and LOGIN): the 334
 * exchange, the password check on the verifier's thread
 * (receive-auth.c), a failure's delay and journal line
 * (receive-auth-limit.c), and what the authenticated user may send as:
 * MAIL FROM and every From: address among its senders
 * (shared/users-file.c). The decoding is receive-sasl.c's and
 * receive-tls.c's; this file decides and replies.
 */
#include <stdlib.h>
#include <string.h>

#include "services/receive/receive-session-private.h"
#include "shared/clock.h"
#include "shared/escape.h"
#include "shared/event-util.h"
#include "shared/log-ids.h"
#include "shared/log.h"
#include "shared/users-file.h"

static int on_auth_delay(sd_event_source *es, uint64_t usec, void *userdata);

/* Whether the authenticated user may send as @addr (pochtar-users(5)). */
bool session_sender_allowed(const Session *s, const char *addr) {
        UserEntry e = {
                .name = s->auth_user,
                .senders = s->auth_senders,
                .n_senders = strv_length(s->auth_senders),
        };

        return s->auth_user && user_sender_allowed(&e, addr);
}

static void session_auth_reset(Session *s) {
        s->auth_login_password = false;
        explicit_bzero(s->auth_name, sizeof(s->auth_name));
}

static void session_auth_challenge(Session *s) {
        s->state = SESSION_AUTH;
        if (s->auth_mech == SASL_MECH_PLAIN)
                session_reply(s, "334 ");
        else    /* "Username:" and "Password:", as every LOGIN client expects */
                session_reply(s, s->auth_login_password ? "334 UGFzc3dvcmQ6" : "334 VXNlcm5hbWU6");
}

static void session_auth_answer_failure(Session *s) {
        session_auth_reset(s);
        s->state = SESSION_COMMAND;
        session_reply(s, "535 5.7.8 Error: authentication failed");
}

/* A failed AUTH: one journal line with the client in a field (fail2ban
 * reads it), then the 535, later the more this client has failed. */
static void session_auth_failed(Session *s, const char *why) {
        uint64_t delay = auth_limit_failed(s->p->auth_limit, s->client, now_monotonic_usec());
        int r;

        s->bad_commands++;
        log_msg(LOG_NOTICE, &(LogFields) {
                        .message_id = LOG_ID_AUTH_FAILED,
                        .client = s->client,
                        .sasl_user = s->auth_name[0] ? s->auth_name : NULL,
                }, "SASL %s authentication failed from [%s]: %s%s%s", s->auth_mech == SASL_MECH_PLAIN ? "PLAIN" : "LOGIN",
                s->client, why, s->auth_name[0] ? ", user " : "", s->auth_name);
        if (delay == 0)
                return session_auth_answer_failure(s);
        s->state = SESSION_AUTH_WAIT;
        r = 0;
        if (s->auth_delay)
                event_timer_arm(s->auth_delay, delay);
        else
                r = sd_event_add_time_relative(s->p->event, &s->auth_delay, CLOCK_MONOTONIC, delay, USEC_PER_SEC / 10,
                                               on_auth_delay, s);
        if (r < 0)
                session_auth_answer_failure(s);
}

static void on_auth_done(int result, char **senders, void *userdata) {
        Session *s = userdata;

        s->auth_request = NULL;
        if (result == 0) {
                s->auth_user = strdup(s->auth_name);
                if (!s->auth_user) {
                        strv_free(senders);
                        session_reply_oom(s);
                } else {
                        s->auth_senders = senders;
                        auth_limit_succeeded(s->p->auth_limit, s->client);
                        log_msg(LOG_INFO, &(LogFields) { .client = s->client, .sasl_user = s->auth_user },
                                "SASL %s authentication from [%s] as %s",
                                s->auth_mech == SASL_MECH_PLAIN ? "PLAIN" : "LOGIN", s->client, s->auth_user);
                        s->state = SESSION_COMMAND;
                        session_reply(s, "235 2.7.0 Authentication successful");
                }
        } else if (result == -EACCES) {
                strv_free(senders);
                session_auth_failed(s, "wrong password, unknown or locked user");
        } else {
                strv_free(senders);
                log_msg_errno(LOG_ERR, result, &(LogFields) { .client = s->client },
                              "Failed to check the password of [%s]: %m", s->client);
                session_auth_reset(s);
                s->state = SESSION_COMMAND;
                session_reply(s, "454 4.7.0 Error: temporary authentication failure");
        }
        if (s->state != SESSION_AUTH_WAIT)
                session_resume(s);
}

/* The client's response, to a 334 or as AUTH's initial response: base64. */
void session_auth_response(Session *s, const char *b64, size_t n) {
        _cleanup_(buf_done) Buf d = BUF_INIT(0);
        char password[SASL_PASSWORD_MAX + 1];
        int r;

        s->state = SESSION_COMMAND;
        if (sasl_response_check(b64, n) == -ECANCELED) {
                session_auth_reset(s);
                return session_reply(s, "501 5.7.0 Error: authentication cancelled");
        }
        r = n > 0 ? tls_base64_decode(b64, n, &d) : 0;
        if (r == -ENOMEM)
                return session_reply_oom(s);
        if (r < 0) {
                session_auth_reset(s);
                return session_reply(s, "501 5.5.2 Error: cannot decode the response");
        }
        if (s->auth_mech == SASL_MECH_LOGIN && !s->auth_login_password) {
                r = sasl_login_user(d.data, d.len, s->auth_name);
                explicit_bzero(d.data, d.len);
                if (r < 0)
                        s->auth_name[0] = 0;    /* kept out of the log; refused with the password */
                s->auth_login_password = true;
                return session_auth_challenge(s);
        }
        if (s->auth_mech == SASL_MECH_PLAIN)
                r = sasl_plain_split(d.data, d.len, s->auth_name, password);
        else
                r = s->auth_name[0] ? sasl_login_password(d.data, d.len, password) : -EINVAL;
        explicit_bzero(d.data, d.len);
        if (r < 0) {
                explicit_bzero(password, sizeof(password));
                if (s->auth_mech == SASL_MECH_PLAIN && r != -EPERM)
                        s->auth_name[0] = 0;
                return session_auth_failed(s, r == -EPERM ? "authorization identity not the user"
                                                          : "malformed credentials");
        }
        r = auth_verify(s->p->verifier, s->auth_name, password, on_auth_done, s, &s->auth_request);
        explicit_bzero(password, sizeof(password));
        if (r < 0) {
                log_msg_errno(LOG_ERR, r, &(LogFields) { .client = s->client },
                              "Failed to queue the password check of [%s]: %m", s->client);
                session_auth_reset(s);
                return session_reply(s, "454 4.7.0 Error: temporary authentication failure");
        }
        s->state = SESSION_AUTH_WAIT;
}

void session_on_auth(Session *s, const Command *c) {
        const char *initial = NULL;
        size_t initial_len = 0;
        int r;

        if (!s->p->submission)
                return session_reply(s, "502 5.5.1 Error: command not implemented");
        if (!s->tls)
                return session_reply(s, "530 5.7.0 Must issue a STARTTLS command first");
        if (!s->esmtp)
                return session_reply(s, "503 5.5.1 Error: send EHLO first");
        if (s->auth_user)
                return session_reply(s, "503 5.5.1 Error: already authenticated");
        if (s->in_mail)
                return session_reply(s, "503 5.5.1 Error: MAIL transaction in progress");
        if (auth_limit_blocked(s->p->auth_limit, s->client, now_monotonic_usec())) {
                log_msg(LOG_NOTICE, &(LogFields) { .message_id = LOG_ID_AUTH_FAILED, .client = s->client },
                        "SASL authentication refused from [%s]: too many failures", s->client);
                return session_reply(s, "454 4.7.0 Error: too many failed authentications, try again later");
        }
        r = sasl_auth_parse(c->arg.p, c->arg.n, &s->auth_mech, &initial, &initial_len);
        if (r == -EOPNOTSUPP)
                return session_reply(s, "504 5.5.4 Error: unsupported authentication mechanism");
        if (r < 0)
                return session_reply(s, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
        session_auth_reset(s);
        if (initial)
                return session_auth_response(s, initial, initial_len);
        session_auth_challenge(s);
}

typedef struct FromCheck {
        const Session *session;
        size_t n_addresses;
        char *refused;          /* the first address the user may not use */
        size_t *spans;          /* start, end of each address, for the stray '@' check */
        size_t n_spans;
} FromCheck;

static int from_visit(const char *v, size_t start, size_t end, void *userdata) {
        FromCheck *fc = userdata;
        _cleanup_free_ char *a = strndup(v + start, end - start);
        size_t *sp;

        if (!a)
                return -ENOMEM;
        sp = reallocarray(fc->spans, fc->n_spans + 2, sizeof(size_t));
        if (!sp)
                return -ENOMEM;
        fc->spans = sp;
        fc->spans[fc->n_spans++] = start;
        fc->spans[fc->n_spans++] = end;
        fc->n_addresses++;
        if (!fc->refused && !session_sender_allowed(fc->session, a))
                fc->refused = TAKE_PTR(a);
        return 0;
}

/* Whether an '@' of @v lies outside the addresses found and outside quoted
 * strings: an address the lenient walk did not read, and which a mail
 * reader might show. */
static bool from_stray_at(const char *v, size_t n, const FromCheck *fc) {
        bool quoted = false;

        for (size_t i = 0; i < n; i++) {
                bool inside = false;

                if (quoted && v[i] == '\\') {
                        i++;
                        continue;
                }
                if (v[i] == '"')
                        quoted = !quoted;
                if (v[i] != '@' || quoted)
                        continue;
                for (size_t k = 0; k + 1 < fc->n_spans && !inside; k += 2)
                        inside = i >= fc->spans[k] && i < fc->spans[k + 1];
                if (!inside)
                        return true;
        }
        return false;
}

/* Submission: every From: address must be one of the user's senders, so a
 * stolen password sends only as what that user was given. */
void session_check_from(Session *s, const uint8_t *p, const HeaderSection *h) {
        FromCheck fc = { .session = s };
        bool stray = false;
        int r = 0;

        for (size_t i = 0; i < h->n_fields && r >= 0; i++) {
                const HeaderField *f = &h->fields[i];
                const char *v = (const char *) p + f->offset + f->value;
                size_t n = f->len - f->value;

                if (!header_field_is(f, p, "From"))
                        continue;
                fc.n_spans = 0;
                r = address_list_walk(v, n, from_visit, &fc);
                if (r >= 0 && from_stray_at(v, n, &fc))
                        stray = true;
        }
        if (r < 0)
                session_refuse(s, "451 4.3.0 Error: out of memory", "out of memory checking From:");
        else if (fc.n_addresses == 0 || stray)
                session_refuse(s, "553 5.7.1 Error: no From: address that can be checked",
                               "no From: address that can be checked (user %s)", s->auth_user);
        else if (fc.refused) {
                _cleanup_free_ char *shown = escape_printable_dup(fc.refused, strlen(fc.refused), 256);

                session_refuse(s, "553 5.7.1 Error: From: address not allowed for this user",
                               "From: <%s> is not a sender of user %s", strempty(shown), s->auth_user);
        }
        free(fc.refused);
        free(fc.spans);
}

/* A failure's 535, held back by the rate limit, is due. */
static int on_auth_delay(sd_event_source *es, uint64_t usec, void *userdata) {
        Session *s = userdata;

        session_auth_answer_failure(s);
        session_resume(s);
        return 0;
}

void session_auth_done(Session *s) {
        if (s->auth_request)
                auth_request_cancel(s->auth_request);
        s->auth_request = NULL;
        s->auth_delay = sd_event_source_disable_unref(s->auth_delay);
        free(s->auth_user);
        s->auth_user = NULL;
        strv_free(s->auth_senders);
        s->auth_senders = NULL;
        session_auth_reset(s);
}
