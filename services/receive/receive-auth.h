/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

/*
 * Password verification for AUTH, off the event loop. crypt(3) with
 * yescrypt costs tens of milliseconds of CPU by design; on receive's
 * event loop that would stall every session for each guess. A verifier
 * owns one worker thread and a queue: the loop queues a check, the worker
 * runs crypt_rn() against the users file, and the result comes back to
 * the loop through an eventfd, like any other event (the pattern of
 * receive-commit.c's committer).
 *
 * The worker owns the users table: it loads it when it starts, and again
 * before a check whenever the file's inode, size or modification time
 * changed, so `pochtar user add` takes effect without a restart. A file
 * that fails to load keeps the last good table (a file that is gone
 * leaves none); its error (file:line) is logged once, by the loop.
 *
 * There is no queue bound of its own: each session has at most one check
 * queued, and sessions are bounded by max_sessions.
 */
typedef struct AuthVerifier AuthVerifier;
typedef struct AuthRequest AuthRequest;

/*
 * @result: 0 accepted; -EACCES a wrong password, an unknown user or a
 * locked one (the same answer after about the same time: an unknown or
 * locked user's password is still run through crypt with a hash of the
 * same cost); -EIO the users file cannot be read or parsed and no good
 * table is loaded, or the check itself failed (454 4.7.0, temporary).
 * @senders: on 0, a NULL-terminated copy of the user's senders, the
 * callee's after the call (strv_free()); NULL otherwise.
 */
typedef void (*AuthDoneFn)(int result, char **senders, void *userdata);

/* @service_uid: the uid the users file must be owned by besides root
 * (passed to the users file loader's owner check). */
int auth_verifier_new(sd_event *e, const char *users_path, uid_t service_uid, AuthVerifier **ret);
/* Joins the thread (after the check it is running, if any); requests
 * still queued are dropped without callback. Not from inside a @done. */
AuthVerifier *auth_verifier_free(AuthVerifier *v);

/*
 * Queues a check of @user and @password (copied; the copy is wiped when
 * done). @done runs later on the event loop, never inside this call, and
 * then the request is gone. *@ret (may be NULL) names the request for
 * auth_request_cancel() until @done runs. Returns 0 or -ENOMEM.
 */
int auth_verify(AuthVerifier *v, const char *user, const char *password, AuthDoneFn done, void *userdata,
                AuthRequest **ret);
/* The session went away: @done is never called for @r. */
void auth_request_cancel(AuthRequest *r);

/* A password that passed crypt is remembered this long (receive-auth.c
 * says how, and what that trades): an app server that connects per
 * message pays crypt once in this time, not per message. A changed,
 * removed or locked user no longer matches at once. */
#define AUTH_CACHE_TTL_USEC (15 * 60 * UINT64_C(1000000))

/* How many checks ran crypt, and how many the cache answered. */
void auth_verifier_stats(AuthVerifier *v, uint64_t *ret_crypt_runs, uint64_t *ret_cache_hits);

static inline void auth_verifier_freep(AuthVerifier **v) {
        if (*v)
                *v = auth_verifier_free(*v);
}
