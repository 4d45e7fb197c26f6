/* SPDX-License-Identifier: MIT */
/* The owner table: who may have written the files of each queue. */
#include <stdbool.h>

#include "shared/macro.h"
#include "shared/spool-owner.h"
#include "shared/tests.h"

enum { SELF = 500, RECEIVE = 1001, SIGN = 1002, DELIVER = 1003, OTHER = 12345 };

/* allowed[queue] as a string of the owners accepted, in the order
 * root self receive sign deliver other: 'y' or '-' */
static const struct {
        SpoolQueue queue;
        const char *allowed;
} table[] = {
        { SPOOL_QUEUE_INCOMING,         "yyy-y-" },     /* receive's mail, deliver's bounces */
        { SPOOL_QUEUE_SIGNED,           "yy-y--" },
        { SPOOL_QUEUE_DELIVER,          "yy-y--" },     /* claimed from signed/: sign's */
        { SPOOL_QUEUE_DELIVER_STATE,    "yy--y-" },
        { SPOOL_QUEUE_QUARANTINE,       "yyyyy-" },     /* from any queue, reasons by sign and deliver */
        { SPOOL_QUEUE_HOLD_INCOMING,    "yyy-y-" },
        { SPOOL_QUEUE_HOLD_SIGNED,      "yy-y--" },
        { SPOOL_QUEUE_OWN,              "yy----" },     /* spares */
};

int main(void) {
        static const uid_t uids[] = { 0, SELF, RECEIVE, SIGN, DELIVER, OTHER };
        SpoolOwners o = { .self = SELF, .writers = { RECEIVE, SIGN, DELIVER } };
        /* development: no stage users; under PrivateUsers=, in sign's
         * sandbox, receive and deliver both show as the overflow uid */
        SpoolOwners dev = { .self = SELF, .writers = { SPOOL_UID_NONE, SPOOL_UID_NONE, SPOOL_UID_NONE } };
        SpoolOwners in_sign = { .self = SIGN, .writers = { 65534, SIGN, 65534 } };
        SpoolOwners resolved;

        ASSERT_EQ(ELEMENTSOF(table), _SPOOL_QUEUE_MAX);
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                ASSERT_EQ(table[i].queue, (SpoolQueue) i);
                for (size_t j = 0; j < ELEMENTSOF(uids); j++) {
                        bool want = table[i].allowed[j] == 'y';

                        if (spool_owner_allowed(&o, table[i].queue, uids[j]) != want) {
                                fprintf(stderr, "queue %zu, uid %u: expected %s\n", i, (unsigned) uids[j],
                                        want ? "allowed" : "refused");
                                ASSERT_TRUE(false);
                        }
                        /* nothing but root and ourselves without stage users */
                        ASSERT_EQ(spool_owner_allowed(&dev, table[i].queue, uids[j]), j < 2);
                }
                /* no owner ever matches a user this system does not have */
                ASSERT_TRUE(!spool_owner_allowed(&dev, table[i].queue, SPOOL_UID_NONE));
        }
        ASSERT_TRUE(!spool_owner_allowed(&o, _SPOOL_QUEUE_MAX, OTHER));
        ASSERT_TRUE(spool_owner_allowed(&o, _SPOOL_QUEUE_MAX, 0));

        /* in sign's sandbox: receive's files in incoming/ are the overflow
         * uid's; sign's own spares are sign's; a stranger mapped there
         * (there is none under PrivateUsers=) would be refused */
        ASSERT_TRUE(spool_owner_allowed(&in_sign, SPOOL_QUEUE_INCOMING, 65534));
        ASSERT_TRUE(spool_owner_allowed(&in_sign, SPOOL_QUEUE_OWN, SIGN));
        ASSERT_TRUE(!spool_owner_allowed(&in_sign, SPOOL_QUEUE_OWN, 65534));
        ASSERT_TRUE(!spool_owner_allowed(&in_sign, SPOOL_QUEUE_INCOMING, OTHER));

        ASSERT_STREQ(spool_writer_user(SPOOL_WRITER_SIGN), "pochtar-sign");
        ASSERT_TRUE(spool_writer_user(_SPOOL_WRITER_MAX) == NULL);

        /* this process: itself, and each stage user this system has */
        ASSERT_OK(spool_owners_resolve(&resolved));
        ASSERT_EQ(resolved.self, geteuid());
        return 0;
}
