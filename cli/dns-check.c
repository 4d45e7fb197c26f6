/* SPDX-License-Identifier: MIT */
/*
 * How `pochtar dns check` reports: one line per check, and the fix for
 * each failure in the form a zone file or a DNS panel takes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "cli/dns-check.h"
#include "shared/buf.h"
#include "shared/escape.h"
#include "shared/log.h"

/* RFC 1035 §3.3: a <character-string> is at most 255 octets */
#define TXT_STRING_MAX 255
/* How much of a record we quote back to the admin */
#define SHOW_MAX 200

void check_report(DnsCheck *c, Verdict v, const char *check, const char *fmt, ...) {
        static const char * const marks[] = { "ok", "info", "warn", "FAIL" };
        va_list ap;

        if (v == VERDICT_FAIL)
                c->failures++;
        else if (v == VERDICT_WARN)
                c->warnings++;
        printf("%-5s %-9s ", marks[v], check);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
}

void check_fix(const char *fmt, ...) {
        va_list ap;

        printf("      fix:      ");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
}

/* Untrusted DNS text, made printable and cut for display. */
char *check_show(const char *s) {
        return escape_printable_dup(s, strlen(s), SHOW_MAX) ?: strdup("?");
}

/* Appends one zone-file <character-string>: quotes and backslashes escaped. */
static int txt_string(Buf *b, const char *s, size_t n) {
        int r = buf_append_byte(b, '"');

        for (size_t i = 0; i < n && r >= 0; i++) {
                if (s[i] == '"' || s[i] == '\\')
                        r = buf_append_byte(b, '\\');
                if (r >= 0)
                        r = buf_append_byte(b, (uint8_t) s[i]);
        }
        return r < 0 ? r : buf_append_byte(b, '"');
}

/*
 * Prints "NAME. IN TXT ..." with the text split into <character-string>s of
 * at most 255 octets (RFC 1035 §3.3), parenthesized when there is more
 * than one, as zone files and most DNS panels take it. @first, if given,
 * is its own first string ("v=DKIM1; k=rsa; ", as opendkim-genkey does).
 */
void check_fix_txt(const char *name, const char *first, const char *text) {
        Buf b = BUF_INIT(0);
        size_t n = strlen(text);
        bool multi = first || n > TXT_STRING_MAX;
        int r = 0;

        if (multi)
                r = buf_append_str(&b, "( ");
        if (first && r >= 0)
                r = txt_string(&b, first, strlen(first));
        for (size_t i = 0; i < n && r >= 0; i += TXT_STRING_MAX) {
                size_t k = n - i < TXT_STRING_MAX ? n - i : TXT_STRING_MAX;

                if (b.len > 2)
                        r = buf_append_byte(&b, ' ');
                if (r >= 0)
                        r = txt_string(&b, text + i, k);
        }
        if (multi && r >= 0)
                r = buf_append_str(&b, " )");
        if (r >= 0)
                r = buf_append_byte(&b, 0);
        if (r < 0)
                log_oom();
        else
                check_fix("%s. IN TXT %s", name, (char *) b.data);
        buf_done(&b);
}

bool check_name_eq(const char *a, const char *b) {
        size_t na = strlen(a), nb = strlen(b);

        if (na && a[na - 1] == '.')
                na--;
        if (nb && b[nb - 1] == '.')
                nb--;
        return na == nb && strncasecmp(a, b, na) == 0;
}
