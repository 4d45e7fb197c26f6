/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Queue IDs: 16 characters of Crockford base32, 11 for the arrival time
 * in microseconds (ordered until the year 3111) and 5 random (25 bits).
 * Lexical order is time order; the same ID names the message in every
 * spool directory and every log line.
 */
#define QUEUE_ID_LEN 16
#define QUEUE_ID_TIME_CHARS 11

int queue_id_new(char ret[static QUEUE_ID_LEN + 1]);
void queue_id_format(uint64_t usec, uint32_t rnd, char ret[static QUEUE_ID_LEN + 1]);
bool queue_id_valid(const char *s);
uint64_t queue_id_usec(const char *id);
