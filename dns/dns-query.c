/* SPDX-License-Identifier: MIT */
/*
 * libresolv's resolver, the only file of the tree that includes
 * <resolv.h>. res_nquery() blocks: deliver calls it from worker threads,
 * each lookup with its own handle; the CLI from its one thread.
 */
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>

#include "dns/dns-query.h"

struct DnsResolver {
        struct __res_state state;
        uint8_t answer[DNS_MESSAGE_MAX];
};

int dns_resolver_new(DnsResolver **ret) {
        DnsResolver *r;

        /* calloc: res_ninit() gets a state with nothing left over in it */
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        if (res_ninit(&r->state) < 0) {
                free(r);
                return -EAGAIN;
        }
        *ret = r;
        return 0;
}

DnsResolver *dns_resolver_free(DnsResolver *r) {
        if (!r)
                return NULL;
        res_nclose(&r->state);
        free(r);
        return NULL;
}

int dns_query(DnsResolver *r, const char *name, DnsType type, const uint8_t **ret_answer) {
        int n;

        n = res_nquery(&r->state, name, ns_c_in, (int) type, r->answer, sizeof(r->answer));
        if (n < 0)
                switch (r->state.res_h_errno) {
                case HOST_NOT_FOUND:
                        return -ENXIO;
                case NO_DATA:
                        return -ENODATA;
                case NO_RECOVERY:
                        return -EBADMSG;
                default:
                        return -EAGAIN;
                }
        /* a reply cut to the buffer: never, with TCP's 16-bit length */
        if ((size_t) n > sizeof(r->answer))
                return -EBADMSG;
        *ret_answer = r->answer;
        return n;
}
