/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "shared/buf.h"
#include "shared/macro.h"

/*
 * The TLS server side of submission (STARTTLS on 587, implicit TLS on 465),
 * through GnuTLS: receive-tls.c is the only file of receive that includes
 * it. TLS 1.2 and 1.3 only, no client certificate asked for, resumption by
 * session tickets. Non-blocking and silent: every function returns, never
 * waits, and never logs (the caller logs once, with the texts given here).
 * Not thread-safe: one event loop owns a TlsServer and its connections.
 */

/* TLS 1.3 and 1.2, forward secrecy only (no static RSA key exchange), the
 * server's order of preference. */
#define TLS_SERVER_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-RSA:%SERVER_PRECEDENCE"

/* The largest certificate chain or key file read (a chain is a few KiB). */
#define TLS_PEM_FILE_MAX (1024 * 1024)

/* The certificate chain and key, the priority and the session-ticket key. */
typedef struct TlsServer TlsServer;

/*
 * Loads the PEM chain (leaf first) and key, e.g. $CREDENTIALS_DIRECTORY/
 * tls.crt and tls.key. The key file follows the rule for secrets
 * (shared/secret-file.h). On a bad file: -EINVAL and @error says which file
 * and what (GnuTLS's text); -ENOMEM.
 */
int tls_server_new(const char *cert_file, const char *key_file, TlsServer **ret, char *error, size_t error_size);
/*
 * Loads new credentials for connections started from now on; connections
 * already running keep theirs until they end. The ticket key stays, so
 * tickets issued before stay valid. On failure the old ones stay: -EINVAL
 * (or -ENOMEM) and @error.
 */
int tls_server_reload(TlsServer *t, const char *cert_file, const char *key_file, char *error, size_t error_size);
/* Connections still open keep what they use alive. Returns NULL. */
TlsServer *tls_server_free(TlsServer *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(TlsServer *, tls_server_free);
/*
 * For the log: the loaded certificate's subject CN, its SANs and notAfter,
 * e.g. "CN=mail.example.org DNS:mail.example.org notAfter=2025-06-01T12:00:00Z",
 * with " (expired)" when it is. Censored to printable ASCII.
 */
const char *tls_server_describe(const TlsServer *t);

typedef struct TlsConn TlsConn;

/* A server session over @fd (not owned; non-blocking), with the credentials
 * loaded now. */
int tls_conn_new(TlsServer *t, int fd, TlsConn **ret);
TlsConn *tls_conn_free(TlsConn *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(TlsConn *, tls_conn_free);

/*
 * 0: done; -EAGAIN: call again when the fd is ready for
 * tls_conn_wants_write(c) ? writing : reading; other negative: failed
 * (-ECONNRESET: the peer went away, -EPROTO: it spoke no acceptable TLS),
 * tls_conn_error(c) says why. A failed handshake tries once to send the
 * peer the fitting alert. No timeout of its own.
 */
int tls_conn_handshake(TlsConn *c);
bool tls_conn_wants_write(const TlsConn *c);
/*
 * > 0 bytes; 0: the peer closed (close_notify or TCP EOF, a premature one
 * too); -EAGAIN (also for a record that carried no data); other negative:
 * failed (tls_conn_error()), -EPROTO for a TLS 1.2 renegotiation, which no
 * mail client needs.
 */
ssize_t tls_conn_read(TlsConn *c, void *buf, size_t size);
/* Bytes decrypted and held inside GnuTLS that epoll cannot see: the caller
 * must read them before waiting. */
size_t tls_conn_pending(const TlsConn *c);
/*
 * Bytes taken from @buf (the caller consumes them; at most one record's
 * worth), -EAGAIN, or negative. After -EAGAIN the bytes GnuTLS took are
 * still counted as the caller's: it calls again when the fd is writable
 * with the same bytes at the front of @buf (which may have moved or grown)
 * and then learns how many were taken.
 */
ssize_t tls_conn_write(TlsConn *c, const void *buf, size_t n);
/* One non-blocking close_notify attempt. */
void tls_conn_bye(TlsConn *c);
/* Why the last call failed, a short text for the log ("" when none). */
const char *tls_conn_error(const TlsConn *c);
/* After the handshake, for the Received: field and the log:
 * "TLSv1.3 TLS_AES_256_GCM_SHA384"; "" before. */
const char *tls_conn_describe(const TlsConn *c);
bool tls_conn_resumed(const TlsConn *c);

/*
 * Base64 (RFC 4648 §4) for SASL (RFC 4954). Decode refuses anything but the
 * alphabet and correct padding (length a multiple of 4, at most two '='
 * at the end, zero pad bits): -EINVAL; "" decodes to nothing. Both append
 * to @out (-EMSGSIZE past its max); decode wipes its scratch copy, since a
 * SASL response holds a password.
 */
int tls_base64_decode(const char *b64, size_t n, Buf *out);
int tls_base64_encode(const void *p, size_t n, Buf *out);

/* HMAC-SHA256 of @data under @key (RFC 2104), through GnuTLS for the same
 * reason: the AUTH verifier's cache of passwords it checked
 * (receive-auth.c) keeps this, never a password. 0 or -EIO. */
#define TLS_HMAC_SHA256_SIZE 32
int tls_hmac_sha256(const void *key, size_t key_len, const void *data, size_t n, uint8_t ret[static TLS_HMAC_SHA256_SIZE]);
