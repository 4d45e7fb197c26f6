/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "services/deliver/deliver-reply.h"
#include "shared/buf.h"
#include "shared/envelope.h"

/*
 * The commands deliver writes that carry envelope data: MAIL FROM (with
 * SIZE, BODY, SMTPUTF8, RET, ENVID) and RCPT TO (with NOTIFY, ORCPT),
 * RFC 5321 §4.1.1.2-3 and the extensions' grammar. Pure. Each value is
 * written as data: ENVID and the ORCPT address in xtext (RFC 3461), the
 * addresses only if they are valid. A parameter is written only when the
 * server offered its extension (@caps). The line has no CRLF; a value
 * that would put a control byte, a non-ASCII byte without SMTPUTF8, or
 * more than the line limit into it makes the function refuse (-EINVAL,
 * -E2BIG) instead of writing: one command is one line, always.
 */
int mail_command_format(const Envelope *env, const EhloCaps *caps, size_t size, bool body_8bit, Buf *out);
int rcpt_command_format(const Envelope *env, const Recipient *rc, const EhloCaps *caps, Buf *out);
