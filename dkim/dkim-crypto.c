/* SPDX-License-Identifier: MIT */
/*
 * OpenSSL glue. Per-key state (the decoded key and, for RSA, a signing
 * context with padding and digest already set) is made once at load, so
 * signing a message is one EVP call; the digest is fetched once, not per
 * message, to skip OpenSSL 3's implicit fetch.
 */
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "dkim/dkim-crypto.h"
#include "shared/fd-util.h"

struct DkimKey {
        EVP_PKEY *pkey;                 /* read-only once loaded: shared by the lanes */
        EVP_PKEY_CTX *sign_ctx[DKIM_KEY_LANES];        /* RSA: initialized once */
        EVP_MD_CTX *md_ctx[DKIM_KEY_LANES];            /* Ed25519: reused per signature */
        DkimAlg alg;
        unsigned bits;
};

struct DkimHash {
        EVP_MD *md;
        EVP_MD_CTX *ctx;
};

const char *dkim_alg_to_string(DkimAlg a) {
        return a == DKIM_ALG_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

const char *dkim_alg_key_type(DkimAlg a) {
        return a == DKIM_ALG_ED25519_SHA256 ? "ed25519" : "rsa";
}

DkimKey *dkim_key_free(DkimKey *k) {
        if (!k)
                return NULL;
        for (size_t i = 0; i < DKIM_KEY_LANES; i++) {
                EVP_PKEY_CTX_free(k->sign_ctx[i]);
                EVP_MD_CTX_free(k->md_ctx[i]);
        }
        EVP_PKEY_free(k->pkey);
        free(k);
        return NULL;
}

static int key_prepare(EVP_PKEY *pkey, DkimKey **ret) {
        _cleanup_(dkim_key_freep) DkimKey *k = NULL;

        k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;
        k->pkey = pkey;
        if (EVP_PKEY_is_a(pkey, "ED25519")) {
                k->alg = DKIM_ALG_ED25519_SHA256;
                k->bits = 256;
                for (size_t i = 0; i < DKIM_KEY_LANES; i++)
                        if (!(k->md_ctx[i] = EVP_MD_CTX_new()))
                                return -ENOMEM;
        } else if (EVP_PKEY_is_a(pkey, "RSA")) {
                k->alg = DKIM_ALG_RSA_SHA256;
                k->bits = (unsigned) EVP_PKEY_get_bits(pkey);
                if (k->bits < DKIM_RSA_BITS_MIN || k->bits > DKIM_RSA_BITS_MAX) {
                        k->pkey = NULL;
                        return -EKEYREJECTED;
                }
                for (size_t i = 0; i < DKIM_KEY_LANES; i++) {
                        EVP_PKEY_CTX *c = k->sign_ctx[i] = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);

                        if (!c || EVP_PKEY_sign_init(c) <= 0 ||
                            EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) <= 0 ||
                            EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) <= 0) {
                                ERR_clear_error();
                                k->pkey = NULL;
                                return -EIO;
                        }
                }
        } else {
                k->pkey = NULL;
                return -EKEYREJECTED;
        }
        *ret = TAKE_PTR(k);
        return 0;
}

int dkim_key_load(const char *path, DkimKey **ret) {
        _cleanup_close_ int fd = -EBADF;
        Buf text = BUF_INIT(64 * 1024);
        EVP_PKEY *pkey = NULL;
        BIO *bio;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        r = read_full_fd(fd, text.max - 1, &text);
        if (r < 0) {
                buf_done(&text);
                return r;
        }
        bio = BIO_new_mem_buf(text.data, (int) text.len);
        if (bio) {
                pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
                BIO_free(bio);
        }
        OPENSSL_cleanse(text.data, text.len);
        buf_done(&text);
        if (!pkey) {
                ERR_clear_error();
                return -EBADMSG;
        }
        r = key_prepare(pkey, ret);
        if (r < 0)
                EVP_PKEY_free(pkey);
        return r;
}

DkimAlg dkim_key_alg(const DkimKey *k) {
        return k->alg;
}

unsigned dkim_key_bits(const DkimKey *k) {
        return k->bits;
}

int dkim_key_sign(DkimKey *k, unsigned lane, const uint8_t digest[static DKIM_HASH_LEN], uint8_t *sig,
                  size_t *ret_len) {
        size_t len = DKIM_SIG_MAX;

        if (lane >= DKIM_KEY_LANES)
                return -EINVAL;
        if (k->alg == DKIM_ALG_RSA_SHA256) {
                if (EVP_PKEY_sign(k->sign_ctx[lane], sig, &len, digest, DKIM_HASH_LEN) <= 0)
                        goto fail;
        } else {
                /* RFC 8463 §3: PureEdDSA over the SHA-256 of the header data. */
                if (EVP_DigestSignInit_ex(k->md_ctx[lane], NULL, NULL, NULL, NULL, k->pkey, NULL) <= 0 ||
                    EVP_DigestSign(k->md_ctx[lane], sig, &len, digest, DKIM_HASH_LEN) <= 0)
                        goto fail;
        }
        *ret_len = len;
        return 0;
fail:
        ERR_clear_error();
        return -EIO;
}

int dkim_key_public_b64(const DkimKey *k, Buf *out) {
        if (k->alg == DKIM_ALG_ED25519_SHA256) {
                uint8_t raw[32];
                size_t len = sizeof(raw);

                if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &len) <= 0) {
                        ERR_clear_error();
                        return -EIO;
                }
                return base64_append(out, raw, len);
        }

        unsigned char *der = NULL;
        int n, r;

        n = i2d_PUBKEY(k->pkey, &der);
        if (n <= 0) {
                ERR_clear_error();
                return -EIO;
        }
        r = base64_append(out, der, (size_t) n);
        OPENSSL_free(der);
        return r;
}

/* A record's p=: FWS is allowed inside it (RFC 6376 §3.6.1), then plain base64. */
static int record_p_decode(const char *p, size_t n, uint8_t **ret, size_t *ret_len) {
        _cleanup_free_ char *s = NULL;
        _cleanup_free_ uint8_t *out = NULL;
        size_t len = 0;

        s = malloc(n + 1);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!strchr(" \t\r\n", p[i]))
                        s[len++] = p[i];
        s[len] = 0;
        out = malloc(len / 4 * 3 + 1);
        if (!out)
                return -ENOMEM;
        if (len == 0 || base64_decode(s, out, len / 4 * 3, ret_len) < 0)
                return -EBADMSG;
        *ret = TAKE_PTR(out);
        return 0;
}

/* An RSA p=: SubjectPublicKeyInfo as everyone publishes it, or the bare
 * RSAPublicKey that RFC 6376 §3.6.1 literally names. */
static EVP_PKEY *record_rsa_decode(const uint8_t *bytes, size_t len) {
        const unsigned char *q = bytes;
        EVP_PKEY *k;

        k = d2i_PUBKEY(NULL, &q, (long) len);
        if (k && q == bytes + len && EVP_PKEY_is_a(k, "RSA"))
                return k;
        EVP_PKEY_free(k);
        q = bytes;
        k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long) len);
        if (k && q == bytes + len)
                return k;
        EVP_PKEY_free(k);
        ERR_clear_error();
        return NULL;
}

int dkim_record_key_check(DkimAlg alg, const char *p, size_t n) {
        _cleanup_free_ uint8_t *bytes = NULL;
        EVP_PKEY *k;
        size_t len;
        int r;

        r = record_p_decode(p, n, &bytes, &len);
        if (r < 0)
                return r;
        if (alg == DKIM_ALG_ED25519_SHA256)
                return len == 32 ? 0 : -EBADMSG;
        k = record_rsa_decode(bytes, len);
        if (!k)
                return -EBADMSG;
        EVP_PKEY_free(k);
        return 0;
}

int dkim_key_matches_record(const DkimKey *k, const char *p, size_t n) {
        _cleanup_free_ uint8_t *bytes = NULL;
        EVP_PKEY *theirs;
        size_t len;
        int r;

        r = record_p_decode(p, n, &bytes, &len);
        if (r < 0)
                return r;
        if (k->alg == DKIM_ALG_ED25519_SHA256) {
                uint8_t raw[32];
                size_t raw_len = sizeof(raw);

                if (len != sizeof(raw))
                        return -EBADMSG;
                if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &raw_len) <= 0) {
                        ERR_clear_error();
                        return -EIO;
                }
                return memcmp(raw, bytes, sizeof(raw)) == 0;
        }
        /* compare the keys, not their encodings */
        theirs = record_rsa_decode(bytes, len);
        if (!theirs)
                return -EBADMSG;
        r = EVP_PKEY_eq(k->pkey, theirs) == 1;
        EVP_PKEY_free(theirs);
        ERR_clear_error();
        return r;
}

int dkim_key_generate(DkimAlg alg, unsigned bits, int fd, DkimKey **ret) {
        EVP_PKEY *pkey;
        BUF_MEM *mem;
        BIO *bio;
        int r, ok;

        if (alg == DKIM_ALG_RSA_SHA256)
                pkey = EVP_RSA_gen(bits);
        else
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        if (!pkey) {
                ERR_clear_error();
                return -EIO;
        }
        bio = BIO_new(BIO_s_mem());
        if (!bio) {
                EVP_PKEY_free(pkey);
                return -ENOMEM;
        }
        /* "BEGIN RSA PRIVATE KEY" (PKCS#1), as opendkim-genkey writes it,
         * so OpenDKIM and older tools can use the same file. */
        if (alg == DKIM_ALG_RSA_SHA256)
                ok = PEM_write_bio_PrivateKey_traditional(bio, pkey, NULL, NULL, 0, NULL, NULL);
        else
                ok = PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
        BIO_get_mem_ptr(bio, &mem);
        r = ok > 0 ? write_full_fd(fd, mem->data, mem->length) : -EIO;
        OPENSSL_cleanse(mem->data, mem->length);
        BIO_free(bio);
        ERR_clear_error();
        if (r >= 0)
                r = key_prepare(pkey, ret);
        if (r < 0)
                EVP_PKEY_free(pkey);
        return r;
}

int dkim_hash_new(DkimHash **ret) {
        DkimHash *h;

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
        h->ctx = EVP_MD_CTX_new();
        if (!h->md || !h->ctx) {
                ERR_clear_error();
                dkim_hash_free(h);
                return -ENOMEM;
        }
        *ret = h;
        return 0;
}

DkimHash *dkim_hash_free(DkimHash *h) {
        if (!h)
                return NULL;
        EVP_MD_CTX_free(h->ctx);
        EVP_MD_free(h->md);
        free(h);
        return NULL;
}

int dkim_hash_begin(DkimHash *h) {
        if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) <= 0) {
                ERR_clear_error();
                return -EIO;
        }
        return 0;
}

void dkim_hash_update(DkimHash *h, const void *p, size_t n) {
        /* SHA-256 update cannot fail on a live context. */
        (void) EVP_DigestUpdate(h->ctx, p, n);
}

int dkim_hash_end(DkimHash *h, uint8_t ret[static DKIM_HASH_LEN]) {
        unsigned len = 0;

        if (EVP_DigestFinal_ex(h->ctx, ret, &len) <= 0 || len != DKIM_HASH_LEN) {
                ERR_clear_error();
                return -EIO;
        }
        return 0;
}

int base64_append(Buf *out, const uint8_t *p, size_t n) {
        size_t need = 4 * ((n + 2) / 3) + 1;
        int r, k;

        if (n > INT32_MAX / 2)
                return -E2BIG;
        r = buf_reserve(out, need);
        if (r < 0)
                return r;
        k = EVP_EncodeBlock(out->data + out->len, p, (int) n);
        out->len += (size_t) k;
        out->data[out->len] = 0;
        return 0;
}

int base64_decode(const char *s, uint8_t *out, size_t max, size_t *ret_len) {
        size_t n = strlen(s), pad = 0;
        int k;

        if (n % 4 != 0 || n / 4 * 3 > max || n > INT32_MAX / 2)
                return -EINVAL;
        if (n > 0 && s[n - 1] == '=')
                pad++;
        if (n > 1 && s[n - 2] == '=')
                pad++;
        k = EVP_DecodeBlock(out, (const unsigned char *) s, (int) n);
        if (k < 0)
                return -EINVAL;
        *ret_len = (size_t) k - pad;
        return 0;
}
