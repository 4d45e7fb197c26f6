/* SPDX-License-Identifier: MIT */
/*
 * The listeners, admission (allow list, max_sessions), idle exit, and the
 * sessions. Sockets come from systemd (sd_listen_fds, Accept=no: one
 * process for all connections) or are bound from [receive] listen and
 * [submission] listen and listen_tls. Each listener has a kind, and each
 * kind its session parameters: the loopback listener offers neither TLS
 * nor AUTH; the submission listeners require both (receive-session.c).
 *
 * Each session is started with the parameters every session shares and a
 * SessionOps table; the server keeps its own record of it (ServerSession)
 * and never looks inside. A session whose message is complete hands its
 * file to the group commit (receive-commit.c) and hears back through
 * session_committed() only once the file is durable in incoming/new.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "services/receive/receive-server.h"
#include "shared/event-util.h"
#include "shared/fd-util.h"
#include "shared/log.h"
#include "shared/macro.h"
#include "shared/notify.h"
#include "shared/spool-check.h"
#include "shared/spool-owner.h"
#include "shared/spool-spare.h"
#include "shared/users-file.h"

/* Connections accepted per wake-up of a listener, so one busy listener
 * cannot starve sessions that already have data. */
#define ACCEPT_BATCH 64

struct ServerSession {
        Server *server;
        Session *session;
        ServerSession *prev, *next;
};

static void server_update_idle(Server *s) {
        /* a message written: the spares are in use, keep them a while longer */
        if (s->spare_timer)
                event_timer_arm(s->spare_timer, s->spare_keep);
        if (!s->idle_timer)
                return;
        if (s->n_sessions == 0 && (!s->commit || group_commit_pending(s->commit) == 0)) {
                event_timer_arm(s->idle_timer, s->config->idle_exit);
        } else
                (void) sd_event_source_set_enabled(s->idle_timer, SD_EVENT_OFF);
}

static const char * const listener_allow_key[_LISTENER_KIND_MAX] = {
        [LISTENER_LOOPBACK] = "[receive] allow",
        [LISTENER_SUBMISSION] = "[submission] allow",
        [LISTENER_SUBMISSIONS] = "[submission] allow",
};

static void server_listen_enable(Server *s, bool enable) {
        for (size_t i = 0; i < s->n_listeners; i++)
                (void) sd_event_source_set_enabled(s->listeners[i]->source, enable ? SD_EVENT_ON : SD_EVENT_OFF);
        s->accept_paused = !enable;
}

static void server_session_unlink(Server *s, ServerSession *ss) {
        if (ss->prev)
                ss->prev->next = ss->next;
        else
                s->sessions = ss->next;
        if (ss->next)
                ss->next->prev = ss->prev;
        s->n_sessions--;
        free(ss);
}

static int on_session_commit(Session *session, SpoolFile *file, void *userdata) {
        ServerSession *ss = userdata;

        return group_commit_add(ss->server->commit, file, session);
}

static void on_session_commit_cancel(Session *session, void *userdata) {
        ServerSession *ss = userdata;

        group_commit_cancel(ss->server->commit, session);
}

static void on_session_turn(void *userdata) {
        ServerSession *ss = userdata;

        group_commit_poll(ss->server->commit, ss->server->n_sessions);
}

static void on_session_gone(Session *session, void *userdata) {
        ServerSession *ss = userdata;
        Server *s = ss->server;

        server_session_unlink(s, ss);
        /* a descriptor is free again: accept what waited in the backlog */
        if (s->accept_paused)
                server_listen_enable(s, true);
        server_update_idle(s);
}

static const SessionOps session_ops = {
        .commit = on_session_commit,
        .commit_cancel = on_session_commit_cancel,
        .turn = on_session_turn,
        .gone = on_session_gone,
};

static void on_committed(void *waiter, int error, void *userdata) {
        session_committed(waiter, error);
}

static void on_commit_resume(void *waiter, void *userdata) {
        session_resume(waiter);
}

static void on_batch_done(size_t n_published, void *userdata) {
        Server *s = userdata;

        s->n_queued += n_published;
        notify_status("%" PRIu64 " messages queued, %u sessions", s->n_queued, s->n_sessions);
        server_update_idle(s);
}

static const GroupCommitOps commit_ops = {
        .committed = on_committed,
        .resume = on_commit_resume,
        .batch_done = on_batch_done,
};

static int server_session_start(Server *s, ListenerKind kind, int fd, const struct sockaddr *sa, socklen_t salen) {
        ServerSession *ss;
        int r;

        ss = calloc(1, sizeof(ServerSession));
        if (!ss) {
                safe_close(fd);
                return -ENOMEM;
        }
        ss->server = s;
        ss->next = s->sessions;
        if (s->sessions)
                s->sessions->prev = ss;
        s->sessions = ss;
        s->n_sessions++;
        /* once this succeeds, ss is the session's until on_session_gone(),
         * which may already have run (a client gone before the greeting) */
        r = session_new(&s->session_params[kind], &session_ops, ss, fd, sa, salen, &ss->session);
        if (r < 0)
                server_session_unlink(s, ss);
        return r;
}

static int on_spare_keep(sd_event_source *es, uint64_t usec, void *userdata) {
        Server *s = userdata;

        (void) spool_spare_drop(&s->incoming);
        return 0;
}

static int on_idle(sd_event_source *es, uint64_t usec, void *userdata) {
        Server *s = userdata;

        log_info("Idle for %" PRIu64 "s, exiting; systemd starts us again on the next connection.",
                 s->config->idle_exit / USEC_PER_SEC);
        /* spares save work only while mail flows: give their space back */
        (void) spool_spare_drop(&s->incoming);
        return sd_event_exit(s->event, 0);
}

/* A refusal before any session exists: one line, best effort, then close. */
static void refuse(int fd, const char *line) {
        (void) send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
        safe_close(fd);
}

static int on_accept(sd_event_source *es, int lfd, uint32_t revents, void *userdata) {
        Listener *l = userdata;
        Server *s = l->server;
        const AccessList *access = l->kind == LISTENER_LOOPBACK ? &s->access : &s->submission_access;

        for (unsigned i = 0; i < ACCEPT_BATCH; i++) {
                struct sockaddr_storage ss;
                socklen_t len = sizeof(ss);
                int fd, r;

                fd = accept4(lfd, (struct sockaddr *) &ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) {
                        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                                return 0;
                        if ((errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) &&
                            s->n_sessions > 0) {
                                /* Out of descriptors or memory: stop accepting (the kernel keeps
                                 * the backlog) until a session ends, instead of spinning on a
                                 * listener that stays readable. */
                                log_warning_errno(-errno, "accept() failed, pausing until a session ends: %m");
                                server_listen_enable(s, false);
                                return 0;
                        }
                        log_warning_errno(-errno, "accept() failed, ignoring: %m");
                        return 0;
                }
                if (!access_list_allows(access, (struct sockaddr *) &ss, len)) {
                        char host[NI_MAXHOST] = "?";

                        (void) getnameinfo((struct sockaddr *) &ss, len, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
                        log_msg(LOG_NOTICE, &(LogFields) { .client = host }, "Refused connection from [%s]: not in %s",
                                host, listener_allow_key[l->kind]);
                        s->n_refused++;
                        refuse(fd, "554 5.7.1 Access denied\r\n");
                        continue;
                }
                if (s->n_sessions >= s->config->max_sessions) {
                        log_warning("Too many sessions (%u), refusing a connection", s->n_sessions);
                        refuse(fd, "421 4.3.2 Too many connections, try again later\r\n");
                        continue;
                }
                r = server_session_start(s, l->kind, fd, (struct sockaddr *) &ss, len);
                if (r < 0)
                        log_warning_errno(r, "Failed to start a session, ignoring: %m");
                server_update_idle(s);
        }
        return 0;
}

/* Takes @fd, also on failure. */
static int add_listener(Server *s, int fd, ListenerKind kind) {
        _cleanup_free_ Listener *l = NULL;
        Listener **ls;
        int r;

        ls = reallocarray(s->listeners, s->n_listeners + 1, sizeof(Listener *));
        if (ls)
                s->listeners = ls;
        l = calloc(1, sizeof(Listener));
        if (!ls || !l) {
                safe_close(fd);
                return -ENOMEM;
        }
        *l = (Listener) { .server = s, .kind = kind };
        r = sd_event_add_io(s->event, &l->source, fd, EPOLLIN, on_accept, l);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        (void) sd_event_source_set_io_fd_own(l->source, true);
        s->listeners[s->n_listeners++] = TAKE_PTR(l);
        return 0;
}

static bool server_has_listener(const Server *s, ListenerKind kind) {
        for (size_t i = 0; i < s->n_listeners; i++)
                if (s->listeners[i]->kind == kind)
                        return true;
        return false;
}

/* "127.0.0.1:25", "[::1]:25" or "localhost:2525", from @key */
static int bind_listen(Server *s, const char *spec, ListenerKind kind, const char *key) {
        _cleanup_free_ char *host = NULL;
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
        struct addrinfo *ai = NULL;
        const char *colon = strrchr(spec, ':');
        int r;

        if (!colon || colon == spec || !colon[1])
                return log_error_errno(-EINVAL, "Bad %s address '%s': expected HOST:PORT", key, spec);
        if (spec[0] == '[' && colon[-1] == ']')
                host = strndup(spec + 1, (size_t) (colon - spec - 2));
        else
                host = strndup(spec, (size_t) (colon - spec));
        if (!host)
                return log_oom();
        r = getaddrinfo(host, colon + 1, &hints, &ai);
        if (r != 0)
                return log_error_errno(-EINVAL, "Cannot resolve %s '%s': %s", key, spec, gai_strerror(r));
        for (struct addrinfo *a = ai; a; a = a->ai_next) {
                _cleanup_close_ int fd = -EBADF;
                int one = 1;

                fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        r = -errno;
                else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
                         bind(fd, a->ai_addr, a->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0)
                        r = -errno;
                else
                        r = add_listener(s, TAKE_FD(fd), kind);
                if (r < 0) {
                        freeaddrinfo(ai);
                        return log_error_errno(r, "Failed to listen on '%s' (%s): %m", spec, key);
                }
        }
        freeaddrinfo(ai);
        return 0;
}

static ListenerKind listener_kind_from_name(const char *name) {
        if (streq_ptr(name, "submission"))
                return LISTENER_SUBMISSION;
        if (streq_ptr(name, "submissions"))
                return LISTENER_SUBMISSIONS;
        return LISTENER_LOOPBACK;
}

static int server_listen(Server *s) {
        const struct {
                char **listen;
                ListenerKind kind;
                const char *key;
        } keys[] = {
                { s->config->listen, LISTENER_LOOPBACK, "[receive] listen" },
                { s->submission->listen, LISTENER_SUBMISSION, "[submission] listen" },
                { s->submission->listen_tls, LISTENER_SUBMISSIONS, "[submission] listen_tls" },
        };
        char **names = NULL;
        int n, r;

        n = sd_listen_fds_with_names(true, &names);
        if (n < 0)
                return log_error_errno(n, "Failed to read LISTEN_FDS: %m");
        if (n > 0) {
                s->socket_activated = true;
                r = 0;
                for (int i = 0; i < n && r >= 0; i++) {
                        int fd = SD_LISTEN_FDS_START + i;

                        r = sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1);
                        if (r <= 0) {
                                r = log_error_errno(r < 0 ? r : -EINVAL, "Passed fd %d is not a listening stream "
                                                    "socket (Accept=no expected)", fd);
                                break;
                        }
                        (void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
                        r = add_listener(s, fd, listener_kind_from_name(names ? names[i] : NULL));
                        if (r < 0)
                                log_error_errno(r, "Failed to watch passed socket: %m");
                }
                strv_free(names);
                return r < 0 ? r : 0;
        }
        for (size_t k = 0; k < ELEMENTSOF(keys); k++)
                for (char **l = keys[k].listen; l && *l; l++) {
                        r = bind_listen(s, *l, keys[k].kind, keys[k].key);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* The certificate and key: [submission] certificate and key, else the
 * systemd credentials submission.crt and submission.key. */
static int submission_tls_paths(const SubmissionConfig *c, char **ret_cert, char **ret_key) {
        const char *creds = getenv("CREDENTIALS_DIRECTORY");

        if ((!c->certificate || !c->key) && !creds)
                return log_error_errno(-EINVAL, "[submission] certificate and key are not set, and there are no "
                                       "systemd credentials (LoadCredential=submission.crt:... and submission.key:...)");
        if (c->certificate ? !(*ret_cert = strdup(c->certificate))
                           : asprintf(ret_cert, "%s/submission.crt", creds) < 0)
                return log_oom();
        if (c->key ? !(*ret_key = strdup(c->key)) : asprintf(ret_key, "%s/submission.key", creds) < 0)
                return log_oom();
        return 0;
}

static int server_tls_load(Server *s, bool reload) {
        _cleanup_free_ char *cert = NULL, *key = NULL;
        char error[512] = "";
        int r;

        r = submission_tls_paths(s->submission, &cert, &key);
        if (r < 0)
                return r;
        r = reload ? tls_server_reload(s->tls, cert, key, error, sizeof(error))
                   : tls_server_new(cert, key, &s->tls, error, sizeof(error));
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "%s", error[0] ? error : "Failed to load the submission certificate");
        log_info("Submission certificate %s: %s", reload ? "reloaded" : "loaded", tls_server_describe(s->tls));
        return 0;
}

/* The users file as the verifier will read it: a start with a file that
 * cannot serve is a configuration error, named with its line. */
static int server_users_check(Server *s) {
        _cleanup_(users_file_done) UsersFile u = {};
        _cleanup_free_ char *error = NULL;
        int r;

        r = users_file_load(AT_FDCWD, s->submission->users, getuid(), &u, &error);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(-EINVAL, "%s", error ?: "Failed to read the users file");
        if (u.n_users == 0)
                log_warning("%s holds no user: every AUTH fails until 'pochtar user add'.", s->submission->users);
        return 0;
}

/* TLS, the users and the failure limit, for the submission listeners. */
static int server_submission_setup(Server *s) {
        int r;

        r = server_users_check(s);
        if (r < 0)
                return r;
        r = server_tls_load(s, false);
        if (r < 0)
                return r;
        r = auth_limit_new(&s->auth_limit);
        if (r < 0)
                return log_oom();
        r = auth_verifier_new(s->event, s->submission->users, getuid(), &s->verifier);
        if (r < 0)
                return log_error_errno(r, "Failed to start the password checks for '%s': %m", s->submission->users);
        for (ListenerKind k = LISTENER_SUBMISSION; k <= LISTENER_SUBMISSIONS; k++) {
                SessionParams *p = &s->session_params[k];

                p->submission = true;
                p->implicit_tls = k == LISTENER_SUBMISSIONS;
                p->tls = s->tls;
                p->verifier = s->verifier;
                p->auth_limit = s->auth_limit;
        }
        return 0;
}

void server_reload(Server *s) {
        if (!s->tls) {
                log_info("Reload: no submission listener, nothing to reload.");
                return;
        }
        /* a failure keeps the certificate in use, and is logged */
        (void) server_tls_load(s, true);
}

int server_start(Server *s) {
        int r;

        r = server_listen(s);
        if (r < 0)
                return r;
        if (s->n_listeners == 0)
                return log_error_errno(-EINVAL, "Nothing to listen on: [receive] listen is empty.");
        if (server_has_listener(s, LISTENER_SUBMISSION) || server_has_listener(s, LISTENER_SUBMISSIONS)) {
                r = server_submission_setup(s);
                if (r < 0)
                        return r;
        }

        r = group_commit_new(s->event, &commit_ops, s, &s->commit);
        if (r < 0)
                return log_error_errno(r, "Failed to start the group commit: %m");

        if (s->spare_keep > 0) {
                r = sd_event_add_time_relative(s->event, &s->spare_timer, CLOCK_MONOTONIC, s->spare_keep,
                                               USEC_PER_SEC, on_spare_keep, s);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up the spare timer: %m");
        }
        /* The AUTH failure counts live in this process: one that exited when
         * idle would forget them, and a patient guesser who waits out
         * idle_exit would never meet a delay. Submission stays up. */
        if (s->socket_activated && s->config->idle_exit > 0 && s->auth_limit)
                log_info("[receive] idle_exit ignored: this process serves submission, whose failure counts "
                         "must outlive idle time.");
        else if (s->socket_activated && s->config->idle_exit > 0) {
                r = sd_event_add_time_relative(s->event, &s->idle_timer, CLOCK_MONOTONIC,
                                               s->config->idle_exit, USEC_PER_SEC, on_idle, s);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up the idle timer: %m");
                server_update_idle(s);
        }
        return 0;
}

static int read_sender_map(const char *path, SenderMap *ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_(buf_done) Buf b = BUF_INIT(0);
        unsigned line = 0;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to open sender_map '%s': %m", path);
        r = read_full_fd(fd, SENDER_MAP_FILE_MAX, &b);
        if (r < 0)
                return log_error_errno(r, "Failed to read sender_map '%s': %m", path);
        r = sender_map_parse((const char *) b.data, b.len, ret, &line);
        if (r == -EINVAL)
                return log_error_errno(r, "%s:%u: expected 'KEY ADDRESS' (KEY a local part or an address)", path, line);
        if (r < 0)
                return log_error_errno(r, "Failed to parse sender_map '%s': %m", path);
        return 0;
}

int server_new(sd_event *event, const Config *config, Server **ret) {
        static const SpoolQueue queues[] = { SPOOL_QUEUE_INCOMING };
        _cleanup_(server_freep) Server *s = NULL;
        _cleanup_free_ char *missing = NULL;
        const char *bad = NULL;
        int r;

        s = calloc(1, sizeof(Server));
        if (!s)
                return log_oom();
        s->event = sd_event_ref(event);
        s->config = &config->receive;
        s->submission = &config->submission;
        s->spare_keep = config->spool.spare_keep;
        s->spool_root_fd = -EBADF;
        s->incoming = SPOOL_DIR_NULL;

        if (config->receive.hostname)
                s->hostname = strdup(config->receive.hostname);
        else {
                char h[256] = {};

                if (gethostname(h, sizeof(h) - 1) < 0 || !h[0])
                        strcpy(h, "localhost");
                s->hostname = strdup(h);
        }
        if (!s->hostname)
                return log_oom();
        /* Postfix's myorigin defaults to myhostname; so does origin_domain. */
        s->origin_domain = strdup(config->receive.origin_domain ?: s->hostname);
        if (!s->origin_domain)
                return log_oom();

        r = access_list_parse(config->receive.allow, &s->access, &bad);
        if (r == -EINVAL)
                return log_error_errno(r, "Bad [receive] allow entry '%s': expected an address or CIDR prefix", bad);
        if (r < 0)
                return log_oom();
        r = access_list_parse(config->submission.allow, &s->submission_access, &bad);
        if (r == -EINVAL)
                return log_error_errno(r, "Bad [submission] allow entry '%s': expected an address or CIDR prefix", bad);
        if (r < 0)
                return log_oom();
        if (config->receive.sender_map) {
                r = read_sender_map(config->receive.sender_map, &s->sender_map);
                if (r < 0)
                        return r;
                s->has_sender_map = true;
        }

        r = spool_check_queues(config->spool.dir, queues, ELEMENTSOF(queues), &missing);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, SPOOL_CHECK_ERROR_FMT, missing);
        r = spool_root_open(config->spool.dir, false, &s->spool_root_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to open spool '%s': %m", config->spool.dir);
        r = spool_queue_open(s->spool_root_fd, SPOOL_QUEUE_INCOMING, false, &s->incoming);
        if (r < 0)
                return log_error_errno(r, "Failed to open '%s/incoming': %m", config->spool.dir);
        r = spool_owners_resolve(&s->owners);
        if (r < 0)
                return log_error_errno(r, "Failed to look up the stage users: %m");
        spool_dir_set_owners(&s->incoming, SPOOL_QUEUE_INCOMING, &s->owners);
        /* Leftovers of a dead instance: never acknowledged, so never anyone's mail. */
        r = spool_clean_tmp(&s->incoming, "receive", NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to clean '%s/incoming/tmp', ignoring: %m", config->spool.dir);

        /* the submission kinds get their policy once they have a listener */
        for (ListenerKind k = 0; k < _LISTENER_KIND_MAX; k++)
                s->session_params[k] = (SessionParams) {
                        .event = s->event,
                        .config = s->config,
                        .hostname = s->hostname,
                        .origin_domain = s->origin_domain,
                        .sender_map = s->has_sender_map ? &s->sender_map : NULL,
                        .incoming = &s->incoming,
                };

        *ret = TAKE_PTR(s);
        return 0;
}

Server *server_free(Server *s) {
        if (!s)
                return NULL;
        /* Messages already complete are committed and acknowledged before the
         * stop (the batch on disk first, then what is queued, in this thread);
         * everything else is told 421. */
        if (s->commit)
                group_commit_flush(s->commit);
        while (s->sessions)
                session_shutdown(s->sessions->session);
        s->commit = group_commit_free(s->commit);
        for (size_t i = 0; i < s->n_listeners; i++) {
                sd_event_source_disable_unref(s->listeners[i]->source);
                free(s->listeners[i]);
        }
        free(s->listeners);
        s->verifier = auth_verifier_free(s->verifier);
        s->auth_limit = auth_limit_free(s->auth_limit);
        s->tls = tls_server_free(s->tls);
        sd_event_source_disable_unref(s->idle_timer);
        sd_event_source_disable_unref(s->spare_timer);
        spool_dir_done(&s->incoming);
        safe_close(s->spool_root_fd);
        access_list_done(&s->access);
        access_list_done(&s->submission_access);
        sender_map_done(&s->sender_map);
        free(s->hostname);
        free(s->origin_domain);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}
