/* SPDX-License-Identifier: MIT */
#include "services/receive/receive-headers.h"
#include "shared/macro.h"
#include "shared/tests.h"

/* 2026-11-28 02:51:45 UTC */
#define NOW UINT64_C(1795834305000000)

static void check_rewrite(const HeaderContext *ctx, const char *in, const char *want) {
        Buf out = BUF_INIT(0);
        size_t end;

        ASSERT_EQ(header_section_end((const uint8_t *) in, strlen(in), true, &end), 1);
        ASSERT_OK(headers_rewrite(ctx, (const uint8_t *) in, end, &out));
        ASSERT_OK(buf_append_str(&out, in + end));
        if (strcmp((char *) out.data, want) != 0)
                fprintf(stderr, "got:\n%s\nwant:\n%s\n", (char *) out.data, want);
        ASSERT_STREQ((char *) out.data, want);
        buf_done(&out);
}

static void test_qualify(void) {
        HeaderContext ctx = { .origin_domain = "example.com", .hostname = "mail.example.com",
                              .queue_id = "1K19NAR6RNM1J0WA", .now_usec = NOW };

        /* cron's headers */
        check_rewrite(&ctx,
                      "From: root (Cron Daemon)\r\nTo: root\r\nSubject: x\r\nDate: Sat, 1 Jan 2000 00:00:00 +0000\r\n"
                      "Message-ID: <a@b>\r\n\r\nbody\r\n",
                      "From: root@example.com (Cron Daemon)\r\nTo: root@example.com\r\nSubject: x\r\n"
                      "Date: Sat, 1 Jan 2000 00:00:00 +0000\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n");
        /* display names, angle addresses, groups, folding, qualified ones untouched */
        check_rewrite(&ctx,
                      "To: \"Root, Admin\" <root>, Bob <bob@x.org>,\r\n alice\r\nCc: team: carol, dave@y.org;\r\n"
                      "Date: x\r\nMessage-Id: <m@x>\r\n\r\n",
                      "To: \"Root, Admin\" <root@example.com>, Bob <bob@x.org>,\r\n alice@example.com\r\n"
                      "Cc: team: carol@example.com, dave@y.org;\r\nDate: x\r\nMessage-Id: <m@x>\r\n\r\n");
        /* a display name without brackets is not an address; Subject is never touched */
        check_rewrite(&ctx, "To: John Smith\r\nSubject: root\r\nDate: x\r\nMessage-ID: <m@x>\r\n\r\n",
                      "To: John Smith\r\nSubject: root\r\nDate: x\r\nMessage-ID: <m@x>\r\n\r\n");
}

static void test_missing(void) {
        HeaderContext ctx = { .origin_domain = "example.com", .hostname = "mail.example.com",
                              .queue_id = "1K19NAR6RNM1J0WA", .now_usec = NOW };
        char d[RFC5322_DATE_MAX], want[512];

        ASSERT_OK(rfc5322_date_format(NOW, false, d));
        (void) snprintf(want, sizeof(want),
                        "Subject: x\r\nDate: %s\r\nMessage-ID: <20261128025145.1K19NAR6RNM1J0WA@mail.example.com>\r\n"
                        "\r\nbody\r\n", d);
        check_rewrite(&ctx, "Subject: x\r\n\r\nbody\r\n", want);
}

static void test_sender_map(void) {
        static const char text[] = "# cron and system mail\nroot alerts@example.com\n\nwww-data@web.example.com web@example.com\r\n";
        SenderMap m;
        unsigned line = 0;
        HeaderContext ctx = { .origin_domain = "example.com", .hostname = "h", .queue_id = "1K19NAR6RNM1J0WA",
                              .now_usec = NOW, .sender_map = &m };
        Buf b = BUF_INIT(0);

        ASSERT_OK(sender_map_parse(text, strlen(text), &m, NULL));
        ASSERT_EQ(m.n_entries, 2);
        ASSERT_STREQ(sender_map_lookup(&m, "example.com", "root", 4), "alerts@example.com");
        ASSERT_STREQ(sender_map_lookup(&m, "example.com", "ROOT@example.com", 16), "alerts@example.com");
        ASSERT_TRUE(sender_map_lookup(&m, "example.com", "root@other.org", 14) == NULL);
        ASSERT_STREQ(sender_map_lookup(&m, "example.com", "www-data@web.example.com", 24), "web@example.com");

        ASSERT_OK(address_rewrite(&ctx, "root", 4, true, &b));
        ASSERT_STREQ((char *) b.data, "alerts@example.com");
        buf_reset(&b);
        ASSERT_OK(address_rewrite(&ctx, "root", 4, false, &b));
        ASSERT_STREQ((char *) b.data, "root@example.com");
        buf_done(&b);

        /* From: is mapped, To: only qualified */
        check_rewrite(&ctx, "From: root (Cron Daemon)\r\nTo: root\r\nDate: x\r\nMessage-ID: <m@x>\r\n\r\n",
                      "From: alerts@example.com (Cron Daemon)\r\nTo: root@example.com\r\nDate: x\r\nMessage-ID: <m@x>\r\n\r\n");
        sender_map_done(&m);

        ASSERT_EQ(sender_map_parse("root\n", 5, &m, &line), -EINVAL);
        ASSERT_EQ(line, 1);
        ASSERT_EQ(sender_map_parse("a b@c.d\nroot not-qualified\n", 27, &m, &line), -EINVAL);
        ASSERT_EQ(line, 2);
        ASSERT_EQ(sender_map_parse("a b@c.d extra\n", 14, &m, &line), -EINVAL);
}

static void test_received(void) {
        HeaderContext ctx = { .origin_domain = "example.com", .hostname = "mail.example.com",
                              .queue_id = "1K19NAR6RNM1J0WA", .now_usec = NOW };
        Buf b = BUF_INIT(0);
        char d[RFC5322_DATE_MAX], want[512];

        ASSERT_OK(rfc5322_date_format(NOW, false, d));
        ASSERT_OK(headers_format_received(&ctx, "app\x01", "127.0.0.1", "ESMTP", NULL, "bob@example.org", &b));
        (void) snprintf(want, sizeof(want),
                        "Received: from app? ([127.0.0.1])\r\n\tby mail.example.com (pochtar) with ESMTP id "
                        "1K19NAR6RNM1J0WA\r\n\tfor <bob@example.org>; %s\r\n", d);
        ASSERT_STREQ((char *) b.data, want);
        /* submission: the TLS in a comment line of its own, as Postfix writes it */
        buf_reset(&b);
        ASSERT_OK(headers_format_received(&ctx, "web1", "203.0.113.7", "ESMTPSA", "TLSv1.3 TLS_AES_256_GCM_SHA384",
                                          NULL, &b));
        (void) snprintf(want, sizeof(want),
                        "Received: from web1 ([203.0.113.7])\r\n\t(using TLSv1.3 TLS_AES_256_GCM_SHA384)\r\n"
                        "\tby mail.example.com (pochtar) with ESMTPSA id 1K19NAR6RNM1J0WA; %s\r\n", d);
        ASSERT_STREQ((char *) b.data, want);
        buf_done(&b);
}

int main(void) {
        test_qualify();
        test_missing();
        test_sender_map();
        test_received();
        return 0;
}
