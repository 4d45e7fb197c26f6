/* SPDX-License-Identifier: MIT */
#include "services/deliver/deliver-command.h"
#include "shared/macro.h"
#include "shared/tests.h"

static const EhloCaps all = { .pipelining = true, .eightbitmime = true, .smtputf8 = true, .dsn = true, .size = true };
static const EhloCaps bare = {};

static void expect_mail(const Envelope *e, const EhloCaps *caps, bool b8, int r, const char *want) {
        Buf b = BUF_INIT(0);

        ASSERT_OK(buf_append_str(&b, "kept"));
        ASSERT_EQ(mail_command_format(e, caps, 1234, b8, &b), r);
        if (r == 0) {
                ASSERT_OK(buf_append_byte(&b, 0));
                ASSERT_STREQ((char *) b.data + 4, want);
        } else
                ASSERT_MEMEQ(b.data, b.len, "kept", 4);         /* nothing half-written */
        buf_done(&b);
}

static void expect_rcpt(const Envelope *e, const Recipient *rc, const EhloCaps *caps, int r, const char *want) {
        Buf b = BUF_INIT(0);

        ASSERT_EQ(rcpt_command_format(e, rc, caps, &b), r);
        if (r == 0) {
                ASSERT_OK(buf_append_byte(&b, 0));
                ASSERT_STREQ((char *) b.data, want);
        } else
                ASSERT_EQ(b.len, 0);
        buf_done(&b);
}

static void test_mail(void) {
        Envelope e = { .sender = (char *) "app@example.com", .ret = DSN_RET_HDRS, .envid = (char *) "Q Q+=" };

        expect_mail(&e, &all, false, 0, "MAIL FROM:<app@example.com> SIZE=1234 RET=HDRS ENVID=Q+20Q+2B+3D");
        expect_mail(&e, &all, true, 0,
                    "MAIL FROM:<app@example.com> SIZE=1234 BODY=8BITMIME RET=HDRS ENVID=Q+20Q+2B+3D");
        /* no extension offered: no parameter of it */
        expect_mail(&e, &bare, true, 0, "MAIL FROM:<app@example.com>");
        e.sender = (char *) "";
        e.envid = NULL;
        e.ret = DSN_RET_UNSET;
        expect_mail(&e, &all, false, 0, "MAIL FROM:<> SIZE=1234");

        /* what envelope_parse() refuses, refused again here */
        e.envid = (char *) "x\r\nRSET";
        expect_mail(&e, &all, false, -EINVAL, NULL);
        e.envid = NULL;
        e.sender = (char *) "a@b.c>\r\nRSET\r\nMAIL FROM:<x@y.z";
        expect_mail(&e, &all, false, -EINVAL, NULL);
        /* an internationalised sender only where SMTPUTF8 allows it */
        e.sender = (char *) "\xd0\xbf@example.com";
        expect_mail(&e, &all, false, -EINVAL, NULL);
        e.smtputf8 = true;
        expect_mail(&e, &all, false, 0, "MAIL FROM:<\xd0\xbf@example.com> SIZE=1234 SMTPUTF8");
        expect_mail(&e, &bare, false, -EINVAL, NULL);
}

static void test_rcpt(void) {
        Envelope e = { .sender = (char *) "" };
        Recipient rc = { .addr = (char *) "bob@example.org", .orcpt = (char *) "rfc822;\"b b\"+x@example.org",
                         .notify = DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY };

        expect_rcpt(&e, &rc, &all, 0,
                    "RCPT TO:<bob@example.org> NOTIFY=FAILURE,DELAY ORCPT=rfc822;\"b+20b\"+2Bx@example.org");
        expect_rcpt(&e, &rc, &bare, 0, "RCPT TO:<bob@example.org>");
        /* issue 13, finding 1: the address type was written raw */
        rc.orcpt = (char *) "rfc822\r\nRSET\r\nMAIL FROM:<e@x.org>;x@y";
        expect_rcpt(&e, &rc, &all, -EINVAL, NULL);
        expect_rcpt(&e, &rc, &bare, 0, "RCPT TO:<bob@example.org>");   /* not sent: nothing to refuse */
        rc.orcpt = (char *) "rfc822;x\r\ny";
        expect_rcpt(&e, &rc, &all, -EINVAL, NULL);
        rc.orcpt = NULL;
        rc.notify = DSN_NOTIFY_NEVER;
        expect_rcpt(&e, &rc, &all, 0, "RCPT TO:<bob@example.org> NOTIFY=NEVER");
        rc.addr = (char *) "bob@example.org>\r\nDATA";
        expect_rcpt(&e, &rc, &all, -EINVAL, NULL);
}

int main(void) {
        test_mail();
        test_rcpt();
        return 0;
}
