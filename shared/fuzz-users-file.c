/* SPDX-License-Identifier: MIT */
/*
 * users_file_parse() on any bytes: it stays inside them, names a line
 * that exists when it refuses, and what it accepts users_file_format()
 * writes back as text that parses to the same entries and formats to the
 * same text again, with the same senders allowed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "shared/macro.h"
#include "shared/users-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_entries(const UsersFile *a, const UsersFile *b) {
        static const char * const probes[] = { "", "a@example.com", "A@EXAMPLE.COM", "x@sub.example.com" };

        if (a->n_users != b->n_users || !streq_ptr(a->trailer, b->trailer))
                abort();
        for (size_t i = 0; i < a->n_users; i++) {
                const UserEntry *x = &a->users[i], *y = &b->users[i];

                if (!streq(x->name, y->name) || !streq(x->hash, y->hash) || x->locked != y->locked ||
                    x->n_senders != y->n_senders || !streq_ptr(x->comments, y->comments))
                        abort();
                if (users_file_find(b, x->name) != &b->users[i])
                        abort();
                for (size_t j = 0; j < x->n_senders; j++) {
                        if (!streq(x->senders[j], y->senders[j]))
                                abort();
                        if (user_sender_allowed(y, x->senders[j]) != (!x->locked && x->senders[j][0] != '@'))
                                abort();
                }
                for (size_t j = 0; j < ELEMENTSOF(probes); j++)
                        if (user_sender_allowed(x, probes[j]) != user_sender_allowed(y, probes[j]))
                                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(users_file_done) UsersFile u = {}, v = {};
        Buf once = BUF_INIT(0), twice = BUF_INIT(0);
        unsigned line, lines = 1;
        char reason[256];
        int r;

        if (size > 256 * 1024)
                return 0;
        r = users_file_parse((const char *) data, size, &u, &line, reason, sizeof(reason));
        if (r == -ENOMEM)
                return 0;
        if (r < 0) {
                for (size_t i = 0; i + 1 < size; i++)
                        lines += data[i] == '\n';
                if (r != -EINVAL || line < 1 || line > lines || !memchr(reason, 0, sizeof(reason)))
                        abort();
                return 0;
        }
        if (line != 0 || users_file_format(&u, &once) < 0)
                abort();
        r = users_file_parse(once.data ? (const char *) once.data : "", once.len, &v, &line, reason, sizeof(reason));
        if (r < 0)
                abort();
        same_entries(&u, &v);
        if (users_file_format(&v, &twice) < 0 || once.len != twice.len ||
            (once.len > 0 && memcmp(once.data, twice.data, once.len) != 0))
                abort();
        buf_done(&once);
        buf_done(&twice);
        return 0;
}
