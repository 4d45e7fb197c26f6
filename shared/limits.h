/* SPDX-License-Identifier: MIT */
/*
 * Every protocol and resource limit in one place, each with its source.
 * Input past a limit is refused with a stated action, never truncated
 * silently.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* RFC 5321 §4.5.3.1.4: command line, including the verb and CRLF. RFC 1870
 * and RFC 3461 extensions (SIZE, DSN) raise it; RFC 5321 §4.5.3.1 permits
 * that, and Postfix accepts 2048 by default (line_length_limit). */
#define SMTP_COMMAND_LINE_MAX 2048
/* RFC 5321 §4.5.3.1.5: reply line, including the code and CRLF. */
#define SMTP_REPLY_LINE_MAX 512
/* How many lines of one multi-line reply we keep (deliver); more are drained. */
#define SMTP_REPLY_LINES_MAX 64
/* RFC 5321 §4.5.3.1.6: text line, including CRLF. receive re-encodes a
 * message with a longer line before it is signed, or refuses it
 * (services/receive/receive-reencode.h); none leaves the machine. */
#define SMTP_TEXT_LINE_MAX 1000
/* RFC 5321 §4.5.3.1.1-3: local part 64, domain 255, path 256 octets. */
#define SMTP_LOCAL_PART_MAX 64
#define SMTP_DOMAIN_MAX 255
#define SMTP_PATH_MAX 256
/* A submission user's login name: the users file's NAME (pochtar-users(5)),
 * what AUTH accepts and what the envelope's `auth` line carries. */
#define AUTH_USER_MAX 64
/* RFC 5321 §4.5.3.1.8: at least 100 recipients must be accepted. Postfix
 * smtpd_recipient_limit is 1000. */
#define SMTP_RCPTS_DEFAULT 1000
/* RFC 3461 §4.2: ORCPT value, and §4.4: ENVID, in xtext, ≤ 100 chars. */
#define DSN_ORCPT_MAX 500
#define DSN_ENVID_MAX 100
/* Postfix message_size_limit default; [receive] max_message_size may be
 * set between the two bounds below. Every stage reads a whole message
 * into memory, so there is no "0 for no limit". */
#define MESSAGE_SIZE_DEFAULT 10240000
#define MESSAGE_SIZE_MIN 1024
#define MESSAGE_SIZE_MAX (1024 * 1024 * 1024)
/* Postfix header_size_limit: the header section receive and sign parse. */
#define HEADER_SECTION_MAX 102400
/* OpenSMTPD rfc5322.c caps: header field name and value. */
#define HEADER_NAME_MAX 1024
#define HEADER_VALUE_MAX 65536
/* Header fields in one section, as Postfix's header_address_token_limit
 * bounds the work one header may cause. */
#define HEADER_FIELDS_MAX 1000
/* Names of oversign_headers, each signed once more than it occurs. */
#define DKIM_OVERSIGN_MAX 64
/* A spool envelope (all lines before the message) is bounded: 1000
 * recipients with full DSN parameters fit comfortably. */
#define ENVELOPE_MAX (1024 * 1024)
/* What sign adds to a message at most: its DKIM-Signature fields (one per
 * key, h= at most DKIM_SIGNED_NAMES_MAX names). */
#define DKIM_SIGNATURES_MAX (64 * 1024)

/*
 * The one bound on a message in a queue file, from max_message_size (what
 * a client may send): receive writes the body as it came, or re-encoded
 * within max_message_size, and a header section its parser takes
 * (HEADER_SECTION_MAX, Received: and the rest included); sign adds its
 * signatures. A reader refuses a longer file; the writer refuses at SMTP
 * time what would make one.
 */
static inline uint64_t spool_message_max(uint64_t max_message_size, bool signed_copy) {
        return max_message_size + HEADER_SECTION_MAX + (signed_copy ? DKIM_SIGNATURES_MAX : 0);
}
/* Postfix smtp_mx_address_limit. */
#define MX_HOSTS_MAX 5
/* RFC 1035 §2.3.4 */
#define DNS_NAME_MAX 255
/* RFC 1035 §4.2.2: the longest DNS message a two-octet length can frame
 * (TCP); a UDP answer, EDNS0 or not, is no longer. */
#define DNS_MESSAGE_MAX 65535
