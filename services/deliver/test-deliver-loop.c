/* SPDX-License-Identifier: MIT */
/* Which MX addresses deliver refuses in mode = mx (deliver-loop.c). */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include "services/deliver/deliver-loop.h"
#include "shared/macro.h"
#include "shared/tests.h"

static struct in_addr ip(const char *s) {
        struct in_addr a;

        ASSERT_EQ(inet_pton(AF_INET, s, &a), 1);
        return a;
}

static void test_scope(void) {
        static const struct {
                const char *addr;
                LoopScope want;
        } cases[] = {
                { "0.0.0.0", LOOP_SCOPE_UNSPECIFIED },
                { "0.255.255.255", LOOP_SCOPE_UNSPECIFIED },
                { "1.0.0.0", LOOP_SCOPE_REMOTE },
                { "126.255.255.255", LOOP_SCOPE_REMOTE },
                { "127.0.0.0", LOOP_SCOPE_LOOPBACK },
                { "127.0.0.1", LOOP_SCOPE_LOOPBACK },
                { "127.0.0.53", LOOP_SCOPE_LOOPBACK },
                { "127.255.255.255", LOOP_SCOPE_LOOPBACK },
                { "128.0.0.0", LOOP_SCOPE_REMOTE },
                { "203.0.113.25", LOOP_SCOPE_REMOTE },
                /* private and link-local ranges are someone's unicast addresses */
                { "10.0.0.1", LOOP_SCOPE_REMOTE },
                { "169.254.169.254", LOOP_SCOPE_REMOTE },
                { "223.255.255.255", LOOP_SCOPE_REMOTE },
                { "224.0.0.0", LOOP_SCOPE_NOT_UNICAST },
                { "239.255.255.250", LOOP_SCOPE_NOT_UNICAST },
                { "240.0.0.1", LOOP_SCOPE_NOT_UNICAST },
                { "255.255.255.255", LOOP_SCOPE_NOT_UNICAST },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                if (loop_address_scope(ip(cases[i].addr)) != cases[i].want)
                        fprintf(stderr, "%s\n", cases[i].addr);
                ASSERT_EQ(loop_address_scope(ip(cases[i].addr)), cases[i].want);
        }
}

/* stands in for [receive] listen: receive listens on 203.0.113.60 */
static int fake_self(struct in_addr a, void *userdata) {
        return a.s_addr == ip("203.0.113.60").s_addr;
}

static int failing_self(struct in_addr a, void *userdata) {
        return -EMFILE;
}

static MxList list_of(const char * const *addrs) {
        MxList l = { .outcome = MX_OK };

        for (; *addrs; addrs++) {
                (void) snprintf(l.hosts[l.n].name, sizeof(l.hosts[l.n].name), "mx%zu.example.net", l.n);
                l.hosts[l.n].addr = ip(*addrs);
                l.hosts[l.n].port = 25;
                l.n++;
        }
        return l;
}

static void test_filter(void) {
        static const struct {
                const char *in[MX_HOSTS_MAX + 1];
                const char *kept[MX_HOSTS_MAX + 1];
                bool loop;
        } cases[] = {
                { { "203.0.113.25", NULL }, { "203.0.113.25", NULL }, false },
                { { "127.0.0.1", NULL }, { NULL }, true },
                { { "0.0.0.0", NULL }, { NULL }, true },
                { { "203.0.113.60", NULL }, { NULL }, true },
                { { "224.0.0.1", "255.255.255.255", NULL }, { NULL }, false },
                /* the others keep their order */
                { { "127.0.0.1", "203.0.113.25", "203.0.113.60", "203.0.113.26", "240.0.0.1" },
                  { "203.0.113.25", "203.0.113.26", NULL }, true },
                { { NULL }, { NULL }, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                MxList l = list_of(cases[i].in);
                bool loop = !cases[i].loop;
                size_t n = 0;

                while (cases[i].kept[n])
                        n++;
                ASSERT_EQ(loop_filter_hosts(&l, "example.net", fake_self, NULL, &loop), (int) n);
                ASSERT_EQ(l.n, n);
                ASSERT_EQ(loop, cases[i].loop);
                for (size_t k = 0; k < n; k++) {
                        ASSERT_EQ(l.hosts[k].addr.s_addr, ip(cases[i].kept[k]).s_addr);
                        ASSERT_EQ(l.hosts[k].port, 25);
                }
        }

        /* a check that fails leaves the list alone */
        {
                MxList l = list_of((const char * const[]) { "203.0.113.25", "127.0.0.1", NULL });
                bool loop = false;

                ASSERT_EQ(loop_filter_hosts(&l, "example.net", failing_self, NULL, &loop), -EMFILE);
                ASSERT_EQ(l.n, 2);
        }
}

static void test_dsn(void) {
        Dsn d = {};

        ASSERT_OK(loop_dsn("example.net", true, &d));
        ASSERT_EQ(d.status, DELIVERY_BOUNCED);
        ASSERT_STREQ(d.code, "5.4.6");
        ASSERT_STREQ(d.diagnostic, "mail for example.net loops back to myself");
        ASSERT_OK(loop_dsn("example.net", false, &d));
        ASSERT_EQ(d.status, DELIVERY_BOUNCED);
        ASSERT_STREQ(d.code, "5.4.4");
        dsn_done(&d);
}

static void test_self_listen(void) {
        static const struct {
                const char *listen[4];
                int want;
                const char *addrs[4];
                bool any;
        } cases[] = {
                { { "127.0.0.1:25", NULL }, 0, { "127.0.0.1", NULL }, false },
                { { "127.0.0.1:25", "203.0.113.60:2525", NULL }, 0, { "127.0.0.1", "203.0.113.60", NULL }, false },
                { { "0.0.0.0:25", NULL }, 0, { NULL }, true },
                { { "[::]:25", NULL }, 0, { NULL }, true },
                { { "[::ffff:203.0.113.7]:25", "[::1]:25", "[2001:db8::1]:25", NULL }, 0, { "203.0.113.7", NULL }, false },
                { { "[203.0.113.8]:25", NULL }, 0, { "203.0.113.8", NULL }, false },
                /* a name, from /etc/hosts (no DNS query leaves the machine) */
                { { "localhost:25", NULL }, 0, { "127.0.0.1", NULL }, false },
                { { "203.0.113.60", NULL }, -EINVAL, { NULL }, false },
                { { ":25", NULL }, -EINVAL, { NULL }, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                LoopSelf self = {};
                size_t n = 0;
                int r = 0;

                for (size_t k = 0; cases[i].listen[k] && r >= 0; k++)
                        r = loop_self_add_listen(&self, cases[i].listen[k]);
                if (r != cases[i].want)
                        fprintf(stderr, "case %zu\n", i);
                ASSERT_EQ(r, cases[i].want);
                while (cases[i].addrs[n])
                        n++;
                ASSERT_EQ(self.any, cases[i].any);
                /* localhost may resolve to 127.0.0.1 once or more (/etc/hosts) */
                ASSERT_TRUE(self.n >= n && (n > 0 || self.n == 0));
                for (size_t k = 0; k < n; k++) {
                        ASSERT_EQ(self.addrs[k].s_addr, ip(cases[i].addrs[k]).s_addr);
                        ASSERT_EQ(loop_self_has(&self, ip(cases[i].addrs[k])), 1);
                }
                if (!self.any)
                        ASSERT_EQ(loop_self_has(&self, ip("203.0.113.99")), 0);
                loop_self_done(&self);
        }
}

/* The real check, against this machine's kernel: the source address it
 * picks toward a TEST-NET-3 address (if it has a route there at all; no
 * packet is sent) is one of its own; the TEST-NET-3 address is not; and
 * with receive on a wildcard, every address of this host is "self". */
static void test_is_local(void) {
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = ip("203.0.113.1"), .sin_port = htons(25) };
        struct sockaddr_in from = {};
        socklen_t len = sizeof(from);
        LoopSelf any = {}, lo = {};
        int fd;

        ASSERT_OK(loop_self_add_listen(&any, "0.0.0.0:25"));
        ASSERT_OK(loop_self_add_listen(&lo, "127.0.0.1:25"));
        ASSERT_EQ(loop_address_is_local(ip("127.0.0.1")), 1);
        ASSERT_EQ(loop_address_is_local(ip("203.0.113.1")), 0);
        ASSERT_EQ(loop_self_has(&any, ip("203.0.113.1")), 0);
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        if (connect(fd, (struct sockaddr *) &to, sizeof(to)) == 0) {
                ASSERT_OK(getsockname(fd, (struct sockaddr *) &from, &len));
                ASSERT_EQ(loop_address_is_local(from.sin_addr), 1);
                ASSERT_EQ(loop_self_has(&any, from.sin_addr), 1);
                /* receive on loopback only: this host's other addresses are not receive */
                ASSERT_EQ(loop_self_has(&lo, from.sin_addr), 0);
        }
        close(fd);
        loop_self_done(&any);
        loop_self_done(&lo);
}

int main(void) {
        test_scope();
        test_filter();
        test_dsn();
        test_self_listen();
        test_is_local();
        return 0;
}
