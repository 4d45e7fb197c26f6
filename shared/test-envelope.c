/* SPDX-License-Identifier: MIT */
#include "shared/envelope.h"
#include "shared/macro.h"
#include "shared/tests.h"

static void test_roundtrip(void) {
        Envelope e = {}, p = {};
        Buf b = BUF_INIT(0);
        size_t len;
        unsigned line = 0;

        memcpy(e.id, "0KQ3M5Z7A8B2C4D6", QUEUE_ID_LEN + 1);
        e.arrival_usec = UINT64_C(1764300000123456);
        e.client = strdup("127.0.0.1");
        e.helo = strdup("evil\r\nrcpt x@y");         /* client-controlled */
        e.auth = strdup("app1@example.com");
        e.sender = strdup("a+b@example.com");
        e.ret = DSN_RET_HDRS;
        e.envid = strdup("QQ 314159");
        e.body = BODY_8BITMIME;
        e.smtputf8 = true;
        ASSERT_OK(envelope_add_rcpt(&e, "bob@example.org", "rfc822;bob@example.org",
                                    DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE));
        ASSERT_OK(envelope_add_rcpt(&e, "\xd0\xbf@\xd0\xbf.\xd1\x80\xd1\x84", NULL, 0));
        ASSERT_OK(envelope_format(&e, &b));
        ASSERT_STREQ((char *) b.data,
                     "pochtar-queue 1\n"
                     "id 0KQ3M5Z7A8B2C4D6\n"
                     "arrival 1764300000123456\n"
                     "client 127.0.0.1\n"
                     "helo evil+0D+0Arcpt+20x@y\n"
                     "auth app1@example.com\n"
                     "sender a+2Bb@example.com\n"
                     "ret HDRS\n"
                     "envid QQ+20314159\n"
                     "body 8BITMIME\n"
                     "smtputf8 yes\n"
                     "rcpt bob@example.org notify=SUCCESS,FAILURE orcpt=rfc822;bob@example.org\n"
                     "rcpt +D0+BF@+D0+BF.+D1+80+D1+84\n"
                     "\n");
        /* The format keeps the line structure whatever a field holds, and the
         * parser still refuses what receive never writes: a HELO that is not
         * printable (receive stores it censored). */
        ASSERT_EQ(envelope_parse(b.data, b.len, &p, &len, &line), -EBADMSG);
        ASSERT_EQ(line, 5);
        free(e.helo);
        e.helo = strdup("evil rcpt x@y");
        buf_reset(&b);
        ASSERT_OK(envelope_format(&e, &b));
        ASSERT_OK(buf_append_str(&b, "Subject: x\r\n\r\nbody\r\n"));
        ASSERT_OK(envelope_parse(b.data, b.len, &p, &len, &line));
        ASSERT_STREQ((char *) b.data + len, "Subject: x\r\n\r\nbody\r\n");
        ASSERT_STREQ(p.id, e.id);
        ASSERT_EQ(p.arrival_usec, e.arrival_usec);
        ASSERT_STREQ(p.helo, e.helo);
        ASSERT_STREQ(p.auth, "app1@example.com");
        ASSERT_STREQ(p.sender, e.sender);
        ASSERT_STREQ(p.envid, e.envid);
        ASSERT_EQ(p.ret, DSN_RET_HDRS);
        ASSERT_EQ(p.body, BODY_8BITMIME);
        ASSERT_TRUE(p.smtputf8);
        ASSERT_EQ(p.n_rcpts, 2);
        ASSERT_STREQ(p.rcpts[0].addr, "bob@example.org");
        ASSERT_STREQ(p.rcpts[0].orcpt, "rfc822;bob@example.org");
        ASSERT_EQ(p.rcpts[0].notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE);
        ASSERT_STREQ(p.rcpts[1].addr, e.rcpts[1].addr);
        envelope_done(&e);
        envelope_done(&p);
        buf_done(&b);
}

static void test_null_sender_and_dsn_kind(void) {
        Envelope e = {}, p = {};
        Buf b = BUF_INIT(0);

        memcpy(e.id, "0000000000000000", QUEUE_ID_LEN + 1);
        e.sender = strdup("");
        e.kind = ENVELOPE_KIND_DSN;
        ASSERT_OK(envelope_add_rcpt(&e, "a@b.c", NULL, 0));
        ASSERT_OK(envelope_format(&e, &b));
        ASSERT_OK(envelope_parse(b.data, b.len, &p, NULL, NULL));
        ASSERT_STREQ(p.sender, "");
        ASSERT_EQ(p.kind, ENVELOPE_KIND_DSN);
        envelope_done(&e);
        envelope_done(&p);
        buf_done(&b);
}

static const struct {
        const char *text;
        int want;
        unsigned line;
} bad[] = {
        { "", -EBADMSG, 1 },
        { "pochtar-queue 3\n", -EPROTONOSUPPORT, 1 },
        /* version 2: the check, 16 lowercase hex digits, second and only there */
        { "pochtar-queue 2\nid 0000000000000000\n", -EBADMSG, 2 },
        { "pochtar-queue 2\ncheck 0123456789ABCDEF\n", -EBADMSG, 2 },
        { "pochtar-queue 2\ncheck 0123456789abcde\n", -EBADMSG, 2 },
        { "pochtar-queue 2\ncheck  0123456789abcdef\n", -EBADMSG, 2 },
        { "pochtar-queue 02\ncheck 0123456789abcdef\n", -EBADMSG, 2 },      /* not at its offset */
        { "pochtar-queue 2\ncheck 0123456789abcdef\ncheck 0123456789abcdef\n", -EBADMSG, 3 },
        { "pochtar-queue 1\ncheck 0123456789abcdef\n", -EBADMSG, 2 },
        { "pochtar-queue 1\nid 0000000000000000\narrival 1\nsender \nrcpt a@b.c\n", -EBADMSG, 6 },  /* no blank line */
        { "pochtar-queue 1\nid 0000000000000000\narrival 1\nsender \n\n", -EBADMSG, 5 },           /* no rcpt */
        { "pochtar-queue 1\nid 0000000000000000\narrival 1\nsender \nrcpt a@b.c\nbogus 1\n\n", -EBADMSG, 6 },
        { "pochtar-queue 1\nid 0000000000000000\narrival 1\nsender \nrcpt a b.c\n\n", -EBADMSG, 5 },
        { "pochtar-queue 1\nid 0000000000000000\narrival 1\nsender x\nrcpt a@b.c\n\n", -EBADMSG, 4 },  /* unqualified */
        { "pochtar-queue 1\nid 0000000000000000\nid 0000000000000001\n", -EBADMSG, 3 },             /* duplicate */
        { "pochtar-queue 1\nid ../../etc/passw\n", -EBADMSG, 2 },
        { "pochtar-queue 1\nid 0000000000000000\narrival 1\nsender \nrcpt a@b.c notify=NEVER,SUCCESS\n\n", -EBADMSG, 5 },
        { "pochtar-queue 1\nid 0000000000000000\narrival 1\nsender \nrcpt a@b.c\r\n\n", -EBADMSG, 5 },
        { "pochtar-queue 1\nid 0000000000000000\narrival 99999999999999999999999\n", -EBADMSG, 3 },
        { "pochtar-queue 1\nid 0000000000000000\narrival 1\nsender a+00b@c.d\n", -EBADMSG, 4 },    /* NUL */
        /* auth: the submission user, printable, 1..AUTH_USER_MAX, once */
        { "pochtar-queue 1\nid 0000000000000000\nauth \n", -EBADMSG, 3 },
        { "pochtar-queue 1\nid 0000000000000000\nauth a+0Ab\n", -EBADMSG, 3 },
        { "pochtar-queue 1\nid 0000000000000000\nauth a\nauth a\n", -EBADMSG, 4 },
        { "pochtar-queue 1\nid 0000000000000000\n"
          "auth 12345678901234567890123456789012345678901234567890123456789012345\n", -EBADMSG, 3 },
};

/* Version 2: the check sits at ENVELOPE_CHECK_OFFSET, can be written there
 * later, and tells a whole message from a changed one. */
static void test_check(void) {
        static const char msg[] = "Subject: x\r\n\r\nbody\r\n";
        Envelope e = {}, p = {};
        Buf b = BUF_INIT(0);
        size_t len;

        memcpy(e.id, "0KQ3M5Z7A8B2C4D6", QUEUE_ID_LEN + 1);
        e.arrival_usec = 1;
        e.sender = strdup("");
        ASSERT_OK(envelope_add_rcpt(&e, "a@b.c", NULL, 0));
        e.has_check = true;
        e.check = UINT64_C(0x0123456789abcdef);
        ASSERT_OK(envelope_format(&e, &b));
        ASSERT_STREQ((char *) b.data, "pochtar-queue 2\ncheck 0123456789abcdef\nid 0KQ3M5Z7A8B2C4D6\n"
                                      "arrival 1\nsender \nrcpt a@b.c\n\n");
        ASSERT_EQ(memcmp(b.data + ENVELOPE_CHECK_OFFSET, "0123456789abcdef", ENVELOPE_CHECK_LEN), 0);

        /* the writer puts the real check in place once the message is in */
        envelope_check_put((char *) b.data + ENVELOPE_CHECK_OFFSET, envelope_check_of(msg, strlen(msg)));
        ASSERT_OK(buf_append_str(&b, msg));
        ASSERT_OK(envelope_parse(b.data, b.len, &p, &len, NULL));
        ASSERT_TRUE(p.has_check);
        ASSERT_OK(envelope_check_verify(&p, b.data + len, b.len - len));
        /* a cut, a changed byte, a block of zeros: all told apart */
        ASSERT_EQ(envelope_check_verify(&p, b.data + len, b.len - len - 1), -EBADMSG);
        b.data[b.len - 3] = 'x';
        ASSERT_EQ(envelope_check_verify(&p, b.data + len, b.len - len), -EBADMSG);
        memset(b.data + len, 0, b.len - len);
        ASSERT_EQ(envelope_check_verify(&p, b.data + len, b.len - len), -EBADMSG);
        envelope_done(&p);

        /* without a check: version 1, and nothing to verify */
        e.has_check = false;
        buf_reset(&b);
        ASSERT_OK(envelope_format(&e, &b));
        ASSERT_EQ(memcmp(b.data, "pochtar-queue 1\nid ", 19), 0);
        ASSERT_OK(envelope_parse(b.data, b.len, &p, &len, NULL));
        ASSERT_TRUE(!p.has_check);
        ASSERT_OK(envelope_check_verify(&p, "anything", 8));
        envelope_done(&e);
        envelope_done(&p);
        buf_done(&b);
}

int main(void) {
        test_roundtrip();
        test_check();
        test_null_sender_and_dsn_kind();
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                Envelope e = {};
                unsigned line = 0;
                int r = envelope_parse((const uint8_t *) bad[i].text, strlen(bad[i].text), &e, NULL, &line);

                if (r != bad[i].want || line != bad[i].line) {
                        fprintf(stderr, "bad case %zu: r=%d line=%u\n", i, r, line);
                        abort();
                }
        }
        return 0;
}
