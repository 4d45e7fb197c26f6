/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include "shared/concurrent.h"
#include "shared/macro.h"
#include "shared/tests.h"

#define ITEMS 100

typedef struct Seen {
        unsigned count[ITEMS];
        pthread_t by[ITEMS];
} Seen;

static void mark(size_t i, void *userdata) {
        Seen *s = userdata;

        __atomic_add_fetch(&s->count[i], 1, __ATOMIC_RELAXED);
        s->by[i] = pthread_self();
        usleep(1000);           /* a blocking call, as fdatasync() is */
}

static void *other_caller(void *userdata) {
        run_concurrently(ITEMS, mark, userdata);
        return NULL;
}

int main(void) {
        Seen a = {}, b = {}, c = {};
        pthread_t t;
        bool helped = false;

        /* every item exactly once, and not all by the caller */
        run_concurrently(ITEMS, mark, &a);
        for (size_t i = 0; i < ITEMS; i++) {
                ASSERT_EQ(a.count[i], 1u);
                helped = helped || !pthread_equal(a.by[i], pthread_self());
        }
        ASSERT_TRUE(helped);

        /* the pool is reused, and two callers at once both finish every item */
        ASSERT_EQ(pthread_create(&t, NULL, other_caller, &b), 0);
        run_concurrently(ITEMS, mark, &c);
        ASSERT_EQ(pthread_join(t, NULL), 0);
        for (size_t i = 0; i < ITEMS; i++) {
                ASSERT_EQ(b.count[i], 1u);
                ASSERT_EQ(c.count[i], 1u);
        }

        /* nothing and one item run in the caller */
        run_concurrently(0, mark, &a);
        run_concurrently(1, mark, &a);
        ASSERT_EQ(a.count[0], 2u);
        ASSERT_TRUE(pthread_equal(a.by[0], pthread_self()));
        return 0;
}
