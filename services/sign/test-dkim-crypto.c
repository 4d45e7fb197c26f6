/* SPDX-License-Identifier: MIT */
/*
 * RFC 8463 Appendix A: the Ed25519 example. With the published key and
 * message, canonicalization, header selection, hashing and signing must
 * reproduce the published bh= and b= exactly (Ed25519 is deterministic).
 */
#include <stdlib.h>
#include <unistd.h>

#include "services/sign/dkim-canon.h"
#include "services/sign/dkim-crypto.h"
#include "services/sign/dkim-header.h"
#include "shared/tests.h"

/* The A.1 secret key (nWGxne/9…) wrapped as PKCS#8 PEM. */
static const char ed25519_pem[] =
        "-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
        "-----END PRIVATE KEY-----\n";

static const char message[] =
        "From: Joe SixPack <joe@football.example.com>\r\n"
        "To: Suzie Q <suzie@shopping.example.net>\r\n"
        "Subject: Is dinner ready?\r\n"
        "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
        "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
        "\r\n"
        "Hi.\r\n"
        "\r\n"
        "We lost the game.  Are you hungry yet?\r\n"
        "\r\n"
        "Joe.\r\n";

/* The A.3 signature field with the b= value removed (§3.7). */
static const char sig_field[] =
        "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
        " d=football.example.com; i=@football.example.com;\r\n"
        " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
        " subject : date : message-id : from : subject : date;\r\n"
        " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
        " b=";

static void hash_emit(const uint8_t *p, size_t n, void *userdata) {
        dkim_hash_update(userdata, p, n);
}

static DkimKey *load_pem(const char *pem) {
        char path[] = "/tmp/test-dkim-crypto-XXXXXX";
        DkimKey *k = NULL;
        int fd;

        fd = mkstemp(path);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, pem, strlen(pem)), (long long) strlen(pem));
        close(fd);
        ASSERT_OK(dkim_key_load(path, &k));
        unlink(path);
        return k;
}

static void test_rfc8463(void) {
        static const char * const names[] = { "from", "to", "subject", "date", "message-id",
                                              "from", "subject", "date" };
        _cleanup_(dkim_hash_freep) DkimHash *h = NULL;
        _cleanup_(dkim_key_freep) DkimKey *k = NULL;
        HeaderSection hs = {};
        const uint8_t *msg = (const uint8_t *) message;
        size_t n = strlen(message), sig_len;
        uint8_t bh[DKIM_HASH_LEN], digest[DKIM_HASH_LEN], sig[DKIM_SIG_MAX];
        Buf data = BUF_INIT(0), out = BUF_INIT(0);

        k = load_pem(ed25519_pem);
        ASSERT_EQ(dkim_key_alg(k), DKIM_ALG_ED25519_SHA256);
        ASSERT_OK(dkim_key_public_b64(k, &out));
        ASSERT_STREQ((char *) out.data, "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");

        ASSERT_OK(dkim_hash_new(&h));
        ASSERT_OK(header_section_parse(msg, n, &hs));
        ASSERT_EQ(hs.n_fields, 5);

        ASSERT_OK(dkim_hash_begin(h));
        dkim_canon_body(DKIM_CANON_RELAXED, msg + hs.body_offset, n - hs.body_offset, hash_emit, h);
        ASSERT_OK(dkim_hash_end(h, bh));
        buf_reset(&out);
        ASSERT_OK(base64_append(&out, bh, sizeof(bh)));
        ASSERT_STREQ((char *) out.data, "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");

        ASSERT_OK(dkim_canon_signed_headers(DKIM_CANON_RELAXED, &hs, msg, names, ELEMENTSOF(names), &data));
        ASSERT_OK(dkim_canon_header(DKIM_CANON_RELAXED, (const uint8_t *) sig_field, strlen(sig_field), false, &data));
        ASSERT_OK(dkim_hash_begin(h));
        dkim_hash_update(h, data.data, data.len);
        ASSERT_OK(dkim_hash_end(h, digest));
        ASSERT_OK(dkim_key_sign(k, 0, digest, sig, &sig_len));
        ASSERT_EQ(sig_len, 64);
        buf_reset(&out);
        ASSERT_OK(base64_append(&out, sig, sig_len));
        ASSERT_STREQ((char *) out.data,
                     "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==");
        /* every lane has its own context and signs the same (Ed25519 is deterministic) */
        for (unsigned lane = 1; lane < DKIM_KEY_LANES; lane++) {
                uint8_t again[DKIM_SIG_MAX];
                size_t again_len;

                ASSERT_OK(dkim_key_sign(k, lane, digest, again, &again_len));
                ASSERT_MEMEQ(again, again_len, sig, sig_len);
        }
        ASSERT_EQ(dkim_key_sign(k, DKIM_KEY_LANES, digest, sig, &sig_len), -EINVAL);

        header_section_done(&hs);
        buf_done(&data);
        buf_done(&out);
}

static void test_rsa_bits(void) {
        char path[] = "/tmp/test-dkim-crypto-XXXXXX";
        DkimKey *k = NULL;
        int fd;

        /* A fresh 2048-bit key round-trips through PEM (PKCS#1) and signs. */
        fd = mkstemp(path);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(dkim_key_generate(DKIM_ALG_RSA_SHA256, 2048, fd, &k));
        close(fd);
        ASSERT_EQ(dkim_key_bits(k), 2048);
        dkim_key_free(k);
        k = NULL;
        ASSERT_OK(dkim_key_load(path, &k));
        ASSERT_EQ(dkim_key_alg(k), DKIM_ALG_RSA_SHA256);
        {
                uint8_t digest[DKIM_HASH_LEN] = { 1, 2, 3 }, sig[DKIM_SIG_MAX];
                size_t len;

                ASSERT_OK(dkim_key_sign(k, DKIM_KEY_LANES - 1, digest, sig, &len));
                ASSERT_EQ(len, 256);
        }
        dkim_key_free(k);
        unlink(path);

        /* RFC 8301 §3.2: a 512-bit key is refused. */
        strcpy(path, "/tmp/test-dkim-crypto-XXXXXX");
        fd = mkstemp(path);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(dkim_key_generate(DKIM_ALG_RSA_SHA256, 512, fd, &k), -EKEYREJECTED);
        close(fd);
        ASSERT_EQ(dkim_key_load(path, &k), -EKEYREJECTED);
        unlink(path);

        ASSERT_EQ(dkim_key_load("/nonexistent/key.private", &k), -ENOENT);
}

static void test_base64(void) {
        Buf b = BUF_INIT(0);
        uint8_t out[16];
        size_t n;

        ASSERT_OK(base64_append(&b, (const uint8_t *) "foobar", 6));
        ASSERT_STREQ((char *) b.data, "Zm9vYmFy");
        ASSERT_OK(base64_decode("Zm9vYg==", out, sizeof(out), &n));
        ASSERT_MEMEQ(out, n, "foob", 4);
        ASSERT_EQ(base64_decode("Zm9", out, sizeof(out), &n), -EINVAL);
        buf_done(&b);
}

static DkimKey *generate_rsa(void) {
        char path[] = "/tmp/test-dkim-crypto-XXXXXX";
        DkimKey *k = NULL;
        int fd;

        fd = mkstemp(path);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(dkim_key_generate(DKIM_ALG_RSA_SHA256, 1024, fd, &k));
        close(fd);
        unlink(path);
        return k;
}

/* `pochtar dns check`: is the key record's p= the public half of our key? */
static void test_record_match(void) {
        _cleanup_(dkim_key_freep) DkimKey *rsa = NULL, *other = NULL, *ed = NULL;
        Buf p = BUF_INIT(0), q = BUF_INIT(0), folded = BUF_INIT(0);
        static const char bad[] = "not base64!";

        rsa = generate_rsa();
        other = generate_rsa();
        ed = load_pem(ed25519_pem);
        ASSERT_STREQ(dkim_alg_key_type(dkim_key_alg(rsa)), "rsa");
        ASSERT_STREQ(dkim_alg_key_type(dkim_key_alg(ed)), "ed25519");
        ASSERT_OK(dkim_key_public_b64(rsa, &p));
        ASSERT_OK(dkim_key_public_b64(ed, &q));

        ASSERT_EQ(dkim_key_matches_record(rsa, (char *) p.data, p.len), 1);
        ASSERT_EQ(dkim_key_matches_record(other, (char *) p.data, p.len), 0);
        ASSERT_EQ(dkim_key_matches_record(ed, (char *) q.data, q.len), 1);
        ASSERT_EQ(dkim_key_matches_record(ed, (char *) p.data, p.len), -EBADMSG);
        ASSERT_EQ(dkim_key_matches_record(rsa, (char *) q.data, q.len), -EBADMSG);
        ASSERT_EQ(dkim_key_matches_record(rsa, bad, strlen(bad)), -EBADMSG);
        ASSERT_EQ(dkim_key_matches_record(rsa, "", 0), -EBADMSG);
        /* RFC 6376 §3.6.1: FWS inside p=, as a record split over strings may carry */
        ASSERT_OK(buf_append(&folded, p.data, 20));
        ASSERT_OK(buf_append_str(&folded, " \r\n\t"));
        ASSERT_OK(buf_append(&folded, p.data + 20, p.len - 20));
        ASSERT_EQ(dkim_key_matches_record(rsa, (char *) folded.data, folded.len), 1);

        ASSERT_OK(dkim_record_key_check(DKIM_ALG_RSA_SHA256, (char *) p.data, p.len));
        ASSERT_OK(dkim_record_key_check(DKIM_ALG_ED25519_SHA256, (char *) q.data, q.len));
        ASSERT_EQ(dkim_record_key_check(DKIM_ALG_ED25519_SHA256, (char *) p.data, p.len), -EBADMSG);
        ASSERT_EQ(dkim_record_key_check(DKIM_ALG_RSA_SHA256, (char *) q.data, q.len), -EBADMSG);
        ASSERT_EQ(dkim_record_key_check(DKIM_ALG_RSA_SHA256, bad, strlen(bad)), -EBADMSG);

        buf_done(&p);
        buf_done(&q);
        buf_done(&folded);
}

int main(void) {
        test_rfc8463();
        test_rsa_bits();
        test_base64();
        test_record_match();
        return 0;
}
