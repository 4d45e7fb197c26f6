/* SPDX-License-Identifier: MIT */
/*
 * DKIM public keys for `pochtar dns check`: derive one from the local
 * private key, decode the one in DNS, compare. OpenSSL does all the
 * encoding (PEM, DER, base64); this file only chooses the DKIM form.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/dkim-key.h"
#include "shared/macro.h"

static inline EVP_PKEY *EVP_PKEY_free_null(EVP_PKEY *k) {
        EVP_PKEY_free(k);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free_null);

void dkim_public_key_done(DkimPublicKey *k) {
        free(k->p);
        k->p = NULL;
}

static int base64_encode(const uint8_t *p, size_t n, char **ret) {
        char *s = malloc(4 * ((n + 2) / 3) + 1);

        if (!s)
                return -ENOMEM;
        (void) EVP_EncodeBlock((unsigned char *) s, p, (int) n);
        *ret = s;
        return 0;
}

/* Strips FWS (RFC 6376 §3.6.1 allows it inside p=) and decodes. */
static int base64_decode(const char *p, size_t n, uint8_t **ret, size_t *ret_len) {
        _cleanup_free_ char *s = malloc(n + 1);
        _cleanup_free_ uint8_t *out = NULL;
        size_t len = 0, pad = 0;
        int k;

        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!strchr(" \t\r\n", p[i]))
                        s[len++] = p[i];
        if (len == 0 || len % 4 != 0)
                return -EBADMSG;
        for (size_t i = len; i > 0 && s[i - 1] == '=' && pad < 2; i--)
                pad++;
        out = malloc(len / 4 * 3 + 1);
        if (!out)
                return -ENOMEM;
        k = EVP_DecodeBlock(out, (const unsigned char *) s, (int) len);
        if (k < 0 || (size_t) k < pad)
                return -EBADMSG;
        *ret_len = (size_t) k - pad;   /* EVP_DecodeBlock counts the padding as zero bytes */
        *ret = TAKE_PTR(out);
        return 0;
}

int dkim_public_key_load(const char *path, DkimPublicKey *ret) {
        _cleanup_(EVP_PKEY_free_nullp) EVP_PKEY *key = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ uint8_t *der = NULL;
        DkimPublicKey k = {};
        size_t len;
        int r;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        if (!key)
                return -EBADMSG;
        k.bits = EVP_PKEY_get_bits(key);
        switch (EVP_PKEY_get_base_id(key)) {
        case EVP_PKEY_RSA: {
                int n = i2d_PUBKEY(key, &der);

                if (n <= 0)
                        return -ENOMEM;
                len = (size_t) n;
                k.type = "rsa";
                break;
        }
        case EVP_PKEY_ED25519:
                len = 32;
                der = malloc(len);
                if (!der)
                        return -ENOMEM;
                if (EVP_PKEY_get_raw_public_key(key, der, &len) != 1)
                        return -EBADMSG;
                k.type = "ed25519";
                break;
        default:
                return -EOPNOTSUPP;
        }
        r = base64_encode(der, len, &k.p);
        if (r < 0)
                return r;
        *ret = k;
        return 0;
}

/* Decodes a record's RSA p=: SubjectPublicKeyInfo as everyone publishes
 * it, or the bare RSAPublicKey that RFC 6376 §3.6.1 literally names. */
static EVP_PKEY *decode_rsa(const uint8_t *bytes, size_t len) {
        const unsigned char *q = bytes;
        EVP_PKEY *k;

        k = d2i_PUBKEY(NULL, &q, (long) len);
        if (k && q == bytes + len && EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA)
                return k;
        EVP_PKEY_free(k);
        q = bytes;
        k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long) len);
        if (k && q == bytes + len)
                return k;
        EVP_PKEY_free(k);
        return NULL;
}

int dkim_public_key_valid(const char *type, const char *p, size_t n) {
        _cleanup_(EVP_PKEY_free_nullp) EVP_PKEY *k = NULL;
        _cleanup_free_ uint8_t *bytes = NULL;
        size_t len;
        int r;

        r = base64_decode(p, n, &bytes, &len);
        if (r < 0)
                return r;
        if (streq(type, "ed25519"))
                return len == 32 ? 0 : -EBADMSG;
        k = decode_rsa(bytes, len);
        return k ? 0 : -EBADMSG;
}

int dkim_public_key_matches(const DkimPublicKey *k, const char *p, size_t n) {
        _cleanup_(EVP_PKEY_free_nullp) EVP_PKEY *theirs = NULL, *ours = NULL;
        _cleanup_free_ uint8_t *mine = NULL, *bytes = NULL;
        size_t len, mine_len;
        int r;

        r = base64_decode(p, n, &bytes, &len);
        if (r < 0)
                return r;
        r = base64_decode(k->p, strlen(k->p), &mine, &mine_len);
        if (r < 0)
                return r;
        if (streq(k->type, "ed25519")) {
                if (len != 32)
                        return -EBADMSG;
                return memcmp(bytes, mine, 32) == 0;
        }
        /* compare the keys, not their encodings */
        theirs = decode_rsa(bytes, len);
        if (!theirs)
                return -EBADMSG;
        ours = decode_rsa(mine, mine_len);
        if (!ours)
                return -ENOMEM;
        return EVP_PKEY_eq(ours, theirs) == 1;
}
