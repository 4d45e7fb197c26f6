/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/stat.h>

#include "shared/macro.h"
#include "shared/tests.h"
#include "shared/users-file.h"

#define H "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7"

static char reason[512];

static void parse_ok(const char *text, UsersFile *u) {
        unsigned line = 99;
        int r = users_file_parse(text, strlen(text), u, &line, reason, sizeof(reason));

        if (r < 0)
                fprintf(stderr, "unexpected: line %u: %s\n%s", line, reason, text);
        ASSERT_EQ(r, 0);
        ASSERT_EQ(line, 0);
}

static void parse_bad(const char *text, size_t len, unsigned want_line, const char *want_reason) {
        UsersFile u = {};
        unsigned line = 0;
        int r = users_file_parse(text, len, &u, &line, reason, sizeof(reason));

        if (r != -EINVAL || line != want_line || !strstr(reason, want_reason))
                fprintf(stderr, "for '%.*s': r=%d line %u '%s', want line %u '%s'\n", (int) (len > 200 ? 200 : len),
                        text, r, line, reason, want_line, want_reason);
        ASSERT_EQ(r, -EINVAL);
        ASSERT_EQ(line, want_line);
        ASSERT_TRUE(strstr(reason, want_reason));
        ASSERT_EQ(u.n_users, 0);
}

static void test_good(void) {
        static const char text[] =
                "# submission users\n"
                "\n"
                "web1:" H ":app@example.com,@news.example.com\n"
                "   \t\n"
                "# the worker\n"
                "worker@example.com:$6$salt$abc=:noreply@example.com\n"
                "old-app:!" H ":old@example.com\n"
                "gone:*:gone@example.com\n"
                "utf8.user_+x:$2b$10$abc:jos\xc3\xa9@example.com\n"
                "# the end\n";
        _cleanup_(users_file_done) UsersFile u = {};
        Buf out = BUF_INIT(0);
        const UserEntry *e;

        parse_ok(text, &u);
        ASSERT_EQ(u.n_users, 5);
        e = users_file_find(&u, "web1");
        ASSERT_TRUE(e);
        ASSERT_STREQ(e->hash, H);
        ASSERT_EQ(e->n_senders, 2);
        ASSERT_STREQ(e->senders[0], "app@example.com");
        ASSERT_STREQ(e->senders[1], "@news.example.com");
        ASSERT_TRUE(!e->locked);
        ASSERT_STREQ(e->comments, "# submission users\n\n");
        ASSERT_STREQ(users_file_find(&u, "worker@example.com")->comments, "   \t\n# the worker\n");
        ASSERT_TRUE(users_file_find(&u, "old-app")->locked);
        ASSERT_STREQ(users_file_find(&u, "old-app")->hash, "!" H);
        ASSERT_TRUE(users_file_find(&u, "gone")->locked);
        ASSERT_TRUE(!users_file_find(&u, "WEB1"));      /* names are case-sensitive */
        ASSERT_TRUE(!users_file_find(&u, "web"));
        ASSERT_STREQ(u.trailer, "# the end\n");

        /* written back byte for byte, comments in place */
        ASSERT_OK(users_file_format(&u, &out));
        ASSERT_MEMEQ(out.data, out.len, text, strlen(text));
        buf_done(&out);
}

static void test_no_final_lf(void) {
        _cleanup_(users_file_done) UsersFile u = {}, empty = {};

        parse_ok("a:" H ":a@example.com", &u);
        ASSERT_EQ(u.n_users, 1);
        ASSERT_STREQ(u.users[0].senders[0], "a@example.com");
        parse_ok("", &empty);
        ASSERT_EQ(empty.n_users, 0);
        ASSERT_TRUE(!empty.trailer);
}

static void test_bad(void) {
        static const struct {
                const char *text;
                unsigned line;
                const char *reason;
        } cases[] = {
                { "alice\n", 1, "not NAME:HASH:SENDER" },
                { "# c\nalice:" H "\n", 2, "one ':' only" },
                { ":" H ":a@example.com\n", 1, "empty name" },
                { "a:" H ":a@example.com\nal ice:" H ":a@example.com\n", 2, "bad name 'al ice'" },
                { "alice/x:" H ":a@example.com\n", 1, "bad name 'alice/x'" },
                { "a\xff:" H ":a@example.com\n", 1, "bad name 'a?'" },
                { "a::a@example.com\n", 1, "empty password hash" },
                { "a:$y$a b:a@example.com\n", 1, "bad password hash: byte 5" },
                { "a:$y$a,b:a@example.com\n", 1, "bad password hash: byte 5" },
                { "a:" H "!:a@example.com\n", 1, "bad password hash" },  /* a lock mark leads, or nothing */
                { "a:" H ":\n", 1, "no sender" },
                { "a:" H ":a@example.com,\n", 1, "empty sender" },
                { "a:" H ":a@example.com,,b@example.com\n", 1, "empty sender" },
                { "a:" H ":,a@example.com\n", 1, "empty sender" },
                { "a:" H ":nobody\n", 1, "bad sender 'nobody'" },
                { "a:" H ":@\n", 1, "bad sender '@'" },
                { "a:" H ":@-bad.example\n", 1, "bad sender '@-bad.example'" },
                { "a:" H ":@[203.0.113.1]\n", 1, "bad sender '@[203.0.113.1]'" },
                { "a:" H ":x@[203.0.113.1]\n", 1, "bad sender 'x@[203.0.113.1]'" },
                { "a:" H ":\"x,y\"@example.com\n", 1, "bad sender '\"x'" },
                { "a:" H ":\"x\"@example.com\n", 1, "bad sender '\"x\"@example.com'" },
                { "a:" H ":a@example.com, b@example.com\n", 1, "bad sender ' b@example.com'" },
                { "a:" H ":a@example.com :b@example.com\n", 1, "bad sender 'a@example.com :b@example.com'" },
                { "a:" H ":a@example.com\tx\n", 1, "bad sender 'a@example.com?x'" },
                { "a:" H ":a@example.com,A@Example.com\n", 1, "sender 'A@Example.com' listed twice" },
                { "a:" H ":a@example.com\r\n", 1, "ends in CR LF" },
                { "# windows\r\n", 1, "ends in CR LF" },
                { "a:" H ":a@example.com\n # indented\n", 2, "begins with a space" },
                /* a duplicate user: the second, naming the first */
                { "a:" H ":a@example.com\nb:" H ":b@example.com\n# x\na:" H ":c@example.com\n", 4,
                  "user 'a' is already on line 1" },
                { "b:" H ":b@example.com\na:" H ":a@example.com\nb:" H ":b@example.com\na:" H ":a@example.com\n",
                  3, "user 'b' is already on line 1" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                parse_bad(cases[i].text, strlen(cases[i].text), cases[i].line, cases[i].reason);
        /* a NUL byte, wherever it is */
        parse_bad("a:" H ":a@example.com\n# x\0y\n", STRLEN("a:" H ":a@example.com\n# x\0y\n"), 2, "a NUL byte");
}

static void test_limits(void) {
        _cleanup_(users_file_done) UsersFile u = {};
        Buf b = BUF_INIT(0);
        unsigned line;

        /* a name of 64 bytes, not 65 */
        ASSERT_OK(buf_printf(&b, "%s:%s:a@example.com\n", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", H));
        parse_ok((const char *) b.data, &u);
        users_file_done(&u);
        buf_reset(&b);
        ASSERT_OK(buf_printf(&b, "%s:%s:a@example.com\n", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", H));
        parse_bad((const char *) b.data, b.len, 1, "name longer than 64 bytes");

        /* a hash of 512 bytes, not 513 */
        buf_reset(&b);
        ASSERT_OK(buf_printf(&b, "a:$y$%0509d:a@example.com\n", 0));
        parse_ok((const char *) b.data, &u);
        ASSERT_EQ(strlen(u.users[0].hash), 512);
        users_file_done(&u);
        buf_reset(&b);
        ASSERT_OK(buf_printf(&b, "a:$y$%0510d:a@example.com\n", 0));
        parse_bad((const char *) b.data, b.len, 1, "password hash longer than 512 bytes");

        /* 64 senders, not 65 */
        buf_reset(&b);
        ASSERT_OK(buf_append_str(&b, "a:" H ":"));
        for (int i = 0; i < 64; i++)
                ASSERT_OK(buf_printf(&b, "%ss%d@example.com", i ? "," : "", i));
        parse_ok((const char *) b.data, &u);
        ASSERT_EQ(u.users[0].n_senders, 64);
        users_file_done(&u);
        ASSERT_OK(buf_append_str(&b, ",s64@example.com\n"));
        parse_bad((const char *) b.data, b.len, 1, "more than 64 senders");

        /* 10,000 users, not 10,001 (the comment makes the line numbers differ) */
        buf_reset(&b);
        ASSERT_OK(buf_append_str(&b, "# many\n"));
        for (int i = 0; i < USERS_MAX; i++)
                ASSERT_OK(buf_printf(&b, "u%d:$y$x:u%d@example.com\n", i, i));
        parse_ok((const char *) b.data, &u);
        ASSERT_EQ(u.n_users, USERS_MAX);
        users_file_done(&u);
        ASSERT_OK(buf_append_str(&b, "one-more:$y$x:u@example.com\n"));
        parse_bad((const char *) b.data, b.len, USERS_MAX + 2, "more than 10000 users");

        /* 1 MiB, not one byte more */
        buf_reset(&b);
        while (b.len < USERS_FILE_MAX)
                ASSERT_OK(buf_append_str(&b, "#234567\n"));
        ASSERT_EQ(b.len, USERS_FILE_MAX);
        parse_ok((const char *) b.data, &u);
        users_file_done(&u);
        ASSERT_OK(buf_append_byte(&b, '\n'));
        ASSERT_EQ(users_file_parse((const char *) b.data, b.len, &u, &line, reason, sizeof(reason)), -EFBIG);
        buf_done(&b);
}

static void test_sender_allowed(void) {
        _cleanup_(users_file_done) UsersFile u = {};
        const UserEntry *web, *locked;

        parse_ok("web:" H ":app@example.com,@news.example.org,Jos\xc3\xa9@example.net\n"
                 "locked:!" H ":app@example.com,@example.com\n", &u);
        web = users_file_find(&u, "web");
        locked = users_file_find(&u, "locked");

        ASSERT_TRUE(user_sender_allowed(web, "app@example.com"));
        ASSERT_TRUE(user_sender_allowed(web, "APP@Example.COM"));        /* case-insensitive */
        ASSERT_TRUE(user_sender_allowed(web, "jos\xc3\xa9@EXAMPLE.net"));
        ASSERT_TRUE(!user_sender_allowed(web, "app2@example.com"));
        ASSERT_TRUE(!user_sender_allowed(web, "other@example.com"));     /* an address, not its domain */
        ASSERT_TRUE(user_sender_allowed(web, "anyone@news.example.org"));
        ASSERT_TRUE(user_sender_allowed(web, "Anyone@NEWS.Example.Org"));
        ASSERT_TRUE(!user_sender_allowed(web, "x@sub.news.example.org")); /* not subdomains */
        ASSERT_TRUE(!user_sender_allowed(web, "x@example.org"));          /* nor the parent */
        ASSERT_TRUE(!user_sender_allowed(web, "x@news.example.org.evil.example"));
        ASSERT_TRUE(!user_sender_allowed(web, "x@evilnews.example.org"));
        ASSERT_TRUE(!user_sender_allowed(web, "news.example.org"));
        ASSERT_TRUE(!user_sender_allowed(web, "@news.example.org"));      /* no local part: no one */
        ASSERT_TRUE(!user_sender_allowed(web, "app"));
        /* the domain is after the last '@': a quoted '@' does not fool it */
        ASSERT_TRUE(!user_sender_allowed(web, "\"x@news.example.org\"@evil.example"));
        ASSERT_TRUE(!user_sender_allowed(web, "app@example.com.evil.example"));
        ASSERT_TRUE(!user_sender_allowed(web, ""));                       /* the null sender */
        ASSERT_TRUE(!user_sender_allowed(web, NULL));
        ASSERT_TRUE(!user_sender_allowed(NULL, "app@example.com"));
        ASSERT_TRUE(!user_sender_allowed(locked, "app@example.com"));     /* locked: nothing */
        ASSERT_TRUE(!user_sender_allowed(locked, "x@example.com"));
}

static void test_edits(void) {
        _cleanup_(users_file_done) UsersFile u = {};
        char *two[] = { (char *) "b@example.com", (char *) "@b.example" };
        char *bad[] = { (char *) "b@example.com", (char *) "nobody" };
        char *one[] = { (char *) "c@example.com" };
        Buf out = BUF_INIT(0);

        parse_ok("# top\na:" H ":a@example.com\n# about b\nb:" H ":b@example.com\n# end\n", &u);

        ASSERT_EQ(users_file_add(&u, "b", H, one, 1, reason, sizeof(reason)), -EEXIST);
        ASSERT_EQ(users_file_add(&u, "c d", H, one, 1, reason, sizeof(reason)), -EINVAL);
        ASSERT_TRUE(strstr(reason, "bad name"));
        ASSERT_EQ(users_file_add(&u, "c", "", one, 1, reason, sizeof(reason)), -EINVAL);
        ASSERT_EQ(users_file_add(&u, "c", H, bad, 2, reason, sizeof(reason)), -EINVAL);
        ASSERT_STREQ(reason, "bad sender 'nobody': an address local@domain or @domain is needed");
        ASSERT_EQ(users_file_add(&u, "c", H, one, 0, reason, sizeof(reason)), -EINVAL);
        ASSERT_EQ(u.n_users, 2);
        ASSERT_OK(users_file_add(&u, "c", H, one, 1, reason, sizeof(reason)));
        ASSERT_EQ(u.n_users, 3);

        ASSERT_OK(users_file_set_senders(&u, "b", two, 2, reason, sizeof(reason)));
        ASSERT_EQ(users_file_set_senders(&u, "b", bad, 2, reason, sizeof(reason)), -EINVAL);
        ASSERT_EQ(users_file_set_senders(&u, "x", two, 2, reason, sizeof(reason)), -ENOENT);
        ASSERT_OK(users_file_set_hash(&u, "a", "!$y$new", reason, sizeof(reason)));
        ASSERT_TRUE(users_file_find(&u, "a")->locked);
        ASSERT_EQ(users_file_set_hash(&u, "a", "$y$ne w", reason, sizeof(reason)), -EINVAL);
        ASSERT_STREQ(users_file_find(&u, "a")->hash, "!$y$new");
        ASSERT_EQ(users_file_set_hash(&u, "x", H, reason, sizeof(reason)), -ENOENT);

        /* the removed user's comments stay, above the next one */
        ASSERT_OK(users_file_remove(&u, "b"));
        ASSERT_EQ(users_file_remove(&u, "b"), -ENOENT);
        ASSERT_OK(users_file_format(&u, &out));
        ASSERT_OK(buf_append_byte(&out, 0));
        ASSERT_STREQ((const char *) out.data,
                     "# top\na:!$y$new:a@example.com\n# about b\n# end\nc:" H ":c@example.com\n");
        /* the last user's comments go to the end of the file */
        ASSERT_OK(users_file_remove(&u, "c"));
        ASSERT_OK(users_file_remove(&u, "a"));
        buf_reset(&out);
        ASSERT_OK(users_file_format(&u, &out));
        ASSERT_OK(buf_append_byte(&out, 0));
        ASSERT_STREQ((const char *) out.data, "# top\n# about b\n# end\n");
        buf_done(&out);
}

static void write_file(int dir, const char *name, mode_t mode, const char *text) {
        _cleanup_close_ int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        ASSERT_EQ(fchmod(fd, mode), 0);
}

static void test_load(void) {
        char dir[] = "/tmp/test-users-file-XXXXXX", path[64];
        _cleanup_close_ int d = -EBADF;
        UsersFile u = {};
        char *error = NULL;

        ASSERT_TRUE(mkdtemp(dir));
        d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(d >= 0);

        write_file(d, "users", 0600, "a:" H ":a@example.com\n");
        ASSERT_OK(users_file_load(d, "users", geteuid(), &u, &error));
        ASSERT_TRUE(!error);
        ASSERT_EQ(u.n_users, 1);
        users_file_done(&u);
        (void) snprintf(path, sizeof(path), "%s/users", dir);
        ASSERT_OK(users_file_load(AT_FDCWD, path, geteuid(), &u, &error));
        users_file_done(&u);

        write_file(d, "broken", 0400, "# ok\na:" H ":a@example.com\nb:" H ":nobody\n");
        ASSERT_EQ(users_file_load(d, "broken", geteuid(), &u, &error), -EINVAL);
        ASSERT_STREQ(error, "broken:3: bad sender 'nobody': an address local@domain or @domain is needed");
        free(error);

        write_file(d, "leaked", 0644, "a:" H ":a@example.com\n");
        ASSERT_EQ(users_file_load(d, "leaked", geteuid(), &u, &error), -EPERM);
        ASSERT_STREQ(error, "leaked: refused: mode 0644 lets group or others access it; chmod 0600 or 0400");
        free(error);

        ASSERT_EQ(symlinkat("users", d, "link"), 0);
        ASSERT_EQ(users_file_load(d, "link", geteuid(), &u, &error), -EPERM);
        ASSERT_STREQ(error, "link: refused: it is a symbolic link; name the file itself");
        free(error);

        ASSERT_EQ(users_file_load(d, "missing", geteuid(), &u, &error), -ENOENT);
        ASSERT_TRUE(strstr(error, "missing: "));
        free(error);

        ASSERT_EQ(unlinkat(d, "users", 0), 0);
        ASSERT_EQ(unlinkat(d, "broken", 0), 0);
        ASSERT_EQ(unlinkat(d, "leaked", 0), 0);
        ASSERT_EQ(unlinkat(d, "link", 0), 0);
        ASSERT_EQ(rmdir(dir), 0);
}

int main(void) {
        test_good();
        test_no_final_lf();
        test_bad();
        test_limits();
        test_sender_allowed();
        test_edits();
        test_load();
        return 0;
}
