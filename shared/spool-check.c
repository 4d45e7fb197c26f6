/* SPDX-License-Identifier: MIT */
/*
 * The start-up check of the spool tree (spool-check.h). Paths, not fds:
 * it only looks, and its answer is a path for a human to create.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "shared/macro.h"
#include "shared/spool-check.h"

static int check_dir(const char *path) {
        struct stat st;

        if (stat(path, &st) < 0)
                return -errno;
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int spool_check_queues(const char *spool_dir, const SpoolQueue *queues, size_t n, char **ret_missing) {
        static const char * const subdirs[] = { "", "/tmp", "/new" };
        int r;

        r = check_dir(spool_dir);
        if (r < 0) {
                *ret_missing = strdup(spool_dir);
                return *ret_missing ? r : -ENOMEM;
        }
        for (size_t q = 0; q < n; q++)
                for (size_t i = 0; i < ELEMENTSOF(subdirs); i++) {
                        _cleanup_free_ char *path = NULL;
                        const char *name = spool_queue_path(queues[q]);

                        if (!name)
                                return -EINVAL;
                        if (asprintf(&path, "%s/%s%s", spool_dir, name, subdirs[i]) < 0)
                                return -ENOMEM;
                        r = check_dir(path);
                        if (r < 0) {
                                *ret_missing = TAKE_PTR(path);
                                return r;
                        }
                }
        return 0;
}
