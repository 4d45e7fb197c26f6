/* SPDX-License-Identifier: MIT */
#include "cli/dkim-keytable.h"
#include "shared/tests.h"

int main(void) {
        /* the article's table, a comment, junk lines, CRLF and a trailing comment */
        static const char table[] =
                "# /etc/opendkim/keytable\n"
                "mail._domainkey.example.com example.com:mail:/etc/opendkim/mail.private\n"
                "\n"
                "   \t\n"
                "broken-line-without-colons\n"
                "k2 example.org:s2:/k/2.private # note\r\n"
                "k3 example.net::/no-selector\n"
                "k4\texample.net:ed:/k/ed.private";
        DkimKeyEntry *e;
        size_t n;

        ASSERT_OK(dkim_keytable_parse(table, strlen(table), &e, &n));
        ASSERT_EQ(n, 3);
        ASSERT_STREQ(e[0].domain, "example.com");
        ASSERT_STREQ(e[0].selector, "mail");
        ASSERT_STREQ(e[0].key, "/etc/opendkim/mail.private");
        ASSERT_STREQ(e[1].domain, "example.org");
        ASSERT_STREQ(e[1].key, "/k/2.private");
        ASSERT_STREQ(e[2].selector, "ed");
        ASSERT_STREQ(e[2].key, "/k/ed.private");
        dkim_keytable_free(e, n);

        ASSERT_OK(dkim_keytable_parse("", 0, &e, &n));
        ASSERT_EQ(n, 0);
        dkim_keytable_free(e, n);
        return 0;
}
