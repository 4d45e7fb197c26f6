/* SPDX-License-Identifier: MIT */
#include "services/deliver/deliver-bounce.h"
#include "shared/macro.h"
#include "shared/tests.h"

static bool contains(const Buf *b, const char *s) {
        return memmem(b->data, b->len, s, strlen(s)) != NULL;
}

int main(void) {
        Envelope e = { .id = "0KQ3M5Z7A8B2C4D6", .arrival_usec = 1764300000000000, .ret = DSN_RET_HDRS };
        const char *msg = "From: a@example.com\r\nSubject: x\r\n\r\nsecret body\r\n";
        Dsn d = {};
        BounceRcpt br;
        BounceInfo info;
        Buf b = BUF_INIT(0);

        e.sender = strdup("a@example.com");
        ASSERT_OK(envelope_add_rcpt(&e, "bob@example.org", "rfc822;bob@example.org", 0));
        ASSERT_OK(envelope_add_rcpt(&e, "carol@example.org", NULL, DSN_NOTIFY_NEVER));
        ASSERT_OK(envelope_add_rcpt(&e, "dave@example.org", NULL, DSN_NOTIFY_SUCCESS));
        ASSERT_OK(dsn_set(&d, DELIVERY_BOUNCED, "5.1.1", "550 5.1.1 unknown user", true));
        d.relay = strdup("mx.example.org[203.0.113.25]:25");

        /* NOTIFY honoured; never to <> or about a notification */
        ASSERT_TRUE(bounce_wanted(&e, &e.rcpts[0], BOUNCE_FAILED));
        ASSERT_TRUE(bounce_wanted(&e, &e.rcpts[0], BOUNCE_DELAYED));
        ASSERT_TRUE(!bounce_wanted(&e, &e.rcpts[1], BOUNCE_FAILED));
        ASSERT_TRUE(!bounce_wanted(&e, &e.rcpts[2], BOUNCE_FAILED));
        ASSERT_TRUE(bounce_wanted(&e, &e.rcpts[2], BOUNCE_SUCCESS));
        ASSERT_TRUE(!bounce_wanted(&e, &e.rcpts[0], BOUNCE_SUCCESS));
        e.kind = ENVELOPE_KIND_DSN;
        ASSERT_TRUE(!bounce_wanted(&e, &e.rcpts[0], BOUNCE_FAILED));
        e.kind = ENVELOPE_KIND_MAIL;

        br = (BounceRcpt) { &e.rcpts[0], &d };
        info = (BounceInfo) {
                .kind = BOUNCE_FAILED, .reporting_mta = "mail.example.com", .env = &e,
                .message = (const uint8_t *) msg, .message_len = strlen(msg), .rcpts = &br, .n_rcpts = 1,
                .now_usec = 1764300600000000, .boundary = "B1", .message_id = "id@mail.example.com",
        };
        ASSERT_OK(bounce_compose(&info, &b));
        ASSERT_TRUE(contains(&b, "Content-Type: multipart/report; report-type=delivery-status;"));
        ASSERT_TRUE(contains(&b, "\r\n--B1\r\nContent-Description: Delivery report\r\n"
                                 "Content-Type: message/delivery-status\r\n\r\n"));
        ASSERT_TRUE(contains(&b, "Reporting-MTA: dns; mail.example.com\r\n"));
        ASSERT_TRUE(contains(&b, "Final-Recipient: rfc822; bob@example.org\r\n"));
        ASSERT_TRUE(contains(&b, "Original-Recipient: rfc822;bob@example.org\r\n"));
        ASSERT_TRUE(contains(&b, "Action: failed\r\nStatus: 5.1.1\r\n"));
        ASSERT_TRUE(contains(&b, "Remote-MTA: dns; mx.example.org[203.0.113.25]:25\r\n"));
        ASSERT_TRUE(contains(&b, "Diagnostic-Code: smtp; 550 5.1.1 unknown user\r\n"));
        ASSERT_TRUE(contains(&b, "Content-Type: text/rfc822-headers"));
        /* RET=HDRS: the body is not returned */
        ASSERT_TRUE(!contains(&b, "secret body"));
        ASSERT_TRUE(contains(&b, "\r\n--B1--\r\n"));
        /* no bare LF anywhere */
        for (size_t i = 0; i < b.len; i++)
                if (b.data[i] == '\n')
                        ASSERT_TRUE(i > 0 && b.data[i - 1] == '\r');

        /* RET=FULL and a delay warning */
        buf_reset(&b);
        e.ret = DSN_RET_FULL;
        info.kind = BOUNCE_DELAYED;
        info.retry_until_usec = 1764700000000000;
        ASSERT_OK(bounce_compose(&info, &b));
        ASSERT_TRUE(contains(&b, "Action: delayed\r\n"));
        ASSERT_TRUE(contains(&b, "Will-Retry-Until: "));
        ASSERT_TRUE(contains(&b, "Content-Type: message/rfc822"));
        ASSERT_TRUE(contains(&b, "secret body"));

        /* success: "delivered" into a mailbox, "relayed" to a hop without DSN */
        buf_reset(&b);
        info.kind = BOUNCE_SUCCESS;
        ASSERT_OK(dsn_set(&d, DELIVERY_SENT, "2.0.0", "250 ok", true));
        ASSERT_OK(bounce_compose(&info, &b));
        ASSERT_TRUE(contains(&b, "Subject: Successful Mail Delivery Report\r\n"));
        ASSERT_TRUE(contains(&b, "Action: relayed\r\nStatus: 2.0.0\r\n"));
        buf_reset(&b);
        d.final = true;
        ASSERT_OK(bounce_compose(&info, &b));
        ASSERT_TRUE(contains(&b, "Action: delivered\r\n"));

        /* issue 13: values no client or remote may turn into fields or parts */
        buf_reset(&b);
        info.kind = BOUNCE_FAILED;
        free(e.envid);
        e.envid = strdup("x\r\nX-Injected: yes");
        free(e.rcpts[0].orcpt);
        e.rcpts[0].orcpt = strdup("rfc822;bob@example.org\r\nAction: delivered");
        ASSERT_OK(dsn_set(&d, DELIVERY_BOUNCED, "5.1.1", "550 unknown", true));
        free(d.diagnostic);
        d.diagnostic = strdup("550 x\r\nStatus: 2.0.0");        /* past dsn_set()'s censoring */
        ASSERT_OK(bounce_compose(&info, &b));
        ASSERT_TRUE(!contains(&b, "X-Injected"));
        ASSERT_TRUE(!contains(&b, "Original-Envelope-Id"));
        ASSERT_TRUE(!contains(&b, "Original-Recipient"));
        ASSERT_TRUE(!contains(&b, "Action: delivered"));
        ASSERT_TRUE(!contains(&b, "Status: 2.0.0"));
        ASSERT_TRUE(contains(&b, "Status: 5.1.1\r\n"));
        free(e.envid);
        e.envid = strdup("QQ 3141");
        buf_reset(&b);
        ASSERT_OK(bounce_compose(&info, &b));
        ASSERT_TRUE(contains(&b, "Original-Envelope-Id: QQ 3141\r\n"));
        /* a boundary that the returned message holds is not used */
        {
                const char *evil = "Subject: x\r\n\r\n--B1\r\nContent-Type: text/html\r\n\r\nfake\r\n";
                size_t len = b.len;

                info.message = (const uint8_t *) evil;
                info.message_len = strlen(evil);
                ASSERT_EQ(bounce_compose(&info, &b), -EEXIST);
                ASSERT_EQ(b.len, len);
                info.message = (const uint8_t *) msg;
                info.message_len = strlen(msg);
        }
        /* a report sign could not take: the header section, or nothing */
        {
                char big[4096];
                size_t len;

                memset(big, 'x', sizeof(big));
                memcpy(big, "Subject: big\r\n\r\n", 16);
                memcpy(big + sizeof(big) - 2, "\r\n", 2);
                info.message = (const uint8_t *) big;
                info.message_len = sizeof(big);
                e.ret = DSN_RET_FULL;
                buf_reset(&b);
                info.size_max = 3000;
                ASSERT_OK(bounce_compose(&info, &b));
                ASSERT_TRUE(contains(&b, "Content-Type: text/rfc822-headers"));
                ASSERT_TRUE(!contains(&b, "xxxxxxxx"));
                ASSERT_TRUE(b.len <= 3000);
                len = b.len;
                info.size_max = len - 100;
                buf_reset(&b);
                ASSERT_EQ(bounce_compose(&info, &b), -EMSGSIZE);
                ASSERT_EQ(b.len, 0);
                info.size_max = 0;
                ASSERT_OK(bounce_compose(&info, &b));
                ASSERT_TRUE(contains(&b, "Content-Type: message/rfc822"));
                info.message = (const uint8_t *) msg;
                info.message_len = strlen(msg);
        }
        /* a To: that would not be one line is no report at all */
        free(e.sender);
        e.sender = strdup("a@example.com>\r\nBcc: <x@y.z");
        buf_reset(&b);
        ASSERT_EQ(bounce_compose(&info, &b), -EINVAL);
        buf_done(&b);
        dsn_done(&d);
        envelope_done(&e);
        return 0;
}
