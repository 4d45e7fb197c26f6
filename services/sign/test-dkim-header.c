/* SPDX-License-Identifier: MIT */
#include "services/sign/dkim-header.h"
#include "shared/macro.h"
#include "shared/tests.h"

static void test_from(void) {
        static const struct {
                const char *value, *local, *domain;
        } ok[] = {
                { " Joe SixPack <joe@Football.Example.COM>", "joe", "football.example.com" },
                { " joe@example.com", "joe", "example.com" },
                { " \"Doe, <John>\" <john@example.com> (comment, with @x.y)", "john", "example.com" },
                { " (c) joe@\r\n example.com", "joe", "example.com" },
                { " =?utf-8?b?0J/RgNC40LLQtdGC?= <info@example.org>", "info", "example.org" },
        };
        static const char * const bad[] = {
                " a@example.com, b@example.net",
                " undisclosed-recipients:;",
                " <joe@[192.0.2.1]>",
                " <joe@exa_mple.com>",
                " joe",
                " <joe@example.com",
                " \"unterminated <joe@example.com>",
                " <joe@пример.рф>",
        };
        char local[SMTP_LOCAL_PART_MAX + 1], domain[SMTP_DOMAIN_MAX + 1];
        char longer[600];

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                ASSERT_OK(header_from_address((const uint8_t *) ok[i].value, strlen(ok[i].value), local, domain));
                ASSERT_STREQ(local, ok[i].local);
                ASSERT_STREQ(domain, ok[i].domain);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ASSERT_EQ(header_from_address((const uint8_t *) bad[i], strlen(bad[i]), local, domain), -EBADMSG);

        /* An address too long to hold is refused, not cut to a shorter domain... */
        snprintf(longer, sizeof(longer), " a@example.com.%0500d.org", 0);
        ASSERT_EQ(header_from_address((const uint8_t *) longer, strlen(longer), local, domain), -EBADMSG);
        /* ...while a long display name before <…> is fine. */
        snprintf(longer, sizeof(longer), " %0500d <a@example.com>", 0);
        ASSERT_OK(header_from_address((const uint8_t *) longer, strlen(longer), local, domain));
        ASSERT_STREQ(domain, "example.com");
}

static void test_names_and_field(void) {
        static const char m[] = "Received: x\r\nFrom: a@b.example\r\nTo: c@d\r\nTo: e@f\r\nX-Mailer: y\r\n\r\n";
        char *oversign[] = { (char *) "From", (char *) "Subject", NULL };
        const char *names[DKIM_SIGNED_NAMES_MAX];
        HeaderSection h = {};
        Buf out = BUF_INIT(0), canon = BUF_INIT(0);
        size_t n;

        ASSERT_OK(header_section_parse((const uint8_t *) m, strlen(m), &h));
        ASSERT_OK(dkim_signed_names(&h, (const uint8_t *) m, oversign, names, &n));
        /* Only present fields of the list, each as often as present, then the over-signed ones. */
        ASSERT_EQ(n, 5);
        ASSERT_STREQ(names[0], "From");
        ASSERT_STREQ(names[1], "To");
        ASSERT_STREQ(names[2], "To");
        ASSERT_STREQ(names[3], "From");
        ASSERT_STREQ(names[4], "Subject");

        /* §5.4.2: repeated names take the fields bottom up; missing ones add nothing. */
        ASSERT_OK(dkim_canon_signed_headers(DKIM_CANON_RELAXED, &h, (const uint8_t *) m, names, n, &canon));
        ASSERT_STREQ((char *) canon.data, "from:a@b.example\r\nto:e@f\r\nto:c@d\r\n");

        DkimSigParams p = {
                .alg = "rsa-sha256", .canon = "relaxed/relaxed", .domain = "example.com",
                .selector = "mail", .timestamp = 1700000000, .expire = 1700086400,
                .names = names, .n_names = n, .bh = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        };
        ASSERT_OK(dkim_signature_format(&p, &out));
        ASSERT_STREQ((char *) out.data,
                     "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=mail;\r\n"
                     "\tt=1700000000; x=1700086400; h=From:To:To:From:Subject;\r\n"
                     "\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n"
                     "\tb=");
        ASSERT_OK(dkim_signature_append_b(&out, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        /* Every line stays under 78 octets, counting a tab as 8 columns. */
        for (char *s = (char *) out.data, *e; (e = strstr(s, "\r\n")); s = e + 2)
                ASSERT_TRUE(e - s + (*s == '\t' ? 7 : 0) <= 78);
        ASSERT_TRUE(strstr((char *) out.data, "\tb=AAAA") != NULL);
        header_section_done(&h);
        buf_done(&out);
        buf_done(&canon);
}

int main(void) {
        test_from();
        test_names_and_field();
        return 0;
}
