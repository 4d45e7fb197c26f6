/* SPDX-License-Identifier: MIT */
/*
 * Header work on the message's header section, which the session holds in
 * memory (at most HEADER_SECTION_MAX bytes). Every byte we do not rewrite
 * is copied unchanged, folding included: only an address span is replaced
 * or extended. Input here has already passed the DATA decoder, so lines
 * end in CRLF and there is no bare CR or LF.
 */
#include <stdlib.h>
#include <time.h>

#include "services/receive/receive-headers.h"
#include "shared/address.h"
#include "shared/escape.h"
#include "shared/limits.h"
#include "shared/macro.h"

void sender_map_done(SenderMap *m) {
        for (size_t i = 0; i < m->n_entries; i++) {
                free(m->entries[i].key);
                free(m->entries[i].value);
        }
        free(m->entries);
        *m = (SenderMap) {};
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/**
 * sender_map_parse() - parse a sender map: one "KEY ADDRESS" per line,
 * KEY a local part ("root") or an address, ADDRESS qualified; blank
 * lines and "#" comments ignored. -EINVAL names the bad line in *ret_line.
 */
int sender_map_parse(const char *text, size_t n, SenderMap *ret, unsigned *ret_line) {
        SenderMap m = {};
        unsigned line = 0;
        size_t i = 0;
        int r = 0;

        while (i < n && r >= 0) {
                const char *eol = memchr(text + i, '\n', n - i);
                size_t end = eol ? (size_t) (eol - text) : n, k = i, ks, ke, vs, ve;
                SenderMapEntry *t;

                line++;
                while (k < end && is_blank(text[k]))
                        k++;
                ks = k;
                while (k < end && !is_blank(text[k]) && text[k] != '\r')
                        k++;
                ke = k;
                while (k < end && is_blank(text[k]))
                        k++;
                vs = k;
                while (k < end && !is_blank(text[k]) && text[k] != '\r')
                        k++;
                ve = k;
                while (k < end && (is_blank(text[k]) || text[k] == '\r'))
                        k++;
                i = end + 1;
                if (ks == ke || text[ks] == '#')
                        continue;
                if (k != end || vs == ve ||
                    address_valid(text + ks, ke - ks, ADDRESS_UNQUALIFIED | ADDRESS_UTF8) < 0 ||
                    address_valid(text + vs, ve - vs, ADDRESS_UTF8) < 0) {
                        r = -EINVAL;
                        break;
                }
                t = reallocarray(m.entries, m.n_entries + 1, sizeof(SenderMapEntry));
                if (!t) {
                        r = -ENOMEM;
                        break;
                }
                m.entries = t;
                m.entries[m.n_entries] = (SenderMapEntry) {
                        .key = strndup(text + ks, ke - ks),
                        .value = strndup(text + vs, ve - vs),
                };
                if (!m.entries[m.n_entries].key || !m.entries[m.n_entries].value) {
                        free(m.entries[m.n_entries].key);
                        free(m.entries[m.n_entries].value);
                        r = -ENOMEM;
                        break;
                }
                m.n_entries++;
        }
        if (r < 0) {
                if (ret_line)
                        *ret_line = line;
                sender_map_done(&m);
                return r;
        }
        *ret = m;
        return 0;
}

/**
 * sender_map_lookup() - the replacement for @addr, or NULL. A key with
 * "@" matches that address; a bare key matches the local part of an
 * unqualified address or of one in @origin_domain. Case-insensitive, as
 * Postfix's table lookups are.
 */
const char *sender_map_lookup(const SenderMap *m, const char *origin_domain, const char *addr, size_t n) {
        const char *at = NULL;

        if (!m)
                return NULL;
        for (size_t i = n; i > 0; i--)
                if (addr[i - 1] == '@') {
                        at = addr + i - 1;
                        break;
                }
        for (size_t i = 0; i < m->n_entries; i++)
                if (ascii_strncaseeq(addr, n, m->entries[i].key))
                        return m->entries[i].value;
        if (at && !(origin_domain && ascii_strncaseeq(at + 1, n - (size_t) (at - addr) - 1, origin_domain)))
                return NULL;
        for (size_t i = 0; i < m->n_entries; i++)
                if (!strchr(m->entries[i].key, '@') &&
                    ascii_strncaseeq(addr, at ? (size_t) (at - addr) : n, m->entries[i].key))
                        return m->entries[i].value;
        return NULL;
}

/**
 * address_rewrite() - append @addr as receive stores it: mapped through
 * the sender map when @sender, else qualified with the origin domain when
 * it has no domain, else unchanged.
 */
int address_rewrite(const HeaderContext *ctx, const char *addr, size_t n, bool sender, Buf *out) {
        const char *mapped = sender ? sender_map_lookup(ctx->sender_map, ctx->origin_domain, addr, n) : NULL;
        int r;

        if (mapped)
                return buf_append_str(out, mapped);
        r = buf_append(out, addr, n);
        if (r >= 0 && n > 0 && !memchr(addr, '@', n) && ctx->origin_domain)
                r = buf_printf(out, "@%s", ctx->origin_domain);
        return r;
}

/* A field name: printable ASCII except ":" (RFC 5322 §2.2). */
typedef struct Rewrite {
        const HeaderContext *ctx;
        bool sender;
        size_t copied;
        Buf *out;
} Rewrite;

static int rewrite_visit(const char *v, size_t s, size_t e, void *userdata) {
        Rewrite *rw = userdata;
        int r;

        if (address_valid(v + s, e - s, ADDRESS_UNQUALIFIED | ADDRESS_UTF8) < 0)
                return 0;       /* not an address we understand: leave it as sent */
        if (memchr(v + s, '@', e - s) &&
            !(rw->sender && sender_map_lookup(rw->ctx->sender_map, rw->ctx->origin_domain, v + s, e - s)))
                return 0;
        r = buf_append(rw->out, v + rw->copied, s - rw->copied);
        if (r >= 0)
                r = address_rewrite(rw->ctx, v + s, e - s, rw->sender, rw->out);
        rw->copied = e;
        return r;
}

static int rewrite_address_list(const HeaderContext *ctx, const char *v, size_t n, bool sender, Buf *out) {
        Rewrite rw = { .ctx = ctx, .sender = sender, .out = out };
        int r;

        r = address_list_walk(v, n, rewrite_visit, &rw);
        if (r < 0)
                return r;
        return buf_append(out, v + rw.copied, n - rw.copied);
}

/**
 * headers_rewrite() - copy the header section p[0..n) (whole CRLF lines,
 * as found by header_section_end()) to @out with addresses qualified in
 * From/Sender/To/Cc, and Date: and Message-ID: appended when missing.
 */
int headers_rewrite(const HeaderContext *ctx, const uint8_t *p, size_t n, Buf *out) {
        bool have_date = false, have_msgid = false;
        size_t i = 0;
        int r;

        while (i < n) {
                size_t start = i, value;
                bool sender, addresses;
                HeaderField f;

                i = header_field_next(p, n, start, &f);
                if (f.name_len == 0) {
                        r = buf_append(out, p + start, i - start);
                        if (r < 0)
                                return r;
                        continue;
                }
                value = start + f.value;
                have_date = have_date || header_field_is(&f, p, "Date");
                have_msgid = have_msgid || header_field_is(&f, p, "Message-ID");
                sender = header_field_is(&f, p, "From") || header_field_is(&f, p, "Sender");
                addresses = sender || header_field_is(&f, p, "To") || header_field_is(&f, p, "Cc");
                r = buf_append(out, p + start, value - start);
                if (r < 0)
                        return r;
                if (addresses)
                        r = rewrite_address_list(ctx, (const char *) p + value, i - value, sender, out);
                else
                        r = buf_append(out, p + value, i - value);
                if (r < 0)
                        return r;
        }
        if (!have_date) {
                char date[RFC5322_DATE_MAX];

                r = rfc5322_date_format(ctx->now_usec, false, date);
                if (r >= 0)
                        r = buf_printf(out, "Date: %s\r\n", date);
                if (r < 0)
                        return r;
        }
        if (!have_msgid) {
                char stamp[32];
                time_t t = (time_t) (ctx->now_usec / 1000000);
                struct tm tm;

                if (!gmtime_r(&t, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm) == 0)
                        return -EINVAL;
                r = buf_printf(out, "Message-ID: <%s.%s@%s>\r\n", stamp, ctx->queue_id, ctx->hostname);
                if (r < 0)
                        return r;
        }
        return 0;
}

/**
 * headers_format_received() - the Received: field (RFC 5321 §4.4) in
 * Postfix's shape. @helo is client text: censored here. @tls describes
 * the session's TLS, or is NULL. @rcpt is given only for a
 * single-recipient message, as Postfix does.
 */
int headers_format_received(const HeaderContext *ctx, const char *helo, const char *client,
                            const char *protocol, const char *tls, const char *rcpt, Buf *out) {
        char date[RFC5322_DATE_MAX];
        int r;

        r = buf_append_str(out, "Received: from ");
        if (r >= 0)
                r = helo ? escape_printable(helo, strlen(helo), SMTP_DOMAIN_MAX, 0, out) : buf_append_str(out, "unknown");
        if (r >= 0)
                r = buf_printf(out, " ([%s])", strempty(client));
        if (r >= 0 && tls)
                r = buf_printf(out, "\r\n\t(using %s)", tls);
        if (r >= 0)
                r = buf_printf(out, "\r\n\tby %s (pochtar) with %s id %s", ctx->hostname, protocol, ctx->queue_id);
        if (r >= 0 && rcpt)
                r = buf_printf(out, "\r\n\tfor <%s>", rcpt);
        if (r >= 0)
                r = rfc5322_date_format(ctx->now_usec, false, date);
        if (r >= 0)
                r = buf_printf(out, "; %s\r\n", date);
        return r;
}
