/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "shared/macro.h"

/*
 * TLS for the SMTP client, through GnuTLS (this wrapper is the only file
 * that includes it). Non-blocking: handshake, read and write return
 * TLS_WANT_READ/TLS_WANT_WRITE instead of waiting.
 */
typedef enum TlsPolicy {
        TLS_POLICY_NONE,        /* never STARTTLS */
        TLS_POLICY_MAY,         /* STARTTLS when offered; certificate not checked; plaintext if it fails */
        TLS_POLICY_ENCRYPT,     /* TLS or defer, never plaintext; certificate not checked */
        TLS_POLICY_VERIFY,      /* TLS with PKIX against the system trust store and the MX name */
        _TLS_POLICY_MAX,
        _TLS_POLICY_INVALID = -EINVAL,
} TlsPolicy;

/* TLS 1.2 minimum and the article's strong ciphers, as a GnuTLS priority string. */
#define TLS_PRIORITY_DEFAULT \
        "SECURE128:+SECURE256:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-ARCFOUR-128:-3DES-CBC:-MD5:-DHE-DSS"

enum {
        TLS_WANT_READ = 1,
        TLS_WANT_WRITE,
};

TlsPolicy tls_policy_from_string(const char *p, size_t n);
const char *tls_policy_to_string(TlsPolicy p);

typedef struct TlsContext TlsContext;
typedef struct TlsSession TlsSession;

/*
 * @ca_file: a PEM bundle of trust anchors used instead of the system trust
 * store (relay_ca_file), or NULL. Returns -EINVAL for a bad @priority,
 * -ENODATA when @ca_file holds no certificate, -EIO when it cannot be read
 * or parsed (*ret_error: GnuTLS's text, static).
 */
int tls_context_new(const char *priority, const char *ca_file, TlsContext **ret, const char **ret_error);
TlsContext *tls_context_free(TlsContext *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(TlsContext *, tls_context_free);

/*
 * @server_name: SNI (not for an address literal, RFC 6066 §3) and, with
 * @verify, the name the certificate must be valid for: a DNS name, or an
 * IPv4 address, which only an IP address subjectAltName matches.
 */
int tls_session_new(TlsContext *c, int fd, const char *server_name, bool verify, TlsSession **ret);
TlsSession *tls_session_free(TlsSession *s);
/*
 * 0 when done, TLS_WANT_*, or -EPROTO / -ECONNRESET with the reason in
 * *ret_error (valid until @s is freed). A certificate that does not verify
 * gives -EPERM and "certificate for NAME not trusted: " GnuTLS's status.
 */
int tls_session_handshake(TlsSession *s, const char **ret_error);
/* bytes read, 0 at EOF, -EAGAIN (see tls_session_want()), or -errno */
ssize_t tls_session_read(TlsSession *s, void *p, size_t n);
ssize_t tls_session_write(TlsSession *s, const void *p, size_t n);
int tls_session_want(TlsSession *s);
/* Decrypted bytes already buffered inside GnuTLS (epoll cannot see them). */
bool tls_session_pending(TlsSession *s);
/* "TLSv1.3 with cipher AES-256-GCM, verified" */
int tls_session_describe(TlsSession *s, char *buf, size_t n);
void tls_session_bye(TlsSession *s);
/* RFC 4648 base64 of p[0..n) as a fresh string (for SMTP AUTH, RFC 4954). */
int tls_base64_encode(const void *p, size_t n, char **ret);
