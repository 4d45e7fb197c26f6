/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * One trip of client parameter bytes through every stage that handles
 * them, in process: receive's command and parameter parsers, the
 * envelope's writer and reader (the spool), deliver's MAIL/RCPT writer
 * and its bounce writer. @data is MAIL parameters, a NUL, then RCPT
 * parameters, as a client would put them after the path. Either receive
 * refuses them, or every later step takes them and what leaves the
 * machine is exactly one command line each, which receive's own parsers
 * read back as the same values, and a report with exactly its own
 * fields. Aborts otherwise. Returns true when the parameters went the
 * whole way, false when receive refused them.
 */
#include <stdbool.h>

bool param_chain_check(const uint8_t *data, size_t size);
