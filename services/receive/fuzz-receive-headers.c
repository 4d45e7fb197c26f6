/* SPDX-License-Identifier: MIT */
/*
 * Receive's header rewriting over a client's message: the rewrite with
 * a sender map over the section as the session finds it (the section end,
 * partial and complete, and the hop count are shared/rfc5322.c's, fuzzed
 * by fuzz-rfc5322 too), and the same bytes read as a sender map file. The rewritten section must itself be a header
 * section that ends where the output ends, and it holds exactly the
 * Received: fields of the section it was made from.
 */
#include <stdlib.h>

#include "services/receive/receive-headers.h"
#include "shared/limits.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char map_text[] = "root alerts@example.com\nwww-data@web.example.com web@example.com\n";
        SenderMap map = {}, parsed = {};
        HeaderContext ctx = { .origin_domain = "example.com", .hostname = "mail.example.com",
                              .queue_id = "1K19NAR6RNM1J0WA", .now_usec = 1764300000123456,
                              .sender_map = &map };
        Buf out = BUF_INIT(0);
        size_t end = 0, partial_end = 0, hops;
        int r;

        if (size > HEADER_SECTION_MAX + 1024)
                return 0;
        if (sender_map_parse(map_text, sizeof(map_text) - 1, &map, NULL) < 0)
                abort();

        /* a section that ends before all bytes are in must end at the same place later */
        r = header_section_end(data, size, false, &partial_end);
        if (header_section_end(data, size, true, &end) != 1 || end > size)
                abort();
        if (r == 1 && partial_end != end)
                abort();

        hops = header_section_count(data, end, "Received");
        if (hops * strlen("Received:") > end)      /* each counted field holds its name */
                abort();
        if (headers_rewrite(&ctx, data, end, &out) >= 0) {
                size_t again = 0;

                if (header_section_end(out.data, out.len, true, &again) != 1 || again != out.len)
                        abort();
                if (header_section_count(out.data, out.len, "Received") != hops)
                        abort();
        }

        if (sender_map_parse((const char *) data, size, &parsed, NULL) >= 0)
                for (size_t i = 0; i < parsed.n_entries; i++)
                        if (!sender_map_lookup(&parsed, "example.com", parsed.entries[i].key,
                                               strlen(parsed.entries[i].key)))
                                abort();
        sender_map_done(&parsed);
        sender_map_done(&map);
        buf_done(&out);
        return 0;
}
