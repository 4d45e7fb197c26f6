/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "cli/dns-tags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        DnsTag tags[DNS_TAGS_MAX];
        const char *p = (const char *) data;
        size_t n;

        if (size > 65535)
                return 0;
        if (dns_tags_parse(p, size, tags, DNS_TAGS_MAX, &n, NULL) < 0)
                return 0;
        /* every span lies inside the input, and names are unique */
        for (size_t i = 0; i < n; i++) {
                if (tags[i].name < p || tags[i].name + tags[i].name_len > p + size ||
                    tags[i].value < p || tags[i].value + tags[i].value_len > p + size || tags[i].name_len == 0)
                        abort();
                for (size_t j = 0; j < i; j++)
                        if (tags[j].name_len == tags[i].name_len &&
                            memcmp(tags[j].name, tags[i].name, tags[i].name_len) == 0)
                                abort();
        }
        return 0;
}
