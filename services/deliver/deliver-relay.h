/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The relay login (relay_user): its password, read once at start from a
 * file only root or pochtar-deliver can access.
 */

/*
 * Pure: the password in @p[0..@n): its first line without the line end.
 * -EINVAL when that is empty or holds a NUL byte (AUTH would send other
 * bytes than the file's).
 */
int relay_password_parse(const uint8_t *p, size_t n, char **ret);

/*
 * The password from @path (relay_password_file) or, when NULL, from the
 * credential $CREDENTIALS_DIRECTORY/relay-password: opened without
 * blocking and without following a link, refused unless it is a safe
 * secret file (shared/secret-file.h). Logs why; -EINVAL for a file that
 * cannot be used, -ENOMEM.
 */
int relay_password_load(const char *path, char **ret);
