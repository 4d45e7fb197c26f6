/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes MAIL and RCPT parameters: the input is the rest of a command
 * line. Whatever is taken must be a value the envelope's reader takes
 * again (the stages check each other with the same grammar), and whatever
 * is refused gets one printable reply line.
 */
#include <stdlib.h>

#include "services/receive/receive-command.h"
#include "services/receive/receive-params.h"
#include "shared/limits.h"
#include "shared/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(int r, const char *reply) {
        if (r == -ENOMEM)
                return;
        if (r != -EINVAL || !ascii_printable(reply, strlen(reply)) ||
            (strncmp(reply, "501 5.5.4 ", 10) != 0 && strncmp(reply, "555 5.5.4 ", 10) != 0))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char line[SMTP_COMMAND_LINE_MAX + 32], reply[SMTP_REPLY_LINE_MAX];
        MailParams mp = {};
        RcptParams rp = {};
        Command c;
        int r;

        if (size > SMTP_COMMAND_LINE_MAX)
                return 0;
        memcpy(line, "MAIL FROM:<a@b.c> ", 18);
        memcpy(line + 18, data, size);
        if (command_parse((const uint8_t *) line, 18 + size, &c) >= 0) {
                r = mail_params_parse(c.params, c.n_params, &mp, reply, sizeof(reply));
                if (r >= 0 && mp.envid && dsn_envid_check(mp.envid) < 0)
                        abort();
                if (r < 0)
                        check_reply(r, reply);
                mail_params_done(&mp);
        }
        memcpy(line, "RCPT TO:<a@b.c>   ", 18);
        if (command_parse((const uint8_t *) line, 18 + size, &c) >= 0) {
                r = rcpt_params_parse(c.params, c.n_params, &rp, reply, sizeof(reply));
                if (r >= 0 && rp.orcpt && dsn_orcpt_check(rp.orcpt) < 0)
                        abort();
                if (r >= 0 && (rp.notify & DSN_NOTIFY_NEVER) && rp.notify != DSN_NOTIFY_NEVER)
                        abort();
                if (r < 0)
                        check_reply(r, reply);
                rcpt_params_done(&rp);
        }
        return 0;
}
