/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"
#include "shared/macro.h"

/*
 * The OpenSSL boundary: the only code that includes <openssl/…>. Keys,
 * SHA-256, the two DKIM signature algorithms and base64. OpenSSL's 1/0
 * results and error queue become negative errnos here.
 */
#define DKIM_HASH_LEN 32
#define DKIM_SIG_MAX 512                /* RSA-4096 */
#define DKIM_RSA_BITS_MIN 1024          /* RFC 8301 §3.2: smaller keys are not signed with */
#define DKIM_RSA_BITS_MAX 4096          /* RFC 8301 §3.2: verifiers need not go beyond */

typedef enum DkimAlg {
        DKIM_ALG_RSA_SHA256,
        DKIM_ALG_ED25519_SHA256,
} DkimAlg;

const char *dkim_alg_to_string(DkimAlg a);
/* The key record's k= for keys of @a: "rsa" or "ed25519". */
const char *dkim_alg_key_type(DkimAlg a);

typedef struct DkimKey DkimKey;

/*
 * Loads a PEM private key: PKCS#1 RSA (opendkim-genkey), PKCS#8 RSA or
 * Ed25519. -EKEYREJECTED for a weak or unsupported key, -EBADMSG for a
 * file that is not a PEM key, -errno from open().
 */
int dkim_key_load(const char *path, DkimKey **ret);
DkimKey *dkim_key_free(DkimKey *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(DkimKey *, dkim_key_free);
DkimAlg dkim_key_alg(const DkimKey *k);
unsigned dkim_key_bits(const DkimKey *k);
/* Threads that may sign with one key at the same time, each with its own
 * @lane (0..DKIM_KEY_LANES-1): OpenSSL's signing contexts are not shared. */
#define DKIM_KEY_LANES 4
/* Signs a SHA-256 digest of the header data (RFC 6376 §3.7, RFC 8463 §3). */
int dkim_key_sign(DkimKey *k, unsigned lane, const uint8_t digest[static DKIM_HASH_LEN], uint8_t *sig,
                  size_t *ret_len);
/* The p= value of the DNS record, base64: SubjectPublicKeyInfo for RSA, the raw key for Ed25519. */
int dkim_key_public_b64(const DkimKey *k, Buf *out);
/*
 * Whether a key record's p= (base64, FWS allowed) is the public half of
 * @k: 1 yes, 0 a different key, -EBADMSG if p= is not base64 or not a
 * key of @k's type. RSA keys are compared as keys, so a bare RSAPublicKey
 * matches too.
 */
int dkim_key_matches_record(const DkimKey *k, const char *p, size_t n);
/* Whether a record's p= decodes to a public key for @alg: 0 or -EBADMSG. */
int dkim_record_key_check(DkimAlg alg, const char *p, size_t n);
/* Generates a key and writes it as PEM to @fd: PKCS#1 for RSA (as opendkim-genkey), PKCS#8 for Ed25519. */
int dkim_key_generate(DkimAlg alg, unsigned bits, int fd, DkimKey **ret);

/* Streaming SHA-256, one reusable context. */
typedef struct DkimHash DkimHash;
int dkim_hash_new(DkimHash **ret);
DkimHash *dkim_hash_free(DkimHash *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(DkimHash *, dkim_hash_free);
int dkim_hash_begin(DkimHash *h);
void dkim_hash_update(DkimHash *h, const void *p, size_t n);
int dkim_hash_end(DkimHash *h, uint8_t ret[static DKIM_HASH_LEN]);

int base64_append(Buf *out, const uint8_t *p, size_t n);
/* Decodes standard base64 (no white space); returns the decoded length. */
int base64_decode(const char *s, uint8_t *out, size_t max, size_t *ret_len);
