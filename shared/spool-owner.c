/* SPDX-License-Identifier: MIT */
/*
 * The expected owners of queue files (spool-owner.h). Root and the
 * reader itself are always allowed: root can write anywhere anyway, and
 * in development every stage runs as one user, whose names below do not
 * exist and so add nothing.
 */
#include <fcntl.h>
#include <pwd.h>

#include "shared/buf.h"
#include "shared/fd-util.h"
#include "shared/macro.h"
#include "shared/spool-owner.h"
#include "shared/uid-map.h"

/* what the kernel shows for an unmapped owner unless the sysctl says
 * otherwise (DEFAULT_OVERFLOWUID); the sandbox hides /proc/sys */
#define OVERFLOW_UID_DEFAULT 65534

static const char * const writer_users[_SPOOL_WRITER_MAX] = {
        [SPOOL_WRITER_RECEIVE] = "pochtar-receive",
        [SPOOL_WRITER_SIGN] = "pochtar-sign",
        [SPOOL_WRITER_DELIVER] = "pochtar-deliver",
};

#define W(w) (1u << SPOOL_WRITER_##w)
/* receive's client mail; deliver's notifications */
#define INCOMING_WRITERS (W(RECEIVE) | W(DELIVER))
#define SIGNED_WRITERS W(SIGN)

/* A move between queues is a rename: the file keeps its writer as owner. */
static const unsigned queue_writers[_SPOOL_QUEUE_MAX] = {
        [SPOOL_QUEUE_INCOMING] = INCOMING_WRITERS,
        [SPOOL_QUEUE_SIGNED] = SIGNED_WRITERS,
        [SPOOL_QUEUE_DELIVER] = SIGNED_WRITERS,         /* claimed from signed/ */
        [SPOOL_QUEUE_DELIVER_STATE] = W(DELIVER),
        /* the reasons are sign's and deliver's; a message comes from
         * incoming/, signed/ or deliver/queue */
        [SPOOL_QUEUE_QUARANTINE] = W(SIGN) | W(DELIVER) | INCOMING_WRITERS | SIGNED_WRITERS,
        [SPOOL_QUEUE_HOLD_INCOMING] = INCOMING_WRITERS,
        [SPOOL_QUEUE_HOLD_SIGNED] = SIGNED_WRITERS,
        [SPOOL_QUEUE_OWN] = 0,
};

const char *spool_writer_user(SpoolWriter w) {
        return w >= 0 && w < _SPOOL_WRITER_MAX ? writer_users[w] : NULL;
}

bool spool_owner_allowed(const SpoolOwners *o, SpoolQueue q, uid_t uid) {
        if (uid == 0 || uid == o->self)
                return true;
        if (q < 0 || q >= _SPOOL_QUEUE_MAX)
                return false;
        for (SpoolWriter w = 0; w < _SPOOL_WRITER_MAX; w++)
                if ((queue_writers[q] & (1u << w)) && o->writers[w] != SPOOL_UID_NONE && o->writers[w] == uid)
                        return true;
        return false;
}

/* Reads a small /proc file whole; -ENOENT when there is no such file. */
static int read_proc(const char *path, Buf *out) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return -errno;
        return read_full_fd(fd, UID_MAP_MAX, out);
}

static uid_t overflow_uid(void) {
        Buf b = BUF_INIT(0);
        uint64_t v;
        size_t n;

        if (read_proc("/proc/sys/kernel/overflowuid", &b) < 0) {
                buf_done(&b);
                return OVERFLOW_UID_DEFAULT;
        }
        n = b.len;
        while (n > 0 && b.data[n - 1] == '\n')
                n--;
        if (parse_u64_span((const char *) b.data, n, &v) < 0 || v >= SPOOL_UID_NONE)
                v = OVERFLOW_UID_DEFAULT;
        buf_done(&b);
        return (uid_t) v;
}

/* @user's uid, or SPOOL_UID_NONE when this system has no such user */
static int lookup_user(const char *user, uid_t *ret) {
        struct passwd *pw;

        errno = 0;
        pw = getpwnam(user);
        if (pw) {
                *ret = pw->pw_uid;
                return 0;
        }
        /* getpwnam(3): these say "not found"; anything else is a failure
         * that must not pass for a missing user */
        if (errno == 0 || errno == ENOENT || errno == ESRCH || errno == EBADF || errno == EPERM) {
                *ret = SPOOL_UID_NONE;
                return 0;
        }
        return -errno;
}

/**
 * spool_owners_resolve() - who this process is and which uid each stage
 * user has here. Once, at start: it reads /etc/passwd (or NSS) and
 * /proc/self/uid_map. Outside a user namespace uid_map maps every uid to
 * itself; under PrivateUsers= only root and the unit's user are mapped,
 * and a file of any other user is shown as owned by the overflow uid, so
 * that is the uid to expect for an unmapped stage user. Without /proc
 * (no uid_map to read) the uids are taken as they are.
 */
int spool_owners_resolve(SpoolOwners *ret) {
        SpoolOwners o = { .self = geteuid() };
        Buf map = BUF_INIT(0);
        uid_t overflow = SPOOL_UID_NONE;
        int r;

        r = read_proc("/proc/self/uid_map", &map);
        if (r == -ENOENT)
                r = 0;
        else if (r >= 0)
                overflow = overflow_uid();
        for (SpoolWriter w = 0; r >= 0 && w < _SPOOL_WRITER_MAX; w++) {
                uint32_t here;

                r = lookup_user(writer_users[w], &o.writers[w]);
                if (r < 0 || o.writers[w] == SPOOL_UID_NONE || overflow == SPOOL_UID_NONE)
                        continue;
                r = uid_map_lookup((const char *) map.data, map.len, o.writers[w], &here);
                if (r == -ENOENT) {
                        o.writers[w] = overflow;
                        r = 0;
                } else if (r >= 0)
                        o.writers[w] = here;
        }
        buf_done(&map);
        if (r < 0)
                return r;
        *ret = o;
        return 0;
}
