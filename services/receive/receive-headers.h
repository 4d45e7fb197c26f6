/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"
#include "shared/rfc5322.h"

/*
 * What receive changes in a message, and nothing more: it prepends
 * Received:, adds Date: and Message-ID: when missing (as Postfix does for
 * mail from local clients), qualifies unqualified addresses with the
 * origin domain in the envelope and in From/Sender/To/Cc, and applies the
 * optional sender map to the envelope sender and From/Sender. Pure.
 */
typedef struct SenderMapEntry {
        char *key;              /* "root" (a local part) or "root@host" */
        char *value;            /* the address to use instead */
} SenderMapEntry;

typedef struct SenderMap {
        SenderMapEntry *entries;
        size_t n_entries;
} SenderMap;

typedef struct HeaderContext {
        const char *origin_domain;
        const SenderMap *sender_map;    /* may be NULL */
        const char *hostname;
        const char *queue_id;
        uint64_t now_usec;              /* CLOCK_REALTIME */
} HeaderContext;

/* Largest sender map file read, and longest line in it. */
#define SENDER_MAP_FILE_MAX (1024 * 1024)

int sender_map_parse(const char *text, size_t n, SenderMap *ret, unsigned *ret_line);
void sender_map_done(SenderMap *m);
const char *sender_map_lookup(const SenderMap *m, const char *origin_domain, const char *addr, size_t n);

int address_rewrite(const HeaderContext *ctx, const char *addr, size_t n, bool sender, Buf *out);

int headers_rewrite(const HeaderContext *ctx, const uint8_t *p, size_t n, Buf *out);
int headers_format_received(const HeaderContext *ctx, const char *helo, const char *client,
                            const char *protocol, const char *tls, const char *rcpt, Buf *out);
