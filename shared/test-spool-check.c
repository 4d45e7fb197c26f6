/* SPDX-License-Identifier: MIT */
/* The start-up check names the first directory of the tree that is missing. */
#include <fcntl.h>
#include <sys/stat.h>

#include "shared/macro.h"
#include "shared/spool-check.h"
#include "shared/tests.h"

static char root[] = "/tmp/test-spool-check-XXXXXX";

static const char *at(const char *sub) {
        static char path[256];

        ASSERT_TRUE(snprintf(path, sizeof(path), "%s%s", root, sub) < (int) sizeof(path));
        return path;
}

static void check(const char *spool_dir, const SpoolQueue *queues, size_t n, int want, const char *want_missing) {
        _cleanup_free_ char *missing = NULL;

        ASSERT_EQ(spool_check_queues(spool_dir, queues, n, &missing), want);
        if (want == 0)
                ASSERT_TRUE(missing == NULL);
        else
                ASSERT_STREQ(missing, want_missing);
}

int main(void) {
        static const SpoolQueue queues[] = { SPOOL_QUEUE_INCOMING, SPOOL_QUEUE_SIGNED };
        static const char * const tree[] = { "/incoming", "/incoming/tmp", "/incoming/new",
                                             "/signed", "/signed/tmp", "/signed/new" };
        int fd;

        ASSERT_TRUE(mkdtemp(root));
        check(at("/nope"), queues, 2, -ENOENT, at("/nope"));
        check(root, queues, 2, -ENOENT, at("/incoming"));
        ASSERT_OK(mkdir(at("/incoming"), 0700));
        ASSERT_OK(mkdir(at("/incoming/tmp"), 0700));
        check(root, queues, 2, -ENOENT, at("/incoming/new"));
        /* a file where a directory belongs */
        fd = open(at("/incoming/new"), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        check(root, queues, 2, -ENOTDIR, at("/incoming/new"));
        ASSERT_OK(unlink(at("/incoming/new")));
        ASSERT_OK(mkdir(at("/incoming/new"), 0700));
        check(root, queues, 2, -ENOENT, at("/signed"));
        for (size_t i = 3; i < ELEMENTSOF(tree); i++)
                ASSERT_OK(mkdir(at(tree[i]), 0700));
        check(root, queues, 2, 0, NULL);
        /* an empty list checks only the root */
        check(root, queues, 0, 0, NULL);

        for (size_t i = ELEMENTSOF(tree); i > 0; i--)
                ASSERT_OK(rmdir(at(tree[i - 1])));
        ASSERT_OK(rmdir(root));
        return 0;
}
