/* SPDX-License-Identifier: MIT */
#include "shared/config.h"
#include "shared/macro.h"
#include "shared/tests.h"

static int load_text(const char *text, Config *c, char **err) {
        char path[] = "/tmp/test-config-XXXXXX";
        int fd = mkstemp(path), r;

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
        ASSERT_OK(config_init(c));
        r = config_load(c, path, err);
        if (err && *err) {
                /* replace the random path so the tests can compare */
                char *p = strstr(*err, path);
                ASSERT_TRUE(p == *err);
                memmove(*err, "F", 1);
                memmove(*err + 1, *err + strlen(path), strlen(*err + strlen(path)) + 1);
        }
        unlink(path);
        return r;
}

static const struct {
        const char *text;
        const char *error;
} bad[] = {
        { "[receive]\nlistne = 1.2.3.4:25\n", "F:2: unknown key 'listne' in [receive]" },
        { "[recieve]\nlisten = 1.2.3.4:25\n", "F:2: unknown section [recieve]" },
        { "; c\n[receive]\nmax_message_size = 10X\n", "F:3: invalid value '10X' for 'max_message_size' in [receive]" },
        { "[receive]\nmax_recipients = 5\n", "F:2: value '5' for 'max_recipients' is out of range" },
        { "[receive]\nmax_hops = 0\n", "F:2: value '0' for 'max_hops' is out of range" },
        /* no "0 for no limit": every stage holds a whole message in memory */
        { "[receive]\nmax_message_size = 0\n", "F:2: value '0' for 'max_message_size' is out of range" },
        { "[receive]\nmax_message_size = 2G\n", "F:2: value '2G' for 'max_message_size' is out of range" },
        { "[receive]\nsession_timeout = 0\n", "F:2: value '0' for 'session_timeout' is out of range" },
        { "[receive]\nbare_newline = maybe\n", "F:2: invalid value 'maybe' for 'bare_newline' in [receive]" },
        /* h= names: no ";" (it would end the tag), no ":", at most 64 */
        { "[sign]\noversign_headers = From X;b=forged\n",
          "F:2: invalid value 'From X;b=forged' for 'oversign_headers' in [sign]" },
        { "[sign]\noversign_headers = From:To\n", "F:2: invalid value 'From:To' for 'oversign_headers' in [sign]" },
        { "[receive]\nmax_hops = 1001\n", "F:2: value '1001' for 'max_hops' is out of range" },
        { "[spool]\ndir = relative/path\n", "F:2: 'relative/path' for 'dir' in [spool] is not an absolute path" },
        { "[deliver]\nmode = carrier-pigeon\n", "F:2: invalid value 'carrier-pigeon' for 'mode' in [deliver]" },
        { "[deliver]\nretry_min = 5 minutes\n", "F:2: invalid value '5 minutes' for 'retry_min' in [deliver]" },
        { "[deliver]\nconnection_cache_time = 10m\n", "F:2: value '10m' for 'connection_cache_time' is out of range" },
        { "dir = /x\n", "F:1: 'dir' is outside any section" },
        { "[sign]\nthis line has no equals sign\n", "F:2: syntax error (expected 'key = value' or '[section]')" },
};

int main(void) {
        Config c;
        char *err = NULL;

        ASSERT_OK(load_text("# pochtar\n[spool]\ndir = /srv/spool ; inline comment\n"
                            "[receive]\nlisten = 127.0.0.1:2525, 127.0.0.2:25\nmax_message_size = 20M\n"
                            "command_timeout = 5m\nidle_exit=30s\nmax_hops = 3\n"
                            "[deliver]\nmode = capture\nretry_max = 2h\nconnection_cache_time = 0\n"
                            "[sign]\noversign_headers = From Subject\n", &c, &err));
        ASSERT_TRUE(err == NULL);
        ASSERT_STREQ(c.spool.dir, "/srv/spool");
        ASSERT_EQ(strv_length(c.receive.listen), 2);
        ASSERT_STREQ(c.receive.listen[1], "127.0.0.2:25");
        ASSERT_EQ(c.receive.max_message_size, 20 * 1024 * 1024);
        ASSERT_EQ(c.receive.command_timeout, 300 * USEC_PER_SEC);
        ASSERT_EQ(c.receive.idle_exit, 30 * USEC_PER_SEC);
        ASSERT_EQ(c.receive.max_recipients, 1000);                      /* default kept */
        ASSERT_EQ(c.receive.max_hops, 3);
        ASSERT_EQ(c.deliver.mode, DELIVER_MODE_CAPTURE);
        ASSERT_EQ(c.deliver.retry_max, 7200 * USEC_PER_SEC);
        ASSERT_EQ(c.deliver.connection_cache_time, 0);
        ASSERT_STREQ(c.sign.oversign_headers[1], "Subject");
        ASSERT_STREQ(c.sign.canonicalization, "relaxed/relaxed");       /* default kept */
        config_done(&c);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                err = NULL;
                ASSERT_EQ(load_text(bad[i].text, &c, &err), -EINVAL);
                ASSERT_STREQ(err, bad[i].error);
                free(err);
                config_done(&c);
        }

        {
                static const usec_t range[2] = { 0, 300 * USEC_PER_SEC };
                usec_t t = 1;

                ASSERT_OK(config_parse_usec("0", &t, range));
                ASSERT_EQ(t, 0);
                ASSERT_OK(config_parse_usec("5m", &t, range));
                ASSERT_EQ(t, 300 * USEC_PER_SEC);
                ASSERT_EQ(config_parse_usec("301", &t, range), -ERANGE);
                ASSERT_EQ(t, 300 * USEC_PER_SEC);               /* unchanged on error */
                ASSERT_OK(config_parse_usec("301", &t, NULL));
        }

        {
                char **names = NULL;
                char many[65 * 4 + 1] = "";

                for (int i = 0; i < 65; i++)
                        strcat(many, "Ab, ");
                ASSERT_EQ(config_parse_header_names(many, &names, NULL), -EINVAL);
                many[64 * 4] = 0;
                ASSERT_OK(config_parse_header_names(many, &names, NULL));
                ASSERT_EQ(strv_length(names), 64);
                strv_free(names);
        }

        ASSERT_OK(config_init(&c));
        ASSERT_EQ(config_load(&c, "/nonexistent/pochtar.conf", &err), -ENOENT);
        config_done(&c);
        return 0;
}
