/* SPDX-License-Identifier: MIT */
/*
 * receive-tls.c against a GnuTLS client in the same process, over
 * non-blocking socketpairs driven by poll(2) as the session's event loop
 * drives them: handshakes, data both ways, resumption by ticket in TLS 1.3
 * and 1.2, reload, refusals, and the base64 table. The CA, certificates
 * and keys are made at test time.
 */
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "services/receive/receive-tls.h"
#include "shared/clock.h"
#include "shared/macro.h"
#include "shared/tests.h"

#define PRIO_TLS13 "NORMAL:-VERS-ALL:+VERS-TLS1.3"
#define PRIO_TLS12 "NORMAL:-VERS-ALL:+VERS-TLS1.2"
#define PRIO_TLS11 "NORMAL:-VERS-ALL:+VERS-TLS1.1"
/* a poll that waits this long means a side that should have moved did not */
#define POLL_TIMEOUT_MS 20000

static char dir[] = "/tmp/test-receive-tls.XXXXXX";
static char ca_file[64], cert_a[64], key_a[64], cert_b[64], key_b[64], bad_key[64], open_key[64], unsorted[64];
/* an RSA-2048 pair, as many certificates still are, for the cost of a handshake */
static char cert_rsa[64], key_rsa[64];

/* ---- certificates ---- */

static gnutls_x509_privkey_t key_make(bool rsa) {
        gnutls_x509_privkey_t k;

        ASSERT_EQ(gnutls_x509_privkey_init(&k), 0);
        if (rsa)
                ASSERT_EQ(gnutls_x509_privkey_generate(k, GNUTLS_PK_RSA, 2048, 0), 0);
        else
                ASSERT_EQ(gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA,
                                                       GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
        return k;
}

static gnutls_x509_crt_t cert_make(gnutls_x509_privkey_t key, const char *cn, unsigned serial, gnutls_x509_crt_t ca,
                                   gnutls_x509_privkey_t ca_key) {
        gnutls_x509_crt_t c;
        time_t now = time(NULL);

        ASSERT_EQ(gnutls_x509_crt_init(&c), 0);
        ASSERT_EQ(gnutls_x509_crt_set_version(c, 3), 0);
        ASSERT_EQ(gnutls_x509_crt_set_serial(c, &serial, sizeof(serial)), 0);
        ASSERT_EQ(gnutls_x509_crt_set_activation_time(c, now - 3600), 0);
        ASSERT_EQ(gnutls_x509_crt_set_expiration_time(c, now + 86400), 0);
        ASSERT_EQ(gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn)), 0);
        ASSERT_EQ(gnutls_x509_crt_set_key(c, key), 0);
        if (!ca) {
                ASSERT_EQ(gnutls_x509_crt_set_basic_constraints(c, 1, -1), 0);
                ASSERT_EQ(gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN), 0);
                ASSERT_EQ(gnutls_x509_crt_sign2(c, c, key, GNUTLS_DIG_SHA256, 0), 0);
        } else {
                ASSERT_EQ(gnutls_x509_crt_set_basic_constraints(c, 0, -1), 0);
                ASSERT_EQ(gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_DIGITAL_SIGNATURE), 0);
                ASSERT_EQ(gnutls_x509_crt_set_key_purpose_oid(c, GNUTLS_KP_TLS_WWW_SERVER, 0), 0);
                ASSERT_EQ(gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME, cn, strlen(cn),
                                                               GNUTLS_FSAN_APPEND), 0);
                ASSERT_EQ(gnutls_x509_crt_sign2(c, ca, ca_key, GNUTLS_DIG_SHA256, 0), 0);
        }
        return c;
}

static void file_write(const char *path, const void *p, size_t n, mode_t mode) {
        FILE *f = fopen(path, "we");

        ASSERT_TRUE(f);
        ASSERT_EQ(fwrite(p, 1, n, f), n);
        ASSERT_EQ(fclose(f), 0);
        ASSERT_EQ(chmod(path, mode), 0);
}

static void cert_append(FILE *f, gnutls_x509_crt_t c) {
        gnutls_datum_t d = {};

        ASSERT_EQ(gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &d), 0);
        ASSERT_EQ(fwrite(d.data, 1, d.size, f), d.size);
        gnutls_free(d.data);
}

/* @path gets the leaf then the CA, as fullchain.pem holds them; @kpath the key. */
static void pair_write(const char *path, const char *kpath, const char *cn, unsigned serial, gnutls_x509_crt_t ca,
                       gnutls_x509_privkey_t ca_key, bool rsa) {
        gnutls_x509_privkey_t k = key_make(rsa);
        gnutls_x509_crt_t c = cert_make(k, cn, serial, ca, ca_key);
        gnutls_datum_t d = {};
        FILE *f = fopen(path, "we");

        ASSERT_TRUE(f);
        cert_append(f, c);
        cert_append(f, ca);
        ASSERT_EQ(fclose(f), 0);
        ASSERT_EQ(gnutls_x509_privkey_export2_pkcs8(k, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &d), 0);
        file_write(kpath, d.data, d.size, 0600);
        gnutls_free(d.data);
        gnutls_x509_crt_deinit(c);
        gnutls_x509_privkey_deinit(k);
}

static void pki_make(void) {
        gnutls_x509_privkey_t ca_key = key_make(false);
        gnutls_x509_crt_t ca = cert_make(ca_key, "pochtar test CA", 1, NULL, NULL);
        gnutls_datum_t d = {};
        static const char garbage[] = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";

        ASSERT_TRUE(mkdtemp(dir));
        (void) snprintf(ca_file, sizeof(ca_file), "%s/ca.crt", dir);
        (void) snprintf(cert_a, sizeof(cert_a), "%s/a.crt", dir);
        (void) snprintf(key_a, sizeof(key_a), "%s/a.key", dir);
        (void) snprintf(cert_b, sizeof(cert_b), "%s/b.crt", dir);
        (void) snprintf(key_b, sizeof(key_b), "%s/b.key", dir);
        (void) snprintf(bad_key, sizeof(bad_key), "%s/bad.key", dir);
        (void) snprintf(open_key, sizeof(open_key), "%s/open.key", dir);
        (void) snprintf(unsorted, sizeof(unsorted), "%s/unsorted.crt", dir);
        ASSERT_EQ(gnutls_x509_crt_export2(ca, GNUTLS_X509_FMT_PEM, &d), 0);
        file_write(ca_file, d.data, d.size, 0644);
        gnutls_free(d.data);
        (void) snprintf(cert_rsa, sizeof(cert_rsa), "%s/rsa.crt", dir);
        (void) snprintf(key_rsa, sizeof(key_rsa), "%s/rsa.key", dir);
        pair_write(cert_a, key_a, "a.mail.test", 2, ca, ca_key, false);
        pair_write(cert_b, key_b, "b.mail.test", 3, ca, ca_key, false);
        pair_write(cert_rsa, key_rsa, "rsa.mail.test", 5, ca, ca_key, true);
        file_write(bad_key, garbage, strlen(garbage), 0600);
        /* a.key as a group- and world-readable file: a leaked secret */
        {
                Buf b = BUF_INIT(0);
                FILE *f = fopen(key_a, "re");
                char chunk[4096];
                size_t n;

                ASSERT_TRUE(f);
                while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                        ASSERT_OK(buf_append(&b, chunk, n));
                ASSERT_EQ(fclose(f), 0);
                file_write(open_key, b.data, b.len, 0644);
                buf_done(&b);
        }
        /* the CA before the leaf: not a chain a client can follow */
        {
                FILE *f = fopen(unsorted, "we");
                gnutls_x509_privkey_t k = key_make(false);
                gnutls_x509_crt_t c = cert_make(k, "u.mail.test", 4, ca, ca_key);

                ASSERT_TRUE(f);
                cert_append(f, ca);
                cert_append(f, c);
                ASSERT_EQ(fclose(f), 0);
                gnutls_x509_crt_deinit(c);
                gnutls_x509_privkey_deinit(k);
        }
        gnutls_x509_crt_deinit(ca);
        gnutls_x509_privkey_deinit(ca_key);
}

static void pki_remove(void) {
        const char *files[] = { ca_file, cert_a, key_a, cert_b, key_b, bad_key, open_key, unsorted, cert_rsa, key_rsa };

        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                ASSERT_EQ(unlink(files[i]), 0);
        ASSERT_EQ(rmdir(dir), 0);
}

/* ---- a connection: our server end, a GnuTLS client end ---- */

typedef struct Pair {
        int sfd, cfd;
        TlsConn *server;
        gnutls_session_t client;
        gnutls_certificate_credentials_t client_cred;
        int server_r, client_r;         /* 1 while the handshake runs */
        usec_t server_usec;             /* time spent inside tls_conn_handshake() */
} Pair;

static void pair_open(Pair *p, TlsServer *t, const char *priority, const gnutls_datum_t *resume) {
        int fds[2];

        *p = (Pair) { .server_r = 1, .client_r = 1 };
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
        p->sfd = fds[0];
        p->cfd = fds[1];
        ASSERT_OK(tls_conn_new(t, p->sfd, &p->server));
        ASSERT_EQ(gnutls_certificate_allocate_credentials(&p->client_cred), 0);
        ASSERT_TRUE(gnutls_certificate_set_x509_trust_file(p->client_cred, ca_file, GNUTLS_X509_FMT_PEM) == 1);
        ASSERT_EQ(gnutls_init(&p->client, GNUTLS_CLIENT | GNUTLS_NONBLOCK), 0);
        ASSERT_EQ(gnutls_priority_set_direct(p->client, priority, NULL), 0);
        ASSERT_EQ(gnutls_credentials_set(p->client, GNUTLS_CRD_CERTIFICATE, p->client_cred), 0);
        ASSERT_EQ(gnutls_server_name_set(p->client, GNUTLS_NAME_DNS, "mail.test", 9), 0);
        if (resume)
                ASSERT_EQ(gnutls_session_set_data(p->client, resume->data, resume->size), 0);
        gnutls_transport_set_int(p->client, p->cfd);
}

static void pair_close(Pair *p) {
        p->server = tls_conn_free(p->server);
        gnutls_deinit(p->client);
        gnutls_certificate_free_credentials(p->client_cred);
        p->sfd = safe_close(p->sfd);
        p->cfd = safe_close(p->cfd);
}

static void poll_both(int sfd, short sev, int cfd, short cev) {
        struct pollfd fds[2] = { { .fd = sfd, .events = sev }, { .fd = cfd, .events = cev } };
        int r = poll(fds, 2, POLL_TIMEOUT_MS);

        if (r == 0)
                fprintf(stderr, "poll: neither side can move\n");
        ASSERT_TRUE(r > 0);
}

/* Runs both handshakes until each is done or one failed. */
static void pair_handshake(Pair *p) {
        while ((p->server_r == 1 || p->client_r == 1) && p->server_r >= 0 && p->client_r >= 0) {
                bool moved = false;

                if (p->server_r == 1) {
                        usec_t t0 = now_monotonic_usec();
                        int r = tls_conn_handshake(p->server);

                        p->server_usec += now_monotonic_usec() - t0;
                        if (r != -EAGAIN) {
                                p->server_r = r;
                                moved = true;
                        }
                }
                if (p->client_r == 1) {
                        int r = gnutls_handshake(p->client);

                        if (r == GNUTLS_E_SUCCESS || gnutls_error_is_fatal(r)) {
                                p->client_r = r;
                                moved = true;
                        }
                }
                if (moved)
                        continue;
                poll_both(p->server_r == 1 ? p->sfd : -1,
                          tls_conn_wants_write(p->server) ? POLLOUT : POLLIN,
                          p->client_r == 1 ? p->cfd : -1,
                          gnutls_record_get_direction(p->client) ? POLLOUT : POLLIN);
        }
}

static void pair_handshake_ok(Pair *p) {
        pair_handshake(p);
        if (p->server_r != 0)
                fprintf(stderr, "server: %d %s\n", p->server_r, tls_conn_error(p->server));
        if (p->client_r != 0)
                fprintf(stderr, "client: %s\n", gnutls_strerror(p->client_r));
        ASSERT_EQ(p->server_r, 0);
        ASSERT_EQ(p->client_r, 0);
}

/* ---- data both ways ---- */

static uint8_t pattern(size_t i, unsigned seed) {
        return (uint8_t) ((i * 131 + (i >> 9) + seed) & 0xff);
}

typedef struct Flow {
        size_t total;           /* bytes to send */
        size_t queued;          /* given to the sender's buffer so far */
        size_t sent;            /* taken by TLS */
        size_t received;        /* by the other side, checked */
        unsigned seed;
} Flow;

/*
 * Sends @up->total bytes client → server and @down->total server → client
 * at once. The server's output is a Buf that grows by 64 KiB steps while
 * writes are pending, so a resumed write sees it moved; it reads in 1000-byte
 * steps, so a 16 KiB record leaves bytes inside GnuTLS, which it reads
 * before it polls, as the session must. Returns the most seen pending.
 */
static size_t pair_exchange(Pair *p, Flow *up, Flow *down, unsigned *ret_eagain) {
        Buf out = BUF_INIT(0);
        size_t max_pending = 0, client_pending = 0;
        unsigned eagain = 0;
        uint8_t rbuf[1000], cbuf[20000];

        while (up->received < up->total || down->received < down->total) {
                bool server_wants_out = false, client_wants_out = false, moved = false;
                ssize_t k;

                /* server: fill its output (it grows, may reallocate), write, read all it can */
                while (down->queued < down->total && out.len < 256 * 1024) {
                        size_t n = down->total - down->queued < 65536 ? down->total - down->queued : 65536;

                        ASSERT_OK(buf_reserve(&out, n));
                        for (size_t i = 0; i < n; i++)
                                out.data[out.len + i] = pattern(down->queued + i, down->seed);
                        out.len += n;
                        down->queued += n;
                }
                while (out.len > 0) {
                        k = tls_conn_write(p->server, out.data, out.len);
                        if (k == -EAGAIN) {
                                server_wants_out = true;
                                eagain++;
                                break;
                        }
                        ASSERT_TRUE(k > 0);
                        buf_consume(&out, (size_t) k);
                        down->sent += (size_t) k;
                        moved = true;
                }
                for (;;) {
                        k = tls_conn_read(p->server, rbuf, sizeof(rbuf));
                        if (k == -EAGAIN)
                                break;
                        if (k <= 0)
                                fprintf(stderr, "server read: %zd %s\n", k, tls_conn_error(p->server));
                        ASSERT_TRUE(k > 0);
                        for (ssize_t i = 0; i < k; i++)
                                ASSERT_EQ(rbuf[i], pattern(up->received + (size_t) i, up->seed));
                        up->received += (size_t) k;
                        moved = true;
                        if (tls_conn_pending(p->server) > max_pending)
                                max_pending = tls_conn_pending(p->server);
                }
                /* level-triggered: nothing may be left inside GnuTLS before waiting */
                ASSERT_EQ(tls_conn_pending(p->server), 0);

                /* client: the same with GnuTLS directly (same-bytes rule on EAGAIN) */
                while (up->sent < up->total) {
                        size_t n = client_pending ? client_pending
                                                  : (up->total - up->sent < 16384 ? up->total - up->sent : 16384);
                        uint8_t chunk[16384];

                        for (size_t i = 0; i < n; i++)
                                chunk[i] = pattern(up->sent + i, up->seed);
                        k = client_pending ? gnutls_record_send(p->client, NULL, 0)
                                           : gnutls_record_send(p->client, chunk, n);
                        if (k == GNUTLS_E_AGAIN) {
                                client_pending = n;
                                client_wants_out = true;
                                break;
                        }
                        ASSERT_TRUE(k > 0);
                        client_pending = 0;
                        up->sent += (size_t) k;
                        moved = true;
                }
                for (;;) {
                        k = gnutls_record_recv(p->client, cbuf, sizeof(cbuf));
                        if (k == GNUTLS_E_AGAIN)
                                break;
                        if (k <= 0)
                                fprintf(stderr, "client read: %s\n", gnutls_strerror((int) k));
                        ASSERT_TRUE(k > 0);
                        for (ssize_t i = 0; i < k; i++)
                                ASSERT_EQ(cbuf[i], pattern(down->received + (size_t) i, down->seed));
                        down->received += (size_t) k;
                        moved = true;
                }
                if (moved)
                        continue;
                poll_both(p->sfd, POLLIN | (server_wants_out ? POLLOUT : 0),
                          p->cfd, POLLIN | (client_wants_out ? POLLOUT : 0));
        }
        ASSERT_EQ(out.len, 0);
        buf_done(&out);
        if (ret_eagain)
                *ret_eagain = eagain;
        return max_pending;
}

static void pair_exchange_small(Pair *p) {
        Flow up = { .total = 100, .seed = 1 }, down = { .total = 300, .seed = 2 };

        (void) pair_exchange(p, &up, &down, NULL);
}

static char *client_peer_cn(Pair *p) {
        const gnutls_datum_t *certs;
        unsigned n = 0;
        gnutls_x509_crt_t c;
        char cn[256];
        size_t size = sizeof(cn);

        certs = gnutls_certificate_get_peers(p->client, &n);
        ASSERT_TRUE(certs && n == 2);
        ASSERT_EQ(gnutls_x509_crt_init(&c), 0);
        ASSERT_EQ(gnutls_x509_crt_import(c, &certs[0], GNUTLS_X509_FMT_DER), 0);
        ASSERT_EQ(gnutls_x509_crt_get_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &size), 0);
        gnutls_x509_crt_deinit(c);
        return strdup(cn);
}

static void assert_peer_cn(Pair *p, const char *want) {
        char *cn = client_peer_cn(p);

        ASSERT_STREQ(cn, want);
        free(cn);
}

/* ---- tests ---- */

static void test_load(void) {
        TlsServer *t = NULL;
        char error[512] = "";

        ASSERT_OK(tls_server_new(cert_a, key_a, &t, error, sizeof(error)));
        printf("loaded: %s\n", tls_server_describe(t));
        ASSERT_TRUE(strncmp(tls_server_describe(t), "CN=a.mail.test DNS:a.mail.test notAfter=", 40) == 0);
        ASSERT_TRUE(!strstr(tls_server_describe(t), "expired"));
        t = tls_server_free(t);

        ASSERT_EQ(tls_server_new("/nonexistent/tls.crt", key_a, &t, error, sizeof(error)), -EINVAL);
        ASSERT_TRUE(strstr(error, "/nonexistent/tls.crt: No such file"));
        ASSERT_EQ(tls_server_new(cert_a, bad_key, &t, error, sizeof(error)), -EINVAL);
        printf("bad key: %s\n", error);
        ASSERT_TRUE(strncmp(error, bad_key, strlen(bad_key)) == 0);
        ASSERT_EQ(tls_server_new(key_a, key_a, &t, error, sizeof(error)), -EINVAL);
        printf("key as certificate: %s\n", error);
        ASSERT_TRUE(strncmp(error, key_a, strlen(key_a)) == 0);
        ASSERT_EQ(tls_server_new(cert_b, key_a, &t, error, sizeof(error)), -EINVAL);
        printf("mismatch: %s\n", error);
        ASSERT_TRUE(strncmp(error, key_a, strlen(key_a)) == 0 && strstr(error, cert_b));
        ASSERT_EQ(tls_server_new(cert_a, open_key, &t, error, sizeof(error)), -EINVAL);
        printf("open key: %s\n", error);
        ASSERT_TRUE(strncmp(error, open_key, strlen(open_key)) == 0 && strstr(error, "mode 0644"));
        ASSERT_EQ(tls_server_new(unsorted, key_a, &t, error, sizeof(error)), -EINVAL);
        printf("unsorted chain: %s\n", error);
        ASSERT_TRUE(strncmp(error, unsorted, strlen(unsorted)) == 0);
        ASSERT_EQ(tls_server_new(cert_a, "/dev/null", &t, error, sizeof(error)), -EINVAL);
        ASSERT_TRUE(strstr(error, "/dev/null"));
        ASSERT_TRUE(t == NULL);
}

static void test_handshake_and_data(TlsServer *t, const char *priority, const char *want_version) {
        Flow up = { .total = 1024 * 1024, .seed = 3 }, down = { .total = 1024 * 1024 + 17, .seed = 4 };
        unsigned eagain = 0;
        size_t pending;
        Pair p;

        pair_open(&p, t, priority, NULL);
        ASSERT_STREQ(tls_conn_describe(p.server), "");
        pair_handshake_ok(&p);
        printf("%s: %s\n", priority, tls_conn_describe(p.server));
        ASSERT_TRUE(strncmp(tls_conn_describe(p.server), want_version, strlen(want_version)) == 0);
        ASSERT_TRUE(strchr(tls_conn_describe(p.server), ' ')[1] != 0);
        ASSERT_TRUE(!tls_conn_resumed(p.server));
        ASSERT_EQ(tls_conn_handshake(p.server), 0);
        /* no client certificate asked for */
        ASSERT_EQ(gnutls_certificate_client_get_request_status(p.client), 0);
        assert_peer_cn(&p, "a.mail.test");

        pending = pair_exchange(&p, &up, &down, &eagain);
        printf("1 MB each way: most bytes pending inside GnuTLS after a read: %zu; writes resumed after EAGAIN: %u\n",
               pending, eagain);
        ASSERT_TRUE(pending > 0);
        ASSERT_TRUE(eagain > 0);

        /* close_notify reads as 0 on the other side */
        tls_conn_bye(p.server);
        {
                char b[16];
                ssize_t k;

                while ((k = gnutls_record_recv(p.client, b, sizeof(b))) == GNUTLS_E_AGAIN)
                        poll_both(-1, 0, p.cfd, POLLIN);
                ASSERT_EQ(k, 0);
                ASSERT_EQ(gnutls_bye(p.client, GNUTLS_SHUT_WR), 0);
                while ((k = tls_conn_read(p.server, b, sizeof(b))) == -EAGAIN)
                        poll_both(p.sfd, POLLIN, -1, 0);
                ASSERT_EQ(k, 0);
        }
        pair_close(&p);
}

/* The server reads a premature TCP EOF after data as an end, not an error. */
static void test_eof_after_handshake(TlsServer *t) {
        char b[16];
        ssize_t k;
        Pair p;

        pair_open(&p, t, PRIO_TLS13, NULL);
        pair_handshake_ok(&p);
        pair_exchange_small(&p);
        ASSERT_EQ(shutdown(p.cfd, SHUT_WR), 0);
        while ((k = tls_conn_read(p.server, b, sizeof(b))) == -EAGAIN)
                poll_both(p.sfd, POLLIN, -1, 0);
        ASSERT_EQ(k, 0);
        pair_close(&p);
}

/* Whether a second connection with the first one's ticket is resumed;
 * returns the time the server spent in full and resumed handshakes. */
static void test_resume(TlsServer *t, const char *priority) {
        gnutls_datum_t ticket = {};
        Pair p;

        pair_open(&p, t, priority, NULL);
        pair_handshake_ok(&p);
        ASSERT_TRUE(!tls_conn_resumed(p.server));
        /* a TLS 1.3 ticket comes after the handshake: the client reads it with the data */
        pair_exchange_small(&p);
        ASSERT_EQ(gnutls_session_get_data2(p.client, &ticket), 0);
        pair_close(&p);

        pair_open(&p, t, priority, &ticket);
        pair_handshake_ok(&p);
        printf("%s second connection: %s, resumed: %s\n", priority, tls_conn_describe(p.server),
               tls_conn_resumed(p.server) ? "yes" : "no");
        ASSERT_TRUE(tls_conn_resumed(p.server));
        ASSERT_TRUE(gnutls_session_is_resumed(p.client));
        pair_exchange_small(&p);
        pair_close(&p);
        gnutls_free(ticket.data);
}

/* Handshake cost, server side only, for the log (not asserted: the
 * machine is shared). */
static void measure(TlsServer *t, const char *priority, const char *what) {
        enum { N = 20 };
        gnutls_datum_t ticket = {};
        usec_t full = 0, resumed = 0;
        Pair p;

        for (int i = 0; i < N; i++) {
                pair_open(&p, t, priority, NULL);
                pair_handshake_ok(&p);
                full += p.server_usec;
                if (i == 0) {
                        pair_exchange_small(&p);
                        ASSERT_EQ(gnutls_session_get_data2(p.client, &ticket), 0);
                }
                pair_close(&p);
        }
        for (int i = 0; i < N; i++) {
                pair_open(&p, t, priority, &ticket);
                pair_handshake_ok(&p);
                ASSERT_TRUE(tls_conn_resumed(p.server));
                resumed += p.server_usec;
                pair_close(&p);
        }
        gnutls_free(ticket.data);
        printf("handshake cost in tls_conn_handshake(), %s, %s: full %llu us, resumed %llu us (mean of %d)\n",
               priority, what, (unsigned long long) (full / N), (unsigned long long) (resumed / N), N);
}

static void test_reload(void) {
        TlsServer *t = NULL;
        char error[512] = "";
        char *before;
        Pair old, fresh;

        ASSERT_OK(tls_server_new(cert_a, key_a, &t, error, sizeof(error)));
        pair_open(&old, t, PRIO_TLS13, NULL);
        pair_handshake_ok(&old);
        assert_peer_cn(&old, "a.mail.test");

        ASSERT_OK(tls_server_reload(t, cert_b, key_b, error, sizeof(error)));
        printf("reloaded: %s\n", tls_server_describe(t));
        ASSERT_TRUE(strncmp(tls_server_describe(t), "CN=b.mail.test ", 15) == 0);
        /* the connection made before goes on */
        pair_exchange_small(&old);
        /* a new one gets the new certificate */
        pair_open(&fresh, t, PRIO_TLS12, NULL);
        pair_handshake_ok(&fresh);
        assert_peer_cn(&fresh, "b.mail.test");
        pair_close(&fresh);

        /* a bad key: refused, the loaded pair stays */
        before = strdup(tls_server_describe(t));
        ASSERT_EQ(tls_server_reload(t, cert_a, bad_key, error, sizeof(error)), -EINVAL);
        printf("reload with a bad key: %s\n", error);
        ASSERT_TRUE(strncmp(error, bad_key, strlen(bad_key)) == 0);
        ASSERT_EQ(tls_server_reload(t, cert_a, key_b, error, sizeof(error)), -EINVAL);
        ASSERT_TRUE(strstr(error, key_b) && strstr(error, cert_a));
        ASSERT_STREQ(tls_server_describe(t), before);
        free(before);
        pair_open(&fresh, t, PRIO_TLS13, NULL);
        pair_handshake_ok(&fresh);
        assert_peer_cn(&fresh, "b.mail.test");
        pair_exchange_small(&fresh);

        /* the server goes away; both open connections keep what they use */
        t = tls_server_free(t);
        pair_exchange_small(&old);
        pair_exchange_small(&fresh);
        pair_close(&fresh);
        pair_close(&old);
}

/* A ticket survives a reload: the ticket key is the server's, not the pair's. */
static void test_resume_across_reload(void) {
        gnutls_datum_t ticket = {};
        TlsServer *t = NULL;
        char error[512];
        Pair p;

        ASSERT_OK(tls_server_new(cert_a, key_a, &t, error, sizeof(error)));
        pair_open(&p, t, PRIO_TLS13, NULL);
        pair_handshake_ok(&p);
        pair_exchange_small(&p);
        ASSERT_EQ(gnutls_session_get_data2(p.client, &ticket), 0);
        pair_close(&p);
        ASSERT_OK(tls_server_reload(t, cert_b, key_b, error, sizeof(error)));
        pair_open(&p, t, PRIO_TLS13, &ticket);
        pair_handshake_ok(&p);
        ASSERT_TRUE(tls_conn_resumed(p.server));
        pair_close(&p);
        gnutls_free(ticket.data);

        /* another TlsServer has another key: no resumption there */
        {
                TlsServer *other = NULL;

                ASSERT_OK(tls_server_new(cert_a, key_a, &other, error, sizeof(error)));
                pair_open(&p, t, PRIO_TLS13, NULL);
                pair_handshake_ok(&p);
                pair_exchange_small(&p);
                ASSERT_EQ(gnutls_session_get_data2(p.client, &ticket), 0);
                pair_close(&p);
                pair_open(&p, other, PRIO_TLS13, &ticket);
                pair_handshake_ok(&p);
                ASSERT_TRUE(!tls_conn_resumed(p.server));
                pair_close(&p);
                gnutls_free(ticket.data);
                tls_server_free(other);
        }
        tls_server_free(t);
}

static void test_tls11_refused(TlsServer *t) {
        Pair p;

        pair_open(&p, t, PRIO_TLS11, NULL);
        pair_handshake(&p);
        printf("TLS 1.1 client: server %d (%s), client %s\n", p.server_r, tls_conn_error(p.server),
               p.client_r < 0 ? gnutls_strerror(p.client_r) : "?");
        ASSERT_EQ(p.server_r, -EPROTO);
        ASSERT_TRUE(tls_conn_error(p.server)[0] != 0);
        /* the client learns it from the alert, not from a hang */
        while (p.client_r == 1) {
                int r = gnutls_handshake(p.client);

                if (r == GNUTLS_E_AGAIN)
                        poll_both(-1, 0, p.cfd, POLLIN);
                else
                        p.client_r = r;
        }
        ASSERT_TRUE(p.client_r < 0);
        pair_close(&p);
}

/* Drives the server's handshake alone until it ends; fails the test if it
 * would wait for ever. */
static int server_handshake_alone(Pair *p) {
        int r;

        while ((r = tls_conn_handshake(p->server)) == -EAGAIN)
                poll_both(p->sfd, tls_conn_wants_write(p->server) ? POLLOUT : POLLIN, -1, 0);
        return r;
}

/* The server's handshake result when the client sends @bytes (and then
 * EOF, with @eof) instead of a ClientHello. */
static int server_fed(TlsServer *t, const char *bytes, size_t n, bool eof, const char *what) {
        Pair p;
        int r;

        pair_open(&p, t, PRIO_TLS13, NULL);
        ASSERT_EQ(write(p.cfd, bytes, n), (ssize_t) n);
        if (eof)
                ASSERT_EQ(shutdown(p.cfd, SHUT_WR), 0);
        r = server_handshake_alone(&p);
        printf("%s: %d %s\n", what, r, tls_conn_error(p.server));
        ASSERT_TRUE(tls_conn_error(p.server)[0] != 0);
        pair_close(&p);
        return r;
}

static void test_peer_gone(TlsServer *t) {
        Pair p;
        int r;

        /* the client leaves after its ClientHello, the server has answered */
        pair_open(&p, t, PRIO_TLS13, NULL);
        ASSERT_EQ(gnutls_handshake(p.client), GNUTLS_E_AGAIN);
        ASSERT_EQ(tls_conn_handshake(p.server), -EAGAIN);
        p.cfd = safe_close(p.cfd);
        r = server_handshake_alone(&p);
        printf("client gone mid-handshake: %d %s\n", r, tls_conn_error(p.server));
        ASSERT_EQ(r, -ECONNRESET);
        pair_close(&p);

        /* half a record header, then EOF */
        ASSERT_EQ(server_fed(t, "\x16\x03\x01", 3, true, "EOF in a record header"), -ECONNRESET);
        /* plaintext SMTP where the ClientHello should be: refused at once */
        ASSERT_EQ(server_fed(t, "EHLO x\r\n", 8, false, "plaintext EHLO"), -EPROTO);
}

static void test_write_resume_guard(TlsServer *t) {
        Buf big = BUF_INIT(0);
        ssize_t k;
        Pair p;

        pair_open(&p, t, PRIO_TLS13, NULL);
        pair_handshake_ok(&p);
        /* fill the socket until a write is left inside GnuTLS */
        ASSERT_OK(buf_reserve(&big, 16384));
        memset(big.data, 'x', 16384);
        big.len = 16384;
        while ((k = tls_conn_write(p.server, big.data, big.len)) > 0)
                ;
        ASSERT_EQ(k, -EAGAIN);
        /* resuming with fewer bytes than GnuTLS took is a caller's bug, said so */
        ASSERT_EQ(tls_conn_write(p.server, big.data, 10), -EINVAL);
        ASSERT_TRUE(strstr(tls_conn_error(p.server), "resumed"));
        buf_done(&big);
        pair_close(&p);
}

static void test_base64(void) {
        static const struct {
                const char *in;
                size_t n;
                const char *out;        /* NULL: refused */
                size_t out_n;
        } table[] = {
                { "", 0, "", 0 },
                { "Zg==", 4, "f", 1 },
                { "Zm8=", 4, "fo", 2 },
                { "Zm9v", 4, "foo", 3 },
                { "Zm9vYg==", 8, "foob", 4 },
                { "Zm9vYmFy", 8, "foobar", 6 },
                { "AGFsaWNlAHNlY3JldA==", 20, "\0alice\0secret", 13 },
                { "+/+/", 4, "\xfb\xff\xbf", 3 },
                { "AAAA", 4, "\0\0\0", 3 },
                /* not the alphabet */
                { "Zm 9", 4, NULL, 0 },
                { "Zm9\n", 4, NULL, 0 },
                { "Zm9v\r\n", 6, NULL, 0 },
                { "Zm9-", 4, NULL, 0 },
                { "Zm9_", 4, NULL, 0 },
                { "Zm\0v", 4, NULL, 0 },
                { "Zm9\xc3", 4, NULL, 0 },
                { "*m9v", 4, NULL, 0 },
                /* bad padding */
                { "Zg", 2, NULL, 0 },
                { "Zg=", 3, NULL, 0 },
                { "=", 1, NULL, 0 },
                { "====", 4, NULL, 0 },
                { "Z===", 4, NULL, 0 },
                { "Zg=a", 4, NULL, 0 },
                { "Z=g=", 4, NULL, 0 },
                { "Zg==Zg==", 8, NULL, 0 },
                { "Zm9vY", 5, NULL, 0 },
                /* non-zero bits past the data (RFC 4648 §3.5) */
                { "Zh==", 4, NULL, 0 },
                { "Zm9=", 4, NULL, 0 },
        };
        Buf b = BUF_INIT(0);
        uint8_t raw[1000];

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int r;

                buf_reset(&b);
                r = tls_base64_decode(table[i].in, table[i].n, &b);
                if (!table[i].out) {
                        if (r != -EINVAL)
                                fprintf(stderr, "row %zu accepted\n", i);
                        ASSERT_EQ(r, -EINVAL);
                        ASSERT_EQ(b.len, 0);
                        continue;
                }
                ASSERT_EQ(r, 0);
                ASSERT_EQ(b.len, table[i].out_n);
                if (b.len > 0)
                        ASSERT_MEMEQ(b.data, b.len, table[i].out, table[i].out_n);
                /* and back */
                buf_reset(&b);
                ASSERT_OK(tls_base64_encode(table[i].out, table[i].out_n, &b));
                ASSERT_EQ(b.len, table[i].n);
                if (b.len > 0)
                        ASSERT_MEMEQ(b.data, b.len, table[i].in, table[i].n);
        }

        /* appends, and keeps to the Buf's limit */
        buf_reset(&b);
        ASSERT_OK(buf_append_str(&b, "334 "));
        ASSERT_OK(tls_base64_encode("alice", 5, &b));
        ASSERT_MEMEQ(b.data, b.len, "334 YWxpY2U=", 12);
        buf_done(&b);
        b = BUF_INIT(2);
        ASSERT_EQ(tls_base64_decode("Zm9v", 4, &b), -EMSGSIZE);
        buf_done(&b);

        /* a long round trip: one line, no line breaks */
        b = BUF_INIT(0);
        for (size_t i = 0; i < sizeof(raw); i++)
                raw[i] = pattern(i, 9);
        ASSERT_OK(tls_base64_encode(raw, sizeof(raw), &b));
        ASSERT_EQ(b.len, (sizeof(raw) + 2) / 3 * 4);
        ASSERT_TRUE(!memchr(b.data, '\n', b.len));
        {
                Buf d = BUF_INIT(0);

                ASSERT_OK(tls_base64_decode((const char *) b.data, b.len, &d));
                ASSERT_MEMEQ(d.data, d.len, raw, sizeof(raw));
                buf_done(&d);
        }
        buf_done(&b);
}

int main(void) {
        TlsServer *t = NULL;
        char error[512] = "";

        (void) unsetenv("CREDENTIALS_DIRECTORY");
        test_base64();
        pki_make();
        test_load();

        ASSERT_OK(tls_server_new(cert_a, key_a, &t, error, sizeof(error)));
        test_handshake_and_data(t, PRIO_TLS13, "TLSv1.3 TLS_");
        test_handshake_and_data(t, PRIO_TLS12, "TLSv1.2 TLS_ECDHE_");
        test_eof_after_handshake(t);
        test_resume(t, PRIO_TLS13);
        test_resume(t, PRIO_TLS12);
        test_tls11_refused(t);
        test_peer_gone(t);
        test_write_resume_guard(t);
        measure(t, PRIO_TLS13, "ECDSA P-256");
        measure(t, PRIO_TLS12, "ECDSA P-256");
        t = tls_server_free(t);
        ASSERT_OK(tls_server_new(cert_rsa, key_rsa, &t, error, sizeof(error)));
        measure(t, PRIO_TLS13, "RSA 2048");
        measure(t, PRIO_TLS12, "RSA 2048");
        t = tls_server_free(t);

        test_reload();
        test_resume_across_reload();
        pki_remove();
        return 0;
}
