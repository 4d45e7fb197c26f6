/* SPDX-License-Identifier: MIT */
#include "cli/sendmail-message.h"
#include "shared/macro.h"
#include "shared/tests.h"

static void check(const char *in, const SendmailInput *opts, const char *wire, size_t n_rcpts) {
        SendmailMessage m;

        ASSERT_OK(sendmail_message_prepare((const uint8_t *) in, strlen(in), opts, &m));
        if (strcmp((char *) m.wire.data, wire) != 0)
                fprintf(stderr, "got:\n%s\nwant:\n%s\n", (char *) m.wire.data, wire);
        ASSERT_STREQ((char *) m.wire.data, wire);
        ASSERT_EQ(m.n_rcpts, n_rcpts);
        sendmail_message_done(&m);
}

int main(void) {
        SendmailInput t = { .extract = true, .ignore_dots = true, .sender = "root" };
        SendmailInput plain = { .sender = "www-data", .full_name = "Web \"App\"" };
        SendmailMessage m;
        char **rcpts = NULL;
        size_t n = 0;

        /* cron: LF lines, -t -i: Bcc removed, dots stuffed, a lone "." is text */
        check("From: root (Cron Daemon)\nTo: root\nBcc: audit@example.org,\n  other\nSubject: x\n\n.\n..x\nend",
              &t,
              "From: root (Cron Daemon)\r\nTo: root\r\nSubject: x\r\n\r\n..\r\n...x\r\nend\r\n.\r\n", 3);
        ASSERT_OK(sendmail_message_prepare((const uint8_t *) "To: a@b.c, Bob <bob@d.e>\nCc: c\n\nx\n", 34, &t, &m));
        ASSERT_EQ(m.n_rcpts, 3);
        ASSERT_STREQ(m.rcpts[0], "a@b.c");
        ASSERT_STREQ(m.rcpts[1], "bob@d.e");
        ASSERT_STREQ(m.rcpts[2], "c");
        sendmail_message_done(&m);

        /* without -i a line "." ends the input; a missing From: is added, -F quoted */
        check("Subject: hi\r\n\r\nbody\r\n.\r\nnot sent\r\n", &plain,
              "Subject: hi\r\nFrom: \"Web \\\"App\\\"\" <www-data>\r\n\r\nbody\r\n.\r\n", 0);
        /* without -t, Bcc stays (the recipients are on the command line) */
        check("Bcc: x@y.z\n\nb\n", &plain, "Bcc: x@y.z\r\nFrom: \"Web \\\"App\\\"\" <www-data>\r\n\r\nb\r\n.\r\n", 0);
        /* an empty message still ends properly */
        check("", &t, "From: root\r\n.\r\n", 0);

        ASSERT_OK(sendmail_add_rcpts("a@b.c, root", &rcpts, &n));
        ASSERT_EQ(n, 2);
        ASSERT_EQ(sendmail_add_rcpts("bad@@x", &rcpts, &n), -EINVAL);
        for (size_t i = 0; i < n; i++)
                free(rcpts[i]);
        free(rcpts);
        return 0;
}
