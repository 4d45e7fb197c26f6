/* SPDX-License-Identifier: MIT */
/*
 * The routing inputs deliver reads from its configuration: the relayhost
 * value and each line of tls_policy_map (the input is split into lines;
 * each line goes to both parsers), and the whole input as a relay
 * password file.
 */
#include <stdlib.h>
#include <string.h>

#include "services/deliver/deliver-relay.h"
#include "services/deliver/deliver-route.h"
#include "shared/address.h"
#include "shared/limits.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void relayhost(const char *line, size_t n) {
        _cleanup_free_ char *s = strndup(line, n), *host = NULL;
        uint16_t port = 0;
        bool literal = false;

        if (!s)
                return;
        if (relayhost_parse(s, &host, &port, &literal) >= 0 && (!host || !*host || port == 0))
                abort();
}

static void policy_line(const char *line, size_t n) {
        _cleanup_free_ char *domain = NULL;
        TlsPolicy policy;

        if (tls_policy_line_parse(line, n, &domain, &policy) == 1 && (!domain || !*domain))
                abort();
}

/* what AUTH would send: the bytes before the first line end, none of them NUL */
static void password_file(const uint8_t *data, size_t size) {
        _cleanup_free_ char *pw = NULL;
        size_t n;

        if (relay_password_parse(data, size, &pw) < 0)
                return;
        n = strlen(pw);
        if (n == 0 || n > size || memcmp(pw, data, n) != 0 || strpbrk(pw, "\r\n") ||
            (n < size && data[n] != '\r' && data[n] != '\n'))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *p = (const char *) data, *end = p + size;

        if (size > 65535)
                return 0;
        password_file(data, size);
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = (size_t) ((nl ? nl : end) - p);

                relayhost(p, n);
                policy_line(p, n);
                p += n + 1;
        }
        return 0;
}
