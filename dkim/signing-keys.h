/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "dkim/dkim-crypto.h"
#include "dkim/dkim-keytable.h"
#include "shared/config.h"

/*
 * The signing keys and the rules that pick them, loaded together at start
 * and on SIGHUP: either [sign] domain/selector/key or OpenDKIM's
 * KeyTable + SigningTable. Keys are read from $CREDENTIALS_DIRECTORY
 * (systemd LoadCredential=) when a file of the configured key's basename
 * is there, else from the configured path.
 */
#define SIGN_SIGS_MAX 2         /* one per algorithm: rsa-sha256, ed25519-sha256 */

typedef struct SignKey {
        char *domain;           /* "%": the From: domain */
        char *selector;
        char *path;             /* the file actually read */
        DkimKey *key;
} SignKey;

typedef struct SignKeys {
        SignKey *keys;
        size_t n_keys;
        char *domain;           /* simple form; NULL with tables */
        KeyTable key_table;     /* entries[i] ↔ keys[i] */
        SigningTable signing_table;
} SignKeys;

typedef struct SignChoice {
        const char *domain;     /* d= */
        const char *selector;
        DkimKey *key;
} SignChoice;

/* On failure *ret_error says which file and why ("…/mail.private: RSA key of 512 bits, …"). */
int sign_keys_load(const SignConfig *c, SignKeys **ret, char **ret_error);
SignKeys *sign_keys_free(SignKeys *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(SignKeys *, sign_keys_free);

/*
 * Reads and parses the KeyTable named by @spec ("file:/p" or "/p"), for
 * sign and for `pochtar dns check`. On failure *ret_error says which file
 * (and line) and why.
 */
int key_table_load(const char *spec, KeyTable *ret, char **ret_error);

/* The keys for author local@domain, at most one per algorithm, all with the same d=. */
size_t sign_keys_select(const SignKeys *k, const char *local, const char *domain, SignChoice ret[static SIGN_SIGS_MAX]);
