/* SPDX-License-Identifier: MIT */
/*
 * Keys: generation, loading and the RFC 8301 size limits, signing on
 * every lane, base64, and whether a key record's p= is our key.
 */
#include "dkim/test-dkim-key.h"

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
        test_rsa_bits();
        test_base64();
        test_record_match();
        return 0;
}
