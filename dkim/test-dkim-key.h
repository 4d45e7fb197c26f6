/* SPDX-License-Identifier: MIT */
/*
 * The RFC 8463 Appendix A key, for the key tests and for the signing test
 * that reproduces the RFC's published signature with it.
 */
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include "dkim/dkim-crypto.h"
#include "shared/tests.h"

/* The A.1 secret key (nWGxne/9…) wrapped as PKCS#8 PEM. */
static const char ed25519_pem[] =
        "-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
        "-----END PRIVATE KEY-----\n";

/* dkim_key_load() reads files: @pem goes through a temporary one. */
static inline DkimKey *load_pem(const char *pem) {
        char path[] = "/tmp/test-dkim-crypto-XXXXXX";
        DkimKey *k = NULL;
        int fd;

        fd = mkstemp(path);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, pem, strlen(pem)), (long long) strlen(pem));
        close(fd);
        ASSERT_OK(dkim_key_load(path, &k));
        unlink(path);
        return k;
}
