/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * [receive] allow: the client networks that may talk to receive, as CIDR
 * prefixes ("127.0.0.0/8", "::1/128", "10.1.2.3"). A client outside every
 * prefix gets 554 and nothing else, whatever address the socket is bound
 * to. IPv4-mapped IPv6 peers (::ffff:a.b.c.d) match IPv4 prefixes.
 */
typedef struct AccessRule {
        int family;             /* AF_INET or AF_INET6 */
        uint8_t addr[16];
        unsigned prefix;        /* bits */
} AccessRule;

typedef struct AccessList {
        AccessRule *rules;
        size_t n_rules;
} AccessList;

int access_list_parse(char * const *entries, AccessList *ret, const char **ret_bad);
void access_list_done(AccessList *l);
bool access_list_allows(const AccessList *l, const struct sockaddr *sa, socklen_t len);

/*
 * access_peer_format() - the client's address as text for the logs, the
 * envelope and Received:, the same whichever socket it came in on: an
 * IPv4 client of a dual-stack socket (::ffff:a.b.c.d) is written a.b.c.d,
 * as fail2ban and every allow rule know it. -EAFNOSUPPORT for AF_UNIX and
 * other families, -ENOSPC when @size is too small (INET6_ADDRSTRLEN is
 * enough).
 */
int access_peer_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);
