/* SPDX-License-Identifier: MIT */
/*
 * sd-journal reader for `pochtar metrics`. The fields come from our own
 * stages but are read defensively: a value that does not parse is not
 * counted. The delivery delay is the entry's own timestamp minus the
 * arrival time encoded in the queue ID, so it needs nothing from the
 * human text of the line.
 */
#include <stdbool.h>
#include <systemd/sd-journal.h>

#include "cli/journal-counters.h"
#include "shared/log-ids.h"
#include "shared/macro.h"
#include "shared/queue-id.h"

static sd_journal *journal_close_null(sd_journal *j) {
        sd_journal_close(j);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(sd_journal *, journal_close_null);

static bool has_field(sd_journal *j, const char *name) {
        const void *data;
        size_t len;

        return sd_journal_get_data(j, name, &data, &len) >= 0;
}

/* The value of FIELD= in the current entry, copied to @buf; "" if absent. */
static const char *field(sd_journal *j, const char *name, char *buf, size_t size) {
        size_t nlen = strlen(name), len;
        const void *data;

        buf[0] = 0;
        if (sd_journal_get_data(j, name, &data, &len) < 0 || len <= nlen + 1)
                return buf;
        len -= nlen + 1;
        if (len >= size)
                return buf;             /* longer than any value we count */
        memcpy(buf, (const char *) data + nlen + 1, len);
        buf[len] = 0;
        return buf;
}

static void count_delay(sd_journal *j, const char *id, JournalCounters *c) {
        static const unsigned bounds[] = DELAY_BUCKETS;
        uint64_t at, arrival;
        double s;

        if (!queue_id_valid(id) || sd_journal_get_realtime_usec(j, &at) < 0)
                return;
        arrival = queue_id_usec(id);
        s = at > arrival ? (double) (at - arrival) / 1e6 : 0.0;
        for (size_t i = 0; i < ELEMENTSOF(bounds); i++)
                if (s <= bounds[i])
                        c->delay_buckets[i]++;
        c->delay_count++;
        c->delay_sum += s;
}

int journal_count(const char *directory, JournalCounters *ret) {
        static const char * const matches[] = {
                "MESSAGE_ID=" LOG_ID_RECEIVED,
                "MESSAGE_ID=" LOG_ID_SIGNED,
                "MESSAGE_ID=" LOG_ID_QUARANTINED,
                NULL,           /* or */
                "POCHTAR_STATUS=sent",
                "POCHTAR_STATUS=deferred",
                "POCHTAR_STATUS=bounced",
                "POCHTAR_STATUS=quarantined",
        };
        _cleanup_(journal_close_nullp) sd_journal *j = NULL;
        JournalCounters c = {};
        int r;

        r = directory ? sd_journal_open_directory(&j, directory, 0)
                      : sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(matches); i++) {
                r = matches[i] ? sd_journal_add_match(j, matches[i], 0) : sd_journal_add_disjunction(j);
                if (r < 0)
                        return r;
        }
        SD_JOURNAL_FOREACH(j) {
                char mid[64], status[32], id[QUEUE_ID_LEN + 1];

                field(j, "MESSAGE_ID", mid, sizeof(mid));
                field(j, "POCHTAR_STATUS", status, sizeof(status));
                if (streq(mid, LOG_ID_RECEIVED))
                        c.received++;
                else if (streq(mid, LOG_ID_SIGNED))
                        c.signed_++;
                else if (streq(mid, LOG_ID_QUARANTINED) || streq(status, "quarantined"))
                        c.quarantined++;
                /* per-recipient delivery results carry POCHTAR_RCPT= */
                else if (has_field(j, "POCHTAR_RCPT")) {
                        if (streq(status, "sent")) {
                                c.sent++;
                                count_delay(j, field(j, "POCHTAR_QUEUE_ID", id, sizeof(id)), &c);
                        } else if (streq(status, "deferred"))
                                c.deferred++;
                        else if (streq(status, "bounced"))
                                c.bounced++;
                }
        }
        *ret = c;
        return 0;
}
