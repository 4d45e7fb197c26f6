/* SPDX-License-Identifier: MIT */
#pragma once

#include "cli/queue-scan.h"

/*
 * The admin's operations on the spool, each a rename or an unlink of one
 * durable file with the directories synced (spool_move(),
 * spool_remove_new()), so a crash leaves every message in exactly one
 * place or, at worst, in two (never in none). See docs/spool-format.md,
 * "Hold and the admin's operations".
 */

/* Moves @id from incoming/ or signed/ to hold/<that queue>/. Sets *ret_from.
 * -ENOENT: in neither (already handed on, held, or never there). */
int queue_hold(int root_fd, const char *id, QueueWhere *ret_from);
/* Moves a held @id back to the queue it came from; sets *ret_to. */
int queue_release(int root_fd, const char *id, QueueWhere *ret_to);
/* Removes @id from every queue it is in (and its reason and deliver
 * state files); *ret_mask gets 1 << QueueWhere of each. -ENOENT if none. */
int queue_delete(int root_fd, const char *id, unsigned *ret_mask);
/* Asks deliver to retry @name (a queue ID, or "all") now: creates
 * control/flush/NAME, which deliver watches and removes. -ENOENT if
 * control/flush/ does not exist (deliver makes it at start). */
int queue_flush_request(int root_fd, const char *name);
/* Where @id is now: the first queue holding it, or -ENOENT. */
int queue_locate(int root_fd, const char *id, QueueWhere *ret);
