/* SPDX-License-Identifier: MIT */
/*
 * RFC 6376 §3.2 tag-list parser, shared by the DKIM, DMARC, MTA-STS and
 * TLS-RPT checks: tag-spec = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS],
 * separated by ";", an optional trailing ";". Input is a TXT record from
 * the network: every byte is checked against the grammar.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "cli/dns-tags.h"

static bool is_wsp(char c) {
        /* FWS: the resolver hands us the record without CRLFs; tolerate them */
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_name_char(char c) {
        return is_alpha(c) || (c >= '0' && c <= '9') || c == '_';
}

/* tval = 1*VALCHAR, VALCHAR = %x21-3A / %x3C-7E */
static bool is_value_char(char c) {
        return c >= 0x21 && c <= 0x7e && c != ';';
}

int dns_tags_parse(const char *p, size_t n, DnsTag *tags, size_t max, size_t *ret_n,
                   const char **ret_error) {
        size_t i = 0, k = 0;
        const char *error = NULL;

        while (i < n) {
                DnsTag t = {};
                size_t end;

                while (i < n && is_wsp(p[i]))
                        i++;
                if (i == n)
                        break;          /* trailing ";" and whitespace */
                if (!is_alpha(p[i])) {
                        error = "a tag name must start with a letter";
                        goto bad;
                }
                t.name = p + i;
                while (i < n && is_name_char(p[i]))
                        i++;
                t.name_len = (size_t) (p + i - t.name);
                while (i < n && is_wsp(p[i]))
                        i++;
                if (i == n || p[i] != '=') {
                        error = "'=' expected after a tag name";
                        goto bad;
                }
                i++;
                while (i < n && is_wsp(p[i]))
                        i++;
                t.value = p + i;
                end = i;
                while (i < n && p[i] != ';') {
                        if (!is_wsp(p[i]) && !is_value_char(p[i])) {
                                error = "a tag value contains a byte outside printable ASCII";
                                goto bad;
                        }
                        i++;
                        if (!is_wsp(p[i - 1]))
                                end = i;
                }
                t.value_len = (size_t) (p + end - t.value);
                for (size_t j = 0; j < k; j++)
                        if (tags[j].name_len == t.name_len &&
                            memcmp(tags[j].name, t.name, t.name_len) == 0) {
                                if (ret_error)
                                        *ret_error = "a tag is given twice";
                                return -ENOTUNIQ;
                        }
                if (k == max) {
                        if (ret_error)
                                *ret_error = "too many tags";
                        return -E2BIG;
                }
                tags[k++] = t;
                if (i < n)
                        i++;            /* the ";" */
        }
        *ret_n = k;
        return 0;
bad:
        if (ret_error)
                *ret_error = error;
        return -EBADMSG;
}

const DnsTag *dns_tags_find(const DnsTag *tags, size_t n, const char *name) {
        size_t len = strlen(name);

        for (size_t i = 0; i < n; i++)
                if (tags[i].name_len == len && memcmp(tags[i].name, name, len) == 0)
                        return &tags[i];
        return NULL;
}

int dns_tag_is(const DnsTag *t, const char *s) {
        return t && t->value_len == strlen(s) && memcmp(t->value, s, t->value_len) == 0;
}
