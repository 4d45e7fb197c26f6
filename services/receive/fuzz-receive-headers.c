/* SPDX-License-Identifier: MIT */
/*
 * Receive's header rewriting over a client's message: the end of the
 * header section (as the session sees it, partial and complete), the
 * rewrite with a sender map, the hop count, and the same bytes read as
 * a sender map file. The rewritten section must itself be a header
 * section that ends where the output ends, and it holds exactly the
 * Received: fields of the section it was made from.
 */
#include <stdlib.h>

#include "services/receive/receive-headers.h"
#include "shared/limits.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_visit(const char *v, size_t start, size_t end, void *userdata) {
        size_t *n = userdata;

        if (start > end)
                abort();
        (void) v;
        (*n)++;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char map_text[] = "root alerts@example.com\nwww-data@web.example.com web@example.com\n";
        SenderMap map = {}, parsed = {};
        HeaderContext ctx = { .origin_domain = "example.com", .hostname = "mail.example.com",
                              .queue_id = "1K19NAR6RNM1J0WA", .now_usec = 1764300000123456,
                              .sender_map = &map };
        Buf out = BUF_INIT(0);
        size_t end = 0, partial_end = 0, n_addrs = 0, hops;
        int r;

        if (size > HEADER_SECTION_MAX + 1024)
                return 0;
        if (sender_map_parse(map_text, sizeof(map_text) - 1, &map, NULL) < 0)
                abort();

        /* a section that ends before all bytes are in must end at the same place later */
        r = headers_section_end(data, size, false, &partial_end);
        if (headers_section_end(data, size, true, &end) != 1 || end > size)
                abort();
        if (r == 1 && partial_end != end)
                abort();

        hops = headers_count_field(data, end, "Received");
        if (hops * strlen("Received:") > end)      /* each counted field holds its name */
                abort();
        if (headers_rewrite(&ctx, data, end, &out) >= 0) {
                size_t again = 0;

                if (headers_section_end(out.data, out.len, true, &again) != 1 || again != out.len)
                        abort();
                if (headers_count_field(out.data, out.len, "Received") != hops)
                        abort();
        }
        (void) address_list_walk((const char *) data, size, count_visit, &n_addrs);

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
