/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * A new password for the submission users file (`pochtar user add` and
 * `passwd`): read from the terminal or a script's stdin, never from the
 * command line (argv is visible to every user in ps), checked, and hashed
 * with the system's crypt(3) as yescrypt.
 */

/* Fewer characters than this need --allow-short. */
#define PASSWORD_MIN_CHARS 12
/* Longer lines are refused rather than cut. */
#define PASSWORD_MAX_BYTES 1024

/*
 * Pure: 0 when @pw[0..@n) may be a password: not empty, no control byte
 * (a CR of a script written on Windows would become part of it), at most
 * PASSWORD_MAX_BYTES, and at least PASSWORD_MIN_CHARS characters (UTF-8
 * sequences count once) unless @allow_short. Else -EINVAL with @reason.
 */
int password_check(const char *pw, size_t n, bool allow_short, char *reason, size_t size);

/*
 * Reads a password from @fd: when it is a terminal, with echo off,
 * prompting on stderr with @prompt and again to confirm; otherwise its
 * first line (up to LF or the end). Logs and returns a negative errno on
 * failure (-ECANCELED: the two did not match; -ENODATA: nothing to read).
 * *@ret is freed with password_free().
 */
int password_read(int fd, const char *prompt, char **ret);

/* Zeroes and frees a password or a buffer that held one. */
void password_free(char *pw);
static inline void password_freep(char **pw) {
        password_free(*pw);
}

/* A yescrypt hash of @pw, with a fresh salt from the kernel's random. */
int password_hash(const char *pw, char **ret);
