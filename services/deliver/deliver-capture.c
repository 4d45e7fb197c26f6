/* SPDX-License-Identifier: MIT */
/*
 * Capture transport: writes each message into the maildir capture_dir
 * (tmp/ → fdatasync → rename into new/ → fsync new/), one file per
 * message, and marks its pending recipients sent. The signed bytes are
 * kept unchanged; only two header fields are prepended, neither of which
 * DKIM signers sign: "Return-Path: <sender>" and
 * "X-Pochtar-Envelope-To: <rcpt>, ..." for the pending recipients.
 */
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "services/deliver/deliver-capture.h"
#include "shared/fd-util.h"
#include "shared/log.h"
#include "shared/macro.h"

struct Capture {
        int dir_fd, tmp_fd, new_fd;
        char *path;
};

static int open_sub(int parent, const char *name, int *ret) {
        if (mkdirat(parent, name, 0750) < 0 && errno != EEXIST)
                return -errno;
        *ret = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return *ret < 0 ? -errno : 0;
}

int capture_new(const char *dir, Capture **ret) {
        _cleanup_(capture_freep) Capture *c = NULL;
        int r, cur_fd = -EBADF;

        c = calloc(1, sizeof(*c));
        if (!c)
                return log_oom();
        c->dir_fd = c->tmp_fd = c->new_fd = -EBADF;
        c->path = strdup(dir);
        if (!c->path)
                return log_oom();
        if (mkdir(dir, 0750) < 0 && errno != EEXIST)
                return log_error_errno(-errno, "Failed to create capture_dir '%s': %m", dir);
        c->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->dir_fd < 0)
                return log_error_errno(-errno, "Failed to open capture_dir '%s': %m", dir);
        r = open_sub(c->dir_fd, "tmp", &c->tmp_fd);
        if (r >= 0)
                r = open_sub(c->dir_fd, "new", &c->new_fd);
        if (r >= 0)
                r = open_sub(c->dir_fd, "cur", &cur_fd);
        safe_close(cur_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to set up maildir '%s': %m", dir);
        *ret = TAKE_PTR(c);
        return 0;
}

Capture *capture_free(Capture *c) {
        if (!c)
                return NULL;
        safe_close(c->dir_fd);
        safe_close(c->tmp_fd);
        safe_close(c->new_fd);
        free(c->path);
        free(c);
        return NULL;
}

static int capture_write(Capture *c, Message *m, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        Buf head = BUF_INIT(0);
        size_t body_len;
        const char *body = message_body(m, &body_len);
        bool first = true;
        int r;

        r = buf_printf(&head, "Return-Path: <%s>\r\nX-Pochtar-Envelope-To:", m->env.sender);
        for (size_t i = 0; i < m->env.n_rcpts && r >= 0; i++) {
                RcptState st = m->state.rcpts[i].state;

                if (st == RCPT_SENT || st == RCPT_BOUNCED)
                        continue;
                r = buf_printf(&head, "%s\r\n <%s>", first ? "" : ",", m->env.rcpts[i].addr);
                first = false;
        }
        if (r >= 0)
                r = buf_append_str(&head, "\r\n");
        if (r >= 0) {
                fd = openat(c->tmp_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
                            O_CLOEXEC, 0640);
                if (fd < 0)
                        r = -errno;
        }
        if (r >= 0)
                r = write_full_fd(fd, head.data, head.len);
        if (r >= 0)
                r = write_full_fd(fd, body, body_len);
        if (r >= 0)
                r = RET_NERRNO(fdatasync(fd));
        if (r >= 0)
                r = RET_NERRNO(renameat(c->tmp_fd, name, c->new_fd, name));
        if (r >= 0)
                r = RET_NERRNO(fsync(c->new_fd));
        if (r < 0 && fd >= 0)
                (void) unlinkat(c->tmp_fd, name, 0);
        buf_done(&head);
        return r;
}

int capture_attempt(Message *m, void *userdata) {
        Capture *c = userdata;
        char name[QUEUE_ID_LEN + 64], relay[PATH_MAX];
        LogFields f = { .queue_id = m->id };
        int r;

        /* maildir name: unique per attempt, so a second attempt after a
         * crash never overwrites the first copy */
        (void) snprintf(name, sizeof(name), "%s.%u.pochtar", m->id, m->state.attempts);
        r = capture_write(c, m, name);
        if (r < 0)
                (void) log_msg_errno(LOG_ERR, r, &f, "Failed to write capture file '%s': %m", name);
        (void) snprintf(relay, sizeof(relay), "capture[%s]", c->path);
        for (size_t i = 0; i < m->env.n_rcpts; i++) {
                RcptState st = m->state.rcpts[i].state;

                if (st == RCPT_SENT || st == RCPT_BOUNCED)
                        continue;
                if (r >= 0)
                        r = dsn_set(&m->results[i], DELIVERY_SENT, "2.0.0", "delivered to maildir", false);
                else
                        (void) dsn_set(&m->results[i], DELIVERY_DEFERRED, "4.3.0", "cannot write capture maildir",
                                       false);
                free(m->results[i].relay);
                m->results[i].relay = strdup(relay);
                m->results[i].final = true;
        }
        queue_attempt_done(m);
        return 0;
}
