/* SPDX-License-Identifier: MIT */
/*
 * RFC 3461 DSN parameters: see dsn-param.h. The decoded values are
 * checked byte by byte against an allow-list, and their length is
 * bounded by the length of their shortest xtext form, which is what
 * deliver writes: whatever a client sent, what leaves the machine again
 * fits the same RFC limits.
 */
#include <stdlib.h>

#include "shared/address.h"
#include "shared/dsn-param.h"
#include "shared/limits.h"
#include "shared/macro.h"
#include "shared/xtext.h"

const char *dsn_ret_to_string(DsnRet r) {
        switch (r) {
        case DSN_RET_FULL:
                return "FULL";
        case DSN_RET_HDRS:
                return "HDRS";
        default:
                return NULL;
        }
}

DsnRet dsn_ret_from_string(const char *p, size_t n) {
        if (ascii_strncaseeq(p, n, "FULL"))
                return DSN_RET_FULL;
        if (ascii_strncaseeq(p, n, "HDRS"))
                return DSN_RET_HDRS;
        return DSN_RET_UNSET;
}

static const struct {
        unsigned bit;
        const char *name;
} notify_names[] = {
        { DSN_NOTIFY_NEVER, "NEVER" },
        { DSN_NOTIFY_SUCCESS, "SUCCESS" },
        { DSN_NOTIFY_FAILURE, "FAILURE" },
        { DSN_NOTIFY_DELAY, "DELAY" },
};

int dsn_notify_format(unsigned notify, Buf *out) {
        bool first = true;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(notify_names); i++) {
                if (!(notify & notify_names[i].bit))
                        continue;
                r = buf_printf(out, "%s%s", first ? "" : ",", notify_names[i].name);
                if (r < 0)
                        return r;
                first = false;
        }
        return 0;
}

int dsn_notify_parse(const char *p, size_t n, unsigned *ret) {
        unsigned v = 0;
        size_t start = 0;

        if (n == 0)
                return -EINVAL;
        for (size_t i = 0; i <= n; i++) {
                bool found = false;

                if (i < n && p[i] != ',')
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(notify_names); k++)
                        if (ascii_strncaseeq(p + start, i - start, notify_names[k].name)) {
                                if (v & notify_names[k].bit)
                                        return -EINVAL;
                                v |= notify_names[k].bit;
                                found = true;
                        }
                if (!found)
                        return -EINVAL;
                start = i + 1;
        }
        if ((v & DSN_NOTIFY_NEVER) && v != DSN_NOTIFY_NEVER)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* Length of the shortest xtext of p[0..n): what xtext_encode() writes. */
static size_t xtext_len(const char *p, size_t n) {
        size_t k = 0;

        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) p[i];

                k += c >= '!' && c <= '~' && c != '+' && c != '=' ? 1 : 3;
        }
        return k;
}

/* UTF-8 with no C0 control, DEL or C1 control (U+0080..U+009F). */
static bool printable_utf8(const char *p, size_t n) {
        if (!utf8_valid(p, n))
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) p[i];

                if (c < ' ' || c == 0x7f)
                        return false;
                /* C1 controls are U+0080..U+009F: 0xC2 0x80..0x9F */
                if (c == 0xc2 && i + 1 < n && (unsigned char) p[i + 1] <= 0x9f)
                        return false;
        }
        return true;
}

/* Decodes the xtext p[0..n), at most @max characters, into a fresh string. */
static int decode_xtext(const char *p, size_t n, size_t max, char **ret, const char **ret_why) {
        _cleanup_(buf_done) Buf b = BUF_INIT(max);
        int r;

        if (n == 0 || n > max) {
                *ret_why = n == 0 ? "empty" : "too long";
                return -EINVAL;
        }
        r = xtext_decode(p, n, &b);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret_why = "not xtext (RFC 3461 section 4)";
                return -EINVAL;
        }
        if (memchr(b.data, 0, b.len)) {
                *ret_why = "holds a NUL";
                return -EINVAL;
        }
        *ret = buf_steal_str(&b);
        return *ret ? 0 : -ENOMEM;
}

static int envid_check(const char *p, size_t n, const char **ret_why) {
        if (n == 0 || xtext_len(p, n) > DSN_ENVID_MAX) {
                *ret_why = n == 0 ? "empty" : "too long";
                return -EINVAL;
        }
        /* RFC 3461 §4.4: "printable (graphic and white space) characters
         * from the US-ASCII repertoire" */
        if (!ascii_printable(p, n)) {
                *ret_why = "not printable US-ASCII";
                return -EINVAL;
        }
        return 0;
}

int dsn_envid_decode(const char *p, size_t n, char **ret, const char **ret_why) {
        _cleanup_free_ char *v = NULL;
        int r;

        r = decode_xtext(p, n, DSN_ENVID_MAX, &v, ret_why);
        if (r < 0)
                return r;
        r = envid_check(v, strlen(v), ret_why);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

int dsn_envid_check(const char *envid) {
        const char *why;

        return envid_check(envid, strlen(envid), &why);
}

/* Length of the addr-type at the start of p[0..n), up to its ";", or 0
 * when p does not start with "addr-type;". */
static size_t addr_type_len(const char *p, size_t n) {
        size_t i = 0;

        while (i < n && i <= DSN_ADDR_TYPE_MAX &&
               ((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z') ||
                (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
                i++;
        if (i == 0 || i > DSN_ADDR_TYPE_MAX || i >= n || p[i] != ';')
                return 0;
        return i;
}

static int orcpt_check(const char *p, size_t n, const char **ret_why) {
        size_t t = addr_type_len(p, n);
        const char *a = p + t + 1;
        size_t an = n - t - 1;

        if (t == 0) {
                *ret_why = "expected address type, \";\" and address";
                return -EINVAL;
        }
        if (an == 0) {
                *ret_why = "empty address";
                return -EINVAL;
        }
        if (t + 1 + xtext_len(a, an) > DSN_ORCPT_MAX) {
                *ret_why = "too long";
                return -EINVAL;
        }
        if (!(ascii_strncaseeq(p, t, "utf-8") ? printable_utf8(a, an) : ascii_printable(a, an))) {
                *ret_why = "address not printable";
                return -EINVAL;
        }
        return 0;
}

int dsn_orcpt_decode(const char *p, size_t n, char **ret, const char **ret_why) {
        _cleanup_free_ char *v = NULL;
        size_t t;
        int r;

        /* The addr-type is an atom, not xtext: it must stand as such
         * before the ";" of the raw value, not be made by decoding. */
        t = addr_type_len(p, n);
        if (t == 0) {
                *ret_why = "expected address type, \";\" and xtext";
                return -EINVAL;
        }
        r = decode_xtext(p, n, DSN_ORCPT_MAX, &v, ret_why);
        if (r < 0)
                return r;
        r = orcpt_check(v, strlen(v), ret_why);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

int dsn_orcpt_check(const char *orcpt) {
        const char *why;

        return orcpt_check(orcpt, strlen(orcpt), &why);
}

int dsn_orcpt_encode(const char *orcpt, Buf *out) {
        size_t n = strlen(orcpt), t;
        int r;

        if (dsn_orcpt_check(orcpt) < 0)
                return -EINVAL;
        t = addr_type_len(orcpt, n);
        r = buf_append(out, orcpt, t + 1);
        if (r < 0)
                return r;
        return xtext_encode(out, orcpt + t + 1, n - t - 1);
}
