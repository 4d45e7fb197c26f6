/* SPDX-License-Identifier: MIT */
/*
 * The AUTH argument, the 334 reply and the PLAIN and LOGIN credentials,
 * as tables: RFC 4954's and RFC 4616's own examples first, then the
 * bytes a hostile client might send.
 */
#include "services/receive/receive-sasl.h"
#include "shared/macro.h"
#include "shared/tests.h"

static const struct {
        const char *arg;
        int r;
        SaslMech mech;
        const char *initial;    /* NULL: none */
} auth_rows[] = {
        /* RFC 4954 §4 and §8 */
        { "PLAIN", 0, SASL_MECH_PLAIN, NULL },
        { "PLAIN dGVzdAB0ZXN0ADEyMzQ=", 0, SASL_MECH_PLAIN, "dGVzdAB0ZXN0ADEyMzQ=" },
        { "PLAIN =", 0, SASL_MECH_PLAIN, "" },
        { "plain", 0, SASL_MECH_PLAIN, NULL },
        { "LOGIN", 0, SASL_MECH_LOGIN, NULL },
        { "Login dXNlcg==", 0, SASL_MECH_LOGIN, "dXNlcg==" },
        { "PLAIN AAAA", 0, SASL_MECH_PLAIN, "AAAA" },
        { "PLAIN AA==", 0, SASL_MECH_PLAIN, "AA==" },
        { "PLAIN ", 0, SASL_MECH_PLAIN, NULL },
        { " PLAIN  dXNlcg==  ", 0, SASL_MECH_PLAIN, "dXNlcg==" },
        { "CRAM-MD5", -EOPNOTSUPP, 0, NULL },
        { "SCRAM-SHA-256", -EOPNOTSUPP, 0, NULL },
        { "XOAUTH2 dXNlcg==", -EOPNOTSUPP, 0, NULL },
        { "PLAINX", -EOPNOTSUPP, 0, NULL },
        { "ABCDEFGHIJKLMNOPQRST", -EOPNOTSUPP, 0, NULL },
        { "ABCDEFGHIJKLMNOPQRSTU", -EINVAL, 0, NULL },  /* 21 characters */
        { "", -EINVAL, 0, NULL },
        { "   ", -EINVAL, 0, NULL },
        { "PL*AIN", -EINVAL, 0, NULL },
        { "PLAIN\x01", -EINVAL, 0, NULL },
        { "PLAIN dGVzdA", -EINVAL, 0, NULL },            /* unpadded */
        { "PLAIN dGV=zdA=", -EINVAL, 0, NULL },          /* "=" inside */
        { "PLAIN A===", -EINVAL, 0, NULL },
        { "PLAIN ====", -EINVAL, 0, NULL },
        { "PLAIN ==", -EINVAL, 0, NULL },
        { "PLAIN dGVz dA==", -EINVAL, 0, NULL },         /* two responses */
        { "PLAIN *", -EINVAL, 0, NULL },
        { "PLAIN dGVz\r\n", -EINVAL, 0, NULL },
        { "CRAM-MD5 ?", -EINVAL, 0, NULL },              /* syntax before the name */
};

static void test_auth_parse(void) {
        for (size_t i = 0; i < ELEMENTSOF(auth_rows); i++) {
                const char *arg = auth_rows[i].arg, *ir = (const char *) 1;
                SaslMech mech = (SaslMech) -1;
                size_t ir_len = 99;
                int r;

                r = sasl_auth_parse(arg, strlen(arg), &mech, &ir, &ir_len);
                if (r != auth_rows[i].r)
                        fprintf(stderr, "row %zu: '%s'\n", i, arg);
                ASSERT_EQ(r, auth_rows[i].r);
                if (r < 0) {
                        ASSERT_TRUE(ir == NULL);
                        ASSERT_EQ(ir_len, 0);
                        continue;
                }
                ASSERT_EQ(mech, auth_rows[i].mech);
                if (!auth_rows[i].initial) {
                        ASSERT_TRUE(ir == NULL);
                        ASSERT_EQ(ir_len, 0);
                } else {
                        /* a span inside the argument, "=" too */
                        ASSERT_TRUE(ir >= arg && ir + ir_len <= arg + strlen(arg));
                        ASSERT_MEMEQ(ir, ir_len, auth_rows[i].initial, strlen(auth_rows[i].initial));
                }
        }
}

static void test_response_check(void) {
        ASSERT_EQ(sasl_response_check("*", 1), -ECANCELED);
        ASSERT_EQ(sasl_response_check("", 0), 0);
        ASSERT_EQ(sasl_response_check("dXNlcg==", 8), 0);
        ASSERT_EQ(sasl_response_check("**", 2), 0);
        ASSERT_EQ(sasl_response_check("* ", 2), 0);
}

#define P(s) s, sizeof(s) - 1

static const struct {
        const char *in;
        size_t n;
        int r;
        const char *user;
        const char *password;
} plain_rows[] = {
        /* RFC 4616 §4 */
        { P("\0tim\0tanstaaftanstaaf"), 0, "tim", "tanstaaftanstaaf" },
        { P("Ursel\0Kurt\0xipj3plmq"), -EPERM, NULL, NULL },
        /* RFC 4954 §8: authzid and authcid the same */
        { P("test\0test\0" "1234"), 0, "test", "1234" },
        { P("\0app@example.com\0pass word"), 0, "app@example.com", "pass word" },
        { P("\0u\0p\xc3\xa4ss\xe2\x82\xac"), 0, "u", "p\xc3\xa4ss\xe2\x82\xac" },
        { P("\0u\0p"), 0, "u", "p" },
        { P("\0" "1234567890123456789012345678901234567890123456789012345678901234\0p"), 0,
          "1234567890123456789012345678901234567890123456789012345678901234", "p" },
        { P("\0" "12345678901234567890123456789012345678901234567890123456789012345\0p"), -EINVAL, NULL, NULL },
        { P("\0\0p"), -EINVAL, NULL, NULL },                    /* empty authcid */
        { P("\0u\0"), -EINVAL, NULL, NULL },                    /* empty passwd */
        { P("\0u"), -EINVAL, NULL, NULL },                      /* one NUL */
        { P("u"), -EINVAL, NULL, NULL },
        { P(""), -EINVAL, NULL, NULL },
        { P("\0u\0p\0"), -EINVAL, NULL, NULL },                 /* three NULs */
        { P("\0u\0p\0q"), -EINVAL, NULL, NULL },
        { P("\0u ser\0p"), -EINVAL, NULL, NULL },               /* SP in a user name */
        { P("\0us\ter\0p"), -EINVAL, NULL, NULL },
        { P("\0u\xc3\xa4\0p"), -EINVAL, NULL, NULL },           /* user names are ASCII */
        { P("\0u\0p\r\nMAIL FROM:<x@y>"), -EINVAL, NULL, NULL },
        { P("\0u\0p\x7f"), -EINVAL, NULL, NULL },               /* DEL */
        { P("\0u\0p\xc2\x85"), -EINVAL, NULL, NULL },           /* C1 NEL */
        { P("\0u\0p\xc3"), -EINVAL, NULL, NULL },               /* truncated UTF-8 */
        { P("\0u\0p\xc0\xaf"), -EINVAL, NULL, NULL },           /* overlong */
        { P("\0u\0p\xed\xa0\x80"), -EINVAL, NULL, NULL },       /* surrogate */
        { P("u\0u\0p"), 0, "u", "p" },
        { P("v\0u\0p"), -EPERM, NULL, NULL },
        { P("uu\0u\0p"), -EPERM, NULL, NULL },
        { P("u\x01\0u\0p"), -EINVAL, NULL, NULL },              /* a control in the authzid */
        { P("v\0u\0"), -EINVAL, NULL, NULL },                   /* syntax is judged first */
};

static void test_plain_split(void) {
        for (size_t i = 0; i < ELEMENTSOF(plain_rows); i++) {
                char user[SASL_USER_MAX + 1], password[SASL_PASSWORD_MAX + 1];
                int r;

                memset(user, 'x', sizeof(user));
                memset(password, 'x', sizeof(password));
                r = sasl_plain_split((const uint8_t *) plain_rows[i].in, plain_rows[i].n, user, password);
                if (r != plain_rows[i].r)
                        fprintf(stderr, "row %zu\n", i);
                ASSERT_EQ(r, plain_rows[i].r);
                if (r < 0) {
                        ASSERT_STREQ(user, "");
                        for (size_t k = 0; k < sizeof(password); k++)
                                ASSERT_EQ(password[k], 0);
                        continue;
                }
                ASSERT_STREQ(user, plain_rows[i].user);
                ASSERT_STREQ(password, plain_rows[i].password);
        }
}

static void test_plain_long_password(void) {
        char in[2 + 1 + SASL_PASSWORD_MAX + 1];
        char user[SASL_USER_MAX + 1], password[SASL_PASSWORD_MAX + 1];

        memcpy(in, "\0u\0", 3);
        memset(in + 3, 'p', SASL_PASSWORD_MAX + 1);
        ASSERT_EQ(sasl_plain_split((const uint8_t *) in, 3 + SASL_PASSWORD_MAX, user, password), 0);
        ASSERT_EQ(strlen(password), SASL_PASSWORD_MAX);
        ASSERT_EQ(sasl_plain_split((const uint8_t *) in, 3 + SASL_PASSWORD_MAX + 1, user, password), -EINVAL);
}

static void test_login(void) {
        char user[SASL_USER_MAX + 1], password[SASL_PASSWORD_MAX + 1];
        char long_password[SASL_PASSWORD_MAX + 1];

        ASSERT_EQ(sasl_login_user((const uint8_t *) "app", 3, user), 0);
        ASSERT_STREQ(user, "app");
        ASSERT_EQ(sasl_login_user((const uint8_t *) "", 0, user), -EINVAL);
        ASSERT_STREQ(user, "");
        ASSERT_EQ(sasl_login_user((const uint8_t *) "a\0b", 3, user), -EINVAL);
        ASSERT_EQ(sasl_login_user((const uint8_t *) "a b", 3, user), -EINVAL);
        ASSERT_EQ(sasl_login_user((const uint8_t *) "a\r\n", 3, user), -EINVAL);

        ASSERT_EQ(sasl_login_password((const uint8_t *) "se cret", 7, password), 0);
        ASSERT_STREQ(password, "se cret");
        ASSERT_EQ(sasl_login_password((const uint8_t *) "", 0, password), -EINVAL);
        ASSERT_EQ(sasl_login_password((const uint8_t *) "a\0b", 3, password), -EINVAL);
        ASSERT_EQ(password[0], 0);
        ASSERT_EQ(sasl_login_password((const uint8_t *) "\xff", 1, password), -EINVAL);

        memset(long_password, 'p', sizeof(long_password));
        ASSERT_EQ(sasl_login_password((const uint8_t *) long_password, SASL_PASSWORD_MAX, password), 0);
        ASSERT_EQ(password[SASL_PASSWORD_MAX], 0);
        ASSERT_EQ(sasl_login_password((const uint8_t *) long_password, SASL_PASSWORD_MAX + 1, password), -EINVAL);
}

int main(void) {
        test_auth_parse();
        test_response_check();
        test_plain_split();
        test_plain_long_password();
        test_login();
        return 0;
}
