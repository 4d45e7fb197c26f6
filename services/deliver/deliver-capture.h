/* SPDX-License-Identifier: MIT */
#pragma once

#include "services/deliver/deliver-queue.h"

/*
 * mode = capture: every message goes into a local maildir instead of the
 * network (the README's development mode).
 */
typedef struct Capture Capture;

int capture_new(const char *dir, Capture **ret);
Capture *capture_free(Capture *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Capture *, capture_free);
int capture_attempt(Message *m, void *userdata);
