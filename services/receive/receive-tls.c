/* SPDX-License-Identifier: MIT */
/*
 * GnuTLS server glue. GNUTLS_E_* codes stop here: they become -EAGAIN,
 * -ECONNRESET or -EPROTO, with GnuTLS's text kept for the caller's log.
 *
 * Lifetimes: a TlsServer holds the priority cache, the session-ticket key
 * and its current TlsCreds; each TlsConn holds a reference to both, since
 * GnuTLS keeps pointers to them for the session's life. A reload swaps
 * the TlsServer's TlsCreds; running sessions keep the old one until they
 * end, and the ticket key stays, so tickets issued before a certificate
 * rotation still resume. Single-threaded, like the event loop that owns
 * them: plain counters.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "services/receive/receive-tls.h"
#include "shared/clock.h"
#include "shared/escape.h"
#include "shared/fd-util.h"
#include "shared/secret-file.h"

/* how much of a certificate the log line shows */
#define TLS_DESCRIPTION_MAX 400
/* non-fatal GnuTLS results (warning alerts) retried in one call, so that a
 * peer sending nothing else cannot keep the loop here */
#define TLS_NONFATAL_RETRIES 8

typedef struct TlsCreds {
        unsigned n_ref;
        gnutls_certificate_credentials_t cred;
        char *description;
} TlsCreds;

struct TlsServer {
        unsigned n_ref;         /* the owner's, and one per TlsConn */
        gnutls_priority_t priority;
        gnutls_datum_t ticket_key;
        TlsCreds *creds;
};

struct TlsConn {
        TlsServer *server;
        TlsCreds *creds;
        gnutls_session_t session;
        size_t write_pending;   /* bytes GnuTLS holds from a send that returned EAGAIN */
        bool established;
        char error[256];
        char description[96];
};

static TlsCreds *tls_creds_unref(TlsCreds *c) {
        if (!c || --c->n_ref > 0)
                return NULL;
        if (c->cred)
                gnutls_certificate_free_credentials(c->cred);
        free(c->description);
        free(c);
        return NULL;
}

static TlsServer *tls_server_unref(TlsServer *t) {
        if (!t || --t->n_ref > 0)
                return NULL;
        tls_creds_unref(t->creds);
        if (t->priority)
                gnutls_priority_deinit(t->priority);
        if (t->ticket_key.data) {
                gnutls_memset(t->ticket_key.data, 0, t->ticket_key.size);
                gnutls_free(t->ticket_key.data);
        }
        free(t);
        return NULL;
}

static int fail(char *error, size_t size, int r, const char *fmt, ...) _printf_(4, 5);
static int fail(char *error, size_t size, int r, const char *fmt, ...) {
        va_list ap;

        if (size > 0) {
                va_start(ap, fmt);
                (void) vsnprintf(error, size, fmt, ap);
                va_end(ap);
        }
        return r;
}

/* Reads a whole PEM file; a key must also pass the rule for secrets. A
 * FIFO cannot hang the start (O_NONBLOCK, then a regular file only). */
static int pem_read(const char *path, bool secret, Buf *out, char *error, size_t size) {
        _cleanup_close_ int fd = -EBADF;
        char reason[256];
        struct stat st;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return fail(error, size, errno == ENOMEM ? -ENOMEM : -EINVAL, "%s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                return fail(error, size, -EINVAL, "%s: %s", path, strerror(errno));
        if (secret && secret_file_check(&st, geteuid(), secret_file_in_credentials(path, getenv("CREDENTIALS_DIRECTORY")),
                                        reason, sizeof(reason)) < 0)
                return fail(error, size, -EINVAL, "%s: key refused: %s", path, reason);
        r = read_full_fd(fd, TLS_PEM_FILE_MAX, out);
        if (r == -ENOMEM)
                return r;
        if (r == -EFBIG)
                return fail(error, size, -EINVAL, "%s: larger than %d bytes", path, TLS_PEM_FILE_MAX);
        if (r == -EBADMSG)
                return fail(error, size, -EINVAL, "%s: not a regular file but %s", path, file_type_name(st.st_mode));
        if (r < 0)
                return fail(error, size, -EINVAL, "%s: %s", path, strerror(-r));
        return 0;
}

static void pem_done(Buf *b) {
        if (b->data)
                explicit_bzero(b->data, b->cap);
        buf_done(b);
}

/* "CN=… DNS:… IP:… notAfter=…Z", the raw text; the caller censors it. */
static int cert_describe(gnutls_x509_crt_t crt, Buf *out) {
        char name[256], addr[INET6_ADDRSTRLEN], date[32];
        time_t expires;
        struct tm tm;
        int r;

        for (unsigned i = 0;; i++) {
                size_t n = sizeof(name) - 1;

                r = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, i, 0, name, &n);
                if (r < 0)
                        break;
                r = buf_printf(out, "%sCN=%.*s", i > 0 ? "," : "", (int) n, name);
                if (r < 0)
                        return r;
        }
        for (unsigned i = 0;; i++) {
                size_t n = sizeof(name) - 1;
                unsigned critical;

                r = gnutls_x509_crt_get_subject_alt_name(crt, i, name, &n, &critical);
                if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
                        break;
                if (r == GNUTLS_SAN_DNSNAME)
                        r = buf_printf(out, "%sDNS:%.*s", out->len > 0 ? " " : "", (int) n, name);
                else if (r == GNUTLS_SAN_IPADDRESS && (n == 4 || n == 16) &&
                         inet_ntop(n == 4 ? AF_INET : AF_INET6, name, addr, sizeof(addr)))
                        r = buf_printf(out, "%sIP:%s", out->len > 0 ? " " : "", addr);
                else
                        r = 0;  /* too long for us, or a kind a mail client does not match against */
                if (r < 0)
                        return r;
        }
        expires = gnutls_x509_crt_get_expiration_time(crt);
        if (expires == (time_t) -1 || !gmtime_r(&expires, &tm) || strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return buf_printf(out, "%snotAfter=unknown", out->len > 0 ? " " : "");
        return buf_printf(out, "%snotAfter=%s%s", out->len > 0 ? " " : "", date,
                          (uint64_t) expires < now_realtime_usec() / USEC_PER_SEC ? " (expired)" : "");
}

/* The chain, leaf first, then the key, which must match the leaf. */
static int tls_creds_load(const char *cert_file, const char *key_file, TlsCreds **ret, char *error, size_t size) {
        Buf cert_pem = BUF_INIT(0), key_pem = BUF_INIT(0), text = BUF_INIT(0);
        gnutls_x509_crt_t *crts = NULL;
        gnutls_x509_privkey_t key = NULL;
        unsigned n_crts = 0;
        TlsCreds *c = NULL;
        gnutls_datum_t d;
        int r;

        r = pem_read(cert_file, false, &cert_pem, error, size);
        if (r < 0)
                goto finish;
        r = pem_read(key_file, true, &key_pem, error, size);
        if (r < 0)
                goto finish;

        d = (gnutls_datum_t) { .data = cert_pem.data, .size = (unsigned) cert_pem.len };
        r = gnutls_x509_crt_list_import2(&crts, &n_crts, &d, GNUTLS_X509_FMT_PEM,
                                         GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
        if (r < 0 || n_crts == 0) {
                n_crts = r < 0 ? 0 : n_crts;
                r = fail(error, size, r == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : -EINVAL, "%s: %s", cert_file,
                         r < 0 ? gnutls_strerror(r) : "no certificate in it");
                goto finish;
        }

        r = gnutls_x509_privkey_init(&key);
        if (r < 0) {
                key = NULL;
                r = -ENOMEM;
                goto finish;
        }
        d = (gnutls_datum_t) { .data = key_pem.data, .size = (unsigned) key_pem.len };
        r = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
        if (r < 0) {
                r = fail(error, size, r == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : -EINVAL, "%s: %s", key_file,
                         gnutls_strerror(r));
                goto finish;
        }

        c = calloc(1, sizeof(*c));
        if (!c || gnutls_certificate_allocate_credentials(&c->cred) < 0) {
                r = -ENOMEM;
                goto finish;
        }
        c->n_ref = 1;
        r = gnutls_certificate_set_x509_key(c->cred, crts, n_crts, key);
        if (r < 0) {
                r = fail(error, size, r == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : -EINVAL, "%s with %s: %s", key_file,
                         cert_file, gnutls_strerror(r));
                goto finish;
        }
        r = cert_describe(crts[0], &text);
        if (r < 0)
                goto finish;
        c->description = escape_printable_dup(text.data, text.len, TLS_DESCRIPTION_MAX);
        if (!c->description) {
                r = -ENOMEM;
                goto finish;
        }
        *ret = TAKE_PTR(c);
        r = 0;
finish:
        tls_creds_unref(c);
        if (key)
                gnutls_x509_privkey_deinit(key);
        for (unsigned i = 0; i < n_crts; i++)
                gnutls_x509_crt_deinit(crts[i]);
        gnutls_free(crts);
        pem_done(&key_pem);
        buf_done(&cert_pem);
        buf_done(&text);
        return r;
}

int tls_server_new(const char *cert_file, const char *key_file, TlsServer **ret, char *error, size_t error_size) {
        TlsServer *t;
        int r;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->n_ref = 1;
        r = gnutls_priority_init2(&t->priority, TLS_SERVER_PRIORITY, NULL, 0);
        if (r < 0) {
                t->priority = NULL;
                tls_server_unref(t);
                return fail(error, error_size, -EINVAL, "priority %s: %s", TLS_SERVER_PRIORITY, gnutls_strerror(r));
        }
        /* one key for the server's life: GnuTLS derives the keys that
         * actually encrypt tickets from it, rotating them over time */
        if (gnutls_session_ticket_key_generate(&t->ticket_key) < 0) {
                t->ticket_key.data = NULL;
                tls_server_unref(t);
                return -ENOMEM;
        }
        r = tls_creds_load(cert_file, key_file, &t->creds, error, error_size);
        if (r < 0) {
                tls_server_unref(t);
                return r;
        }
        *ret = t;
        return 0;
}

int tls_server_reload(TlsServer *t, const char *cert_file, const char *key_file, char *error, size_t error_size) {
        TlsCreds *c;
        int r;

        r = tls_creds_load(cert_file, key_file, &c, error, error_size);
        if (r < 0)
                return r;
        tls_creds_unref(t->creds);
        t->creds = c;
        return 0;
}

TlsServer *tls_server_free(TlsServer *t) {
        return tls_server_unref(t);
}

const char *tls_server_describe(const TlsServer *t) {
        return t->creds->description;
}

int tls_conn_new(TlsServer *t, int fd, TlsConn **ret) {
        TlsConn *c;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        if (gnutls_init(&c->session, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0) {
                free(c);
                return -ENOMEM;
        }
        c->server = t;
        c->creds = t->creds;
        t->n_ref++;
        t->creds->n_ref++;

        r = gnutls_priority_set(c->session, t->priority);
        if (r >= 0)
                r = gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, c->creds->cred);
        if (r >= 0)
                r = gnutls_session_ticket_enable_server(c->session, &t->ticket_key);
        if (r < 0) {
                tls_conn_free(c);
                return r == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : -EIO;
        }
        gnutls_certificate_server_set_request(c->session, GNUTLS_CERT_IGNORE);
        gnutls_handshake_set_timeout(c->session, 0);    /* the session's command_timeout bounds it */
        gnutls_transport_set_int(c->session, fd);
        *ret = c;
        return 0;
}

TlsConn *tls_conn_free(TlsConn *c) {
        if (!c)
                return NULL;
        gnutls_deinit(c->session);
        tls_creds_unref(c->creds);
        tls_server_unref(c->server);
        free(c);
        return NULL;
}

/* Keeps GnuTLS's reason (and the peer's alert, when it sent one) for the
 * log, and says whether the peer went away or spoke wrongly. */
static int conn_fail(TlsConn *c, int r) {
        if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
                (void) snprintf(c->error, sizeof(c->error), "%s: %s", gnutls_strerror(r),
                                strempty(gnutls_alert_get_name(gnutls_alert_get(c->session))));
        else
                (void) snprintf(c->error, sizeof(c->error), "%s", gnutls_strerror(r));
        if (r == GNUTLS_E_PREMATURE_TERMINATION || r == GNUTLS_E_PUSH_ERROR || r == GNUTLS_E_PULL_ERROR)
                return -ECONNRESET;
        if (r == GNUTLS_E_MEMORY_ERROR)
                return -ENOMEM;
        return -EPROTO;
}

static void conn_describe(TlsConn *c) {
        const char *v = gnutls_protocol_get_name(gnutls_protocol_get_version(c->session));
        const char *suite = gnutls_ciphersuite_get(c->session);

        /* "TLS1.3" is spelled "TLSv1.3" in Received: fields, as OpenSSL names it */
        if (v && strncmp(v, "TLS", 3) == 0)
                (void) snprintf(c->description, sizeof(c->description), "TLSv%s %s", v + 3, strempty(suite));
        else
                (void) snprintf(c->description, sizeof(c->description), "%s %s", strempty(v), strempty(suite));
}

int tls_conn_handshake(TlsConn *c) {
        int r;

        /* once more on a TLS 1.2 session would ask the client to renegotiate */
        if (c->established)
                return 0;
        for (int i = 0; i < TLS_NONFATAL_RETRIES; i++) {
                r = gnutls_handshake(c->session);
                if (r == GNUTLS_E_SUCCESS) {
                        c->established = true;
                        conn_describe(c);
                        return 0;
                }
                if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
                        return -EAGAIN;
                if (gnutls_error_is_fatal(r)) {
                        /* the peer learns why (protocol_version, handshake_failure...):
                         * one try, the session ends anyway */
                        if (r != GNUTLS_E_PREMATURE_TERMINATION && r != GNUTLS_E_PUSH_ERROR &&
                            r != GNUTLS_E_PULL_ERROR && r != GNUTLS_E_FATAL_ALERT_RECEIVED)
                                (void) gnutls_alert_send_appropriate(c->session, r);
                        return conn_fail(c, r);
                }
                /* a warning alert: the handshake goes on */
        }
        return -EAGAIN;
}

bool tls_conn_wants_write(const TlsConn *c) {
        return gnutls_record_get_direction(c->session) == 1;
}

ssize_t tls_conn_read(TlsConn *c, void *buf, size_t size) {
        ssize_t k;

        for (int i = 0; i < TLS_NONFATAL_RETRIES; i++) {
                k = gnutls_record_recv(c->session, buf, size);
                if (k >= 0)
                        return k;
                if (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED)
                        return -EAGAIN;
                if (k == GNUTLS_E_PREMATURE_TERMINATION)
                        return 0;       /* a TCP close without close_notify: EOF all the same for SMTP */
                if (k == GNUTLS_E_REHANDSHAKE) {
                        /* a client's renegotiation in TLS 1.2: no mail client needs one */
                        (void) snprintf(c->error, sizeof(c->error), "the client asked for a renegotiation");
                        return -EPROTO;
                }
                if (gnutls_error_is_fatal(k))
                        return conn_fail(c, (int) k);
                /* a warning alert, or a handshake message GnuTLS handled itself */
        }
        return -EAGAIN;
}

size_t tls_conn_pending(const TlsConn *c) {
        return gnutls_record_check_pending(c->session);
}

ssize_t tls_conn_write(TlsConn *c, const void *buf, size_t n) {
        ssize_t k;

        if (c->write_pending > 0) {
                if (n < c->write_pending) {
                        (void) snprintf(c->error, sizeof(c->error), "a write resumed without the bytes it started with");
                        return -EINVAL;
                }
                /* GnuTLS already holds those bytes, encrypted: it must finish
                 * sending them before it takes new ones */
                k = gnutls_record_send(c->session, NULL, 0);
        } else if (n == 0)
                return 0;
        else {
                if (n > gnutls_record_get_max_size(c->session))
                        n = gnutls_record_get_max_size(c->session);
                k = gnutls_record_send(c->session, buf, n);
        }
        if (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED) {
                if (c->write_pending == 0)
                        c->write_pending = n;
                return -EAGAIN;
        }
        c->write_pending = 0;
        if (k < 0)
                return conn_fail(c, (int) k);
        return k;
}

void tls_conn_bye(TlsConn *c) {
        (void) gnutls_bye(c->session, GNUTLS_SHUT_WR);
}

const char *tls_conn_error(const TlsConn *c) {
        return c->error;
}

const char *tls_conn_describe(const TlsConn *c) {
        return c->description;
}

bool tls_conn_resumed(const TlsConn *c) {
        return gnutls_session_is_resumed(c->session) != 0;
}

static int base64_value(char ch) {
        if (ch >= 'A' && ch <= 'Z')
                return ch - 'A';
        if (ch >= 'a' && ch <= 'z')
                return ch - 'a' + 26;
        if (ch >= '0' && ch <= '9')
                return ch - '0' + 52;
        if (ch == '+')
                return 62;
        if (ch == '/')
                return 63;
        return -1;
}

/* GnuTLS's decoder skips white space and so would accept what RFC 4648 §3.3
 * says to refuse: the exact form is checked first. */
static bool base64_canonical(const char *s, size_t n) {
        size_t pad = 0;

        if (n % 4 != 0)
                return false;
        if (n > 0 && s[n - 1] == '=')
                pad = n > 1 && s[n - 2] == '=' ? 2 : 1;
        for (size_t i = 0; i < n - pad; i++)
                if (base64_value(s[i]) < 0)
                        return false;
        /* the bits past the data in the last character are zero (§3.5) */
        if (pad == 2)
                return (base64_value(s[n - 3]) & 0x0f) == 0;
        if (pad == 1)
                return (base64_value(s[n - 2]) & 0x03) == 0;
        return true;
}

int tls_base64_decode(const char *b64, size_t n, Buf *out) {
        gnutls_datum_t in = { .data = (unsigned char *) b64, .size = (unsigned) n }, res = {};
        int r;

        if (!base64_canonical(b64, n))
                return -EINVAL;
        if (n == 0)
                return 0;
        if (n > UINT32_MAX)
                return -EMSGSIZE;
        r = gnutls_base64_decode2(&in, &res);
        if (r < 0)
                return r == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : -EINVAL;
        r = buf_append(out, res.data, res.size);
        gnutls_memset(res.data, 0, res.size);
        gnutls_free(res.data);
        return r;
}

int tls_base64_encode(const void *p, size_t n, Buf *out) {
        gnutls_datum_t in = { .data = (unsigned char *) p, .size = (unsigned) n }, res = {};
        int r;

        if (n == 0)
                return 0;
        if (n > UINT32_MAX / 2)
                return -EMSGSIZE;
        r = gnutls_base64_encode2(&in, &res);
        if (r < 0)
                return -ENOMEM;
        r = buf_append(out, res.data, res.size);
        gnutls_free(res.data);
        return r;
}

int tls_hmac_sha256(const void *key, size_t key_len, const void *data, size_t n, uint8_t ret[static TLS_HMAC_SHA256_SIZE]) {
        return gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, key_len, data, n, ret) < 0 ? -EIO : 0;
}
