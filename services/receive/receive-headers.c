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

bool span_caseeq(const char *a, size_t n, const char *b) {
        return strlen(b) == n && ascii_strncaseeq(a, n, b);
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
                if (span_caseeq(addr, n, m->entries[i].key))
                        return m->entries[i].value;
        if (at && !(origin_domain && span_caseeq(at + 1, n - (size_t) (at - addr) - 1, origin_domain)))
                return NULL;
        for (size_t i = 0; i < m->n_entries; i++)
                if (!strchr(m->entries[i].key, '@') &&
                    span_caseeq(addr, at ? (size_t) (at - addr) : n, m->entries[i].key))
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
static size_t field_name_len(const uint8_t *p, size_t n) {
        size_t i = 0;

        while (i < n && p[i] >= 33 && p[i] <= 126 && p[i] != ':')
                i++;
        return i < n && p[i] == ':' ? i : 0;
}

/**
 * header_field_next() - the end of the field starting at p[start]: the
 * CRLF not followed by a continuation line. *ret_name_len is the length
 * of its name, 0 if the line is not a field.
 */
size_t header_field_next(const uint8_t *p, size_t n, size_t start, size_t *ret_name_len) {
        size_t i = start;

        *ret_name_len = field_name_len(p + start, n - start);
        for (;;) {
                const uint8_t *eol = memmem(p + i, n - i, "\r\n", 2);

                i = eol ? (size_t) (eol - p) + 2 : n;
                if (i >= n || !is_blank((char) p[i]))
                        return i;
        }
}

/**
 * headers_section_end() - find where the header section ends in the first
 * @n decoded bytes: at an empty line or at the first line that is neither
 * a field nor a continuation (RFC 5322 §2.1; such a line is body, as
 * Postfix treats it). Returns 1 with *ret_end the offset of that line, 0
 * when more input is needed; with @complete (the message ended) it
 * always returns 1.
 */
int headers_section_end(const uint8_t *p, size_t n, bool complete, size_t *ret_end) {
        size_t i = 0;

        while (p && i < n) {
                const uint8_t *eol = memmem(p + i, n - i, "\r\n", 2);

                if (!eol)
                        break;
                if ((const uint8_t *) eol == p + i ||
                    (is_blank((char) p[i]) && i == 0) ||
                    (!is_blank((char) p[i]) && field_name_len(p + i, (size_t) (eol - (p + i))) == 0)) {
                        *ret_end = i;
                        return 1;
                }
                i = (size_t) (eol - p) + 2;
        }
        if (!complete)
                return 0;
        *ret_end = i;
        return 1;
}

/**
 * headers_count_field() - how many fields named @name (any case) the
 * header section p[0..n) holds. Only field names count: neither
 * "X-Received:" nor a continuation line, and the caller passes the
 * section alone (headers_section_end()), so no body line either. Used
 * for the hop count (max_hops).
 */
size_t headers_count_field(const uint8_t *p, size_t n, const char *name) {
        size_t i = 0, count = 0;

        while (i < n) {
                size_t start = i, name_len;

                i = header_field_next(p, n, start, &name_len);
                if (name_len > 0 && span_caseeq((const char *) p + start, name_len, name))
                        count++;
        }
        return count;
}

typedef struct Mailbox {
        size_t start, end;      /* the addr-spec candidate: first to last token */
        bool angle;             /* an <addr> was seen and handled */
        bool words;             /* more than one token: a display name, not an addr-spec */
} Mailbox;

static int mailbox_finish(const char *v, Mailbox *mb, AddressVisit visit, void *userdata) {
        int r = 0;

        if (!mb->angle && !mb->words && mb->end > mb->start)
                r = visit(v, mb->start, mb->end, userdata);
        *mb = (Mailbox) {};
        return r;
}

/* Skips a quoted string or a (nested) comment starting at v[i]; returns the index after it. */
static size_t skip_delimited(const char *v, size_t n, size_t i) {
        unsigned depth = 0;
        char open = v[i], close = open == '"' ? '"' : ')';

        for (i++; i < n; i++) {
                if (v[i] == '\\')
                        i++;
                else if (open == '(' && v[i] == '(')
                        depth++;
                else if (v[i] == close) {
                        if (depth == 0)
                                return i + 1;
                        depth--;
                }
        }
        return n;
}

/**
 * address_list_walk() - call @visit for each addr-spec of an address-list
 * (RFC 5322 §3.4) field value: the inside of "<...>", or a lone token
 * between separators ("root", as cron writes it). Quoted strings and
 * comments are skipped; a display name without brackets is no address.
 * Spans are trimmed of blanks; @visit validates them. Tolerant: anything
 * unusual is simply not visited.
 */
int address_list_walk(const char *v, size_t n, AddressVisit visit, void *userdata) {
        Mailbox mb = {};
        size_t i = 0;
        bool gap = false;
        int r;

        while (i < n) {
                char c = v[i];

                if (c == '"' || c == '(') {
                        size_t j = skip_delimited(v, n, i);

                        if (c == '"') {
                                if (mb.end > mb.start && gap)
                                        mb.words = true;
                                if (mb.end == mb.start)
                                        mb.start = i;
                                mb.end = j;
                        } else
                                gap = true;
                        i = j;
                } else if (c == '<') {
                        size_t s = i + 1, e = s, gt;

                        while (e < n && v[e] != '>') {
                                if (v[e] == '"')
                                        e = skip_delimited(v, n, e);
                                else
                                        e++;
                        }
                        if (e >= n)
                                break;
                        gt = e;
                        while (s < e && is_blank(v[s]))
                                s++;
                        while (e > s && is_blank(v[e - 1]))
                                e--;
                        if (e > s) {
                                r = visit(v, s, e, userdata);
                                if (r < 0)
                                        return r;
                        }
                        mb.angle = true;
                        i = gt + 1;
                } else if (c == ',' || c == ';' || c == ':') {
                        if (c == ':')
                                mb = (Mailbox) {};      /* a group's display name */
                        else {
                                r = mailbox_finish(v, &mb, visit, userdata);
                                if (r < 0)
                                        return r;
                        }
                        gap = false;
                        i++;
                } else if (is_blank(c) || c == '\r' || c == '\n') {
                        gap = true;
                        i++;
                } else {
                        if (mb.end > mb.start && gap)
                                mb.words = true;
                        if (mb.end == mb.start)
                                mb.start = i;
                        mb.end = ++i;
                        gap = false;
                }
        }
        return mailbox_finish(v, &mb, visit, userdata);
}

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

int headers_format_date(uint64_t usec, Buf *out) {
        char text[64];
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
                return -EINVAL;
        return buf_append_str(out, text);
}

/**
 * headers_rewrite() - copy the header section p[0..n) (whole CRLF lines,
 * as found by headers_section_end()) to @out with addresses qualified in
 * From/Sender/To/Cc, and Date: and Message-ID: appended when missing.
 */
int headers_rewrite(const HeaderContext *ctx, const uint8_t *p, size_t n, Buf *out) {
        bool have_date = false, have_msgid = false;
        size_t i = 0;
        int r;

        while (i < n) {
                size_t start = i, name_len, value;
                bool sender, addresses;

                i = header_field_next(p, n, start, &name_len);
                if (name_len == 0) {
                        r = buf_append(out, p + start, i - start);
                        if (r < 0)
                                return r;
                        continue;
                }
                value = start + name_len + 1;
                have_date = have_date || span_caseeq((const char *) p + start, name_len, "Date");
                have_msgid = have_msgid || span_caseeq((const char *) p + start, name_len, "Message-ID");
                sender = span_caseeq((const char *) p + start, name_len, "From") ||
                         span_caseeq((const char *) p + start, name_len, "Sender");
                addresses = sender || span_caseeq((const char *) p + start, name_len, "To") ||
                            span_caseeq((const char *) p + start, name_len, "Cc");
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
                r = buf_append_str(out, "Date: ");
                if (r >= 0)
                        r = headers_format_date(ctx->now_usec, out);
                if (r >= 0)
                        r = buf_append_str(out, "\r\n");
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
 * Postfix's shape. @helo is client text: censored here. @rcpt is given
 * only for a single-recipient message, as Postfix does.
 */
int headers_format_received(const HeaderContext *ctx, const char *helo, const char *client,
                            const char *protocol, const char *rcpt, Buf *out) {
        int r;

        r = buf_append_str(out, "Received: from ");
        if (r >= 0)
                r = helo ? escape_printable(helo, strlen(helo), SMTP_DOMAIN_MAX, 0, out) : buf_append_str(out, "unknown");
        if (r >= 0)
                r = buf_printf(out, " ([%s])\r\n\tby %s (pochtar) with %s id %s", strempty(client),
                               ctx->hostname, protocol, ctx->queue_id);
        if (r >= 0 && rcpt)
                r = buf_printf(out, "\r\n\tfor <%s>", rcpt);
        if (r >= 0)
                r = buf_append_str(out, "; ");
        if (r >= 0)
                r = headers_format_date(ctx->now_usec, out);
        if (r >= 0)
                r = buf_append_str(out, "\r\n");
        return r;
}
