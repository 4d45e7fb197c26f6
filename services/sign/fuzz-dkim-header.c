/* SPDX-License-Identifier: MIT */
/* A message's header section: parse, From: address, h= and the header data. */
#include "services/sign/dkim-header.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *oversign[] = { (char *) "From", NULL };
        const char *names[DKIM_SIGNED_NAMES_MAX];
        char local[SMTP_LOCAL_PART_MAX + 1], domain[SMTP_DOMAIN_MAX + 1];
        HeaderSection h = {};
        Buf out = BUF_INIT(0);
        size_t n, from;

        if (size > 256 * 1024)
                return 0;
        if (header_section_parse(data, size, &h) < 0)
                return 0;
        if (h.body_offset > size)
                abort();
        for (size_t i = 0; i < h.n_fields; i++)
                if (h.fields[i].offset + h.fields[i].len > size || h.fields[i].name_len == 0 ||
                    h.fields[i].value <= h.fields[i].name_len || h.fields[i].value > h.fields[i].len ||
                    data[h.fields[i].offset + h.fields[i].value - 1] != ':')
                        abort();
        if (header_section_find_one(&h, data, "From", &from) >= 0) {
                const HeaderField *f = &h.fields[from];

                if (header_from_address(data + f->offset + f->value, f->len - f->value, local, domain) >= 0 &&
                    (strlen(domain) == 0 || strlen(local) == 0))
                        abort();
        }
        if (dkim_signed_names(&h, data, oversign, names, &n) >= 0)
                for (DkimCanon c = DKIM_CANON_SIMPLE; c <= DKIM_CANON_RELAXED; c++) {
                        buf_reset(&out);
                        (void) dkim_canon_signed_headers(c, &h, data, names, n, &out);
                }
        header_section_done(&h);
        buf_done(&out);
        return 0;
}
