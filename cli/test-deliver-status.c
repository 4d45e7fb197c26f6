/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "cli/deliver-status.h"
#include "shared/tests.h"

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
        { "pochtar-deliver-state 1\nrcpt 0  sent 2.0.0 -\n", 1, -EBADMSG },
        { "pochtar-deliver-state 1\nattempts 99999999999\n", 1, -EBADMSG },
        { "pochtar-deliver-state 1\nwarned maybe\n", 1, -EBADMSG },
        { "pochtar-deliver-state 1\nnext -1\n", 1, -EBADMSG },
        { "pochtar-deliver-state 1\nbogus 1\n", 1, -EBADMSG },
};

int main(void) {
        DeliverStatus s;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int r = deliver_status_parse((const uint8_t *) cases[i].in, strlen(cases[i].in), cases[i].n_rcpts, &s);

                if (r != cases[i].want)
                        fprintf(stderr, "case %zu: %d\n", i, r);
                ASSERT_EQ(r, cases[i].want);
                if (r >= 0)
                        deliver_status_done(&s);
        }

        ASSERT_OK(deliver_status_parse((const uint8_t *) cases[0].in, strlen(cases[0].in), 3, &s));
        ASSERT_EQ(s.attempts, 2);
        ASSERT_TRUE(s.next_usec == 1764300300123456ULL);
        ASSERT_EQ(s.warned, 0);
        ASSERT_EQ(s.rcpts[0].kind, RCPT_STATUS_SENT);
        ASSERT_STREQ(s.rcpts[0].code, "2.0.0");
        ASSERT_STREQ(s.rcpts[0].diagnostic, "250 2.0.0 Ok: queued");
        ASSERT_EQ(s.rcpts[1].kind, RCPT_STATUS_PENDING);
        ASSERT_TRUE(s.rcpts[1].diagnostic == NULL);
        ASSERT_EQ(s.rcpts[2].kind, RCPT_STATUS_DEFERRED);
        ASSERT_STREQ(s.rcpts[2].diagnostic, "451 4.2.0 not yet");
        deliver_status_done(&s);
        return 0;
}
