/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "shared/deliver-state.h"
#include "shared/macro.h"
#include "shared/tests.h"

/* Every case against the grammar of docs/spool-format.md, with the
 * error deliver and `pochtar queue` both get. */
static const struct {
        const char *in;
        size_t n_rcpts;
        int want;
} cases[] = {
        /* the example of docs/spool-format.md */
        { "pochtar-deliver-state 1\nattempts 2\nnext 1764300300123456\nwarned no\n"
          "rcpt 0 sent 2.0.0 250+202.0.0+20Ok:+20queued\nrcpt 2 deferred 4.2.0 451+204.2.0+20not+20yet\n", 3, 0 },
        { "pochtar-deliver-state 1\n", 1, 0 },
        { "pochtar-deliver-state 2\n", 1, -EPROTONOSUPPORT },
        { "", 1, -EBADMSG },
        { "pochtar-deliver-state 1", 1, -EBADMSG },                              /* no final LF */
        { "attempts 1\npochtar-deliver-state 1\n", 1, -EBADMSG },
        { "pochtar-deliver-state 1\nrcpt 1 sent 2.0.0 -\n", 1, -EBADMSG },      /* index past the envelope */
        { "pochtar-deliver-state 1\nrcpt 0 pending - -\n", 1, -EBADMSG },       /* pending has no line */
        { "pochtar-deliver-state 1\nrcpt 0 sent 2.0 -\n", 1, -EBADMSG },
        { "pochtar-deliver-state 1\nrcpt 0 sent 3.0.0 -\n", 1, -EBADMSG },
        { "pochtar-deliver-state 1\nrcpt 0 sent 2.0.0 a b\n", 1, -EBADMSG },
        { "pochtar-deliver-state 1\nrcpt 0 sent 2.0.0 +ZZ\n", 1, -EBADMSG },
        { "pochtar-deliver-state 1\nrcpt 0 sent 2.0.0 +00\n", 1, -EBADMSG },    /* NUL in a diagnostic */
        { "pochtar-deliver-state 1\nrcpt 0  sent 2.0.0 -\n", 1, -EBADMSG },
        { "pochtar-deliver-state 1\nattempts 99999999999\n", 1, -EBADMSG },
        { "pochtar-deliver-state 1\nwarned maybe\n", 1, -EBADMSG },
        { "pochtar-deliver-state 1\nnext -1\n", 1, -EBADMSG },
        { "pochtar-deliver-state 1\nbogus 1\n", 1, -EBADMSG },
};

static void test_cases(void) {
        DeliverState s;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r;

                ASSERT_OK(deliver_state_init(&s, cases[i].n_rcpts));
                r = deliver_state_parse((const uint8_t *) cases[i].in, strlen(cases[i].in), &s);
                if (r != cases[i].want)
                        fprintf(stderr, "case %zu: %d\n", i, r);
                ASSERT_EQ(r, cases[i].want);
                deliver_state_done(&s);
        }

        ASSERT_OK(deliver_state_init(&s, 3));
        ASSERT_OK(deliver_state_parse((const uint8_t *) cases[0].in, strlen(cases[0].in), &s));
        ASSERT_EQ(s.attempts, 2);
        ASSERT_TRUE(s.next_usec == 1764300300123456ULL);
        ASSERT_EQ(s.warned, 0);
        ASSERT_EQ(s.rcpts[0].state, RCPT_SENT);
        ASSERT_STREQ(rcpt_state_to_string(s.rcpts[0].state), "sent");
        ASSERT_STREQ(s.rcpts[0].code, "2.0.0");
        ASSERT_STREQ(s.rcpts[0].diagnostic, "250 2.0.0 Ok: queued");
        ASSERT_EQ(s.rcpts[1].state, RCPT_PENDING);
        ASSERT_TRUE(s.rcpts[1].diagnostic == NULL);
        ASSERT_EQ(s.rcpts[2].state, RCPT_DEFERRED);
        ASSERT_STREQ(s.rcpts[2].diagnostic, "451 4.2.0 not yet");
        deliver_state_done(&s);
}

/* Diagnostics that look like the "none" marker, or are empty, still
 * make a file that parses. */
static void test_diagnostic_edges(void) {
        DeliverState s, t;
        Buf b = BUF_INIT(0);

        ASSERT_OK(deliver_state_init(&s, 2));
        s.rcpts[0] = (RcptRecord) { .state = RCPT_SENT, .code = "2.0.0", .diagnostic = strdup("-") };
        s.rcpts[1] = (RcptRecord) { .state = RCPT_BOUNCED, .code = "5.0.0", .diagnostic = strdup("") };
        ASSERT_OK(deliver_state_format(&s, &b));
        ASSERT_OK(deliver_state_init(&t, 2));
        ASSERT_OK(deliver_state_parse(b.data, b.len, &t));
        ASSERT_STREQ(t.rcpts[0].diagnostic, "-");
        ASSERT_TRUE(t.rcpts[1].diagnostic == NULL);
        ASSERT_EQ(t.rcpts[1].state, RCPT_BOUNCED);
        deliver_state_done(&s);
        deliver_state_done(&t);
        buf_done(&b);
}

int main(void) {
        DeliverState s, t;
        Buf b = BUF_INIT(0);
        static const char *bad[] = {
                "",
                "pochtar-deliver-state 2\n",
                "pochtar-deliver-state 1\nrcpt 3 sent 2.0.0 -\n",        /* index out of range */
                "pochtar-deliver-state 1\nrcpt 0 sent 9.0.0 -\n",
                "pochtar-deliver-state 1\nrcpt 0 maybe 2.0.0 -\n",
                "pochtar-deliver-state 1\nattempts x\n",
                "pochtar-deliver-state 1\nfoo 1\n",
                "pochtar-deliver-state 1\nrcpt 0 sent 2.0.0 a b\n",
                "pochtar-deliver-state 1",
        };

        ASSERT_OK(deliver_state_init(&s, 3));
        s.attempts = 2;
        s.next_usec = 1764300000123456;
        s.warned = true;
        s.rcpts[0] = (RcptRecord) { .state = RCPT_SENT, .code = "2.0.0", .diagnostic = strdup("250 ok") };
        s.rcpts[2] = (RcptRecord) { .state = RCPT_DEFERRED, .code = "4.4.1",
                                    .diagnostic = strdup("line\nbreak + space") };
        ASSERT_OK(deliver_state_format(&s, &b));
        ASSERT_TRUE(memchr(b.data, '\n', b.len));
        ASSERT_OK(deliver_state_init(&t, 3));
        ASSERT_OK(deliver_state_parse(b.data, b.len, &t));
        ASSERT_EQ(t.attempts, 2);
        ASSERT_EQ(t.next_usec, 1764300000123456);
        ASSERT_TRUE(t.warned);
        ASSERT_EQ(t.rcpts[0].state, RCPT_SENT);
        ASSERT_EQ(t.rcpts[1].state, RCPT_PENDING);
        ASSERT_EQ(t.rcpts[2].state, RCPT_DEFERRED);
        ASSERT_STREQ(t.rcpts[2].diagnostic, "line\nbreak + space");
        ASSERT_TRUE(!deliver_state_done_all(&t));
        deliver_state_done(&t);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r;

                ASSERT_OK(deliver_state_init(&t, 3));
                r = deliver_state_parse((const uint8_t *) bad[i], strlen(bad[i]), &t);
                ASSERT_TRUE(r == -EBADMSG || r == -EPROTONOSUPPORT);
                deliver_state_done(&t);
        }
        deliver_state_done(&s);
        buf_done(&b);
        test_cases();
        test_diagnostic_edges();
        return 0;
}
