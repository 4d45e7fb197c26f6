/* SPDX-License-Identifier: MIT */
/* relayhost and tls_policy_map parsing. */
#include "services/deliver/deliver-route.h"
#include "shared/macro.h"
#include "shared/tests.h"

static void test_relayhost(void) {
        static const struct {
                const char *in;
                int want;
                const char *host;
                unsigned port;
                bool literal;
        } cases[] = {
                { "[smtp.example.net]:587", 0, "smtp.example.net", 587, true },
                { "[smtp.example.net]", 0, "smtp.example.net", 25, true },
                { "smtp.example.net:465", 0, "smtp.example.net", 465, false },
                { "example.net", 0, "example.net", 25, false },
                { "[203.0.113.40]:2525", 0, "203.0.113.40", 2525, true },
                { "[smtp.example.net]:0", -EINVAL, NULL, 0, false },
                { "[smtp.example.net]:70000", -EINVAL, NULL, 0, false },
                { "[smtp.example.net]x", -EINVAL, NULL, 0, false },
                { "[smtp.example.net", -EINVAL, NULL, 0, false },
                { "smtp.example.net:", -EINVAL, NULL, 0, false },
                { "bad host:25", -EINVAL, NULL, 0, false },
                { "", -EINVAL, NULL, 0, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *host = NULL;
                uint16_t port = 0;
                bool literal = false;

                ASSERT_EQ(relayhost_parse(cases[i].in, &host, &port, &literal), cases[i].want);
                if (cases[i].want == 0) {
                        ASSERT_STREQ(host, cases[i].host);
                        ASSERT_EQ(port, cases[i].port);
                        ASSERT_EQ(literal, cases[i].literal);
                }
                free(host);
        }
}

static void test_policy_line(void) {
        static const struct {
                const char *in;
                int want;
                const char *domain;
                TlsPolicy policy;
        } cases[] = {
                { "example.org encrypt", 1, "example.org", TLS_POLICY_ENCRYPT },
                { "  Gmail.COM\tverify  ", 1, "gmail.com", TLS_POLICY_VERIFY },
                { "example.net none", 1, "example.net", TLS_POLICY_NONE },
                { "# comment", 0, NULL, 0 },
                { "   ", 0, NULL, 0 },
                { "example.org", -EINVAL, NULL, 0 },
                { "example.org dane", -EINVAL, NULL, 0 },
                { "example.org may extra", -EINVAL, NULL, 0 },
                { "exa_mple.org may", -EINVAL, NULL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *domain = NULL;
                TlsPolicy p = _TLS_POLICY_INVALID;

                ASSERT_EQ(tls_policy_line_parse(cases[i].in, strlen(cases[i].in), &domain, &p), cases[i].want);
                if (cases[i].want == 1) {
                        ASSERT_STREQ(domain, cases[i].domain);
                        ASSERT_EQ(p, cases[i].policy);
                }
                free(domain);
        }
}

int main(void) {
        test_relayhost();
        test_policy_line();
        return 0;
}
