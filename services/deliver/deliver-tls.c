/* SPDX-License-Identifier: MIT */
/*
 * GnuTLS client glue. GNUTLS_E_* codes stop here: they become TLS_WANT_*,
 * -EAGAIN, -EPROTO or -ECONNRESET, with GnuTLS's text for the log. The
 * priority string is checked once at start, so a typo in tls_priority
 * fails the configuration rather than every delivery.
 */
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "services/deliver/deliver-tls.h"

static const char * const policy_names[_TLS_POLICY_MAX] = {
        [TLS_POLICY_NONE] = "none",
        [TLS_POLICY_MAY] = "may",
        [TLS_POLICY_ENCRYPT] = "encrypt",
        [TLS_POLICY_VERIFY] = "verify",
};

TlsPolicy tls_policy_from_string(const char *p, size_t n) {
        for (int i = 0; i < _TLS_POLICY_MAX; i++)
                if (ascii_strncaseeq(p, n, policy_names[i]))
                        return (TlsPolicy) i;
        return _TLS_POLICY_INVALID;
}

const char *tls_policy_to_string(TlsPolicy p) {
        return p >= 0 && p < _TLS_POLICY_MAX ? policy_names[p] : NULL;
}

struct TlsContext {
        gnutls_certificate_credentials_t cred;
        gnutls_priority_t priority;
};

struct TlsSession {
        gnutls_session_t session;
        bool verify;
        bool write_pending;
        char *server_name;
        char error[512];
};

int tls_context_new(const char *priority, const char *ca_file, TlsContext **ret, const char **ret_error) {
        TlsContext *c;
        const char *err = NULL;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        if (gnutls_certificate_allocate_credentials(&c->cred) < 0) {
                free(c);
                return -ENOMEM;
        }
        if (gnutls_priority_init(&c->priority, priority ? priority : TLS_PRIORITY_DEFAULT, &err) < 0) {
                c->priority = NULL;
                tls_context_free(c);
                return -EINVAL;
        }
        /* the anchors for policy verify (may/encrypt do not check); a private
         * CA replaces the system store rather than joining it, so that only
         * the relay's own CA can vouch for the relay */
        r = ca_file ? gnutls_certificate_set_x509_trust_file(c->cred, ca_file, GNUTLS_X509_FMT_PEM)
                    : gnutls_certificate_set_x509_system_trust(c->cred);
        if (ca_file && r <= 0) {
                *ret_error = r < 0 ? gnutls_strerror(r) : "no certificate found";
                tls_context_free(c);
                return r < 0 ? -EIO : -ENODATA;
        }
        *ret = c;
        return 0;
}

TlsContext *tls_context_free(TlsContext *c) {
        if (!c)
                return NULL;
        if (c->priority)
                gnutls_priority_deinit(c->priority);
        gnutls_certificate_free_credentials(c->cred);
        free(c);
        return NULL;
}

int tls_session_new(TlsContext *c, int fd, const char *server_name, bool verify, TlsSession **ret) {
        struct in_addr addr;
        TlsSession *s;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->verify = verify;
        s->server_name = strdup(server_name);
        if (!s->server_name || gnutls_init(&s->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0) {
                free(s->server_name);
                free(s);
                return -ENOMEM;
        }
        r = gnutls_priority_set(s->session, c->priority);
        if (r >= 0)
                r = gnutls_credentials_set(s->session, GNUTLS_CRD_CERTIFICATE, c->cred);
        if (r >= 0 && inet_pton(AF_INET, server_name, &addr) != 1)
                r = gnutls_server_name_set(s->session, GNUTLS_NAME_DNS, server_name, strlen(server_name));
        if (r < 0) {
                tls_session_free(s);
                return -EIO;
        }
        if (verify)
                gnutls_session_set_verify_cert(s->session, s->server_name, 0);
        gnutls_transport_set_int(s->session, fd);
        gnutls_handshake_set_timeout(s->session, 0);    /* our timer bounds it */
        *ret = s;
        return 0;
}

TlsSession *tls_session_free(TlsSession *s) {
        if (!s)
                return NULL;
        gnutls_deinit(s->session);
        free(s->server_name);
        free(s);
        return NULL;
}

int tls_session_want(TlsSession *s) {
        return gnutls_record_get_direction(s->session) ? TLS_WANT_WRITE : TLS_WANT_READ;
}

bool tls_session_pending(TlsSession *s) {
        return gnutls_record_check_pending(s->session) > 0;
}

int tls_session_handshake(TlsSession *s, const char **ret_error) {
        int r;

        r = gnutls_handshake(s->session);
        if (r == GNUTLS_E_SUCCESS)
                return 0;
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(r))
                return tls_session_want(s);
        if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
                gnutls_datum_t text = {};
                unsigned status = gnutls_session_get_verify_cert_status(s->session);

                /* "The certificate is NOT trusted. The name in the certificate
                 * does not match the expected." and the like */
                if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) < 0)
                        text.data = NULL;
                (void) snprintf(s->error, sizeof(s->error), "certificate for %s not trusted: %s", s->server_name,
                                text.data ? (const char *) text.data : "verification failed");
                gnutls_free(text.data);
                for (size_t n = strlen(s->error); n > 0 && s->error[n - 1] == ' '; n--)
                        s->error[n - 1] = 0;
                *ret_error = s->error;
                return -EPERM;
        }
        *ret_error = gnutls_strerror(r);
        return r == GNUTLS_E_PREMATURE_TERMINATION || r == GNUTLS_E_PUSH_ERROR || r == GNUTLS_E_PULL_ERROR
               ? -ECONNRESET : -EPROTO;
}

ssize_t tls_session_read(TlsSession *s, void *p, size_t n) {
        ssize_t k = gnutls_record_recv(s->session, p, n);

        if (k >= 0)
                return k;
        if (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED)
                return -EAGAIN;
        if (k == GNUTLS_E_PREMATURE_TERMINATION)
                return 0;       /* a peer that closes without close_notify: plain EOF for SMTP */
        return -ECONNRESET;
}

ssize_t tls_session_write(TlsSession *s, const void *p, size_t n) {
        ssize_t k;

        /* after GNUTLS_E_AGAIN the data is already buffered inside GnuTLS */
        k = s->write_pending ? gnutls_record_send(s->session, NULL, 0) : gnutls_record_send(s->session, p, n);
        if (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED) {
                s->write_pending = true;
                return -EAGAIN;
        }
        s->write_pending = false;
        if (k < 0)
                return -ECONNRESET;
        return k;
}

int tls_session_describe(TlsSession *s, char *buf, size_t n) {
        const char *ver = gnutls_protocol_get_name(gnutls_protocol_get_version(s->session));
        const char *cipher = gnutls_cipher_get_name(gnutls_cipher_get(s->session));
        const char *verified;
        unsigned status = 0;

        if (s->verify)
                verified = "verified";
        else if (gnutls_certificate_verify_peers3(s->session, s->server_name, &status) >= 0 && status == 0)
                verified = "trusted";
        else
                verified = "untrusted";
        (void) snprintf(buf, n, "%s with cipher %s, %s", ver ? ver : "?", cipher ? cipher : "?", verified);
        return 0;
}

void tls_session_bye(TlsSession *s) {
        (void) gnutls_bye(s->session, GNUTLS_SHUT_WR);
}

int tls_base64_encode(const void *p, size_t n, char **ret) {
        gnutls_datum_t in = { .data = (unsigned char *) p, .size = (unsigned) n }, out = {};
        char *s;

        if (n > UINT32_MAX / 2 || gnutls_base64_encode2(&in, &out) < 0)
                return -ENOMEM;
        s = strndup((const char *) out.data, out.size);
        gnutls_free(out.data);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
