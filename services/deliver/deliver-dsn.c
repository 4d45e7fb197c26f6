/* SPDX-License-Identifier: MIT */
/*
 * Dsn helpers: the one place a delivery outcome is built and copied, so
 * every diagnostic that reaches the state file, a bounce or the journal
 * has gone through escape_printable() first.
 */
#include <string.h>

#include "services/deliver/deliver-dsn.h"
#include "shared/escape.h"
#include "shared/limits.h"
#include "shared/macro.h"

static const char * const status_names[_DELIVERY_STATUS_MAX] = {
        [DELIVERY_SENT] = "sent",
        [DELIVERY_DEFERRED] = "deferred",
        [DELIVERY_BOUNCED] = "bounced",
};

const char *delivery_status_to_string(DeliveryStatus s) {
        if (s < 0 || s >= _DELIVERY_STATUS_MAX)
                return NULL;
        return status_names[s];
}

DeliveryStatus delivery_status_from_string(const char *s) {
        for (int i = 0; i < _DELIVERY_STATUS_MAX; i++)
                if (streq(s, status_names[i]))
                        return (DeliveryStatus) i;
        return _DELIVERY_STATUS_INVALID;
}

void dsn_done(Dsn *d) {
        free(d->diagnostic);
        free(d->relay);
        free(d->tls);
        *d = (Dsn) {};
}

int dsn_set(Dsn *d, DeliveryStatus s, const char *code, const char *diag, bool remote) {
        char *text = NULL;

        if (diag) {
                text = escape_printable_dup(diag, strlen(diag), SMTP_REPLY_LINE_MAX * 2);
                if (!text)
                        return -ENOMEM;
        }
        if (code != d->code)
                (void) snprintf(d->code, sizeof(d->code), "%s", code);
        free(d->diagnostic);
        d->diagnostic = text;
        d->status = s;
        d->remote = remote;
        d->valid = true;
        return 0;
}

static int dup_opt(char **dst, const char *src) {
        free(*dst);
        *dst = NULL;
        if (src && !(*dst = strdup(src)))
                return -ENOMEM;
        return 0;
}

int dsn_copy(Dsn *dst, const Dsn *src) {
        int r;

        if (dst == src)
                return 0;
        r = dsn_set(dst, src->status, src->code, src->diagnostic, src->remote);
        if (r >= 0)
                r = dup_opt(&dst->relay, src->relay);
        if (r >= 0)
                r = dup_opt(&dst->tls, src->tls);
        dst->valid = src->valid;
        dst->dsn_passed = src->dsn_passed;
        dst->final = src->final;
        return r;
}
