/* SPDX-License-Identifier: MIT */
#include "dkim/dkim-keytable.h"
#include "shared/macro.h"
#include "shared/tests.h"

static const char *match(const SigningTable *t, const char *local, const char *domain) {
        size_t idx[SIGN_TABLE_MATCH_MAX], n;

        n = signing_table_match(t, local, domain, idx, ELEMENTSOF(idx));
        return n ? t->rules[idx[0]].key_name : NULL;
}

static void test_article(void) {
        /* The tables of seed/self-postman-article.md, verbatim. */
        static const char kt[] = "# /etc/opendkim/keytable\n"
                                 "mail._domainkey.example.com example.com:mail:/etc/opendkim/mail.private\n";
        static const char st[] = "# /etc/opendkim/signingtable\n"
                                 "example.com    mail._domainkey.example.com\n";
        KeyTable k = {};
        SigningTable s = {};
        const KeyTableEntry *e;

        ASSERT_OK(key_table_parse(kt, strlen(kt), &k, NULL));
        ASSERT_EQ(k.n, 1);
        e = key_table_find(&k, "mail._domainkey.example.com");
        ASSERT_TRUE(e);
        ASSERT_STREQ(e->domain, "example.com");
        ASSERT_STREQ(e->selector, "mail");
        ASSERT_STREQ(e->path, "/etc/opendkim/mail.private");

        ASSERT_OK(signing_table_parse(st, strlen(st), false, &s, NULL));
        ASSERT_STREQ(match(&s, "info", "example.com"), "mail._domainkey.example.com");
        ASSERT_TRUE(match(&s, "info", "example.org") == NULL);
        /* A plain table matches the exact domain, not subdomains. */
        ASSERT_TRUE(match(&s, "info", "sub.example.com") == NULL);
        key_table_done(&k);
        signing_table_done(&s);
}

static void test_lookup_order(void) {
        static const char st[] = "*        star\n"
                                 "joe@*    joe-any\n"
                                 ".com     dot-com\n"
                                 ".example.com dot-example\n"
                                 "joe@.example.com joe-dot-example\n"
                                 "a.example.com host\n"
                                 "joe@a.example.com exact\n";
        SigningTable s = {};

        ASSERT_OK(signing_table_parse(st, strlen(st), false, &s, NULL));
        ASSERT_STREQ(match(&s, "joe", "a.example.com"), "exact");
        ASSERT_STREQ(match(&s, "ann", "a.example.com"), "host");
        ASSERT_STREQ(match(&s, "joe", "b.example.com"), "joe-dot-example");
        ASSERT_STREQ(match(&s, "ann", "b.example.com"), "dot-example");
        ASSERT_STREQ(match(&s, "ann", "x.org.com"), "dot-com");
        ASSERT_STREQ(match(&s, "joe", "example.net"), "joe-any");
        ASSERT_STREQ(match(&s, "ann", "example.net"), "star");
        signing_table_done(&s);
}

static void test_refile(void) {
        static const char st[] = "*@example.com   rsa\n"
                                 "*@example.com   ed\n"
                                 "*@*.example.org sub\n"
                                 "*               other\n";
        size_t idx[SIGN_TABLE_MATCH_MAX];
        SigningTable s = {};

        ASSERT_OK(signing_table_parse(st, strlen(st), true, &s, NULL));
        ASSERT_EQ(signing_table_match(&s, "joe", "example.com", idx, ELEMENTSOF(idx)), 3);
        ASSERT_STREQ(s.rules[idx[0]].key_name, "rsa");
        ASSERT_STREQ(s.rules[idx[1]].key_name, "ed");
        ASSERT_STREQ(match(&s, "x", "a.example.org"), "sub");
        ASSERT_STREQ(match(&s, "x", "example.org"), "other");
        ASSERT_STREQ(match(&s, "Joe", "EXAMPLE.com"), "rsa");
        signing_table_done(&s);

        ASSERT_TRUE(wildcard_match("*a*b*c", "xxaxxbxxc"));
        ASSERT_TRUE(!wildcard_match("*a*b*c", "xxaxxbxx"));
        ASSERT_TRUE(wildcard_match("**", ""));
}

static void test_errors(void) {
        KeyTable k = {};
        SigningTable s = {};
        const char *path;
        bool wild;
        unsigned line = 0;

        ASSERT_EQ(key_table_parse("a b\n", 4, &k, &line), -EBADMSG);
        ASSERT_EQ(line, 1);
        ASSERT_EQ(key_table_parse("# c\n\nname example.com:sel:relative\n", 34, &k, &line), -EBADMSG);
        ASSERT_EQ(line, 3);
        ASSERT_EQ(signing_table_parse("lonely\n", 7, false, &s, &line), -EBADMSG);

        ASSERT_OK(sign_table_spec("refile:/etc/x", &path, &wild));
        ASSERT_TRUE(wild && streq(path, "/etc/x"));
        ASSERT_OK(sign_table_spec("file:/etc/x", &path, &wild));
        ASSERT_TRUE(!wild);
        ASSERT_OK(sign_table_spec("/etc/x", &path, &wild));
        ASSERT_EQ(sign_table_spec("db:/etc/x.db", &path, &wild), -EOPNOTSUPP);
        ASSERT_EQ(sign_table_spec("file:rel", &path, &wild), -EINVAL);
}

int main(void) {
        test_article();
        test_lookup_order();
        test_refile();
        test_errors();
        return 0;
}
