/* SPDX-License-Identifier: MIT */
/*
 * The verifier with a real users file and real crypt(3) hashes: right and
 * wrong passwords, unknown and locked users, the file edited, broken and
 * removed under it, cancelled requests, many at once, and a free with
 * requests pending (ASan's leak check, TSan's race check in the 'threads'
 * suite).
 */
#include <crypt.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#include "services/receive/receive-auth.h"
#include "shared/clock.h"
#include "shared/config.h"
#include "shared/macro.h"
#include "shared/tests.h"

typedef struct Answer {
        int calls;
        int result;
        char **senders;
        AuthRequest *cancel_on_done;    /* cancelled from inside the callback */
} Answer;

static char root[] = "/tmp/test-receive-auth-XXXXXX";
static char path[sizeof(root) + 16];
static char hash_app[CRYPT_OUTPUT_SIZE], hash_web[CRYPT_OUTPUT_SIZE], hash_new[CRYPT_OUTPUT_SIZE];

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(p);
}

static void make_hash(const char *password, char out[static CRYPT_OUTPUT_SIZE]) {
        char setting[CRYPT_GENSALT_OUTPUT_SIZE];
        struct crypt_data cd = {};
        const char *h;

        /* yescrypt at its lowest cost: the test runs many checks */
        ASSERT_TRUE(crypt_gensalt_rn("$y$", 1, NULL, 0, setting, sizeof(setting)));
        h = crypt_rn(password, setting, &cd, sizeof(cd));
        ASSERT_TRUE(h && h[0] == '$');
        ASSERT_TRUE(strlen(h) < CRYPT_OUTPUT_SIZE);
        strcpy(out, h);
}

/* Replaces the users file (a new inode, as an editor or `pochtar user` does). */
static void write_users(const char *text) {
        char tmp[sizeof(path) + 8];
        FILE *f;

        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        f = fopen(tmp, "we");
        ASSERT_TRUE(f);
        ASSERT_TRUE(fputs(text, f) >= 0);
        ASSERT_EQ(fclose(f), 0);
        ASSERT_EQ(chmod(tmp, 0600), 0);
        ASSERT_EQ(rename(tmp, path), 0);
}

static char *users_text(bool with_new, bool web_locked) {
        char *s;

        ASSERT_TRUE(asprintf(&s, "app:%s:app@example.com,@example.org\nweb:%s%s:web@example.com\n%s%s%s",
                             hash_app, web_locked ? "!" : "", hash_web,
                             with_new ? "new:" : "", with_new ? hash_new : "", with_new ? ":new@example.com\n" : "") > 0);
        return s;
}

static void on_done(int result, char **senders, void *userdata) {
        Answer *a = userdata;

        a->calls++;
        a->result = result;
        strv_free(a->senders);
        a->senders = senders;
        if (a->cancel_on_done)
                auth_request_cancel(TAKE_PTR(a->cancel_on_done));
}

static void answer_done(Answer *a) {
        strv_free(a->senders);
        *a = (Answer) {};
}

/* Runs the loop until @a has its answer; fails only when nothing came
 * for a minute, a hang rather than a slow machine. */
static void wait_for(sd_event *e, Answer *a) {
        uint64_t deadline = now_monotonic_usec() + 60 * USEC_PER_SEC;

        while (a->calls == 0) {
                ASSERT_TRUE(now_monotonic_usec() < deadline);
                ASSERT_OK(sd_event_run(e, 100 * USEC_PER_MSEC));
        }
        ASSERT_EQ(a->calls, 1);
}

static int check(sd_event *e, AuthVerifier *v, const char *user, const char *password, Answer *a) {
        answer_done(a);
        ASSERT_OK(auth_verify(v, user, password, on_done, a, NULL));
        /* never inside the call */
        ASSERT_EQ(a->calls, 0);
        wait_for(e, a);
        return a->result;
}

static uint64_t timed_check(sd_event *e, AuthVerifier *v, const char *user, const char *password, int expect) {
        Answer a = {};
        uint64_t t = now_monotonic_usec();

        ASSERT_EQ(check(e, v, user, password, &a), expect);
        answer_done(&a);
        return now_monotonic_usec() - t;
}

static void test_checks(sd_event *e) {
        _cleanup_(auth_verifier_freep) AuthVerifier *v = NULL;
        _cleanup_free_ char *text = users_text(false, true);
        uint64_t t_wrong = 0, t_unknown = 0, t_locked = 0;
        Answer a = {};

        write_users(text);
        ASSERT_OK(auth_verifier_new(e, path, getuid(), &v));

        ASSERT_EQ(check(e, v, "app", "app-secret", &a), 0);
        ASSERT_TRUE(a.senders);
        ASSERT_EQ(strv_length(a.senders), 2);
        ASSERT_STREQ(a.senders[0], "app@example.com");
        ASSERT_STREQ(a.senders[1], "@example.org");

        ASSERT_EQ(check(e, v, "app", "app-secreT", &a), -EACCES);
        ASSERT_TRUE(!a.senders);
        ASSERT_EQ(check(e, v, "app", "app-secret ", &a), -EACCES);
        ASSERT_EQ(check(e, v, "App", "app-secret", &a), -EACCES);
        /* another user's password */
        ASSERT_EQ(check(e, v, "app", "web-secret", &a), -EACCES);
        /* locked: the right password is refused too */
        ASSERT_EQ(check(e, v, "web", "web-secret", &a), -EACCES);
        ASSERT_TRUE(!a.senders);
        ASSERT_EQ(check(e, v, "nobody", "app-secret", &a), -EACCES);
        answer_done(&a);

        /* the same answer, and about the same time: printed, not asserted
         * (the machine is shared); each the best of five */
        for (int i = 0; i < 5; i++) {
                uint64_t w = timed_check(e, v, "app", "wrong", -EACCES);
                uint64_t u = timed_check(e, v, "nobody", "wrong", -EACCES);
                uint64_t l = timed_check(e, v, "web", "wrong", -EACCES);

                t_wrong = i == 0 || w < t_wrong ? w : t_wrong;
                t_unknown = i == 0 || u < t_unknown ? u : t_unknown;
                t_locked = i == 0 || l < t_locked ? l : t_locked;
        }
        printf("wrong password %.1f ms, unknown user %.1f ms, locked user %.1f ms\n",
               t_wrong / 1000.0, t_unknown / 1000.0, t_locked / 1000.0);
}

static void test_reload(sd_event *e) {
        _cleanup_(auth_verifier_freep) AuthVerifier *v = NULL;
        _cleanup_free_ char *text = users_text(false, false), *text_new = users_text(true, false),
                            *text_locked = users_text(true, true);
        Answer a = {};
        FILE *f;

        write_users(text);
        ASSERT_OK(auth_verifier_new(e, path, getuid(), &v));
        ASSERT_EQ(check(e, v, "web", "web-secret", &a), 0);
        ASSERT_EQ(check(e, v, "new", "new-secret", &a), -EACCES);

        /* a user added: taken without a restart */
        write_users(text_new);
        ASSERT_EQ(check(e, v, "new", "new-secret", &a), 0);
        ASSERT_STREQ(a.senders[0], "new@example.com");
        /* a user locked */
        write_users(text_locked);
        ASSERT_EQ(check(e, v, "web", "web-secret", &a), -EACCES);

        /* edited in place (same inode): the size changes */
        f = fopen(path, "ae");
        ASSERT_TRUE(f);
        ASSERT_TRUE(fprintf(f, "late:%s:late@example.com\n", hash_new) > 0);
        ASSERT_EQ(fclose(f), 0);
        ASSERT_EQ(check(e, v, "late", "new-secret", &a), 0);

        /* a broken file keeps the table loaded before */
        write_users("this is not a users file\n");
        ASSERT_EQ(check(e, v, "app", "app-secret", &a), 0);
        ASSERT_EQ(check(e, v, "late", "new-secret", &a), 0);
        ASSERT_EQ(check(e, v, "web", "web-secret", &a), -EACCES);
        /* and is not read again while it stays the same (logged once) */
        ASSERT_EQ(check(e, v, "app", "app-secret", &a), 0);

        /* fixed: read again */
        write_users(text);
        ASSERT_EQ(check(e, v, "late", "new-secret", &a), -EACCES);
        ASSERT_EQ(check(e, v, "web", "web-secret", &a), 0);

        /* gone: nobody, for now (454) */
        ASSERT_EQ(unlink(path), 0);
        ASSERT_EQ(check(e, v, "app", "app-secret", &a), -EIO);
        write_users(text);
        ASSERT_EQ(check(e, v, "app", "app-secret", &a), 0);
        answer_done(&a);
}

/* A password that passed is remembered: the next check of the same user
 * and password runs no crypt; anything else still does, and a changed,
 * locked or removed user is not answered from memory. */
static void test_cache(sd_event *e) {
        _cleanup_(auth_verifier_freep) AuthVerifier *v = NULL;
        _cleanup_free_ char *text = users_text(false, false), *locked = users_text(false, true), *moved = NULL;
        uint64_t runs, hits;
        Answer a = {};

        write_users(text);
        ASSERT_OK(auth_verifier_new(e, path, getuid(), &v));
        ASSERT_EQ(check(e, v, "app", "app-secret", &a), 0);
        auth_verifier_stats(v, &runs, &hits);
        ASSERT_EQ(runs, 1);
        ASSERT_EQ(hits, 0);

        ASSERT_EQ(check(e, v, "app", "app-secret", &a), 0);
        ASSERT_EQ(strv_length(a.senders), 2);
        ASSERT_EQ(check(e, v, "app", "app-secret", &a), 0);
        auth_verifier_stats(v, &runs, &hits);
        ASSERT_EQ(runs, 1);
        ASSERT_EQ(hits, 2);

        /* a wrong password, another user's, the right one for another user:
         * crypt every time, and the wrong ones fail */
        ASSERT_EQ(check(e, v, "app", "app-secreT", &a), -EACCES);
        ASSERT_EQ(check(e, v, "app", "web-secret", &a), -EACCES);
        ASSERT_EQ(check(e, v, "web", "app-secret", &a), -EACCES);
        ASSERT_EQ(check(e, v, "app", "app-secret", &a), 0);
        auth_verifier_stats(v, &runs, &hits);
        ASSERT_EQ(runs, 4);
        ASSERT_EQ(hits, 3);

        /* web cached, then locked: refused at once */
        ASSERT_EQ(check(e, v, "web", "web-secret", &a), 0);
        write_users(locked);
        ASSERT_EQ(check(e, v, "web", "web-secret", &a), -EACCES);

        /* app's password changed (a new hash): the old one no longer passes */
        ASSERT_TRUE(asprintf(&moved, "app:%s:app@example.com\n", hash_new) > 0);
        write_users(moved);
        ASSERT_EQ(check(e, v, "app", "app-secret", &a), -EACCES);
        ASSERT_EQ(check(e, v, "app", "new-secret", &a), 0);
        /* removed: refused */
        write_users("web:*:web@example.com\n");
        ASSERT_EQ(check(e, v, "app", "new-secret", &a), -EACCES);
        auth_verifier_stats(v, &runs, &hits);
        ASSERT_EQ(hits, 3);
        answer_done(&a);
}

static void test_no_file(sd_event *e) {
        _cleanup_(auth_verifier_freep) AuthVerifier *v = NULL;
        _cleanup_free_ char *text = users_text(false, false);
        Answer a = {};

        (void) unlink(path);
        ASSERT_OK(auth_verifier_new(e, path, getuid(), &v));
        ASSERT_EQ(check(e, v, "app", "app-secret", &a), -EIO);
        ASSERT_EQ(check(e, v, "nobody", "x", &a), -EIO);

        /* broken from the start: nothing to keep */
        write_users("app\n");
        ASSERT_EQ(check(e, v, "app", "app-secret", &a), -EIO);
        write_users(text);
        ASSERT_EQ(check(e, v, "app", "app-secret", &a), 0);
        answer_done(&a);
}

static void test_cancel(sd_event *e) {
        _cleanup_(auth_verifier_freep) AuthVerifier *v = NULL;
        _cleanup_free_ char *text = users_text(false, false);
        Answer first = {}, cancelled[4] = {}, last = {};
        AuthRequest *r[4];

        write_users(text);
        ASSERT_OK(auth_verifier_new(e, path, getuid(), &v));
        /* one the worker may have taken already, one surely still queued */
        ASSERT_OK(auth_verify(v, "app", "app-secret", on_done, &cancelled[0], &r[0]));
        ASSERT_OK(auth_verify(v, "app", "app-secret", on_done, &cancelled[1], &r[1]));
        auth_request_cancel(r[0]);
        auth_request_cancel(r[1]);
        /* one cancelled from another's callback: checked by then, or not */
        ASSERT_OK(auth_verify(v, "app", "app-secret", on_done, &first, NULL));
        ASSERT_OK(auth_verify(v, "app", "wrong", on_done, &cancelled[2], &r[2]));
        first.cancel_on_done = r[2];
        wait_for(e, &first);
        ASSERT_EQ(first.result, 0);
        /* one cancelled after it was checked (most likely), before the loop
         * heard of it: the loop does not run in between */
        ASSERT_OK(auth_verify(v, "web", "web-secret", on_done, &cancelled[3], &r[3]));
        (void) usleep(200 * 1000);
        auth_request_cancel(r[3]);
        ASSERT_OK(auth_verify(v, "app", "app-secret", on_done, &last, NULL));
        wait_for(e, &last);
        ASSERT_EQ(last.result, 0);
        /* the loop has nothing left: a last run answers nothing more */
        ASSERT_OK(sd_event_run(e, 100 * USEC_PER_MSEC));
        for (size_t i = 0; i < ELEMENTSOF(cancelled); i++)
                ASSERT_EQ(cancelled[i].calls, 0);
        ASSERT_EQ(first.calls, 1);
        ASSERT_EQ(last.calls, 1);
        answer_done(&first);
        answer_done(&last);
}

static void test_many(sd_event *e) {
        _cleanup_(auth_verifier_freep) AuthVerifier *v = NULL;
        _cleanup_free_ char *text = users_text(false, false);
        Answer a[20] = {};

        write_users(text);
        ASSERT_OK(auth_verifier_new(e, path, getuid(), &v));
        for (size_t i = 0; i < ELEMENTSOF(a); i++)
                ASSERT_OK(auth_verify(v, i % 3 == 0 ? "web" : "app", i % 2 == 0 ? "app-secret" : "web-secret",
                                      on_done, &a[i], NULL));
        for (size_t i = 0; i < ELEMENTSOF(a); i++) {
                bool right = (i % 3 == 0) == (i % 2 != 0);

                wait_for(e, &a[i]);
                ASSERT_EQ(a[i].result, right ? 0 : -EACCES);
                ASSERT_TRUE(!a[i].senders == !right);
                answer_done(&a[i]);
        }
}

static void test_free_pending(sd_event *e) {
        _cleanup_free_ char *text = users_text(false, false);
        AuthVerifier *v = NULL;
        Answer a[5] = {};

        write_users(text);
        ASSERT_OK(auth_verifier_new(e, path, getuid(), &v));
        for (size_t i = 0; i < ELEMENTSOF(a); i++)
                ASSERT_OK(auth_verify(v, "app", "app-secret", on_done, &a[i], NULL));
        (void) usleep(20 * 1000);       /* some checked, some queued */
        v = auth_verifier_free(v);
        ASSERT_OK(sd_event_run(e, 50 * USEC_PER_MSEC));
        for (size_t i = 0; i < ELEMENTSOF(a); i++)
                ASSERT_EQ(a[i].calls, 0);
}

int main(void) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;

        ASSERT_TRUE(mkdtemp(root));
        snprintf(path, sizeof(path), "%s/users", root);
        make_hash("app-secret", hash_app);
        make_hash("web-secret", hash_web);
        make_hash("new-secret", hash_new);
        ASSERT_OK(sd_event_default(&e));

        test_checks(e);
        test_reload(e);
        test_cache(e);
        test_no_file(e);
        test_cancel(e);
        test_many(e);
        test_free_pending(e);

        ASSERT_EQ(nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS), 0);
        return 0;
}
