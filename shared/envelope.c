/* SPDX-License-Identifier: MIT */
/*
 * Writer and strict reader of the spool envelope. The reader trusts
 * nothing: a queue file may have been written by a compromised stage, so
 * every line is bounded, every key known, every value re-validated
 * (addresses through address.c), and anything else is -EBADMSG, which the
 * calling stage turns into quarantine.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <xxhash.h>

#include "shared/address.h"
#include "shared/envelope.h"
#include "shared/limits.h"
#include "shared/macro.h"
#include "shared/xtext.h"

void envelope_done(Envelope *e) {
        if (!e)
                return;
        free(e->client);
        free(e->helo);
        free(e->auth);
        free(e->sender);
        free(e->envid);
        for (size_t i = 0; i < e->n_rcpts; i++) {
                free(e->rcpts[i].addr);
                free(e->rcpts[i].orcpt);
        }
        free(e->rcpts);
        *e = (Envelope) {};
}

int envelope_add_rcpt(Envelope *e, const char *addr, const char *orcpt, unsigned notify) {
        _cleanup_free_ char *a = NULL, *o = NULL;
        Recipient *n;

        a = strdup(addr);
        if (!a)
                return -ENOMEM;
        if (orcpt) {
                o = strdup(orcpt);
                if (!o)
                        return -ENOMEM;
        }
        n = reallocarray(e->rcpts, e->n_rcpts + 1, sizeof(Recipient));
        if (!n)
                return -ENOMEM;
        e->rcpts = n;
        e->rcpts[e->n_rcpts++] = (Recipient) {
                .addr = TAKE_PTR(a),
                .orcpt = TAKE_PTR(o),
                .notify = notify,
        };
        return 0;
}

static int put_field(Buf *out, const char *key, const char *value) {
        int r;

        r = buf_printf(out, "%s ", key);
        if (r < 0)
                return r;
        r = xtext_encode(out, value, strlen(value));
        if (r < 0)
                return r;
        return buf_append_byte(out, '\n');
}

int envelope_format(const Envelope *e, Buf *out) {
        int r;

        if (!queue_id_valid(e->id) || !e->sender)
                return -EINVAL;
        if (e->has_check) {
                size_t at = out->len + ENVELOPE_CHECK_OFFSET;

                r = buf_printf(out, ENVELOPE_MAGIC " %d\ncheck %0*d\n", ENVELOPE_VERSION_CHECKED,
                               ENVELOPE_CHECK_LEN, 0);
                if (r < 0)
                        return r;
                envelope_check_put((char *) out->data + at, e->check);
        } else {
                r = buf_printf(out, ENVELOPE_MAGIC " %d\n", ENVELOPE_VERSION);
                if (r < 0)
                        return r;
        }
        r = buf_printf(out, "id %s\narrival %" PRIu64 "\n", e->id, e->arrival_usec);
        if (r < 0)
                return r;
        if (e->kind == ENVELOPE_KIND_DSN) {
                r = buf_append_str(out, "kind dsn\n");
                if (r < 0)
                        return r;
        }
        if (e->client && (r = put_field(out, "client", e->client)) < 0)
                return r;
        if (e->helo && (r = put_field(out, "helo", e->helo)) < 0)
                return r;
        if (e->auth && (r = put_field(out, "auth", e->auth)) < 0)
                return r;
        if ((r = put_field(out, "sender", e->sender)) < 0)
                return r;
        if (e->ret != DSN_RET_UNSET && (r = buf_printf(out, "ret %s\n", dsn_ret_to_string(e->ret))) < 0)
                return r;
        if (e->envid && (r = put_field(out, "envid", e->envid)) < 0)
                return r;
        if (e->body == BODY_8BITMIME && (r = buf_append_str(out, "body 8BITMIME\n")) < 0)
                return r;
        if (e->smtputf8 && (r = buf_append_str(out, "smtputf8 yes\n")) < 0)
                return r;
        for (size_t i = 0; i < e->n_rcpts; i++) {
                const Recipient *rc = &e->rcpts[i];

                r = buf_append_str(out, "rcpt ");
                if (r >= 0)
                        r = xtext_encode(out, rc->addr, strlen(rc->addr));
                if (r >= 0 && rc->notify) {
                        r = buf_append_str(out, " notify=");
                        if (r >= 0)
                                r = dsn_notify_format(rc->notify, out);
                }
                if (r >= 0 && rc->orcpt) {
                        r = buf_append_str(out, " orcpt=");
                        if (r >= 0)
                                r = xtext_encode(out, rc->orcpt, strlen(rc->orcpt));
                }
                if (r >= 0)
                        r = buf_append_byte(out, '\n');
                if (r < 0)
                        return r;
        }
        return buf_append_byte(out, '\n');
}

/* Decodes an xtext value into a fresh NUL-free string. */
static int decode_value(const char *p, size_t n, size_t max, char **ret) {
        _cleanup_(buf_done) Buf b = BUF_INIT(max);
        int r;

        r = xtext_decode(p, n, &b);
        if (r < 0)
                return -EBADMSG;
        if (b.len && memchr(b.data, 0, b.len))
                return -EBADMSG;
        *ret = buf_steal_str(&b);
        return *ret ? 0 : -ENOMEM;
}

/* The same for a value that must be printable US-ASCII (receive writes
 * the client's address and its censored HELO so). */
static int decode_printable(const char *p, size_t n, size_t max, char **ret) {
        int r = decode_value(p, n, max, ret);

        if (r >= 0 && !ascii_printable(*ret, strlen(*ret)))
                r = -EBADMSG;
        return r;
}

static int parse_rcpt(Envelope *e, const char *p, size_t n) {
        _cleanup_free_ char *addr = NULL, *orcpt = NULL;
        unsigned notify = 0, flags = ADDRESS_UTF8;
        const char *end = p + n, *sp;
        int r;

        sp = memchr(p, ' ', n);
        r = decode_value(p, (size_t) ((sp ? sp : end) - p), SMTP_PATH_MAX, &addr);
        if (r < 0)
                return r;
        if (address_valid(addr, strlen(addr), flags) < 0)
                return -EBADMSG;
        while (sp) {
                const char *a = sp + 1, *aend;

                sp = memchr(a, ' ', (size_t) (end - a));
                aend = sp ? sp : end;
                if (aend - a > 7 && memcmp(a, "notify=", 7) == 0 && !notify) {
                        if (dsn_notify_parse(a + 7, (size_t) (aend - a - 7), &notify) < 0)
                                return -EBADMSG;
                } else if (aend - a > 6 && memcmp(a, "orcpt=", 6) == 0 && !orcpt) {
                        r = decode_value(a + 6, (size_t) (aend - a - 6), DSN_ORCPT_MAX, &orcpt);
                        if (r < 0)
                                return r;
                        /* what receive would have refused, refused again */
                        if (dsn_orcpt_check(orcpt) < 0)
                                return -EBADMSG;
                } else
                        return -EBADMSG;
        }
        return envelope_add_rcpt(e, addr, orcpt, notify);
}

void envelope_check_put(char *at, uint64_t check) {
        static const char hex[] = "0123456789abcdef";

        for (int i = ENVELOPE_CHECK_LEN - 1; i >= 0; i--, check >>= 4)
                at[i] = hex[check & 0xf];
}

static int parse_check(const char *v, size_t n, uint64_t *ret) {
        uint64_t x = 0;

        if (n != ENVELOPE_CHECK_LEN)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                int d = v[i] >= '0' && v[i] <= '9' ? v[i] - '0' : v[i] >= 'a' && v[i] <= 'f' ? v[i] - 'a' + 10 : -1;

                if (d < 0)
                        return -EBADMSG;
                x = x << 4 | (uint64_t) d;
        }
        *ret = x;
        return 0;
}

uint64_t envelope_check_of(const void *msg, size_t n) {
        return XXH3_64bits(msg, n);
}

int envelope_check_of2(const void *a, size_t na, const void *b, size_t nb, uint64_t *ret) {
        XXH3_state_t *st = XXH3_createState();
        int r = -ENOMEM;

        if (st && XXH3_64bits_reset(st) == XXH_OK && XXH3_64bits_update(st, a, na) == XXH_OK &&
            XXH3_64bits_update(st, b, nb) == XXH_OK) {
                *ret = XXH3_64bits_digest(st);
                r = 0;
        }
        XXH3_freeState(st);
        return r;
}

int envelope_check_verify(const Envelope *e, const void *msg, size_t n) {
        if (!e->has_check)
                return 0;
        return envelope_check_of(msg, n) == e->check ? 0 : -EBADMSG;
}

int envelope_parse(const uint8_t *p, size_t n, Envelope *ret, size_t *ret_len, unsigned *ret_line) {
        _cleanup_(envelope_done) Envelope e = {};
        bool have_id = false, have_arrival = false, have_sender = false;
        size_t off = 0;
        unsigned line = 0;
        int r = 0;

        if (n > ENVELOPE_MAX)
                n = ENVELOPE_MAX;       /* the envelope must end within the cap */

        for (;;) {
                const char *l = (const char *) p + off, *nl, *sp, *v;
                size_t len, klen, vlen;

                line++;
                nl = memchr(l, '\n', n - off);
                if (!nl) {
                        r = -EBADMSG;
                        goto fail;
                }
                len = (size_t) (nl - l);
                off += len + 1;
                if (len == 0)
                        break;  /* the blank line ends the envelope */
                if (memchr(l, 0, len) || memchr(l, '\r', len)) {
                        r = -EBADMSG;
                        goto fail;
                }

                sp = memchr(l, ' ', len);
                klen = sp ? (size_t) (sp - l) : len;
                v = sp ? sp + 1 : l + len;
                vlen = sp ? len - klen - 1 : 0;

#define KEY(k) (klen == STRLEN(k) && memcmp(l, k, klen) == 0)
                if (line == 1) {
                        uint64_t ver;

                        if (!KEY(ENVELOPE_MAGIC) || parse_u64_span(v, vlen, &ver) < 0) {
                                r = -EBADMSG;
                                goto fail;
                        }
                        if (ver != ENVELOPE_VERSION && ver != ENVELOPE_VERSION_CHECKED) {
                                r = -EPROTONOSUPPORT;
                                goto fail;
                        }
                        e.has_check = ver == ENVELOPE_VERSION_CHECKED;
                        continue;
                }
                /* version 2: the check is the second line, at its fixed offset */
                if (line == 2 && e.has_check) {
                        if (!KEY("check") || (size_t) (v - (const char *) p) != ENVELOPE_CHECK_OFFSET ||
                            parse_check(v, vlen, &e.check) < 0) {
                                r = -EBADMSG;
                                goto fail;
                        }
                        continue;
                }
                if (KEY("id") && !have_id) {
                        if (vlen != QUEUE_ID_LEN) {
                                r = -EBADMSG;
                                goto fail;
                        }
                        memcpy(e.id, v, vlen);
                        e.id[vlen] = 0;
                        if (!queue_id_valid(e.id)) {
                                r = -EBADMSG;
                                goto fail;
                        }
                        have_id = true;
                } else if (KEY("arrival") && !have_arrival) {
                        r = parse_u64_span(v, vlen, &e.arrival_usec);
                        have_arrival = true;
                } else if (KEY("kind") && e.kind == ENVELOPE_KIND_MAIL) {
                        if (vlen == 3 && memcmp(v, "dsn", 3) == 0)
                                e.kind = ENVELOPE_KIND_DSN;
                        else
                                r = -EBADMSG;
                } else if (KEY("client") && !e.client) {
                        r = decode_printable(v, vlen, 256, &e.client);
                } else if (KEY("helo") && !e.helo) {
                        r = decode_printable(v, vlen, SMTP_COMMAND_LINE_MAX, &e.helo);
                } else if (KEY("auth") && !e.auth) {
                        r = decode_printable(v, vlen, AUTH_USER_MAX, &e.auth);
                        if (r >= 0 && !e.auth[0])
                                r = -EBADMSG;
                } else if (KEY("sender") && !have_sender) {
                        r = decode_value(v, vlen, SMTP_PATH_MAX, &e.sender);
                        if (r >= 0 && e.sender[0] &&
                            address_valid(e.sender, strlen(e.sender), ADDRESS_UTF8) < 0)
                                r = -EBADMSG;
                        have_sender = true;
                } else if (KEY("ret") && e.ret == DSN_RET_UNSET) {
                        if (vlen == 4 && memcmp(v, "FULL", 4) == 0)
                                e.ret = DSN_RET_FULL;
                        else if (vlen == 4 && memcmp(v, "HDRS", 4) == 0)
                                e.ret = DSN_RET_HDRS;
                        else
                                r = -EBADMSG;
                } else if (KEY("envid") && !e.envid) {
                        r = decode_value(v, vlen, DSN_ENVID_MAX, &e.envid);
                        if (r >= 0 && dsn_envid_check(e.envid) < 0)
                                r = -EBADMSG;
                } else if (KEY("body") && e.body == BODY_7BIT) {
                        if (vlen == 8 && memcmp(v, "8BITMIME", 8) == 0)
                                e.body = BODY_8BITMIME;
                        else
                                r = -EBADMSG;
                } else if (KEY("smtputf8") && !e.smtputf8) {
                        if (vlen == 3 && memcmp(v, "yes", 3) == 0)
                                e.smtputf8 = true;
                        else
                                r = -EBADMSG;
                } else if (KEY("rcpt")) {
                        if (e.n_rcpts >= 100000)
                                r = -EBADMSG;
                        else
                                r = parse_rcpt(&e, v, vlen);
                } else
                        r = -EBADMSG;
#undef KEY
                if (r < 0)
                        goto fail;
        }

        if (!have_id || !have_arrival || !have_sender || e.n_rcpts == 0) {
                r = -EBADMSG;
                goto fail;
        }
        *ret = e;
        e = (Envelope) {};
        if (ret_len)
                *ret_len = off;
        return 0;
fail:
        if (ret_line)
                *ret_line = line;
        return r;
}
