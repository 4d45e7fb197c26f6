/* SPDX-License-Identifier: MIT */
/*
 * JSON string output. Bytes ≥ 0x80 are passed through: every string we
 * print was either validated as UTF-8 (addresses, address.c) or censored
 * to printable ASCII (escape.c) before it gets here.
 */
#include "cli/json-print.h"

void json_print_string(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        fputc('"', f);
}

void json_print_member(FILE *f, const char *key, const char *value) {
        json_print_string(f, key);
        fputs(": ", f);
        if (value)
                json_print_string(f, value);
        else
                fputs("null", f);
}
