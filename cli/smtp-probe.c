/* SPDX-License-Identifier: MIT */
/*
 * The port-25 reachability probe of `pochtar status`. Reads at most one
 * reply line of SMTP_REPLY_LINE_MAX bytes from the remote server and
 * censors it before anyone prints it.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "cli/dns-lookup.h"
#include "cli/smtp-probe.h"
#include "shared/clock.h"
#include "shared/escape.h"
#include "shared/macro.h"

static int wait_fd(int fd, short events, uint64_t deadline) {
        for (;;) {
                uint64_t now = now_monotonic_usec();
                struct pollfd p = { .fd = fd, .events = events };
                int r;

                if (now >= deadline)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int) ((deadline - now + 999) / 1000));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r > 0)
                        return 0;
        }
}

/* Connects and reads the first reply line. */
static int probe_addr(struct in_addr addr, const char *bind_addr, uint64_t deadline, ProbeResult *res) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(25), .sin_addr = addr };
        char line[SMTP_REPLY_LINE_MAX];
        _cleanup_close_ int fd = -EBADF;
        size_t len = 0;
        socklen_t sl = sizeof(int);
        int r, err = 0;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (bind_addr) {
                struct sockaddr_in src = { .sin_family = AF_INET };

                if (inet_pton(AF_INET, bind_addr, &src.sin_addr) != 1)
                        return -EINVAL;
                if (bind(fd, (struct sockaddr *) &src, sizeof(src)) < 0) {
                        res->step = "bind";
                        return -errno;
                }
        }
        res->step = "connect";
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                if (errno != EINPROGRESS)
                        return -errno;
                r = wait_fd(fd, POLLOUT, deadline);
                if (r < 0)
                        return r;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
                        return -errno;
                if (err)
                        return -err;
        }
        res->step = "greeting";
        while (len < sizeof(line)) {
                ssize_t k;

                r = wait_fd(fd, POLLIN, deadline);
                if (r < 0)
                        return r;
                k = read(fd, line + len, sizeof(line) - len);
                if (k < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -ECONNRESET;
                len += (size_t) k;
                if (memchr(line, '\n', len))
                        break;
        }
        len = (size_t) ((char *) (memchr(line, '\n', len) ?: line + len) - line);
        if (len > 0 && line[len - 1] == '\r')
                len--;
        Buf b = BUF_INIT(0);
        r = escape_printable(line, len, SMTP_REPLY_LINE_MAX, 0, &b);
        if (r >= 0)
                (void) snprintf(res->greeting, sizeof(res->greeting), "%.*s", (int) b.len, (char *) b.data);
        buf_done(&b);
        /* RFC 5321 §4.2: a greeting is 220; 554 is a server refusing us */
        return len >= 3 && line[0] == '2' ? 0 : -ECONNREFUSED;
}

static int mx_cmp(const void *a, const void *b) {
        const DnsRecord *x = a, *y = b;

        return (int) x->pref - (int) y->pref;
}

int smtp_probe(const char *domain, const char *bind_addr, uint64_t timeout_usec, ProbeResult *ret) {
        uint64_t start = now_monotonic_usec();
        DnsAnswer mx;
        int r, tried = 0;

        *ret = (ProbeResult) { .step = "MX lookup" };
        r = dns_lookup(domain, DNS_TYPE_MX, &mx);
        if (r < 0) {
                ret->error = r;
                return r;
        }
        qsort(mx.records, mx.n, sizeof(DnsRecord), mx_cmp);
        r = -ENODATA;           /* only null MX records */
        for (size_t i = 0; i < mx.n && tried < PROBE_HOSTS_MAX; i++) {
                DnsAnswer a;

                if (!*mx.records[i].name)
                        continue;       /* RFC 7505 null MX */
                (void) snprintf(ret->host, sizeof(ret->host), "%s", mx.records[i].name);
                ret->step = "address lookup";
                r = dns_lookup(mx.records[i].name, DNS_TYPE_A, &a);
                if (r < 0)
                        continue;
                ret->addr = a.records[0].addr;
                dns_answer_done(&a);
                tried++;
                r = probe_addr(ret->addr, bind_addr, now_monotonic_usec() + timeout_usec, ret);
                if (r >= 0)
                        break;
        }
        dns_answer_done(&mx);
        ret->elapsed_usec = now_monotonic_usec() - start;
        ret->error = r;
        return r;
}
