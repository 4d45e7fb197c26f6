/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>

#include "shared/macro.h"
#include "shared/tests.h"
#include "shared/uid-map.h"

static const struct {
        const char *map;
        uint32_t outside;
        int r;
        uint32_t inside;
} cases[] = {
        /* the initial namespace: every uid is itself */
        { "         0          0 4294967295\n", 0, 0, 0 },
        { "         0          0 4294967295\n", 998, 0, 998 },
        { "         0          0 4294967295\n", 4294967294u, 0, 4294967294u },
        /* PrivateUsers=: root and the unit's user, nobody else */
        { "         0          0          1\n       998        998          1\n", 998, 0, 998 },
        { "         0          0          1\n       998        998          1\n", 0, 0, 0 },
        { "         0          0          1\n       998        998          1\n", 997, -ENOENT, 0 },
        { "         0          0          1\n       998        998          1\n", 999, -ENOENT, 0 },
        /* a shifted range (rootless containers): outside 100000.. is inside 0.. */
        { "0 100000 65536\n", 100000, 0, 0 },
        { "0 100000 65536\n", 100998, 0, 998 },
        { "0 100000 65536\n", 165536, -ENOENT, 0 },
        { "0 100000 65536\n", 998, -ENOENT, 0 },
        /* a range ending at 2^32 */
        { "4294967295 4294967295 1\n", 4294967295u, 0, 4294967295u },
        /* the first range that maps it counts; a last line may lack its newline */
        { "5 10 1\n6 10 1", 10, 0, 5 },
        { "0 0 1\n7 20 3", 22, 0, 9 },
        /* nothing mapped yet: an empty map */
        { "", 0, -ENOENT, 0 },
        /* zero-length ranges map nothing */
        { "0 0 0\n", 0, -ENOENT, 0 },
        /* not a uid_map */
        { "0 0\n", 0, -EBADMSG, 0 },
        { "0 0 1 1\n", 0, -EBADMSG, 0 },
        { "0 0 x\n", 0, -EBADMSG, 0 },
        { "0 0 -1\n", 0, -EBADMSG, 0 },
        { "0 0 4294967296\n", 0, -EBADMSG, 0 },
        { "0 0 00000000001\n", 0, -EBADMSG, 0 },
        { "0 0 1\n\n", 0, -EBADMSG, 0 },
        { "\n", 0, -EBADMSG, 0 },
};

int main(void) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint32_t inside = 12345;
                int r = uid_map_lookup(cases[i].map, strlen(cases[i].map), cases[i].outside, &inside);

                if (r != cases[i].r || (r == 0 && inside != cases[i].inside)) {
                        fprintf(stderr, "case %zu (%u in \"%s\"): %d, %u\n", i, cases[i].outside, cases[i].map, r,
                                inside);
                        ASSERT_TRUE(false);
                }
                if (r < 0)
                        ASSERT_EQ(inside, 12345);       /* untouched */
        }
        /* bounded: more than the kernel ever writes is refused */
        {
                static char big[UID_MAP_MAX + 8];
                uint32_t inside;

                memset(big, ' ', sizeof(big));
                memcpy(big, "0 0 1\n", 6);
                ASSERT_EQ(uid_map_lookup(big, sizeof(big), 0, &inside), -EBADMSG);
        }
        return 0;
}
