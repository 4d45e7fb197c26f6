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
 * part of a CRLF pair never ends the message: it is recorded, the decoder
 * keeps reading to the real terminator, and the session refuses the
 * transaction (SMTP smuggling, CVE-2023-51764).
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
        unsigned errors;        /* DataError bits */
        uint64_t size;          /* decoded bytes, counted even past max */
        uint64_t max;           /* message size limit; 0: none */
} DataDecoder;

#define DATA_DECODER_INIT(m) ((DataDecoder) { .state = DATA_STATE_BOL, .max = (m) })

int data_decoder_feed(DataDecoder *d, const uint8_t *p, size_t n, Buf *out, size_t *ret_consumed);
