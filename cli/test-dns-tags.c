/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "cli/dns-tags.h"
#include "shared/tests.h"

static const struct {
        const char *in;
        int want;               /* return value */
        size_t n;               /* tags on success */
        const char *p;          /* value of p=, if expected */
} cases[] = {
        /* RFC 6376 §3.6.1 example and the usual shapes */
        { "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GN", 0, 3, "MIGfMA0GCSqGSIb3DQEBAQUAA4GN" },
        { "v=DKIM1;k=rsa;p=AB+/=;", 0, 3, "AB+/=" },
        { "  v = DKIM1 ;\tp= AB CD  ", 0, 2, "AB CD" },           /* FWS around and inside */
        { "p=", 0, 1, "" },                                         /* empty: revoked key */
        { "", 0, 0, NULL },
        { ";", -EBADMSG, 0, NULL },
        { "v=DMARC1; p=reject; rua=mailto:d@example.com", 0, 3, NULL },
        { "v=DKIM1; p=A; p=B", -ENOTUNIQ, 0, NULL },              /* §3.2: duplicate is an error */
        { "v=DKIM1; \"p=AB\"", -EBADMSG, 0, NULL },              /* quotes pasted into the value */
        { "1v=x", -EBADMSG, 0, NULL },
        { "v DKIM1", -EBADMSG, 0, NULL },
        { "v=DKIM1; p=\x01", -EBADMSG, 0, NULL },
        { "v=DKIM1; p=\xc3\xa9", -EBADMSG, 0, NULL },
        { "a_b=1;c9=2", 0, 2, NULL },
};

int main(void) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                DnsTag tags[DNS_TAGS_MAX];
                const char *error = NULL;
                size_t n = 99;
                int r;

                r = dns_tags_parse(cases[i].in, strlen(cases[i].in), tags, DNS_TAGS_MAX, &n, &error);
                if (r != cases[i].want)
                        fprintf(stderr, "case %zu '%s': %d\n", i, cases[i].in, r);
                ASSERT_EQ(r, cases[i].want);
                if (r < 0) {
                        ASSERT_TRUE(error != NULL);
                        continue;
                }
                ASSERT_EQ(n, cases[i].n);
                if (cases[i].p) {
                        const DnsTag *p = dns_tags_find(tags, n, "p");

                        ASSERT_TRUE(p);
                        ASSERT_EQ(p->value_len, strlen(cases[i].p));
                        ASSERT_TRUE(memcmp(p->value, cases[i].p, p->value_len) == 0);
                        ASSERT_TRUE(dns_tag_is(p, cases[i].p));
                }
        }

        /* the tag cap is an error, not a truncation */
        {
                char many[DNS_TAGS_MAX * 8 + 16] = "";
                DnsTag tags[DNS_TAGS_MAX];
                size_t n;

                for (int i = 0; i <= DNS_TAGS_MAX; i++)
                        sprintf(many + strlen(many), "t%d=1;", i);
                ASSERT_EQ(dns_tags_parse(many, strlen(many), tags, DNS_TAGS_MAX, &n, NULL), -E2BIG);
        }
        return 0;
}
