/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "shared/spool.h"

/*
 * Who may have written the files of each queue: the expected owners a
 * reader checks before it opens a queue file (spool_open_checked(),
 * docs/security.md "Who owns a queue file"). The table is data, in
 * spool-owner.c; a reader names the queue it reads
 * (spool_dir_set_owners()), and the stage users are looked up once, at
 * start, by spool_owners_resolve().
 */

/* The stages that write queue files, each its own system user
 * (units/pochtar.sysusers). */
typedef enum SpoolWriter {
        SPOOL_WRITER_RECEIVE,
        SPOOL_WRITER_SIGN,
        SPOOL_WRITER_DELIVER,
        _SPOOL_WRITER_MAX,
} SpoolWriter;

/* Not a uid: a stage user this system does not have. */
#define SPOOL_UID_NONE ((uid_t) -1)

/* uids as this process sees them: in a user namespace (PrivateUsers=) a
 * stage user that is not mapped there owns its files as the overflow uid */
typedef struct SpoolOwners {
        uid_t self;                             /* the effective uid */
        uid_t writers[_SPOOL_WRITER_MAX];       /* or SPOOL_UID_NONE */
} SpoolOwners;

int spool_owners_resolve(SpoolOwners *ret);
bool spool_owner_allowed(const SpoolOwners *o, SpoolQueue q, uid_t uid);
const char *spool_writer_user(SpoolWriter w);
