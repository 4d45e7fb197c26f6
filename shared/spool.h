/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>

#include "shared/buf.h"
#include "shared/queue-id.h"

struct stat;
typedef struct SpoolOwners SpoolOwners;

/*
 * The spool: its layout and the only code that builds spool paths. The
 * tree under the spool root ([spool] dir), each queue with tmp/ and new/
 * on one file system:
 *
 *   incoming/        receive's mail and deliver's reports, for sign
 *   signed/          sign's signed copies, for deliver
 *   deliver/queue/   what deliver claimed from signed/new (a rename)
 *   deliver/state/   deliver's per-recipient state, one file per message
 *   quarantine/      what a stage set aside, ID beside ID.reason
 *   hold/incoming/, hold/signed/   held by the admin, made on first use
 *   control/flush/   flush requests: a file named "all" or a queue ID
 *
 * The files of a queue: new/ID (a message, or its state), new/ID.reason
 * (quarantine: why, one line), new/ID.gone (a message removed while its
 * file becomes a spare, shared/spool-spare.h), tmp/ID.STAGE (being
 * written by STAGE) and tmp/spare.NNN (a consumed file kept for reuse).
 *
 * A writer creates tmp/ID.STAGE, writes, and publishes it into new/
 * (docs/spool-format.md has the state table). All access is relative to
 * directory fds with O_NOFOLLOW: the stages do not trust each other's
 * directories.
 */
typedef enum SpoolQueue {
        SPOOL_QUEUE_INCOMING,
        SPOOL_QUEUE_SIGNED,
        SPOOL_QUEUE_DELIVER,            /* deliver/queue: sign's files, claimed by a rename */
        SPOOL_QUEUE_DELIVER_STATE,      /* deliver/state */
        SPOOL_QUEUE_QUARANTINE,
        SPOOL_QUEUE_HOLD_INCOMING,
        SPOOL_QUEUE_HOLD_SIGNED,
        SPOOL_QUEUE_OWN,                /* no directory: the files only this process writes (its spares) */
        _SPOOL_QUEUE_MAX,
        _SPOOL_QUEUE_INVALID = -EINVAL,
} SpoolQueue;

/* quarantine/new/ID.reason: why a stage set message ID aside, one line */
#define SPOOL_REASON_SUFFIX ".reason"
#define SPOOL_REASON_NAME_MAX (QUEUE_ID_LEN + sizeof(SPOOL_REASON_SUFFIX))
#define SPOOL_DIR_MODE 0750
#define SPOOL_FILE_MODE 0640

/* spares a queue's tmp/ may hold (shared/spool-spare.h) */
#define SPOOL_SPARE_SLOTS 256

typedef struct SpoolDir {
        int fd;         /* the queue directory itself */
        int tmp_fd;
        int new_fd;
        char *name;
        /* spare files (shared/spool-spare.c): the slots of this queue's
         * tmp/ we give into and take from, and those given this round */
        unsigned spare_give_next, spare_take_next;
        uint64_t spare_reserved[SPOOL_SPARE_SLOTS / 64];
        /* whose files a reader of this queue accepts (spool_dir_set_owners());
         * NULL: not set, and every read through this directory fails */
        const SpoolOwners *owners;
        SpoolQueue queue;
} SpoolDir;

#define SPOOL_DIR_NULL ((SpoolDir) { .fd = -EBADF, .tmp_fd = -EBADF, .new_fd = -EBADF })

/* Why a reader refused a queue file, one line for the log and the
 * quarantine reason: "a FIFO, not a regular file", "2 hard links", ... */
#define SPOOL_REFUSAL_MAX 96

/* "ID.STAGE": a stage name is lower-case letters, at most 16 */
#define SPOOL_TMP_NAME_MAX (QUEUE_ID_LEN + 1 + 16 + 1)

typedef struct SpoolFile {
        SpoolDir *dir;
        int fd;
        char id[QUEUE_ID_LEN + 1];
        char tmp_name[SPOOL_TMP_NAME_MAX];
        bool in_tmp;            /* ours to publish or abort */
        bool reused;            /* a spare being overwritten: cut to size before the sync */
        uint64_t size;          /* bytes written */
} SpoolFile;

#define SPOOL_FILE_NULL ((SpoolFile) { .fd = -EBADF })

typedef enum SpoolPublishFlags {
        SPOOL_NOREPLACE = 1 << 0,       /* fail with -EEXIST if new/ID exists (fresh IDs) */
        SPOOL_SYNCED = 1 << 1,          /* the file is already fsynced */
        SPOOL_NO_DIRSYNC = 1 << 2,      /* caller syncs new/ itself (batches) */
        /* The files carry a check (envelope version 2), so a reader can
         * tell one a crash cut short: spool_publish_batch() renames them
         * first and then syncs them and new/ all at once, one device flush
         * instead of two in a row. */
        SPOOL_CHECKED = 1 << 3,
} SpoolPublishFlags;

int spool_root_open(const char *path, bool create, int *ret_fd);
/* The queue's path under the spool root ("deliver/queue"); NULL for SPOOL_QUEUE_OWN. */
const char *spool_queue_path(SpoolQueue q);
/* Opens queue @q under the spool root; with @create, what is missing of
 * it is made (deliver/ and hold/ are, on first use). */
int spool_queue_open(int root_fd, SpoolQueue q, bool create, SpoolDir *ret);
/* A maildir outside the spool (capture_dir): tmp/, new/ and cur/, made
 * as needed, written through the same SpoolFile functions. */
int spool_maildir_open(const char *path, SpoolDir *ret);
int spool_dir_open(int root_fd, const char *name, bool create, SpoolDir *ret);
void spool_dir_set_owners(SpoolDir *d, SpoolQueue queue, const SpoolOwners *owners);
void spool_dir_done(SpoolDir *d);
int spool_dir_sync(SpoolDir *d);

int spool_tmp_name(const char *id, const char *stage, char ret[static SPOOL_TMP_NAME_MAX]);
int spool_file_start(SpoolDir *d, const char *id, const char *stage, int fd, SpoolFile *ret);
int spool_file_create(SpoolDir *d, const char *id, const char *stage, SpoolFile *ret);
int spool_file_write(SpoolFile *f, const void *p, size_t n);
int spool_file_rewind(SpoolFile *f);
int spool_file_pwrite(SpoolFile *f, const void *p, size_t n, uint64_t offset);
int spool_file_read_back(SpoolFile *f, size_t max, Buf *out);
int spool_file_rewrite(SpoolFile *f, const void *p, size_t n);
int spool_file_sync(SpoolFile *f);
int spool_file_publish(SpoolFile *f, unsigned flags);
int spool_file_publish_as(SpoolFile *f, const char *name, unsigned flags);
int spool_publish_batch(SpoolFile *files, size_t n, unsigned flags);
void spool_file_abort(SpoolFile *f);

/* still in tmp/: not (yet) published */
static inline bool spool_file_pending(const SpoolFile *f) {
        return f->in_tmp;
}

int spool_scan_new(SpoolDir *d, char ***ret_ids, size_t *ret_n);
void spool_ids_free(char **ids, size_t n);
int spool_clean_tmp(SpoolDir *d, const char *stage, unsigned *ret_removed);
int spool_unlink_suffixed(int dir_fd, const char *suffix, unsigned *ret_removed);
int spool_open_checked(int dir_fd, const char *name, int mode, const SpoolOwners *owners, SpoolQueue queue,
                       struct stat *ret_st, char refusal[static SPOOL_REFUSAL_MAX]);
int spool_open_new(SpoolDir *d, const char *id, int *ret_fd, struct stat *ret_st,
                   char refusal[static SPOOL_REFUSAL_MAX]);
int spool_read_new(SpoolDir *d, const char *id, size_t max, Buf *out, char refusal[static SPOOL_REFUSAL_MAX]);
int spool_remove_new(SpoolDir *d, const char *id, bool sync);
int spool_move(SpoolDir *from, SpoolDir *to, const char *id, bool sync);
int spool_quarantine(SpoolDir *from, SpoolDir *quarantine, const char *id, const char *stage, const char *reason);
/* "ID.reason", the name of message @id's quarantine reason */
int spool_reason_name(const char *id, char ret[static SPOOL_REASON_NAME_MAX]);
int spool_remove_reason(SpoolDir *quarantine, const char *id);

/* control/flush: a request is a file named "all" or a queue ID that
 * `pochtar flush` (root) leaves and deliver acts on and removes. */
int spool_flush_open(int root_fd, bool create, int *ret_fd);
bool spool_flush_name_valid(const char *name);
int spool_flush_request(int root_fd, const char *name);
void spool_remove_batch(SpoolDir *d, char * const *ids, size_t n, int *results);
int spool_exists(SpoolDir *d, const char *id);
