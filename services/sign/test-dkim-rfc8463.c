/* SPDX-License-Identifier: MIT */
/*
 * RFC 8463 Appendix A: the Ed25519 example. With the published key and
 * message, canonicalization, header selection, hashing and signing must
 * reproduce the published bh= and b= exactly (Ed25519 is deterministic).
 */
#include "dkim/test-dkim-key.h"
#include "services/sign/dkim-canon.h"
#include "services/sign/dkim-header.h"

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

int main(void) {
        test_rfc8463();
        return 0;
}
