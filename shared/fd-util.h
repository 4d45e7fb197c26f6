/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "shared/buf.h"

/*
 * Whole reads and writes of a file descriptor, bounded: every file a
 * stage or the CLI reads whole (queue files, tables, keys, the relay
 * password, a message on stdin) comes through here, so a too-large one
 * is -EFBIG, never a buffer that grows without end.
 */

/* Reads @fd to its end into @out: at most @max bytes, else -EFBIG. Any
 * kind of descriptor (a pipe, a socket); @size_hint, when known (a
 * regular file's st_size), only sizes the first allocation. */
int read_full_stream(int fd, off_t size_hint, size_t max, Buf *out);
/* The same for a regular file only (-EBADMSG for anything else). */
int read_full_fd(int fd, size_t max, Buf *out);
/* Writes all of @p[0..@n), across short writes and EINTR. */
int write_full_fd(int fd, const void *p, size_t n);

/* Calls @fn for each name in directory @dir_fd but "." and "..", in no
 * order (the fd itself is not moved: the directory is opened again). A
 * negative return from @fn stops the walk and is returned; else 0 or a
 * readdir error. */
typedef int (*DirEachFn)(int dir_fd, const char *name, void *userdata);
int dir_each(int dir_fd, DirEachFn fn, void *userdata);
