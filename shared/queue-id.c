/* SPDX-License-Identifier: MIT */
#include <sys/random.h>
#include <time.h>

#include "shared/clock.h"
#include "shared/macro.h"
#include "shared/queue-id.h"

static const char alphabet[32] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static int alphabet_index(char c) {
        const char *p;

        if (c == 0)
                return -1;
        p = memchr(alphabet, c, sizeof(alphabet));
        return p ? (int) (p - alphabet) : -1;
}

void queue_id_format(uint64_t usec, uint32_t rnd, char ret[static QUEUE_ID_LEN + 1]) {
        for (int i = QUEUE_ID_TIME_CHARS - 1; i >= 0; i--) {
                ret[i] = alphabet[usec & 31];
                usec >>= 5;
        }
        for (int i = QUEUE_ID_LEN - 1; i >= QUEUE_ID_TIME_CHARS; i--) {
                ret[i] = alphabet[rnd & 31];
                rnd >>= 5;
        }
        ret[QUEUE_ID_LEN] = 0;
}

int queue_id_new(char ret[static QUEUE_ID_LEN + 1]) {
        uint32_t rnd;

        /* getrandom() on a booted system never blocks for 4 bytes. */
        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                return -EIO;
        queue_id_format(now_realtime_usec(), rnd, ret);
        return 0;
}

bool queue_id_valid(const char *s) {
        if (!s || strlen(s) != QUEUE_ID_LEN)
                return false;
        for (size_t i = 0; i < QUEUE_ID_LEN; i++)
                if (alphabet_index(s[i]) < 0)
                        return false;
        return true;
}

uint64_t queue_id_usec(const char *id) {
        uint64_t v = 0;

        if (!queue_id_valid(id))
                return 0;
        for (int i = 0; i < QUEUE_ID_TIME_CHARS; i++)
                v = (v << 5) | (uint64_t) alphabet_index(id[i]);
        return v;
}
