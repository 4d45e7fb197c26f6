/* SPDX-License-Identifier: MIT */
/*
 * Durable hand-over between stages, maildir-style. The invariant: a file
 * in new/ is complete and durable; a file in tmp/ is nothing yet. Every
 * function takes directory fds, never builds a path string from outside
 * input, and opens with O_NOFOLLOW and O_NONBLOCK; a reader opens another
 * stage's file only through spool_open_checked().
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "shared/concurrent.h"
#include "shared/macro.h"
#include "shared/spool-owner.h"
#include "shared/spool.h"
#include "shared/fd-util.h"

int spool_root_open(const char *path, bool create, int *ret_fd) {
        int fd;

        if (create && mkdir(path, SPOOL_DIR_MODE) < 0 && errno != EEXIST)
                return -errno;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

static int open_subdir(int parent, const char *name, bool create, int *ret_fd) {
        int fd;

        if (create && mkdirat(parent, name, SPOOL_DIR_MODE) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int spool_dir_open(int root_fd, const char *name, bool create, SpoolDir *ret) {
        SpoolDir d = SPOOL_DIR_NULL;
        int r;

        r = open_subdir(root_fd, name, create, &d.fd);
        if (r >= 0)
                r = open_subdir(d.fd, "tmp", create, &d.tmp_fd);
        if (r >= 0)
                r = open_subdir(d.fd, "new", create, &d.new_fd);
        if (r >= 0) {
                d.name = strdup(name);
                if (!d.name)
                        r = -ENOMEM;
        }
        if (r < 0) {
                spool_dir_done(&d);
                return r;
        }
        *ret = d;
        return 0;
}

static const char * const queue_paths[_SPOOL_QUEUE_MAX] = {
        [SPOOL_QUEUE_INCOMING] = "incoming",
        [SPOOL_QUEUE_SIGNED] = "signed",
        [SPOOL_QUEUE_DELIVER] = "deliver/queue",
        [SPOOL_QUEUE_DELIVER_STATE] = "deliver/state",
        [SPOOL_QUEUE_QUARANTINE] = "quarantine",
        [SPOOL_QUEUE_HOLD_INCOMING] = "hold/incoming",
        [SPOOL_QUEUE_HOLD_SIGNED] = "hold/signed",
};

const char *spool_queue_path(SpoolQueue q) {
        return q >= 0 && q < _SPOOL_QUEUE_MAX ? queue_paths[q] : NULL;
}

/* @path under @root_fd, each component without following links: the
 * directory that holds its last component, and that component. */
static int open_parent(int root_fd, const char *path, bool create, int *ret_fd, const char **ret_last) {
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *first = NULL;

        if (!slash) {
                *ret_fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
                *ret_last = path;
                return *ret_fd < 0 ? -errno : 0;
        }
        first = strndup(path, (size_t) (slash - path));
        if (!first)
                return -ENOMEM;
        *ret_last = slash + 1;
        return open_subdir(root_fd, first, create, ret_fd);
}

/**
 * spool_queue_open() - queue @q under the spool root @root_fd, its reader's
 * queue kind noted (spool_dir_set_owners() adds the owners).
 */
int spool_queue_open(int root_fd, SpoolQueue q, bool create, SpoolDir *ret) {
        _cleanup_close_ int parent = -EBADF;
        const char *path = spool_queue_path(q), *last;
        int r;

        if (!path)
                return -EINVAL;
        r = open_parent(root_fd, path, create, &parent, &last);
        if (r >= 0)
                r = spool_dir_open(parent, last, create, ret);
        if (r >= 0) {
                free(ret->name);
                ret->name = strdup(path);
                if (!ret->name) {
                        spool_dir_done(ret);
                        return -ENOMEM;
                }
                ret->queue = q;
        }
        return r;
}

int spool_maildir_open(const char *path, SpoolDir *ret) {
        _cleanup_close_ int root = -EBADF, cur = -EBADF;
        int r;

        r = spool_root_open(path, true, &root);
        if (r >= 0)
                r = open_subdir(root, "cur", true, &cur);
        if (r >= 0)
                r = spool_dir_open(root, ".", true, ret);
        return r;
}

void spool_dir_done(SpoolDir *d) {
        d->fd = safe_close(d->fd);
        d->tmp_fd = safe_close(d->tmp_fd);
        d->new_fd = safe_close(d->new_fd);
        free(d->name);
        d->name = NULL;
}

/**
 * spool_dir_set_owners() - what a reader of @d accepts: files owned by a
 * writer of @queue, as @owners (kept by pointer) resolved them, by root
 * or by this process. Every read through @d needs it; spares taken from
 * @d's tmp/ must be this process's own.
 */
void spool_dir_set_owners(SpoolDir *d, SpoolQueue queue, const SpoolOwners *owners) {
        d->queue = queue;
        d->owners = owners;
}

int spool_dir_sync(SpoolDir *d) {
        return RET_NERRNO(fsync(d->new_fd));
}

static bool stage_name_valid(const char *stage) {
        size_t n = strlen(stage);

        if (n == 0 || n > 16)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(stage[i] >= 'a' && stage[i] <= 'z'))
                        return false;
        return true;
}

/**
 * spool_file_start() - a SpoolFile for message @id written by @stage into
 * @d's tmp/ as "ID.STAGE". With @fd >= 0, that file is already there and
 * open (a spare renamed to the name, shared/spool-spare.c) and is
 * overwritten; else it is created. Takes @fd, also on failure.
 */
int spool_file_start(SpoolDir *d, const char *id, const char *stage, int fd, SpoolFile *ret) {
        SpoolFile f = SPOOL_FILE_NULL;
        int r;

        r = spool_tmp_name(id, stage, f.tmp_name);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        f.dir = d;
        memcpy(f.id, id, QUEUE_ID_LEN + 1);
        f.reused = fd >= 0;
        f.fd = fd >= 0 ? fd : openat(d->tmp_fd, f.tmp_name,
                                     O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                                     SPOOL_FILE_MODE);
        if (f.fd < 0)
                return -errno;
        f.in_tmp = true;
        *ret = f;
        return 0;
}

/**
 * spool_tmp_name() - "ID.STAGE", the name message @id has in tmp/ while
 * @stage writes it. The stage in the name lets each stage clean its own
 * leftovers at start without touching another stage's file in flight.
 */
int spool_tmp_name(const char *id, const char *stage, char ret[static SPOOL_TMP_NAME_MAX]) {
        if (!queue_id_valid(id) || !stage_name_valid(stage))
                return -EINVAL;
        (void) snprintf(ret, SPOOL_TMP_NAME_MAX, "%s.%s", id, stage);
        return 0;
}

/**
 * spool_file_create() - start writing message @id into @d's tmp/. An
 * existing tmp file of the same name is a leftover of a crashed attempt
 * at the same hand-over and is truncated.
 */
int spool_file_create(SpoolDir *d, const char *id, const char *stage, SpoolFile *ret) {
        return spool_file_start(d, id, stage, -EBADF, ret);
}

int spool_file_write(SpoolFile *f, const void *p, size_t n) {
        int r = write_full_fd(f->fd, p, n);

        if (r >= 0)
                f->size += n;
        return r;
}

/**
 * spool_file_rewind() - go back to where the next write started (after a
 * failed one), to write it again.
 */
int spool_file_rewind(SpoolFile *f) {
        return lseek(f->fd, (off_t) f->size, SEEK_SET) < 0 ? -errno : 0;
}

/**
 * spool_file_pwrite() - overwrite @n bytes at @offset of what was written
 * (the check of a version 2 envelope, known once the message is in).
 */
int spool_file_pwrite(SpoolFile *f, const void *p, size_t n, uint64_t offset) {
        ssize_t k;

        if (offset > f->size || n > f->size - offset)
                return -EINVAL;
        k = pwrite(f->fd, p, n, (off_t) offset);
        if (k < 0)
                return -errno;
        return (size_t) k == n ? 0 : -EIO;
}

/**
 * spool_file_read_back() - what was written to @f so far (at most @max
 * bytes), into @out: a writer that must change what it streamed (receive
 * re-encoding long lines) reads its own file again. The name must still
 * be the very file @f writes.
 */
int spool_file_read_back(SpoolFile *f, size_t max, Buf *out) {
        _cleanup_close_ int fd = -EBADF;
        struct stat a, b;
        int r;

        if (!f->in_tmp || f->size > max)
                return -EINVAL;
        fd = openat(f->dir->tmp_fd, f->tmp_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &a) < 0 || fstat(f->fd, &b) < 0)
                return -errno;
        if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
                return -ESTALE;
        /* a reused spare may still hold an older, longer tail */
        r = read_full_stream(fd, a.st_size, (size_t) a.st_size, out);
        if (r >= 0 && out->len > f->size)
                out->len = f->size;
        return r;
}

/**
 * spool_file_rewrite() - replace everything written to @f by @p[0..@n).
 */
int spool_file_rewrite(SpoolFile *f, const void *p, size_t n) {
        if (ftruncate(f->fd, 0) < 0 || lseek(f->fd, 0, SEEK_SET) < 0)
                return -errno;
        f->size = 0;
        return spool_file_write(f, p, n);
}

/* a reused file may be longer than what we wrote: cut the old tail */
static int file_trim(SpoolFile *f) {
        return f->reused ? RET_NERRNO(ftruncate(f->fd, (off_t) f->size)) : 0;
}

int spool_file_sync(SpoolFile *f) {
        int r = file_trim(f);

        if (r < 0)
                return r;
        /* fdatasync: the size is data, so it is flushed too; the directory
         * entry is made durable by the fsync of new/ after the rename. */
        return RET_NERRNO(fdatasync(f->fd));
}

/* @name: new/'s entry, f->id for a message or a sidecar name beside it */
static int file_rename_to(SpoolFile *f, const char *name, unsigned flags) {
        int r;

        /* Closed first: closing it in new/ would raise a second inotify
         * event (IN_CLOSE_WRITE) for a file the reader already has. */
        f->fd = safe_close(f->fd);
        r = RET_NERRNO(renameat2(f->dir->tmp_fd, f->tmp_name, f->dir->new_fd, name,
                                 (flags & SPOOL_NOREPLACE) ? RENAME_NOREPLACE : 0));
        if (r < 0)
                return r;
        f->in_tmp = false;
        return 0;
}

static int file_rename(SpoolFile *f, unsigned flags) {
        return file_rename_to(f, f->id, flags);
}

/**
 * spool_file_publish_as() - spool_file_publish() under the name @name in
 * new/ instead of the message's ID (a maildir's unique file name).
 */
int spool_file_publish_as(SpoolFile *f, const char *name, unsigned flags) {
        int r;

        if (!name[0] || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                return -EINVAL;
        if (!(flags & SPOOL_SYNCED)) {
                r = spool_file_sync(f);
                if (r < 0)
                        return r;
        }
        r = file_rename_to(f, name, flags);
        if (r < 0)
                return r;
        return (flags & SPOOL_NO_DIRSYNC) ? 0 : spool_dir_sync(f->dir);
}

/**
 * spool_file_publish() - the hand-over: fsync the file, rename tmp/ID.STAGE
 * to new/ID, fsync new/. Only after this returns 0 may the caller
 * acknowledge the message. On failure the tmp file is left for the caller
 * to abort.
 */
int spool_file_publish(SpoolFile *f, unsigned flags) {
        int r;

        if (!(flags & SPOOL_SYNCED)) {
                r = spool_file_sync(f);
                if (r < 0)
                        return r;
        }
        r = file_rename(f, flags);
        if (r < 0)
                return r;
        if (!(flags & SPOOL_NO_DIRSYNC))
                return spool_dir_sync(f->dir);
        return 0;
}

typedef struct SyncFiles {
        SpoolFile *files;
        int result;             /* first error (atomic) */
} SyncFiles;

static void sync_one(size_t i, void *userdata) {
        SyncFiles *s = userdata;
        int r = spool_file_sync(&s->files[i]), zero = 0;

        if (r < 0)
                (void) __atomic_compare_exchange_n(&s->result, &zero, r, false, __ATOMIC_RELAXED,
                                                   __ATOMIC_RELAXED);
}

/* fdatasync() every file of a batch concurrently (shared/concurrent.c);
 * the first error. */
static int sync_files(SpoolFile *files, size_t n) {
        SyncFiles s = { .files = files };

        run_concurrently(n, sync_one, &s);
        return s.result;
}

/* Whether files[@i]'s new/ is that of an earlier file of the batch:
 * each directory is synced once per batch. */
static bool dir_seen_before(const SpoolFile *files, size_t i) {
        for (size_t j = 0; j < i; j++)
                if (files[j].dir == files[i].dir)
                        return true;
        return false;
}

typedef struct LateSync {
        const int *fds;         /* read-only, of the renamed files */
        size_t n_files;
        SpoolDir * const *dirs; /* each distinct new/ once */
        int result;             /* first error (atomic) */
} LateSync;

static void late_sync_one(size_t i, void *userdata) {
        LateSync *s = userdata;
        int r, zero = 0;

        r = i < s->n_files ? RET_NERRNO(fdatasync(s->fds[i])) : spool_dir_sync(s->dirs[i - s->n_files]);
        if (r < 0)
                (void) __atomic_compare_exchange_n(&s->result, &zero, r, false, __ATOMIC_RELAXED,
                                                   __ATOMIC_RELAXED);
}

/*
 * SPOOL_CHECKED: rename first, then fdatasync() every file and fsync()
 * every new/ concurrently. Readers see whole files (everything was
 * written before the rename); only a crash before the syncs end can leave
 * a file in new/ whose blocks did not all reach the disk, and its check
 * tells the reader so. A file is synced through a read-only descriptor:
 * closing one opened for writing once it is in new/ would raise a second
 * inotify event for it (IN_CLOSE_WRITE).
 */
static int publish_checked(SpoolFile *files, size_t n, unsigned flags) {
        _cleanup_free_ int *fds = calloc(n, sizeof(int));
        _cleanup_free_ SpoolDir **dirs = calloc(n, sizeof(SpoolDir *));
        size_t n_renamed = 0, n_dirs = 0;
        LateSync s = {};
        int r = 0;

        if (!fds || !dirs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                SpoolFile *f = &files[i];
                int fd = -EBADF;

                r = file_trim(f);
                if (r >= 0 && (fd = openat(f->dir->tmp_fd, f->tmp_name,
                                          O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0)
                        r = -errno;
                if (r >= 0)
                        r = file_rename(f, flags);
                if (r < 0) {
                        safe_close(fd);
                        break;
                }
                fds[n_renamed++] = fd;
                if (!dir_seen_before(files, i))
                        dirs[n_dirs++] = f->dir;
        }
        s = (LateSync) { .fds = fds, .n_files = n_renamed, .dirs = dirs };
        run_concurrently(n_renamed + n_dirs, late_sync_one, &s);
        for (size_t i = 0; i < n_renamed; i++)
                safe_close(fds[i]);
        return r < 0 ? r : s.result;
}

/**
 * spool_publish_batch() - group commit: sync every file, rename them all,
 * then fsync each distinct new/ once. Returns the first error. On any
 * error nothing may be acknowledged: a failed directory fsync leaves
 * renamed files that are not durable. Files not renamed
 * (spool_file_pending()) stay in tmp/ for the caller to abort; renamed
 * ones will be processed by the next
 * stage, so a caller that refuses them (452) may cause a duplicate, never
 * a loss. With SPOOL_CHECKED the order is rename, then every sync at once
 * (publish_checked()).
 */
int spool_publish_batch(SpoolFile *files, size_t n, unsigned flags) {
        int r = 0, k;

        if (flags & SPOOL_CHECKED)
                return publish_checked(files, n, flags);

        if (!(flags & SPOOL_SYNCED)) {
                r = sync_files(files, n);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n && r >= 0; i++)
                r = file_rename(&files[i], flags);
        for (size_t i = 0; i < n; i++) {
                if (dir_seen_before(files, i))
                        continue;
                k = spool_dir_sync(files[i].dir);
                if (k < 0 && r >= 0)
                        r = k;
        }
        return r;
}

void spool_file_abort(SpoolFile *f) {
        f->fd = safe_close(f->fd);
        if (f->in_tmp) {
                (void) unlinkat(f->dir->tmp_fd, f->tmp_name, 0);
                f->in_tmp = false;
        }
}

static int id_cmp(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

void spool_ids_free(char **ids, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(ids[i]);
        free(ids);
}

typedef struct IdList {
        char **ids;
        size_t n, cap;
} IdList;

static int add_id(int dir_fd, const char *name, void *userdata) {
        IdList *l = userdata;
        int r;

        if (!queue_id_valid(name))
                return 0;       /* not ours to touch */
        r = ARRAY_GROW(l->ids, l->cap, l->n, 64);
        if (r < 0)
                return r;
        l->ids[l->n] = strdup(name);
        if (!l->ids[l->n])
                return -ENOMEM;
        l->n++;
        return 0;
}

/**
 * spool_scan_new() - list new/ as sorted queue IDs (oldest first). Names
 * that are not queue IDs are skipped: they are not ours to touch.
 */
int spool_scan_new(SpoolDir *d, char ***ret_ids, size_t *ret_n) {
        IdList l = {};
        int r;

        r = dir_each(d->new_fd, add_id, &l);
        if (r < 0) {
                spool_ids_free(l.ids, l.n);
                return r;
        }
        if (l.n)
                qsort(l.ids, l.n, sizeof(char *), id_cmp);
        *ret_ids = l.ids;
        *ret_n = l.n;
        return 0;
}

/**
 * spool_clean_tmp() - remove this stage's leftovers ("ID.STAGE") from tmp/.
 * Call at start-up only, before the stage writes anything: then every such
 * file is from a previous, dead instance.
 */
int spool_clean_tmp(SpoolDir *d, const char *stage, unsigned *ret_removed) {
        char suffix[1 + 16 + 1];

        if (!stage_name_valid(stage))
                return -EINVAL;
        (void) snprintf(suffix, sizeof(suffix), ".%s", stage);
        return spool_unlink_suffixed(d->tmp_fd, suffix, ret_removed);
}

typedef struct Suffixed {
        const char *suffix;
        unsigned removed;
        int error;
} Suffixed;

static int unlink_suffixed(int dir_fd, const char *name, void *userdata) {
        Suffixed *s = userdata;
        size_t k = strlen(s->suffix);
        char id[QUEUE_ID_LEN + 1];

        if (strlen(name) != QUEUE_ID_LEN + k || memcmp(name + QUEUE_ID_LEN, s->suffix, k) != 0)
                return 0;
        memcpy(id, name, QUEUE_ID_LEN);
        id[QUEUE_ID_LEN] = 0;
        if (!queue_id_valid(id))
                return 0;
        if (unlinkat(dir_fd, name, 0) >= 0)
                s->removed++;
        else if (errno != ENOENT && s->error >= 0)
                s->error = -errno;      /* the first error, and on with the rest */
        return 0;
}

/**
 * spool_unlink_suffixed() - unlink every "ID" + @suffix in @dir_fd, ID a
 * queue ID; the number removed in *@ret_removed, the first error returned.
 */
int spool_unlink_suffixed(int dir_fd, const char *suffix, unsigned *ret_removed) {
        Suffixed s = { .suffix = suffix };
        int r;

        r = dir_each(dir_fd, unlink_suffixed, &s);
        if (ret_removed)
                *ret_removed = s.removed;
        return r < 0 ? r : s.error;
}

_printf_(3, 4) static int refuse(char refusal[static SPOOL_REFUSAL_MAX], int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(refusal, SPOOL_REFUSAL_MAX, fmt, ap);
        va_end(ap);
        return r;
}

/* The errno a reader refuses an inode of @mode with, not a regular file */
static int type_errno(mode_t mode) {
        switch (mode & S_IFMT) {
        case S_IFIFO:
                return -ESPIPE;
        case S_IFLNK:
                return -ELOOP;
        case S_IFDIR:
                return -EISDIR;
        case S_IFCHR:
        case S_IFBLK:
                return -ENODEV;
        case S_IFSOCK:
                return -ENXIO;
        default:
                return -EBADMSG;
        }
}

/* What a reader accepts: a regular file with one name and an expected
 * owner. Each refusal has its own errno. */
static int check_file(const struct stat *st, const SpoolOwners *owners, SpoolQueue queue,
                      char refusal[static SPOOL_REFUSAL_MAX]) {
        if (!S_ISREG(st->st_mode))
                return refuse(refusal, type_errno(st->st_mode), "%s, not a regular file",
                              file_type_name(st->st_mode));
        if (st->st_nlink == 0)
                return -ENOENT;         /* unlinked since we found it */
        if (st->st_nlink != 1)
                return refuse(refusal, -EMLINK, "%ju hard links, not one", (uintmax_t) st->st_nlink);
        if (!spool_owner_allowed(owners, queue, st->st_uid))
                return refuse(refusal, -EPERM, "owned by uid %ju, which does not write this queue",
                              (uintmax_t) st->st_uid);
        return 0;
}

/**
 * spool_open_checked() - the one way a stage or the CLI opens a queue
 * file someone else may have put there. It looks before it opens: the
 * name must be a regular file with one link, owned by root, by us or by
 * a writer of @queue (spool-owner.c), since opening a FIFO blocks and
 * opening a device has effects of its own. Then it opens it (@mode:
 * O_RDONLY, or O_WRONLY for a spare) non-blocking and without following
 * links, and checks again what it got: the name may have been replaced
 * in between. A file descriptor, or -ENOENT when the name is gone, or
 * another negative errno: a refusal when @refusal is not empty (why, in
 * a few words, for the log and the quarantine reason), else a failure
 * to retry later.
 */
int spool_open_checked(int dir_fd, const char *name, int mode, const SpoolOwners *owners, SpoolQueue queue,
                       struct stat *ret_st, char refusal[static SPOOL_REFUSAL_MAX]) {
        struct stat seen, st;
        int fd, r;

        refusal[0] = 0;
        if (!owners || (mode != O_RDONLY && mode != O_WRONLY))
                return -EINVAL;
        if (fstatat(dir_fd, name, &seen, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        r = check_file(&seen, owners, queue, refusal);
        if (r < 0)
                return r;
        fd = openat(dir_fd, name, mode | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                /* it was a regular file a moment ago: now a link (ELOOP),
                 * a FIFO without a reader, a socket or a device (ENXIO,
                 * ENODEV) or a directory (EISDIR, for O_WRONLY) */
                if (r == -ELOOP || r == -ENXIO || r == -ENODEV || r == -EISDIR)
                        return refuse(refusal, -ESTALE, "replaced while it was being opened");
                return r;
        }
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (st.st_dev != seen.st_dev || st.st_ino != seen.st_ino)
                r = refuse(refusal, -ESTALE, "replaced while it was being opened");
        else
                r = check_file(&st, owners, queue, refusal);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        if (ret_st)
                *ret_st = st;
        return fd;
}

/**
 * spool_open_new() - open new/ID of @d for reading, checked as
 * spool_open_checked() says, against @d's owners (spool_dir_set_owners()).
 */
int spool_open_new(SpoolDir *d, const char *id, int *ret_fd, struct stat *ret_st,
                   char refusal[static SPOOL_REFUSAL_MAX]) {
        int fd;

        refusal[0] = 0;
        if (!queue_id_valid(id))
                return -EINVAL;
        fd = spool_open_checked(d->new_fd, id, O_RDONLY, d->owners, d->queue, ret_st, refusal);
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

/**
 * spool_read_new() - new/ID of @d, whole, at most @max bytes, opened by
 * spool_open_new(): a refusal says why in @refusal.
 */
int spool_read_new(SpoolDir *d, const char *id, size_t max, Buf *out, char refusal[static SPOOL_REFUSAL_MAX]) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        r = spool_open_new(d, id, &fd, &st, refusal);
        if (r < 0)
                return r;
        return read_full_stream(fd, st.st_size, max, out);
}

int spool_remove_new(SpoolDir *d, const char *id, bool sync) {
        if (!queue_id_valid(id))
                return -EINVAL;
        if (unlinkat(d->new_fd, id, 0) < 0)
                return -errno;
        return sync ? spool_dir_sync(d) : 0;
}

/**
 * spool_move() - move new/ID of one queue to new/ID of another on the same
 * file system (claim, quarantine, hold). The file is already durable; the
 * destination directory is synced before the source, so a crash leaves the
 * file in at least one of them.
 */
int spool_move(SpoolDir *from, SpoolDir *to, const char *id, bool sync) {
        int r;

        if (!queue_id_valid(id))
                return -EINVAL;
        r = RET_NERRNO(renameat(from->new_fd, id, to->new_fd, id));
        if (r < 0 || !sync)
                return r;
        r = spool_dir_sync(to);
        if (r < 0)
                return r;
        return spool_dir_sync(from);
}

/**
 * spool_quarantine() - set message @id aside: write the one-line @reason
 * as @quarantine's new/ID.reason (through tmp/ID.STAGE, synced, like any
 * hand-over), then move new/ID from @from beside it. One sync of new/
 * makes both entries durable; a crash before it leaves the message in
 * @from, to be tried again, at worst with a stale reason file.
 */
int spool_quarantine(SpoolDir *from, SpoolDir *quarantine, const char *id, const char *stage, const char *reason) {
        char name[SPOOL_REASON_NAME_MAX];
        SpoolFile f = SPOOL_FILE_NULL;
        int r;

        r = spool_file_create(quarantine, id, stage, &f);       /* validates both names */
        if (r < 0)
                return r;
        r = spool_file_write(&f, reason, strlen(reason));
        if (r >= 0)
                r = spool_file_write(&f, "\n", 1);
        if (r >= 0)
                r = spool_file_sync(&f);
        if (r >= 0)
                r = spool_reason_name(id, name);
        if (r >= 0)
                r = file_rename_to(&f, name, 0);
        spool_file_abort(&f);
        if (r < 0)
                return r;
        return spool_move(from, quarantine, id, true);
}

typedef struct RemoveBatch {
        SpoolDir *dir;
        char * const *ids;
        int *results;
} RemoveBatch;

static void remove_one(size_t i, void *userdata) {
        RemoveBatch *b = userdata;

        b->results[i] = spool_remove_new(b->dir, b->ids[i], false);
}

/**
 * spool_remove_batch() - unlink new/ID for each of @ids, concurrently (see
 * shared/concurrent.c); @results[i] is 0 or the negative errno for ids[i].
 * new/ is not synced: the caller syncs it once for the batch.
 */
void spool_remove_batch(SpoolDir *d, char * const *ids, size_t n, int *results) {
        RemoveBatch b = { .dir = d, .ids = ids, .results = results };

        run_concurrently(n, remove_one, &b);
}

int spool_exists(SpoolDir *d, const char *id) {
        struct stat st;

        if (!queue_id_valid(id))
                return -EINVAL;
        if (fstatat(d->new_fd, id, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 1;
}

int spool_reason_name(const char *id, char ret[static SPOOL_REASON_NAME_MAX]) {
        if (!queue_id_valid(id))
                return -EINVAL;
        (void) snprintf(ret, SPOOL_REASON_NAME_MAX, "%s" SPOOL_REASON_SUFFIX, id);
        return 0;
}

/* The reason beside quarantined message @id, removed and new/ synced. */
int spool_remove_reason(SpoolDir *quarantine, const char *id) {
        char name[SPOOL_REASON_NAME_MAX];
        int r;

        r = spool_reason_name(id, name);
        if (r < 0)
                return r;
        if (unlinkat(quarantine->new_fd, name, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        return spool_dir_sync(quarantine);
}

#define FLUSH_DIR "control/flush"

/**
 * spool_flush_open() - control/flush under the spool root. It belongs to
 * deliver, which removes the requests; deliver creates it (@create), the
 * CLI as root only opens it.
 */
int spool_flush_open(int root_fd, bool create, int *ret_fd) {
        _cleanup_close_ int parent = -EBADF;
        const char *last;
        int r, fd;

        r = open_parent(root_fd, FLUSH_DIR, create, &parent, &last);
        if (r < 0)
                return r;
        /* deliver's user and root's `pochtar flush` both write here */
        if (create && mkdirat(parent, last, 0770) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(parent, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

bool spool_flush_name_valid(const char *name) {
        return streq(name, "all") || queue_id_valid(name);
}

/**
 * spool_flush_request() - leave a request: deliver acts on the file's
 * IN_CLOSE_WRITE, its content is unused.
 */
int spool_flush_request(int root_fd, const char *name) {
        _cleanup_close_ int dir = -EBADF, fd = -EBADF;
        int r;

        if (!spool_flush_name_valid(name))
                return -EINVAL;
        r = spool_flush_open(root_fd, false, &dir);
        if (r < 0)
                return r;
        /* O_NONBLOCK: deliver's user may write here too, and a FIFO put
         * under this name must fail the request (ENXIO), not hang it. */
        fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0660);
        return fd < 0 ? -errno : 0;
}
