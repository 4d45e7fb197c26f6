/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * The one rule for files that hold a secret a service reads (DKIM private
 * keys for sign, the relay password for deliver), as OpenDKIM's
 * RequireSafeKeys: a regular file that nobody but its owner can access,
 * owned by root or by the service's own user. A secret that group or
 * others can read has already leaked; one that another user owns can be
 * swapped under the service. Copies under $CREDENTIALS_DIRECTORY are
 * systemd's (LoadCredential=), private to the service, and are exempt
 * from the mode and owner rule, not from being a regular file.
 *
 * Pure and silent: the caller has the file open (or stat()ed), names it
 * and logs.
 */

/* Pure: whether @path lies inside @credentials_dir (NULL or "": never). */
bool secret_file_in_credentials(const char *path, const char *credentials_dir);

/*
 * Pure: 0 when @st may hold a secret for a service running as @service_uid
 * (@exempt: a credentials copy, see above). Otherwise -EPERM and @reason
 * (of @size bytes) says what is wrong and how to fix it, e.g.
 * "mode 0644 lets group or others access it; chmod 0600 or 0400".
 */
int secret_file_check(const struct stat *st, uid_t service_uid, bool exempt, char *reason, size_t size);

/*
 * Opens @path (from @dir_fd, or AT_FDCWD) to read a secret, as every
 * reader of one does: without following a symbolic link (-ELOOP), so the
 * file checked is the file read; non-blocking, so a FIFO cannot hang the
 * reader; then secret_file_check() on what was opened, exempt when @path
 * lies in @credentials_dir (-EPERM). Returns the fd (close-on-exec) or a
 * negative errno, and then @reason says why, ready to follow "refused: "
 * (-ELOOP, -EPERM) or "cannot open: " (open(2)'s errors).
 */
int secret_file_open(int dir_fd, const char *path, uid_t service_uid, const char *credentials_dir, char *reason,
                     size_t size);
