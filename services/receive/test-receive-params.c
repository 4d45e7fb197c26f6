/* SPDX-License-Identifier: MIT */
#include "services/receive/receive-command.h"
#include "services/receive/receive-params.h"
#include "shared/limits.h"
#include "shared/macro.h"
#include "shared/tests.h"

/* Each row: the parameters of a command, and the reply that refuses them
 * (its start), or NULL when they are taken. */
static const struct {
        const char *line;
        const char *reply;
} mail_rows[] = {
        { "MAIL FROM:<a@b.c>", NULL },
        { "MAIL FROM:<a@b.c> SIZE=100 BODY=8BITMIME SMTPUTF8", NULL },
        { "MAIL FROM:<a@b.c> size=100 body=7bit smtputf8 ret=hdrs envid=QQ+2B1", NULL },
        { "MAIL FROM:<a@b.c> AUTH=<>", NULL },
        { "MAIL FROM:<a@b.c> AUTH=app+2Bx@example.com", NULL },
        { "MAIL FROM:<a@b.c> SIZE=18446744073709551615", NULL },
        { "MAIL FROM:<a@b.c> SIZE=18446744073709551616", "501 5.5.4 Bad SIZE parameter" },
        { "MAIL FROM:<a@b.c> SIZE=12a", "501 5.5.4 Bad SIZE parameter" },
        { "MAIL FROM:<a@b.c> SIZE=1 SIZE=2", "501 5.5.4 Bad SIZE parameter: given twice" },
        { "MAIL FROM:<a@b.c> SIZE", "501 5.5.4 Bad SIZE parameter: needs a value" },
        { "MAIL FROM:<a@b.c> BODY=BINARYMIME", "501 5.5.4 Bad BODY parameter" },
        { "MAIL FROM:<a@b.c> BODY=7BIT BODY=8BITMIME", "501 5.5.4 Bad BODY parameter: given twice" },
        { "MAIL FROM:<a@b.c> SMTPUTF8=yes", "501 5.5.4 Bad SMTPUTF8 parameter: takes no value" },
        { "MAIL FROM:<a@b.c> RET=ALL", "501 5.5.4 Bad RET parameter" },
        { "MAIL FROM:<a@b.c> RET=FULL RET=HDRS", "501 5.5.4 Bad RET parameter: given twice" },
        /* issue 13: an ENVID that would become a header line in a report */
        { "MAIL FROM:<a@b.c> ENVID=x+0D+0AX-Evil:+20yes", "501 5.5.4 Bad ENVID parameter: not printable" },
        { "MAIL FROM:<a@b.c> ENVID=x+00", "501 5.5.4 Bad ENVID parameter: holds a NUL" },
        { "MAIL FROM:<a@b.c> ENVID=x+0", "501 5.5.4 Bad ENVID parameter: not xtext" },
        { "MAIL FROM:<a@b.c> ENVID=a ENVID=b", "501 5.5.4 Bad ENVID parameter: given twice" },
        { "MAIL FROM:<a@b.c> AUTH=x+0D+0Ay", "501 5.5.4 Bad AUTH parameter" },
        { "MAIL FROM:<a@b.c> AUTH=notanaddress", "501 5.5.4 Bad AUTH parameter" },
        { "MAIL FROM:<a@b.c> NOTIFY=NEVER", "555 5.5.4 Unsupported option: NOTIFY" },
        { "MAIL FROM:<a@b.c> X-FOO=1", "555 5.5.4 Unsupported option: X-FOO" },
};

static const struct {
        const char *line;
        const char *reply;
        const char *orcpt;
        unsigned notify;
} rcpt_rows[] = {
        { "RCPT TO:<b@x.org>", NULL, NULL, 0 },
        { "RCPT TO:<b@x.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@x.org", NULL, "rfc822;b@x.org",
          DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE },
        { "RCPT TO:<b@x.org> orcpt=RFC822;b+2Bt@x.org notify=never", NULL, "RFC822;b+t@x.org", DSN_NOTIFY_NEVER },
        /* issue 13, finding 1: the command injection through ORCPT */
        { "RCPT TO:<b@x.org> ORCPT=rfc822+0D+0ARSET+0D+0AMAIL+20FROM:<e@x.org>;x@y",
          "501 5.5.4 Bad ORCPT parameter", NULL, 0 },
        { "RCPT TO:<b@x.org> ORCPT=rfc822;x+0D+0ARSET", "501 5.5.4 Bad ORCPT parameter: address not printable",
          NULL, 0 },
        { "RCPT TO:<b@x.org> ORCPT=rfc822+3Bx@y", "501 5.5.4 Bad ORCPT parameter: expected address type", NULL, 0 },
        { "RCPT TO:<b@x.org> ORCPT=;x@y", "501 5.5.4 Bad ORCPT parameter", NULL, 0 },
        { "RCPT TO:<b@x.org> ORCPT=rfc822;a ORCPT=rfc822;b", "501 5.5.4 Bad ORCPT parameter: given twice", NULL, 0 },
        { "RCPT TO:<b@x.org> NOTIFY=NEVER,FAILURE", "501 5.5.4 Bad NOTIFY parameter", NULL, 0 },
        { "RCPT TO:<b@x.org> NOTIFY=FAILURE NOTIFY=DELAY", "501 5.5.4 Bad NOTIFY parameter: given twice", NULL, 0 },
        { "RCPT TO:<b@x.org> NOTIFY", "501 5.5.4 Bad NOTIFY parameter: needs a value", NULL, 0 },
        { "RCPT TO:<b@x.org> SIZE=1", "555 5.5.4 Unsupported option: SIZE", NULL, 0 },
};

static bool starts_with(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_mail(void) {
        for (size_t i = 0; i < ELEMENTSOF(mail_rows); i++) {
                MailParams mp = {};
                Command c;
                char reply[SMTP_REPLY_LINE_MAX] = "";
                int r;

                ASSERT_OK(command_parse((const uint8_t *) mail_rows[i].line, strlen(mail_rows[i].line), &c));
                r = mail_params_parse(c.params, c.n_params, &mp, reply, sizeof(reply));
                if (!mail_rows[i].reply)
                        ASSERT_OK(r);
                else {
                        ASSERT_EQ(r, -EINVAL);
                        if (!starts_with(reply, mail_rows[i].reply)) {
                                fprintf(stderr, "%s: got '%s'\n", mail_rows[i].line, reply);
                                abort();
                        }
                        ASSERT_TRUE(ascii_printable(reply, strlen(reply)));
                }
                mail_params_done(&mp);
        }
}

static void test_mail_values(void) {
        static const char line[] = "MAIL FROM:<a@b.c> SIZE=2048 BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=Q+20Q AUTH=<>";
        MailParams mp = {};
        Command c;
        char reply[SMTP_REPLY_LINE_MAX];

        ASSERT_OK(command_parse((const uint8_t *) line, strlen(line), &c));
        ASSERT_OK(mail_params_parse(c.params, c.n_params, &mp, reply, sizeof(reply)));
        ASSERT_TRUE(mp.has_size);
        ASSERT_EQ(mp.size, 2048);
        ASSERT_EQ(mp.body, BODY_8BITMIME);
        ASSERT_TRUE(mp.smtputf8);
        ASSERT_EQ(mp.ret, DSN_RET_FULL);
        ASSERT_STREQ(mp.envid, "Q Q");
        ASSERT_TRUE(mp.has_auth);
        mail_params_done(&mp);
}

static void test_rcpt(void) {
        for (size_t i = 0; i < ELEMENTSOF(rcpt_rows); i++) {
                RcptParams rp = {};
                Command c;
                char reply[SMTP_REPLY_LINE_MAX] = "";
                int r;

                ASSERT_OK(command_parse((const uint8_t *) rcpt_rows[i].line, strlen(rcpt_rows[i].line), &c));
                r = rcpt_params_parse(c.params, c.n_params, &rp, reply, sizeof(reply));
                if (!rcpt_rows[i].reply) {
                        ASSERT_OK(r);
                        ASSERT_EQ(rp.notify, rcpt_rows[i].notify);
                        if (rcpt_rows[i].orcpt)
                                ASSERT_STREQ(rp.orcpt, rcpt_rows[i].orcpt);
                        else
                                ASSERT_TRUE(rp.orcpt == NULL);
                } else {
                        ASSERT_EQ(r, -EINVAL);
                        if (!starts_with(reply, rcpt_rows[i].reply)) {
                                fprintf(stderr, "%s: got '%s'\n", rcpt_rows[i].line, reply);
                                abort();
                        }
                        ASSERT_TRUE(rp.orcpt == NULL);
                }
                rcpt_params_done(&rp);
        }
}

int main(void) {
        test_mail();
        test_mail_values();
        test_rcpt();
        return 0;
}
