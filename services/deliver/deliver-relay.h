/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "services/deliver/deliver-tls.h"

/*
 * The relay login (relay_user): its password, read once at start from a
 * file only root or pochtar-deliver can access, and the TLS it travels
 * under. The password goes only into a TLS session whose certificate
 * verified for the relayhost name, unless the administrator wrote
 * relay_password_to_unverified_host = yes; never in clear text.
 */

/*
 * Pure: the TLS policy for the relay host. Without a login, @configured
 * (tls_policy). With one: verify; with @unverified_ok, @configured but at
 * least encrypt. -EINVAL when @configured is none with a login: that
 * configuration asks for the password in clear text.
 */
TlsPolicy relay_tls_policy(TlsPolicy configured, bool login, bool unverified_ok);

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
