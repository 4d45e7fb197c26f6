/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * A few resident threads that run one batch of blocking calls at a time
 * together (the fdatasync()s and unlink()s of spool.c's batches). See
 * concurrent.c for why.
 */
void run_concurrently(size_t n, void (*op)(size_t i, void *userdata), void *userdata);
