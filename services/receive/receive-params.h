/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "services/receive/receive-command.h"
#include "shared/envelope.h"

/*
 * The ESMTP parameters of MAIL and RCPT, checked against their RFC
 * grammar: SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531), RET,
 * ENVID, NOTIFY and ORCPT (RFC 3461, values through shared/dsn-param.h)
 * and AUTH= (RFC 4954). Pure: the parameters as command_parse() split
 * them in, the decoded values out, or the exact reply that refuses them.
 * Each parameter may be given once. Whether the client may use ESMTP
 * parameters at all (after EHLO) and what SIZE is allowed are the
 * session's business.
 */
typedef struct MailParams {
        bool has_size;
        uint64_t size;
        BodyType body;
        bool smtputf8;
        DsnRet ret;
        char *envid;            /* decoded, or NULL */
        /* RFC 4954 §5: AUTH= from a client that did not authenticate is
         * treated as AUTH=<>: checked, then not passed on. */
        bool has_auth;
} MailParams;

typedef struct RcptParams {
        unsigned notify;        /* DsnNotify bits; 0: not given */
        char *orcpt;            /* decoded "addr-type;address", or NULL */
} RcptParams;

void mail_params_done(MailParams *p);
void rcpt_params_done(RcptParams *p);

/*
 * Parse @params[0..@n) of a MAIL (or RCPT) command into *@ret. Returns 0;
 * -EINVAL with the whole reply line (no CRLF) in @reply: "501 5.5.4 ..."
 * for a value against its grammar or a parameter given twice, "555 5.5.4
 * ..." for a parameter we do not know; or -ENOMEM.
 */
int mail_params_parse(const CommandParam *params, size_t n, MailParams *ret, char *reply, size_t reply_size);
int rcpt_params_parse(const CommandParam *params, size_t n, RcptParams *ret, char *reply, size_t reply_size);
