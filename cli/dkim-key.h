/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * The public half of a local DKIM private key, in the form a key record's
 * p= carries it (RFC 6376 §3.6.1 for RSA: SubjectPublicKeyInfo DER, as
 * opendkim-genkey publishes; RFC 8463 §4 for Ed25519: the raw 32 bytes),
 * derived with OpenSSL from the PEM file sign reads.
 */
typedef struct DkimPublicKey {
        const char *type;       /* "rsa" | "ed25519": the record's k= */
        int bits;
        char *p;                /* base64, the record's p= */
} DkimPublicKey;

void dkim_public_key_done(DkimPublicKey *k);
/* -ENOENT/-EACCES from opening, -EBADMSG for a file that is not a PEM
 * private key, -EOPNOTSUPP for a key type DKIM does not use. */
int dkim_public_key_load(const char *path, DkimPublicKey *ret);
/*
 * Whether a record's p= value (base64, whitespace allowed) is the same key
 * as @k: 1 yes, 0 a different key, -EBADMSG if p= is not base64 or not a
 * key of @k's type.
 */
int dkim_public_key_matches(const DkimPublicKey *k, const char *p, size_t n);
/* Whether p= decodes to a public key of @type ("rsa", "ed25519"): 0 or -EBADMSG. */
int dkim_public_key_valid(const char *type, const char *p, size_t n);
