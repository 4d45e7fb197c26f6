/* SPDX-License-Identifier: MIT */
/*
 * Capture transport: writes each message into the maildir capture_dir
 * through the spool's hand-over (tmp/ → fdatasync → rename into new/ →
 * fsync new/), one file per message, and marks its pending recipients
 * sent. The signed bytes are
 * kept unchanged; only two header fields are prepended, neither of which
 * DKIM signers sign: "Return-Path: <sender>" and
 * "X-Pochtar-Envelope-To: <rcpt>, ..." for the pending recipients.
 */
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "services/deliver/deliver-capture.h"
#include "shared/log.h"
#include "shared/macro.h"
#include "shared/spool.h"

struct Capture {
        SpoolDir maildir;
        char *path;
};

int capture_new(const char *dir, Capture **ret) {
        _cleanup_(capture_freep) Capture *c = NULL;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return log_oom();
        c->maildir = SPOOL_DIR_NULL;
        c->path = strdup(dir);
        if (!c->path)
                return log_oom();
        r = spool_maildir_open(dir, &c->maildir);
        if (r < 0)
                return log_error_errno(r, "Failed to set up maildir '%s': %m", dir);
        *ret = TAKE_PTR(c);
        return 0;
}

Capture *capture_free(Capture *c) {
        if (!c)
                return NULL;
        spool_dir_done(&c->maildir);
        free(c->path);
        free(c);
        return NULL;
}

/* The hand-over every queue uses (shared/spool.c): tmp/, written whole,
 * fdatasync, renamed into new/ under the maildir name, new/ fsynced. */
static int capture_write(Capture *c, Message *m, const char *name) {
        SpoolFile f = SPOOL_FILE_NULL;
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
        if (r >= 0)
                r = spool_file_create(&c->maildir, m->id, DELIVER_STAGE, &f);
        if (r >= 0)
                r = spool_file_write(&f, head.data, head.len);
        if (r >= 0)
                r = spool_file_write(&f, body, body_len);
        if (r >= 0)
                r = spool_file_publish_as(&f, name, 0);
        spool_file_abort(&f);
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
