/* SPDX-License-Identifier: MIT */
/*
 * The header side of signing: find the author domain, choose h= and
 * write the DKIM-Signature field, over the fields shared/rfc5322.c
 * split. Everything here takes (ptr, len) of untrusted message bytes and
 * is bounded by the caps in dkim-header.h and shared/limits.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "services/sign/dkim-header.h"
#include "shared/macro.h"

static bool is_wsp(uint8_t c) {
        return c == ' ' || c == '\t';
}

static bool domain_valid(const char *d, size_t n) {
        size_t label = 0;

        if (n == 0 || n > SMTP_DOMAIN_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = d[i];

                if (c == '.') {
                        if (label == 0 || d[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && label > 0)))
                        return false;
                if (++label > 63)
                        return false;
        }
        return label > 0 && d[n - 1] != '-';
}

int header_from_address(const uint8_t *v, size_t n,
                        char local[static SMTP_LOCAL_PART_MAX + 1],
                        char domain[static SMTP_DOMAIN_MAX + 1]) {
        char plain[SMTP_PATH_MAX + 1], angle[SMTP_PATH_MAX + 1];
        size_t np = 0, na = 0;
        unsigned depth = 0, angles = 0;
        bool quoted = false, in_angle = false, plain_full = false;
        const char *addr, *at;
        size_t alen, dlen, llen;

        /* One pass over the value: comments dropped, quoted strings kept
         * whole, the text inside <…> collected apart from the rest. */
        for (size_t i = 0; i < n; i++) {
                uint8_t c = v[i];
                bool keep;

                /* RFC 5322 §3.2: no control character but folding white
                 * space belongs in an address; a NUL would also cut the
                 * local part short when it is used as a C string. */
                if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
                        return -EBADMSG;
                if (quoted) {
                        if (c == '\\' && i + 1 < n) {
                                if (in_angle && na + 2 < sizeof(angle)) {
                                        angle[na++] = (char) c;
                                        angle[na++] = (char) v[i + 1];
                                } else if (!in_angle && np + 2 < sizeof(plain)) {
                                        plain[np++] = (char) c;
                                        plain[np++] = (char) v[i + 1];
                                }
                                i++;
                                continue;
                        }
                        if (c == '"')
                                quoted = false;
                        keep = true;
                } else if (depth > 0) {
                        if (c == '\\')
                                i++;
                        else if (c == '(')
                                depth++;
                        else if (c == ')')
                                depth--;
                        continue;
                } else if (c == '(') {
                        depth++;
                        continue;
                } else if (c == '"') {
                        quoted = true;
                        keep = true;
                } else if (c == '<') {
                        if (in_angle || angles > 0)
                                return -EBADMSG;
                        in_angle = true;
                        angles++;
                        continue;
                } else if (c == '>') {
                        if (!in_angle)
                                return -EBADMSG;
                        in_angle = false;
                        continue;
                } else if (c == ',' && !in_angle) {
                        return -EBADMSG;        /* several authors: no single d= aligns */
                } else
                        keep = !(is_wsp(c) || c == '\r' || c == '\n');

                if (!keep)
                        continue;
                if (in_angle) {
                        if (na + 1 >= sizeof(angle))
                                return -EBADMSG;
                        angle[na++] = (char) c;
                } else {
                        if (np + 1 >= sizeof(plain)) {
                                plain_full = true;      /* fine for a display name before <…> */
                                continue;
                        }
                        plain[np++] = (char) c;
                }
        }
        if (quoted || in_angle || depth > 0)
                return -EBADMSG;
        /* Without <…> the text is the address: never guess from a cut one. */
        if (angles == 0 && plain_full)
                return -EBADMSG;

        addr = angles ? angle : plain;
        alen = angles ? na : np;
        at = memrchr(addr, '@', alen);
        if (!at)
                return -EBADMSG;
        llen = (size_t) (at - addr);
        dlen = alen - llen - 1;
        if (llen == 0 || llen > SMTP_LOCAL_PART_MAX || dlen == 0 || dlen > SMTP_DOMAIN_MAX)
                return -EBADMSG;
        for (size_t i = 0; i < dlen; i++) {
                char c = at[1 + i];

                domain[i] = c >= 'A' && c <= 'Z' ? (char) (c + 32) : c;
        }
        domain[dlen] = 0;
        if (!domain_valid(domain, dlen))
                return -EBADMSG;
        memcpy(local, addr, llen);
        local[llen] = 0;
        return 0;
}

/*
 * RFC 6376 §5.4.1's list, plus the fields that carry the content's
 * meaning and that OpenDKIM signs by default (Message-ID, MIME and
 * Content-* fields, Sender), so that a relay cannot swap them.
 */
static const char * const signed_headers[] = {
        "From", "Reply-To", "Subject", "Date", "To", "Cc",
        "Resent-Date", "Resent-From", "Resent-To", "Resent-Cc",
        "In-Reply-To", "References",
        "List-Id", "List-Help", "List-Unsubscribe", "List-Subscribe",
        "List-Post", "List-Owner", "List-Archive",
        "Message-ID", "Sender", "MIME-Version", "Content-Type",
        "Content-Transfer-Encoding", "Content-Disposition",
};

int dkim_signed_names(const HeaderSection *h, const uint8_t *msg, char * const *oversign,
                      const char **ret_names, size_t *ret_n) {
        size_t n = 0;

        for (size_t s = 0; s < ELEMENTSOF(signed_headers); s++)
                for (size_t i = 0; i < h->n_fields; i++)
                        if (header_field_is(&h->fields[i], msg, signed_headers[s])) {
                                if (n == DKIM_SIGNED_NAMES_MAX)
                                        return -E2BIG;
                                ret_names[n++] = signed_headers[s];
                        }
        for (size_t o = 0; oversign && oversign[o]; o++) {
                if (n == DKIM_SIGNED_NAMES_MAX)
                        return -E2BIG;
                ret_names[n++] = oversign[o];
        }
        *ret_n = n;
        return 0;
}

int dkim_canon_signed_headers(DkimCanon canon, const HeaderSection *h, const uint8_t *msg,
                              const char * const *names, size_t n_names, Buf *out) {
        bool used[HEADER_FIELDS_MAX] = {};
        int r;

        for (size_t k = 0; k < n_names; k++)
                for (size_t i = h->n_fields; i > 0; i--) {
                        const HeaderField *f = &h->fields[i - 1];

                        if (used[i - 1] || !header_field_is(f, msg, names[k]))
                                continue;
                        used[i - 1] = true;
                        r = dkim_canon_header(canon, msg + f->offset, f->len, true, out);
                        if (r < 0)
                                return r;
                        break;
                }
        return 0;
}

/* Folded lines stay under the RFC 5322 §2.1.1 78-octet recommendation. */
#define FOLD_AT 76

typedef struct Folder {
        Buf *out;
        size_t col;
} Folder;

/* Appends one token, folding before it when the line would grow too long. */
static int fold_token(Folder *f, const char *sep, const char *tok, size_t n) {
        int r;

        if (f->col + strlen(sep) + n > FOLD_AT && f->col > 8) {
                r = buf_append(f->out, "\r\n\t", 3);
                f->col = 8;
        } else {
                r = buf_append_str(f->out, sep);
                f->col += strlen(sep);
        }
        if (r >= 0)
                r = buf_append(f->out, tok, n);
        f->col += n;
        return r;
}

int dkim_signature_format(const DkimSigParams *p, Buf *out) {
        Folder f = { .out = out };
        char tok[SMTP_DOMAIN_MAX + 64];
        int r, k;

        r = buf_append_str(out, "DKIM-Signature: v=1;");
        f.col = STRLEN("DKIM-Signature: v=1;");
#define TOKEN(...)                                                              \
        do {                                                                    \
                k = snprintf(tok, sizeof(tok), __VA_ARGS__);                    \
                if (k < 0 || (size_t) k >= sizeof(tok))                         \
                        return -EINVAL;                                         \
                if (r >= 0)                                                     \
                        r = fold_token(&f, " ", tok, (size_t) k);               \
        } while (0)
        TOKEN("a=%s;", p->alg);
        TOKEN("c=%s;", p->canon);
        TOKEN("d=%s;", p->domain);
        TOKEN("s=%s;", p->selector);
        TOKEN("t=%" PRIu64 ";", p->timestamp);
        if (p->expire > 0)
                TOKEN("x=%" PRIu64 ";", p->expire);
#undef TOKEN
        for (size_t i = 0; i < p->n_names && r >= 0; i++) {
                size_t len = strlen(p->names[i]);
                char name[HEADER_NAME_MAX + 8];

                if (len > HEADER_NAME_MAX)
                        return -EINVAL;
                k = snprintf(name, sizeof(name), "%s%s%s", i == 0 ? "h=" : "", p->names[i],
                             i + 1 == p->n_names ? ";" : ":");
                r = fold_token(&f, i == 0 ? " " : "", name, (size_t) k);
        }
        if (r >= 0) {
                k = snprintf(tok, sizeof(tok), "bh=%s;", p->bh);
                if (k < 0 || (size_t) k >= sizeof(tok))
                        return -EINVAL;
                r = fold_token(&f, " ", tok, (size_t) k);
        }
        /* b= starts its own line so its value can fill whole lines. */
        if (r >= 0)
                r = buf_append_str(out, "\r\n\tb=");
        return r;
}

int dkim_signature_append_b(Buf *out, const char *b64) {
        size_t n = strlen(b64), col = 10;
        int r = 0;

        /* Folding inside b= is FWS, which verifiers drop (§3.5). */
        while (n > 0 && r >= 0) {
                size_t take = n < FOLD_AT - col ? n : FOLD_AT - col;

                r = buf_append(out, b64, take);
                b64 += take;
                n -= take;
                if (n > 0 && r >= 0)
                        r = buf_append(out, "\r\n\t", 3);
                col = 8;
        }
        if (r >= 0)
                r = buf_append(out, "\r\n", 2);
        return r;
}
