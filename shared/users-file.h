/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config-build.h"
#include "shared/buf.h"
#include "shared/limits.h"

/*
 * The submission users file (pochtar-users(5)), one reader and one writer
 * for receive's AUTH and `pochtar user`:
 *
 *     NAME:HASH:SENDER[,SENDER...]
 *
 * NAME is the AUTH login, HASH a crypt(3) string (a leading '!' or '*'
 * locks the account), each SENDER an address or "@domain" the user may
 * send as. '#' lines and blank lines are kept as they are, so a rewrite
 * loses no comment.
 */

/* Where the file is when nothing says otherwise ([submission] users). */
#define USERS_FILE_DEFAULT SYSCONFDIR "/pochtar/users"

/* A file larger than any sane one is refused before it is parsed. */
#define USERS_FILE_MAX (1024 * 1024)
#define USERS_MAX 10000
#define USER_HASH_MAX 512
#define USER_SENDERS_MAX 64

typedef struct UserEntry {
        char *name;
        char *hash;             /* the field as written, lock marks included */
        char **senders;         /* as written: "local@domain" or "@domain" */
        size_t n_senders;
        bool locked;            /* hash begins with '!' or '*': never matches */
        char *comments;         /* the '#' and blank lines above it, each ending in LF, or NULL */
} UserEntry;

typedef struct UsersFile {
        UserEntry *users;
        size_t n_users;
        char *trailer;          /* '#' and blank lines after the last user, or NULL */
} UsersFile;

/*
 * Pure: parses @text[0..@len). On a bad line returns -EINVAL with
 * *@ret_line (1-based) and @reason, e.g. "bad sender 'x': ..."; -EFBIG
 * past USERS_FILE_MAX, -ENOMEM. *@ret is only set on success.
 */
int users_file_parse(const char *text, size_t len, UsersFile *ret, unsigned *ret_line, char *reason,
                     size_t reason_size);
void users_file_done(UsersFile *u);

/* Exact, case-sensitive name; NULL when there is none. */
const UserEntry *users_file_find(const UsersFile *u, const char *name);

/*
 * Pure: whether @e may use @address as envelope sender or From: address:
 * the address itself is listed (compared case-insensitively), or its
 * domain is listed as "@domain" (case-insensitive; subdomains are not).
 * The null sender "" and a locked user never may.
 */
bool user_sender_allowed(const UserEntry *e, const char *address);

/* Writes @u back as text users_file_parse() reads to the same entries,
 * comments in place. */
int users_file_format(const UsersFile *u, Buf *out);

/*
 * Opens @path from @dir_fd (AT_FDCWD) as a secret file
 * (shared/secret-file.h: regular, 0600 or 0400, owned by root or
 * @service_uid, unless a copy under $CREDENTIALS_DIRECTORY), reads and
 * parses it. On failure *@ret_error (when not NULL) says
 * "PATH:LINE: reason" or "PATH: reason"; -ENOENT when the file does not
 * exist, -EPERM when it may not hold secrets, -EINVAL when it does not
 * parse, -EFBIG when too large.
 */
int users_file_load(int dir_fd, const char *path, uid_t service_uid, UsersFile *ret, char **ret_error);

/*
 * Field checks, the grammar users_file_parse() applies, for writers: 0 or
 * -EINVAL with @reason (may be NULL) saying why.
 */
int user_name_check(const char *name, char *reason, size_t reason_size);
int user_hash_check(const char *hash, char *reason, size_t reason_size);
int user_sender_check(const char *sender, char *reason, size_t reason_size);

/*
 * Edits for `pochtar user`. Each validates what it is given as the parser
 * would (-EINVAL with @reason), copies it, and leaves @u unchanged on
 * failure. users_file_add() refuses a name that exists (-EEXIST);
 * users_file_remove() keeps the removed user's comments, above the next
 * one; -ENOENT for a name that does not exist.
 */
int users_file_add(UsersFile *u, const char *name, const char *hash, char * const *senders, size_t n_senders,
                   char *reason, size_t reason_size);
int users_file_remove(UsersFile *u, const char *name);
int users_file_set_hash(UsersFile *u, const char *name, const char *hash, char *reason, size_t reason_size);
int users_file_set_senders(UsersFile *u, const char *name, char * const *senders, size_t n_senders,
                           char *reason, size_t reason_size);
