/* SPDX-License-Identifier: MIT */
#include "services/deliver/deliver-state.h"
#include "shared/macro.h"
#include "shared/tests.h"

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
        return 0;
}
