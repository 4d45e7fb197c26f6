/* SPDX-License-Identifier: MIT */
/* KeyTable and SigningTable text, both table kinds, and a lookup. */
#include <stdint.h>

#include "dkim/dkim-keytable.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        size_t idx[SIGN_TABLE_MATCH_MAX];
        KeyTable k = {};
        SigningTable s = {};

        if (size > 65536)
                return 0;
        if (key_table_parse((const char *) data, size, &k, NULL) >= 0)
                for (size_t i = 0; i < k.n; i++)
                        if (key_table_find(&k, k.entries[i].name) == NULL || k.entries[i].path[0] != '/')
                                abort();
        key_table_done(&k);
        for (int wild = 0; wild <= 1; wild++) {
                if (signing_table_parse((const char *) data, size, wild, &s, NULL) < 0)
                        continue;
                if (signing_table_match(&s, "joe", "mail.example.com", idx, ELEMENTSOF(idx)) > ELEMENTSOF(idx))
                        abort();
                for (size_t i = 0; i < s.n; i++)
                        (void) wildcard_match(s.rules[i].pattern, "a@b.example.com");
                signing_table_done(&s);
        }
        return 0;
}
