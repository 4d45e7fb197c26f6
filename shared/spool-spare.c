/* SPDX-License-Identifier: MIT */
/*
 * Spare files. On the file system this project is measured on (ext4
 * without a journal) creating a file is the most expensive thing a message
 * asks of the kernel after its signature: the inode allocator steps over
 * every inode freed in the last minutes, one buffer lookup each, so with
 * mail flowing a create costs a quarter of a millisecond of CPU, and every
 * unlink there waits for its discard. So a stage done with a file that the
 * stage before it writes again gives it back, and the writer overwrites
 * it: in steady state no message creates or unlinks a file.
 *
 *   spool_spare_give():  from's new/ID -> new/ID.gone   (the removal)
 *   the caller syncs from's new/, as after any removal
 *   spool_spare_ready(): new/ID.gone -> to's tmp/spare.NNN
 *   spool_spare_take():  tmp/spare.NNN -> tmp/ID.STAGE, overwritten
 *
 * A spare is never overwritten while a crash could still bring its old
 * name back in new/: it leaves new/ only after the removal is durable.
 * The slots bound what spares pin on disk to SPOOL_SPARE_SLOTS *
 * SPOOL_SPARE_SIZE_MAX per queue; each slot has one giver and one taker,
 * which follow each other round the slots with their own cursors.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/macro.h"
#include "shared/spool-spare.h"

#define SLOT_NAME_MAX sizeof("spare.NNN")
#define GONE_NAME_MAX (QUEUE_ID_LEN + sizeof(SPOOL_GONE_SUFFIX))
/* slots a giver looks at before it unlinks instead, and a taker before
 * it creates a file: spares fill the ring in order from where the taker
 * is, so an empty slot there means the ring is (nearly) empty */
#define GIVE_PROBES 4
#define TAKE_PROBES 4

static void slot_name(char buf[static SLOT_NAME_MAX], unsigned slot) {
        (void) snprintf(buf, SLOT_NAME_MAX, "spare.%03u", slot % SPOOL_SPARE_SLOTS);
}

static void gone_name(char buf[static GONE_NAME_MAX], const char *id) {
        (void) snprintf(buf, GONE_NAME_MAX, "%s" SPOOL_GONE_SUFFIX, id);
}

static bool slot_free(SpoolDir *to, unsigned slot) {
        char name[SLOT_NAME_MAX];
        struct stat st;

        if (to->spare_reserved[slot / 64] & (UINT64_C(1) << (slot % 64)))
                return false;
        slot_name(name, slot);
        return fstatat(to->tmp_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
}

/**
 * spool_spare_give() - remove new/ID from @from by renaming it to
 * new/ID.gone, reserving a slot in @to's tmp/ for it. Returns the slot
 * (pass it to spool_spare_ready() once @from's new/ is synced); -EXFULL
 * when no slot is free and -EFBIG when the file is not worth keeping (too
 * big, not a plain file, or it has other names): then the caller removes
 * new/ID as usual.
 */
int spool_spare_give(SpoolDir *from, const char *id, SpoolDir *to) {
        char gone[GONE_NAME_MAX];
        struct stat st;

        if (!queue_id_valid(id))
                return -EINVAL;
        if (fstatat(from->new_fd, id, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_size > SPOOL_SPARE_SIZE_MAX)
                return -EFBIG;
        for (unsigned k = 0; k < GIVE_PROBES; k++) {
                unsigned slot = (to->spare_give_next + k) % SPOOL_SPARE_SLOTS;

                if (!slot_free(to, slot))
                        continue;
                gone_name(gone, id);
                if (renameat(from->new_fd, id, from->new_fd, gone) < 0)
                        return -errno;
                to->spare_reserved[slot / 64] |= UINT64_C(1) << (slot % 64);
                to->spare_give_next = slot + 1;
                return (int) slot;
        }
        /* full, or the taker is elsewhere round the slots: look further next time */
        to->spare_give_next += GIVE_PROBES;
        return -EXFULL;
}

/**
 * spool_spare_ready() - after @from's new/ was synced (@synced) or failed
 * to, move new/ID.gone into @to's tmp/ as @slot, or unlink it if the sync
 * failed or the slot was taken meanwhile (by hand: each slot has one
 * giver).
 */
void spool_spare_ready(SpoolDir *from, const char *id, SpoolDir *to, int slot, bool synced) {
        char gone[GONE_NAME_MAX], name[SLOT_NAME_MAX];

        if (slot < 0 || slot >= SPOOL_SPARE_SLOTS || !queue_id_valid(id))
                return;
        to->spare_reserved[slot / 64] &= ~(UINT64_C(1) << (slot % 64));
        gone_name(gone, id);
        slot_name(name, (unsigned) slot);
        if (!synced || renameat2(from->new_fd, gone, to->tmp_fd, name, RENAME_NOREPLACE) < 0)
                (void) unlinkat(from->new_fd, gone, 0);
}

/**
 * spool_spare_take() - rename a spare of @d's tmp/ to @tmp_name and open
 * it for writing: a file descriptor, or -ENOENT when there is none. Only
 * a plain file with one name, of our own, is taken, and opened as any
 * queue file is (spool_open_checked(), O_WRONLY: never blocks on a
 * FIFO); anything else in a slot (put there by hand) is removed if it is
 * ours, skipped otherwise.
 */
int spool_spare_take(SpoolDir *d, const char *tmp_name) {
        /* The cursor moves only past a slot taken: a miss leaves it where
         * the giver will put the next spare. */
        for (unsigned k = 0; k < TAKE_PROBES; k++) {
                unsigned slot = (d->spare_take_next + k) % SPOOL_SPARE_SLOTS;
                char name[SLOT_NAME_MAX], refusal[SPOOL_REFUSAL_MAX];
                int fd;

                slot_name(name, slot);
                if (renameat(d->tmp_fd, name, d->tmp_fd, tmp_name) < 0)
                        continue;       /* empty, or not ours (sticky tmp/) */
                d->spare_take_next = slot + 1;
                fd = spool_open_checked(d->tmp_fd, tmp_name, O_WRONLY, d->owners, SPOOL_QUEUE_OWN, NULL, refusal);
                if (fd >= 0)
                        return fd;
                (void) unlinkat(d->tmp_fd, tmp_name, 0);
        }
        return -ENOENT;
}

/**
 * spool_spare_drop() - unlink every spare of @d's tmp/ that we may remove,
 * to free the space they hold (the writer ran out of it). Returns how many.
 */
unsigned spool_spare_drop(SpoolDir *d) {
        unsigned n = 0;

        for (unsigned slot = 0; slot < SPOOL_SPARE_SLOTS; slot++) {
                char name[SLOT_NAME_MAX];

                slot_name(name, slot);
                if (unlinkat(d->tmp_fd, name, 0) >= 0)
                        n++;
        }
        return n;
}

/**
 * spool_spare_clean_given() - at start-up, as the stage that gives @d's
 * files away, remove what a crash left between give and ready: new/ID.gone
 * is a removed message, whatever became of the spare.
 */
int spool_spare_clean_given(SpoolDir *d, unsigned *ret_removed) {
        return spool_unlink_suffixed(d->new_fd, SPOOL_GONE_SUFFIX, ret_removed);
}

/**
 * spool_file_create_reusing() - as spool_file_create(), but overwrites a
 * spare file of @d's tmp/ when there is one.
 */
int spool_file_create_reusing(SpoolDir *d, const char *id, const char *stage, SpoolFile *ret) {
        char name[SPOOL_TMP_NAME_MAX];
        int r;

        r = spool_tmp_name(id, stage, name);
        if (r < 0)
                return r;
        return spool_file_start(d, id, stage, spool_spare_take(d, name), ret);
}

/**
 * spool_spare_write() - spool_file_write() for a writer that keeps
 * spares: out of space, the spares of its queue may hold what it needs,
 * so they are dropped and the piece written again from where it started.
 */
int spool_spare_write(SpoolFile *f, const void *p, size_t n) {
        int r = spool_file_write(f, p, n);

        if (r == -ENOSPC && spool_spare_drop(f->dir) > 0) {
                r = spool_file_rewind(f);
                if (r >= 0)
                        r = spool_file_write(f, p, n);
        }
        return r;
}
