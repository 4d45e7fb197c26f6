/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "services/receive/receive-access.h"
#include "shared/macro.h"
#include "shared/tests.h"

static bool allows4(const AccessList *l, const char *ip) {
        struct sockaddr_in sa = { .sin_family = AF_INET };

        ASSERT_EQ(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
        return access_list_allows(l, (struct sockaddr *) &sa, sizeof(sa));
}

static bool allows6(const AccessList *l, const char *ip) {
        struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };

        ASSERT_EQ(inet_pton(AF_INET6, ip, &sa.sin6_addr), 1);
        return access_list_allows(l, (struct sockaddr *) &sa, sizeof(sa));
}

/* the client's address as text, from each kind of peer accept() gives */
static void test_peer_format(void) {
        static const struct {
                int family;
                const char *in, *out;
        } cases[] = {
                { AF_INET, "203.0.113.5", "203.0.113.5" },
                { AF_INET6, "2001:db8::7", "2001:db8::7" },
                { AF_INET6, "::1", "::1" },
                /* an IPv4 client of a dual-stack socket is its IPv4 address */
                { AF_INET6, "::ffff:203.0.113.5", "203.0.113.5" },
                { AF_INET6, "::ffff:127.0.0.1", "127.0.0.1" },
                /* not mapped: the prefix is not ::ffff:0:0/96 */
                { AF_INET6, "::ffff:0:203.0.113.5", "::ffff:0:cb00:7105" },
                { AF_INET6, "64:ff9b::203.0.113.5", "64:ff9b::cb00:7105" },
                { AF_INET6, "1::ffff:203.0.113.5", "1::ffff:cb00:7105" },
        };
        char buf[INET6_ADDRSTRLEN];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                if (cases[i].family == AF_INET) {
                        struct sockaddr_in sa = { .sin_family = AF_INET };

                        ASSERT_EQ(inet_pton(AF_INET, cases[i].in, &sa.sin_addr), 1);
                        ASSERT_OK(access_peer_format((struct sockaddr *) &sa, sizeof(sa), buf, sizeof(buf)));
                } else {
                        struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };

                        ASSERT_EQ(inet_pton(AF_INET6, cases[i].in, &sa.sin6_addr), 1);
                        ASSERT_OK(access_peer_format((struct sockaddr *) &sa, sizeof(sa), buf, sizeof(buf)));
                }
                ASSERT_STREQ(buf, cases[i].out);
        }

        struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };
        struct sockaddr_un un = { .sun_family = AF_UNIX };

        ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::7", &v6.sin6_addr), 1);
        /* a length too short for the family is no address */
        ASSERT_EQ(access_peer_format((struct sockaddr *) &v6, sizeof(struct sockaddr_in), buf, sizeof(buf)),
                  -EAFNOSUPPORT);
        ASSERT_EQ(access_peer_format((struct sockaddr *) &v6, sizeof(v6), buf, 4), -ENOSPC);
        ASSERT_EQ(access_peer_format((struct sockaddr *) &un, sizeof(un), buf, sizeof(buf)), -EAFNOSUPPORT);
}

int main(void) {
        char *entries[] = { "127.0.0.0/8", "::1", "10.1.2.0/23", "192.0.2.7", NULL };
        char *bad[][2] = { { "127.0.0.0/33", NULL }, { "300.1.1.1", NULL }, { "::1/129", NULL },
                           { "10.0.0.0/", NULL }, { "10.0.0.0/8x", NULL }, { "example.com", NULL } };
        const char *which = NULL;
        AccessList l;

        ASSERT_OK(access_list_parse(entries, &l, NULL));
        ASSERT_EQ(l.n_rules, 4);
        ASSERT_TRUE(allows4(&l, "127.0.0.1"));
        ASSERT_TRUE(allows4(&l, "127.255.0.9"));
        ASSERT_TRUE(!allows4(&l, "128.0.0.1"));
        ASSERT_TRUE(allows4(&l, "10.1.3.255"));
        ASSERT_TRUE(!allows4(&l, "10.1.4.0"));
        ASSERT_TRUE(allows4(&l, "192.0.2.7"));
        ASSERT_TRUE(!allows4(&l, "192.0.2.8"));
        ASSERT_TRUE(!allows4(&l, "203.0.113.5"));
        ASSERT_TRUE(allows6(&l, "::1"));
        ASSERT_TRUE(!allows6(&l, "::2"));
        ASSERT_TRUE(allows6(&l, "::ffff:127.0.0.1"));   /* v4-mapped matches the v4 prefix */
        ASSERT_TRUE(!allows6(&l, "::ffff:203.0.113.5"));
        access_list_done(&l);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ASSERT_EQ(access_list_parse(bad[i], &l, &which), -EINVAL);
                ASSERT_STREQ(which, bad[i][0]);
        }

        /* an empty list allows nobody */
        ASSERT_OK(access_list_parse(NULL, &l, NULL));
        ASSERT_TRUE(!allows4(&l, "127.0.0.1"));
        access_list_done(&l);

        test_peer_format();
        return 0;
}
