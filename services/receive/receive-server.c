/* SPDX-License-Identifier: MIT */
/*
 * The listeners, admission (allow list, max_sessions), idle exit, and the
 * sessions. Sockets come from systemd (sd_listen_fds, Accept=no: one
 * process for all connections) or are bound from [receive] listen.
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

static void server_listen_enable(Server *s, bool enable) {
        for (size_t i = 0; i < s->n_listeners; i++)
                (void) sd_event_source_set_enabled(s->listeners[i], enable ? SD_EVENT_ON : SD_EVENT_OFF);
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

static int server_session_start(Server *s, int fd, const struct sockaddr *sa, socklen_t salen) {
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
        r = session_new(&s->session_params, &session_ops, ss, fd, sa, salen, &ss->session);
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
        Server *s = userdata;

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
                if (!access_list_allows(&s->access, (struct sockaddr *) &ss, len)) {
                        char host[NI_MAXHOST] = "?";

                        (void) getnameinfo((struct sockaddr *) &ss, len, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
                        log_notice("Refused connection from [%s]: not in [receive] allow", host);
                        s->n_refused++;
                        refuse(fd, "554 5.7.1 Access denied\r\n");
                        continue;
                }
                if (s->n_sessions >= s->config->max_sessions) {
                        log_warning("Too many sessions (%u), refusing a connection", s->n_sessions);
                        refuse(fd, "421 4.3.2 Too many connections, try again later\r\n");
                        continue;
                }
                r = server_session_start(s, fd, (struct sockaddr *) &ss, len);
                if (r < 0)
                        log_warning_errno(r, "Failed to start a session, ignoring: %m");
                server_update_idle(s);
        }
        return 0;
}

static int add_listener(Server *s, int fd) {
        sd_event_source **l;
        int r;

        l = reallocarray(s->listeners, s->n_listeners + 1, sizeof(sd_event_source *));
        if (!l)
                return -ENOMEM;
        s->listeners = l;
        r = sd_event_add_io(s->event, &s->listeners[s->n_listeners], fd, EPOLLIN, on_accept, s);
        if (r < 0)
                return r;
        (void) sd_event_source_set_io_fd_own(s->listeners[s->n_listeners], true);
        s->n_listeners++;
        return 0;
}

/* "127.0.0.1:25", "[::1]:25" or "localhost:2525" */
static int bind_listen(Server *s, const char *spec) {
        _cleanup_free_ char *host = NULL;
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
        struct addrinfo *ai = NULL;
        const char *colon = strrchr(spec, ':');
        int r;

        if (!colon || colon == spec || !colon[1])
                return log_error_errno(-EINVAL, "Bad [receive] listen address '%s': expected HOST:PORT", spec);
        if (spec[0] == '[' && colon[-1] == ']')
                host = strndup(spec + 1, (size_t) (colon - spec - 2));
        else
                host = strndup(spec, (size_t) (colon - spec));
        if (!host)
                return log_oom();
        r = getaddrinfo(host, colon + 1, &hints, &ai);
        if (r != 0)
                return log_error_errno(-EINVAL, "Cannot resolve [receive] listen '%s': %s", spec, gai_strerror(r));
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
                        r = add_listener(s, fd);
                if (r < 0) {
                        freeaddrinfo(ai);
                        return log_error_errno(r, "Failed to listen on '%s': %m", spec);
                }
                TAKE_FD(fd);
        }
        freeaddrinfo(ai);
        return 0;
}

int server_start(Server *s) {
        int n, r;

        n = sd_listen_fds(true);
        if (n < 0)
                return log_error_errno(n, "Failed to read LISTEN_FDS: %m");
        if (n > 0) {
                s->socket_activated = true;
                for (int i = 0; i < n; i++) {
                        int fd = SD_LISTEN_FDS_START + i;

                        r = sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1);
                        if (r <= 0)
                                return log_error_errno(r < 0 ? r : -EINVAL,
                                                       "Passed fd %d is not a listening stream socket (Accept=no expected)", fd);
                        (void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
                        r = add_listener(s, fd);
                        if (r < 0)
                                return log_error_errno(r, "Failed to watch passed socket: %m");
                }
        } else
                for (char **l = s->config->listen; l && *l; l++) {
                        r = bind_listen(s, *l);
                        if (r < 0)
                                return r;
                }
        if (s->n_listeners == 0)
                return log_error_errno(-EINVAL, "Nothing to listen on: [receive] listen is empty.");

        r = group_commit_new(s->event, &commit_ops, s, &s->commit);
        if (r < 0)
                return log_error_errno(r, "Failed to start the group commit: %m");

        if (s->spare_keep > 0) {
                r = sd_event_add_time_relative(s->event, &s->spare_timer, CLOCK_MONOTONIC, s->spare_keep,
                                               USEC_PER_SEC, on_spare_keep, s);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up the spare timer: %m");
        }
        if (s->socket_activated && s->config->idle_exit > 0) {
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

        s->session_params = (SessionParams) {
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
        for (size_t i = 0; i < s->n_listeners; i++)
                sd_event_source_disable_unref(s->listeners[i]);
        free(s->listeners);
        sd_event_source_disable_unref(s->idle_timer);
        sd_event_source_disable_unref(s->spare_timer);
        spool_dir_done(&s->incoming);
        safe_close(s->spool_root_fd);
        access_list_done(&s->access);
        sender_map_done(&s->sender_map);
        free(s->hostname);
        free(s->origin_domain);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}
