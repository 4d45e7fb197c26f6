/* SPDX-License-Identifier: MIT */
#include <stdint.h>

#include "shared/address.h"
#include "shared/limits.h"
#include "shared/macro.h"

bool utf8_valid(const char *p, size_t n) {
        const unsigned char *s = (const unsigned char *) p;
        size_t i = 0;

        while (i < n) {
                unsigned char c = s[i];
                size_t len;
                uint32_t cp;

                if (c < 0x80) {
                        i++;
                        continue;
                } else if (c >= 0xc2 && c <= 0xdf) {
                        len = 2;
                        cp = c & 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        len = 3;
                        cp = c & 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        len = 4;
                        cp = c & 0x07;
                } else
                        return false;
                if (n - i < len)
                        return false;
                for (size_t k = 1; k < len; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + k] & 0x3f);
                }
                /* reject overlong forms, surrogates and values past U+10FFFF */
                if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += len;
        }
        return true;
}

bool address_is_ascii(const char *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) p[i] >= 0x80)
                        return false;
        return true;
}

static bool is_atext(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int dot_string_valid(const char *p, size_t n, unsigned flags) {
        bool prev_dot = true;   /* no leading dot */

        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) p[i];

                if (c == '.') {
                        if (prev_dot)
                                return -EINVAL;
                        prev_dot = true;
                        continue;
                }
                prev_dot = false;
                if (c >= 0x80 && (flags & ADDRESS_UTF8))
                        continue;       /* UTF-8 checked as a whole below */
                if (c == 0 || !is_atext(c))
                        return -EINVAL;
        }
        if (prev_dot)
                return -EINVAL;         /* empty or trailing dot */
        return 0;
}

static int quoted_string_valid(const char *p, size_t n, unsigned flags) {
        if (n < 2 || p[0] != '"' || p[n - 1] != '"')
                return -EINVAL;
        for (size_t i = 1; i < n - 1; i++) {
                unsigned char c = (unsigned char) p[i];

                if (c == '\\') {
                        /* RFC 5321 quoted-pairSMTP: backslash then %d32-126 */
                        if (i + 1 >= n - 1)
                                return -EINVAL;
                        c = (unsigned char) p[++i];
                        if (c < 32 || c > 126)
                                return -EINVAL;
                        continue;
                }
                if (c >= 0x80 && (flags & ADDRESS_UTF8))
                        continue;
                /* qtextSMTP: %d32-33 / %d35-91 / %d93-126 */
                if (c < 32 || c > 126 || c == '"')
                        return -EINVAL;
        }
        return 0;
}

int local_part_valid(const char *p, size_t n, unsigned flags) {
        if (n == 0 || n > SMTP_LOCAL_PART_MAX)
                return -EINVAL;
        if (!(flags & ADDRESS_UTF8) && !address_is_ascii(p, n))
                return -EINVAL;
        if ((flags & ADDRESS_UTF8) && !utf8_valid(p, n))
                return -EINVAL;
        if (p[0] == '"')
                return quoted_string_valid(p, n, flags);
        return dot_string_valid(p, n, flags);
}

static int address_literal_valid(const char *p, size_t n) {
        /* RFC 5321 §4.1.3: "[" (IPv4 | "IPv6:" ... | tag ":" dcontent) "]" */
        if (n < 3 || p[0] != '[' || p[n - 1] != ']')
                return -EINVAL;
        for (size_t i = 1; i < n - 1; i++) {
                unsigned char c = (unsigned char) p[i];
                /* dcontent: %d33-90 / %d94-126, i.e. printable without [ \ ] */
                if (c < 33 || c > 126 || c == '[' || c == '\\' || c == ']')
                        return -EINVAL;
        }
        return 0;
}

int domain_valid(const char *p, size_t n, unsigned flags) {
        size_t label = 0;

        if (n == 0 || n > SMTP_DOMAIN_MAX)
                return -EINVAL;
        if (p[0] == '[')
                return address_literal_valid(p, n);
        if ((flags & ADDRESS_UTF8) && !utf8_valid(p, n))
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) p[i];

                if (c == '.') {
                        /* labels neither empty nor ending in '-' (RFC 5321 Ldh-str) */
                        if (label == 0 || p[i - 1] == '-')
                                return -EINVAL;
                        label = 0;
                        continue;
                }
                if (c >= 0x80) {
                        if (!(flags & ADDRESS_UTF8))
                                return -EINVAL;
                } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9') || (c == '-' && label > 0)))
                        return -EINVAL;
                if (++label > 63)
                        return -EINVAL;
        }
        if (label == 0 || p[n - 1] == '-')
                return -EINVAL;
        return 0;
}

/* The separating "@" is the last one: a domain never contains "@", a
 * quoted local part may. */
static const char *find_at(const char *p, size_t n) {
        for (size_t i = n; i > 0; i--)
                if (p[i - 1] == '@')
                        return p + i - 1;
        return NULL;
}

int address_valid(const char *p, size_t n, unsigned flags) {
        const char *at;
        int r;

        if (n == 0 || n > SMTP_PATH_MAX - 2)
                return -EINVAL;
        if (memchr(p, 0, n))
                return -EINVAL;
        at = find_at(p, n);
        if (!at) {
                if (!(flags & ADDRESS_UNQUALIFIED))
                        return -EINVAL;
                return local_part_valid(p, n, flags);
        }
        r = local_part_valid(p, (size_t) (at - p), flags);
        if (r < 0)
                return r;
        return domain_valid(at + 1, n - (size_t) (at - p) - 1, flags);
}

const char *address_domain(const char *addr) {
        const char *at = find_at(addr, strlen(addr));

        return at ? at + 1 : NULL;
}
