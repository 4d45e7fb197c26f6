/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "shared/users-file.h"

/*
 * The users file as `pochtar user` changes it: one change at a time (the
 * file's directory is flock()ed from before the read to after the
 * rename, so two commands run at once both land), written whole to a
 * temporary file beside it, fsynced, renamed over it and the directory
 * fsynced, so receive reads the old file or the new one, never half.
 * The file is mode 0600 and belongs to pochtar-receive, the user that
 * reads it, when the system has that user; else to whoever runs the
 * command (a development tree).
 *
 * These functions log; each returns a negative errno: -EINVAL when the
 * existing file does not parse (the caller exits 78), -ENOENT when it
 * does not exist and may not be created.
 */
typedef struct UsersEdit {
        const char *path;       /* as given, for messages */
        int dir_fd;             /* its directory, locked */
        char *name;             /* its name in dir_fd */
        uid_t owner;            /* whom the file is written for */
        gid_t group;
        UsersFile users;
} UsersEdit;

/* Reads @path without locking, for a listing or a check before a prompt. */
int users_read(const char *path, UsersFile *ret);

/* Locks and reads @path; with @create a missing file is an empty one. */
int users_edit_begin(const char *path, bool create, UsersEdit *ret);
/* Writes e->users to the file. */
int users_edit_commit(UsersEdit *e);
/* Unlocks. */
void users_edit_done(UsersEdit *e);
