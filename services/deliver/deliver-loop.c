/* SPDX-License-Identifier: MIT */
/*
 * Which MX addresses lead back to receive (deliver-loop.h). The value
 * alone tells loopback, "this network" and the non-unicast ranges; the
 * rest is compared with [receive] listen. Only a wildcard there (receive
 * on every address) needs the kernel to say whether an address is one of
 * this host's, and the kernel's routing is the authority on that:
 *
 * A UDP socket connect()ed to the address sends no packet, but makes the
 * kernel pick the route and the source address it would use. For an
 * address of this host the route is of type "local", whose source is the
 * address itself (unless an admin set another preferred source on that
 * route, as the kernel's own 127.0.0.0/8 route has: loopback is caught
 * by its value instead). So getsockname() == the address means "this
 * host". This works inside deliver's sandbox, which allows AF_INET but
 * not AF_NETLINK, so no getifaddrs(); and it is not fooled the way a
 * bind() test would be, since net.ipv4.ip_nonlocal_bind = 1 (or
 * IP_FREEBIND) lets any address be bound. IPAddressDeny= does not stop
 * it either: nothing is sent.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "services/deliver/deliver-loop.h"
#include "shared/log.h"
#include "shared/macro.h"

LoopScope loop_address_scope(struct in_addr a) {
        uint32_t v = ntohl(a.s_addr);

        switch (v >> 24) {
        case 0:
                return LOOP_SCOPE_UNSPECIFIED;  /* RFC 1122 §3.2.1.3: "this host on this network" */
        case 127:
                return LOOP_SCOPE_LOOPBACK;
        }
        if (v >= 0xe0000000u)                   /* 224/4 multicast, 240/4 reserved, 255.255.255.255 */
                return LOOP_SCOPE_NOT_UNICAST;
        return LOOP_SCOPE_REMOTE;
}

const char *loop_scope_to_string(LoopScope s) {
        switch (s) {
        case LOOP_SCOPE_REMOTE:
                return "a remote address";
        case LOOP_SCOPE_LOOPBACK:
                return "a loopback address";
        case LOOP_SCOPE_UNSPECIFIED:
                return "an unspecified address (0.0.0.0/8 reaches this host)";
        case LOOP_SCOPE_NOT_UNICAST:
                return "not a unicast address";
        case LOOP_SCOPE_SELF:
                return "an address pochtar-receive listens on";
        }
        return "?";
}

int loop_address_is_local(struct in_addr a) {
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = a, .sin_port = htons(25) }, from = {};
        socklen_t len = sizeof(from);
        _cleanup_close_ int fd = -EBADF;

        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* No route at all (ENETUNREACH, ...): then it is no address of ours,
         * whose local routes always exist. */
        if (connect(fd, (struct sockaddr *) &to, sizeof(to)) < 0)
                return 0;
        if (getsockname(fd, (struct sockaddr *) &from, &len) < 0)
                return -errno;
        return from.sin_addr.s_addr == a.s_addr;
}

static int self_append(LoopSelf *s, struct in_addr a) {
        struct in_addr *t;

        if (a.s_addr == htonl(INADDR_ANY)) {
                s->any = true;
                return 0;
        }
        t = reallocarray(s->addrs, s->n + 1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        s->addrs = t;
        s->addrs[s->n++] = a;
        return 0;
}

/* The host part as pochtar-receive reads it: up to the last ":", without brackets. */
int loop_self_add_listen(LoopSelf *s, const char *spec) {
        const char *colon = strrchr(spec, ':');
        _cleanup_free_ char *host = NULL;
        struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
        struct addrinfo *ai = NULL;
        struct in6_addr a6;
        struct in_addr a4;
        int r = 0;

        if (!colon || colon == spec)
                return -EINVAL;
        if (spec[0] == '[' && colon[-1] == ']')
                host = strndup(spec + 1, (size_t) (colon - spec - 2));
        else
                host = strndup(spec, (size_t) (colon - spec));
        if (!host)
                return -ENOMEM;
        if (inet_pton(AF_INET, host, &a4) == 1)
                return self_append(s, a4);
        if (inet_pton(AF_INET6, host, &a6) == 1) {
                /* "::" takes IPv4 too (IPV6_V6ONLY is off by default); an
                 * IPv4-mapped address is that IPv4 address; deliver reaches
                 * no other IPv6 address */
                if (IN6_IS_ADDR_UNSPECIFIED(&a6))
                        s->any = true;
                else if (IN6_IS_ADDR_V4MAPPED(&a6)) {
                        memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
                        return self_append(s, a4);
                }
                return 0;
        }
        if (getaddrinfo(host, NULL, &hints, &ai) != 0)
                return -EADDRNOTAVAIL;
        for (struct addrinfo *i = ai; i && r >= 0; i = i->ai_next)
                r = self_append(s, ((const struct sockaddr_in *) i->ai_addr)->sin_addr);
        freeaddrinfo(ai);
        return r;
}

void loop_self_done(LoopSelf *s) {
        free(s->addrs);
        *s = (LoopSelf) {};
}

int loop_self_has(const LoopSelf *s, struct in_addr a) {
        for (size_t i = 0; i < s->n; i++)
                if (s->addrs[i].s_addr == a.s_addr)
                        return 1;
        return s->any ? loop_address_is_local(a) : 0;
}

int loop_filter_hosts(MxList *l, const char *domain, LoopSelfFn is_self, void *userdata, bool *ret_loop) {
        LoopScope scope[MX_HOSTS_MAX];
        size_t kept = 0;
        bool loop = false;

        /* decide for every host first: a failed check leaves the list as it was */
        for (size_t i = 0; i < l->n; i++) {
                scope[i] = loop_address_scope(l->hosts[i].addr);
                if (scope[i] == LOOP_SCOPE_REMOTE) {
                        int k = is_self(l->hosts[i].addr, userdata);

                        if (k < 0)
                                return k;
                        if (k > 0)
                                scope[i] = LOOP_SCOPE_SELF;
                }
        }
        for (size_t i = 0; i < l->n; i++) {
                char ip[INET_ADDRSTRLEN];

                if (scope[i] == LOOP_SCOPE_REMOTE) {
                        l->hosts[kept++] = l->hosts[i];
                        continue;
                }
                loop = loop || scope[i] != LOOP_SCOPE_NOT_UNICAST;
                (void) inet_ntop(AF_INET, &l->hosts[i].addr, ip, sizeof(ip));
                log_warning("%s: MX host %s[%s] is %s, not delivering there", domain, l->hosts[i].name, ip,
                            loop_scope_to_string(scope[i]));
        }
        l->n = kept;
        *ret_loop = loop;
        return (int) kept;
}

int loop_dsn(const char *domain, bool loop, Dsn *d) {
        char text[DNS_NAME_MAX + 128];

        if (!loop) {
                (void) snprintf(text, sizeof(text), "mail for %s has no MX host with a unicast address", domain);
                return dsn_set(d, DELIVERY_BOUNCED, "5.4.4", text, false);
        }
        /* Postfix's words */
        (void) snprintf(text, sizeof(text), "mail for %s loops back to myself", domain);
        return dsn_set(d, DELIVERY_BOUNCED, "5.4.6", text, false);
}
