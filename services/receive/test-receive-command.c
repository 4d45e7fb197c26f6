/* SPDX-License-Identifier: MIT */
#include "services/receive/receive-command.h"
#include "shared/macro.h"
#include "shared/tests.h"

static const struct {
        const char *line;
        int ret;
        CommandVerb verb;
        const char *arg;        /* NULL: not checked */
        size_t n_params;
} cases[] = {
        { "EHLO app.example.com", 0, COMMAND_EHLO, "app.example.com", 0 },
        { "ehlo [127.0.0.1]", 0, COMMAND_EHLO, "[127.0.0.1]", 0 },
        { "HELO x", 0, COMMAND_HELO, "x", 0 },
        { "EHLO", -EBADMSG, COMMAND_EHLO, NULL, 0 },
        { "EHLO a b", -EBADMSG, COMMAND_EHLO, NULL, 0 },
        { "MAIL FROM:<a@b.c>", 0, COMMAND_MAIL, "a@b.c", 0 },
        { "mail from:<>", 0, COMMAND_MAIL, "", 0 },
        { "MAIL FROM: <a@b.c>", 0, COMMAND_MAIL, "a@b.c", 0 },
        { "MAIL FROM:root", 0, COMMAND_MAIL, "root", 0 },
        { "MAIL FROM:<a@b.c> SIZE=100 BODY=8BITMIME SMTPUTF8", 0, COMMAND_MAIL, "a@b.c", 3 },
        { "MAIL FROM:<a@b.c> RET=HDRS ENVID=QQ+2B1", 0, COMMAND_MAIL, "a@b.c", 2 },
        { "MAIL FROM:<@relay.example,@r2.example:a@b.c>", 0, COMMAND_MAIL, "a@b.c", 0 },
        { "MAIL FROM:<\"a>b\"@c.d>", 0, COMMAND_MAIL, "\"a>b\"@c.d", 0 },
        { "MAIL FROM:<a@b.c", -EBADMSG, COMMAND_MAIL, NULL, 0 },
        { "MAIL FROM:<a@b.c>x", -EBADMSG, COMMAND_MAIL, NULL, 0 },
        { "MAIL TO:<a@b.c>", -EBADMSG, COMMAND_MAIL, NULL, 0 },
        { "MAIL FROM:<a@b.c> =x", -EBADMSG, COMMAND_MAIL, NULL, 0 },
        { "MAIL FROM:<a@b.c> SIZE=", -EBADMSG, COMMAND_MAIL, NULL, 0 },
        { "MAIL FROM:<a@b.c> A=1 B=2 C=3 D=4 E=5 F=6 G=7 H=8 I=9 J=10 K=11 L=12 M=13 N=14 O=15 P=16 Q=17",
          -EBADMSG, COMMAND_MAIL, NULL, 0 },
        { "RCPT TO:<b@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.org", 0, COMMAND_RCPT,
          "b@example.org", 2 },
        { "RCPT TO:<postmaster>", 0, COMMAND_RCPT, "postmaster", 0 },
        { "RCPT TO:", -EBADMSG, COMMAND_RCPT, NULL, 0 },
        { "DATA", 0, COMMAND_DATA, NULL, 0 },
        { "DATA x", -EBADMSG, COMMAND_DATA, NULL, 0 },
        { "RSET", 0, COMMAND_RSET, NULL, 0 },
        { "NOOP anything", 0, COMMAND_NOOP, "anything", 0 },
        { "QUIT", 0, COMMAND_QUIT, NULL, 0 },
        { "VRFY root", 0, COMMAND_VRFY, "root", 0 },
        { "HELP", 0, COMMAND_HELP, "", 0 },
        { "STARTTLS", 0, COMMAND_STARTTLS, NULL, 0 },
        { "FOO bar", 0, COMMAND_UNKNOWN, NULL, 0 },
        { "", 0, COMMAND_UNKNOWN, NULL, 0 },
        { "MAILFROM:<a@b>", 0, COMMAND_UNKNOWN, NULL, 0 },
};

static void test_table(void) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Command c;
                int r = command_parse((const uint8_t *) cases[i].line, strlen(cases[i].line), &c);

                if (r != cases[i].ret || c.verb != cases[i].verb)
                        fprintf(stderr, "case '%s'\n", cases[i].line);
                ASSERT_EQ(r, cases[i].ret);
                ASSERT_EQ(c.verb, cases[i].verb);
                if (r == 0 && cases[i].arg)
                        ASSERT_MEMEQ(c.arg.p, c.arg.n, cases[i].arg, strlen(cases[i].arg));
                if (r == 0)
                        ASSERT_EQ(c.n_params, cases[i].n_params);
        }
}

static void test_params(void) {
        static const char line[] = "RCPT TO:<b@x.org> NOTIFY=NEVER ORCPT=rfc822;b+40x.org";
        Command c;

        ASSERT_EQ(command_parse((const uint8_t *) line, strlen(line), &c), 0);
        ASSERT_EQ(c.n_params, 2);
        ASSERT_MEMEQ(c.params[0].key.p, c.params[0].key.n, "NOTIFY", 6);
        ASSERT_MEMEQ(c.params[0].value.p, c.params[0].value.n, "NEVER", 5);
        ASSERT_MEMEQ(c.params[1].value.p, c.params[1].value.n, "rfc822;b+40x.org", 16);

        ASSERT_EQ(command_parse((const uint8_t *) "MAIL FROM:<> SMTPUTF8", 21, &c), 0);
        ASSERT_EQ(c.n_params, 1);
        ASSERT_TRUE(c.params[0].value.p == NULL);
}

static void test_hostile(void) {
        /* NUL, CR or LF inside a recognised command is a syntax error */
        static const char nul[] = "MAIL FROM:<a\0@b.c>";
        static const char cr[] = "RCPT TO:<a@b.c>\rRCPT TO:<x@y.z>";
        static const char lf[] = "EHLO a\nMAIL";
        Command c;

        ASSERT_EQ(command_parse((const uint8_t *) nul, sizeof(nul) - 1, &c), -EBADMSG);
        ASSERT_EQ(command_parse((const uint8_t *) cr, sizeof(cr) - 1, &c), -EBADMSG);
        ASSERT_EQ(command_parse((const uint8_t *) lf, sizeof(lf) - 1, &c), -EBADMSG);
}

int main(void) {
        test_table();
        test_params();
        test_hostile();
        return 0;
}
