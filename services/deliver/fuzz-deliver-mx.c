/* SPDX-License-Identifier: MIT */
/*
 * DNS answers, as MX and as A, and what deliver's policy on top of
 * dns_answer_parse() (fuzz-dns-answer) makes of them: names capped,
 * valid and sorted by preference; any other outcome turned into a bounce
 * or a deferral.
 */
#include <string.h>

#include "services/deliver/deliver-mx.h"
#include "shared/address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_outcome(MxOutcome o) {
        Dsn d = {};

        if (o == MX_OK)
                return;
        if (mx_outcome_dsn(o, "example.org", &d) < 0)
                return;         /* out of memory */
        if (d.status != (o == MX_RETRY ? DELIVERY_DEFERRED : DELIVERY_BOUNCED))
                __builtin_trap();
        dsn_done(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        MxNames names;
        struct in_addr a[MX_HOSTS_MAX];
        MxOutcome o;
        size_t n;

        if (size > 65535)
                return 0;
        o = mx_parse_mx(data, size, &names);
        if (o == MX_OK) {
                if (names.n == 0 || names.n > MX_NAMES_MAX)
                        __builtin_trap();
                for (size_t i = 0; i < names.n; i++) {
                        if (domain_valid(names.names[i].name, strlen(names.names[i].name), 0) < 0)
                                __builtin_trap();
                        if (i > 0 && names.names[i - 1].pref > names.names[i].pref)
                                __builtin_trap();
                }
        }
        check_outcome(o);
        o = mx_parse_a(data, size, a, MX_HOSTS_MAX, &n);
        if (o == MX_OK && (n == 0 || n > MX_HOSTS_MAX))
                __builtin_trap();
        check_outcome(o);
        return 0;
}
