/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * /proc/PID/uid_map as the kernel prints it (user_namespaces(7)): one
 * line per range, "INSIDE OUTSIDE COUNT", decimal, separated by blanks.
 * Read from inside the namespace, OUTSIDE is a uid of the parent
 * namespace, which for the stages' sandbox (PrivateUsers=) is the host's.
 */

/* The largest map the kernel writes: 340 lines of three 10-digit fields. */
#define UID_MAP_MAX 16384

/**
 * uid_map_lookup() - the uid @outside has in the namespace whose uid_map
 * is @text (@n bytes): 0 and *@ret_inside, -ENOENT when no range maps it
 * (the kernel shows such an owner as the overflow uid), -EBADMSG when
 * @text is not a uid_map.
 */
int uid_map_lookup(const char *text, size_t n, uint32_t outside, uint32_t *ret_inside);
