/* SPDX-License-Identifier: MIT */
#pragma once

#include "shared/spool.h"

/*
 * Spare files: a consumed queue file given back to the stage that wrote
 * it, which overwrites it instead of creating a new file
 * (docs/spool-format.md, "Spare files"). Bounded: a queue's tmp/ holds at
 * most SPOOL_SPARE_SLOTS spares, named "spare.NNN", each of at most
 * SPOOL_SPARE_SIZE_MAX bytes, and a writer that runs out of space drops
 * its spares before it gives up.
 */
#define SPOOL_SPARE_SIZE_MAX (128 * 1024)
#define SPOOL_GONE_SUFFIX ".gone"

int spool_spare_give(SpoolDir *from, const char *id, SpoolDir *to);
void spool_spare_ready(SpoolDir *from, const char *id, SpoolDir *to, int slot, bool synced);
int spool_spare_take(SpoolDir *d, const char *tmp_name);
unsigned spool_spare_drop(SpoolDir *d);
int spool_spare_clean_given(SpoolDir *d, unsigned *ret_removed);
int spool_file_create_reusing(SpoolDir *d, const char *id, const char *stage, SpoolFile *ret);
int spool_spare_write(SpoolFile *f, const void *p, size_t n);
