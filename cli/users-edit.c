/* SPDX-License-Identifier: MIT */
/*
 * Locked, atomic changes of the users file (users-edit.h).
 */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "cli/users-edit.h"
#include "shared/fd-util.h"
#include "shared/log.h"
#include "shared/macro.h"
#include "shared/spool-owner.h"

/* pochtar-receive reads the file (the submission listener), so it owns it */
static void file_owner(uid_t *ret_uid, gid_t *ret_gid) {
        const struct passwd *pw = getpwnam(spool_writer_user(SPOOL_WRITER_RECEIVE));

        *ret_uid = pw ? pw->pw_uid : geteuid();
        *ret_gid = pw ? pw->pw_gid : getegid();
}

static int load(const char *path, uid_t owner, UsersFile *ret) {
        _cleanup_free_ char *error = NULL;
        int r;

        r = users_file_load(AT_FDCWD, path, owner, ret, &error);
        if (r == -ENOMEM)
                return log_oom();
        if (r == -ENOENT)
                return r;       /* the caller knows whether that is an error */
        if (r < 0) {
                if (error)
                        log_error("%s", error);
                else
                        log_error_errno(r, "%s: %m", path);
                return r;
        }
        return 0;
}

/* The directory of @path and the file's name in it. */
static int split_path(const char *path, char **ret_dir, char **ret_name) {
        const char *slash = strrchr(path, '/');
        char *dir, *name;

        if (slash && !slash[1])
                return log_error_errno(-EINVAL, "%s names a directory, not the users file.", path);
        dir = !slash ? strdup(".") : slash == path ? strdup("/") : strndup(path, (size_t) (slash - path));
        name = strdup(slash ? slash + 1 : path);
        if (!dir || !name) {
                free(dir);
                free(name);
                return log_oom();
        }
        *ret_dir = dir;
        *ret_name = name;
        return 0;
}

int users_read(const char *path, UsersFile *ret) {
        uid_t owner;
        gid_t group;
        int r;

        file_owner(&owner, &group);
        r = load(path, owner, ret);
        if (r == -ENOENT)
                return log_error_errno(r, "%s does not exist; 'pochtar user add' creates it.", path);
        return r;
}

int users_edit_begin(const char *path, bool create, UsersEdit *ret) {
        _cleanup_free_ char *dir = NULL, *name = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        UsersEdit e = { .path = path };
        int r;

        r = split_path(path, &dir, &name);
        if (r < 0)
                return r;
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return log_error_errno(-errno, "Cannot open the directory %s: %m", dir);
        /* Held until the rename: the read, the change and the write are
         * one step for every other `pochtar user`. Blocking: a change
         * takes milliseconds. */
        if (flock(dir_fd, LOCK_EX) < 0)
                return log_error_errno(-errno, "Cannot lock %s: %m", dir);
        file_owner(&e.owner, &e.group);
        r = load(path, e.owner, &e.users);
        if (r == -ENOENT && !create)
                return log_error_errno(r, "%s does not exist; 'pochtar user add' creates it.", path);
        if (r < 0 && r != -ENOENT)
                return r;
        e.dir_fd = TAKE_FD(dir_fd);
        e.name = TAKE_PTR(name);
        *ret = e;
        return 0;
}

int users_edit_commit(UsersEdit *e) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        Buf text = BUF_INIT(USERS_FILE_MAX);
        int r;

        r = users_file_format(&e->users, &text);
        if (r == -EMSGSIZE)
                r = log_error_errno(r, "%s would be larger than %d bytes; nothing changed.", e->path,
                                    USERS_FILE_MAX);
        else if (r < 0)
                r = log_oom();
        if (r >= 0 && asprintf(&tmp, ".%s.tmp", e->name) < 0)
                r = log_oom();
        if (r >= 0) {
                /* under the lock, a temporary file is a crash's leftover */
                if (unlinkat(e->dir_fd, tmp, 0) < 0 && errno != ENOENT)
                        r = log_error_errno(-errno, "Cannot remove the old temporary file %s next to %s: %m", tmp,
                                            e->path);
        }
        if (r >= 0) {
                fd = openat(e->dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        r = log_error_errno(-errno, "Cannot create %s next to %s: %m", tmp, e->path);
        }
        if (r >= 0 && (r = write_full_fd(fd, text.data, text.len)) < 0)
                log_error_errno(r, "Cannot write %s next to %s: %m", tmp, e->path);
        if (r >= 0 && (fchown(fd, e->owner, e->group) < 0 || fchmod(fd, 0600) < 0))
                r = log_error_errno(-errno, "Cannot give %s to uid %u with mode 0600: %m (run as root)", e->path,
                                    (unsigned) e->owner);
        if (r >= 0 && fsync(fd) < 0)
                r = log_error_errno(-errno, "Cannot write %s next to %s: %m", tmp, e->path);
        if (r >= 0 && renameat(e->dir_fd, tmp, e->dir_fd, e->name) < 0)
                r = log_error_errno(-errno, "Cannot replace %s: %m", e->path);
        if (r >= 0 && fsync(e->dir_fd) < 0)
                r = log_error_errno(-errno, "Cannot make the new %s durable: %m", e->path);
        if (r < 0 && fd >= 0)
                (void) unlinkat(e->dir_fd, tmp, 0);
        if (text.data)
                explicit_bzero(text.data, text.cap);
        buf_done(&text);
        return r;
}

void users_edit_done(UsersEdit *e) {
        users_file_done(&e->users);
        free(e->name);
        e->name = NULL;
        e->dir_fd = safe_close(e->dir_fd);      /* and with it the lock */
}
