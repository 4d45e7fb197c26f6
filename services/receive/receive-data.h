/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"

/*
 * The DATA decoder: a byte state machine that finds the one terminator
 * RFC 5321 §4.1.1.4 defines, <CRLF>.<CRLF>, however the bytes are split
 * across reads, and undoes dot-stuffing (§4.5.2). A CR or LF that is not
 * part of a CRLF pair never ends the message (SMTP smuggling,
 * CVE-2023-51764). A bare CR is recorded, the decoder keeps reading to
 * the real terminator, and the session refuses the transaction. A bare
 * LF is the same, unless the decoder normalizes (bare_newline =
 * normalize, as Postfix 3.9's smtpd_forbid_bare_newline): then it ends a
 * content line and is written as CRLF, but a "." line after it is
 * content, never the terminator, which only a real CRLF may precede.
 * It also notes whether a content line is longer than RFC 5321
 * §4.5.3.1.6 allows (998 octets without CRLF, dot-unstuffed).
 */
typedef enum DataState {
        DATA_STATE_BOL,         /* at the start of a line (after CRLF, or after "354") */
        DATA_STATE_DOT,         /* "." at the start of a line */
        DATA_STATE_DOT_CR,      /* ".\r" at the start of a line */
        DATA_STATE_TEXT,        /* inside a line */
        DATA_STATE_CR,          /* "\r" inside a line */
        DATA_STATE_DONE,        /* the terminator was seen */
} DataState;

typedef enum DataResult {
        DATA_MORE = 1,          /* consumed everything, need more input */
        DATA_END,               /* saw <CRLF>.<CRLF>; *ret_consumed stops right after it */
} DataResult;

typedef enum DataError {
        DATA_ERROR_BARE_LF = 1 << 0,    /* RFC 5321 §2.3.8: refuse the transaction */
        DATA_ERROR_BARE_CR = 1 << 1,
        DATA_ERROR_TOO_BIG = 1 << 2,    /* past max: output stopped, input drained */
} DataError;

typedef struct DataDecoder {
        DataState state;
        bool normalize_lf;      /* a bare LF ends a line (as CRLF) instead of refusing */
        bool after_lf;          /* the line began after a bare LF: no terminator on it */
        bool long_line;         /* a content line was over SMTP_TEXT_LINE_MAX - 2 octets */
        bool lf_normalized;     /* a bare LF was written as CRLF */
        unsigned errors;        /* DataError bits */
        uint64_t size;          /* decoded bytes, counted even past max */
        uint64_t max;           /* message size limit; 0: none */
        uint64_t line;          /* octets of the current content line so far */
} DataDecoder;

#define DATA_DECODER_INIT(m) ((DataDecoder) { .state = DATA_STATE_BOL, .max = (m) })
#define DATA_DECODER_INIT_NORMALIZE(m) ((DataDecoder) { .state = DATA_STATE_BOL, .max = (m), .normalize_lf = true })

int data_decoder_feed(DataDecoder *d, const uint8_t *p, size_t n, Buf *out, size_t *ret_consumed);
