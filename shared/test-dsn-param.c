/* SPDX-License-Identifier: MIT */
#include "shared/dsn-param.h"
#include "shared/limits.h"
#include "shared/macro.h"
#include "shared/tests.h"

/* Each row: a value as a client sends it, and what it decodes to (NULL:
 * refused). */
static const struct {
        const char *in;
        const char *want;
} envids[] = {
        { "QQ314159", "QQ314159" },
        { "QQ+20314159", "QQ 314159" },
        { "a+2Bb+3Dc", "a+b=c" },
        { "+41", "A" },                         /* encoded without need: fine */
        { "x+0D+0ARSET", NULL },                /* the injection of issue 13 */
        { "x+0Ay", NULL },
        { "x+0Dy", NULL },
        { "x+00y", NULL },
        { "x+09y", NULL },                      /* a tab is a control, not SP */
        { "x+7Fy", NULL },
        { "+C3+A9", NULL },                     /* not US-ASCII */
        { "x+4", NULL },                        /* not xtext */
        { "x+4a", NULL },                       /* hexchar is upper case */
        { "", NULL },
};

static const struct {
        const char *in;
        const char *want;
} orcpts[] = {
        { "rfc822;bob@example.org", "rfc822;bob@example.org" },
        { "RFC822;bob+2Bx@example.org", "RFC822;bob+x@example.org" },
        { "rfc822;+22a+20b+22@example.org", "rfc822;\"a b\"@example.org" },
        { "utf-8;+D0+BF@example.org", "utf-8;\xd0\xbf@example.org" },
        { "x400;c+3Dus;a+3Dx", "x400;c=us;a=x" },       /* the first ";" ends the type */
        { "rfc822+0D+0ARSET;x@y", NULL },       /* issue 13: CR LF in the address type */
        { "rfc822;x+0D+0ARSET+0D+0AMAIL+20FROM:<a@b>", NULL },
        { "rfc822+3Bbob@example.org", NULL },   /* the ";" may not be made by decoding */
        { "rfc822;+D0+BF@example.org", NULL },  /* non-ASCII needs the utf-8 type */
        { "utf-8;+C2+85@example.org", NULL },   /* U+0085, a C1 control */
        { "utf-8;+C3@example.org", NULL },      /* not UTF-8 */
        { "utf-8;a+0Ab", NULL },
        { "rfc822;", NULL },
        { ";bob@example.org", NULL },
        { "bob@example.org", NULL },
        { "rfc_822;bob@example.org", NULL },
        { "rfc822;a+20", "rfc822;a " },
};

static void test_envid(void) {
        for (size_t i = 0; i < ELEMENTSOF(envids); i++) {
                char *v = NULL;
                const char *why = NULL;
                int r = dsn_envid_decode(envids[i].in, strlen(envids[i].in), &v, &why);

                if (!envids[i].want) {
                        ASSERT_EQ(r, -EINVAL);
                        ASSERT_TRUE(why != NULL);
                        continue;
                }
                ASSERT_OK(r);
                ASSERT_STREQ(v, envids[i].want);
                ASSERT_OK(dsn_envid_check(v));
                free(v);
        }
        /* 100 characters of xtext (RFC 3461 §4.4), not one more */
        char in[DSN_ENVID_MAX + 2], *v = NULL;
        const char *why;

        memset(in, 'e', sizeof(in) - 1);
        in[sizeof(in) - 1] = 0;
        ASSERT_EQ(dsn_envid_decode(in, DSN_ENVID_MAX + 1, &v, &why), -EINVAL);
        ASSERT_OK(dsn_envid_decode(in, DSN_ENVID_MAX, &v, &why));
        free(v);
        /* a decoded value is bounded by its xtext: 34 "+" need 102 */
        memset(in, '+', 34);
        in[34] = 0;
        ASSERT_EQ(dsn_envid_check(in), -EINVAL);
        in[33] = 0;
        ASSERT_OK(dsn_envid_check(in));
        ASSERT_EQ(dsn_envid_check("a\r\nb"), -EINVAL);
}

static void test_orcpt(void) {
        for (size_t i = 0; i < ELEMENTSOF(orcpts); i++) {
                char *v = NULL;
                const char *why = NULL;
                int r = dsn_orcpt_decode(orcpts[i].in, strlen(orcpts[i].in), &v, &why);

                if (!orcpts[i].want) {
                        ASSERT_EQ(r, -EINVAL);
                        ASSERT_TRUE(why != NULL);
                        continue;
                }
                ASSERT_OK(r);
                ASSERT_STREQ(v, orcpts[i].want);
                ASSERT_OK(dsn_orcpt_check(v));
                free(v);
        }
        /* the writer: the type as it is, the address in xtext */
        Buf b = BUF_INIT(0);

        ASSERT_OK(dsn_orcpt_encode("rfc822;\"a b\"+x@example.org", &b));
        ASSERT_MEMEQ(b.data, b.len, "rfc822;\"a+20b\"+2Bx@example.org", 30);
        buf_reset(&b);
        ASSERT_EQ(dsn_orcpt_encode("rfc822\r\nRSET;x@y", &b), -EINVAL);
        ASSERT_EQ(dsn_orcpt_encode("rfc822;x\r\nRSET", &b), -EINVAL);
        ASSERT_EQ(b.len, 0);
        buf_done(&b);
        ASSERT_EQ(dsn_orcpt_check("abcdefghijabcdefghijabcdefghijabc;x@y"), -EINVAL);     /* type > 32 */
        ASSERT_OK(dsn_orcpt_check("abcdefghijabcdefghijabcdefghijab;x@y"));
}

static void test_notify_ret(void) {
        static const struct {
                const char *in;
                int r;
                unsigned want;
        } rows[] = {
                { "NEVER", 0, DSN_NOTIFY_NEVER },
                { "success,Failure,DELAY", 0, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY },
                { "FAILURE", 0, DSN_NOTIFY_FAILURE },
                { "NEVER,FAILURE", -EINVAL, 0 },
                { "FAILURE,FAILURE", -EINVAL, 0 },
                { "FAILURE,", -EINVAL, 0 },
                { "", -EINVAL, 0 },
                { "FAIL", -EINVAL, 0 },
        };
        Buf b = BUF_INIT(0);

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                unsigned v = 0;

                ASSERT_EQ(dsn_notify_parse(rows[i].in, strlen(rows[i].in), &v), rows[i].r);
                ASSERT_EQ(v, rows[i].want);
        }
        ASSERT_OK(dsn_notify_format(DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY, &b));
        ASSERT_MEMEQ(b.data, b.len, "SUCCESS,DELAY", 13);
        buf_done(&b);
        ASSERT_EQ(dsn_ret_from_string("hdrs", 4), DSN_RET_HDRS);
        ASSERT_EQ(dsn_ret_from_string("FULL", 4), DSN_RET_FULL);
        ASSERT_EQ(dsn_ret_from_string("FULLER", 6), DSN_RET_UNSET);
        ASSERT_STREQ(dsn_ret_to_string(DSN_RET_HDRS), "HDRS");
}

int main(void) {
        test_envid();
        test_orcpt();
        test_notify_ret();
        return 0;
}
