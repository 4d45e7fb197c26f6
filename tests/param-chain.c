/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>

#include "services/deliver/deliver-bounce.h"
#include "services/deliver/deliver-command.h"
#include "services/receive/receive-command.h"
#include "services/receive/receive-params.h"
#include "shared/address.h"
#include "shared/limits.h"
#include "shared/macro.h"
#include "tests/param-chain.h"
#include "tests/report-check.h"

static void fail(const char *what, const char *line) {
        fprintf(stderr, "param chain: %s: '%s'\n", what, line ? line : "");
        abort();
}

/* "PREFIX" + p[0..n) parsed as a command; false if receive refuses it. */
static bool parse_line(const char *prefix, const uint8_t *p, size_t n, char *line, Command *c) {
        size_t k = strlen(prefix);

        memcpy(line, prefix, k);
        memcpy(line + k, p, n);
        line[k + n] = 0;
        return command_parse((const uint8_t *) line, k + n, c) >= 0;
}

/* A line deliver wrote is one command: no byte that could end it. */
static void check_line(const Buf *b) {
        for (size_t i = 0; i < b->len; i++)
                if (b->data[i] < ' ' || b->data[i] == 0x7f)
                        fail("a control byte in a command", (const char *) b->data);
}

static bool streq_null(const char *a, const char *b) {
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool param_chain_check(const uint8_t *data, size_t size) {
        static const EhloCaps caps = { .pipelining = true, .eightbitmime = true, .dsn = true, .size = true };
        char line[2 * SMTP_COMMAND_LINE_MAX], reply[SMTP_REPLY_LINE_MAX];
        const uint8_t *z = memchr(data, 0, size);
        size_t nm = z ? (size_t) (z - data) : size, nr = z ? size - nm - 1 : 0;
        MailParams mp = {}, mp2 = {};
        RcptParams rp = {}, rp2 = {};
        Envelope e = {}, p = {};
        Buf file = BUF_INIT(0), cmd = BUF_INIT(0), report = BUF_INIT(0);
        Command c;
        bool whole = false;

        if (nm > SMTP_COMMAND_LINE_MAX || nr > SMTP_COMMAND_LINE_MAX)
                return false;
        /* receive: the client's MAIL and RCPT; a refusal ends the trip */
        if (!parse_line("MAIL FROM:<app@example.com> ", data, nm, line, &c) ||
            mail_params_parse(c.params, c.n_params, &mp, reply, sizeof(reply)) < 0)
                goto done;
        if (!parse_line("RCPT TO:<bob@example.org> ", z ? z + 1 : data, nr, line, &c) ||
            rcpt_params_parse(c.params, c.n_params, &rp, reply, sizeof(reply)) < 0)
                goto done;
        if (mp.smtputf8)
                goto done;      /* an ASCII path either way; SMTPUTF8 is the address's business */

        /* the spool: receive's envelope, read back as sign and deliver read it */
        memcpy(e.id, "0KQ3M5Z7A8B2C4D6", QUEUE_ID_LEN + 1);
        e.arrival_usec = UINT64_C(1764300000000000);
        e.sender = strdup("app@example.com");
        e.ret = mp.ret;
        e.envid = mp.envid ? strdup(mp.envid) : NULL;
        e.body = mp.body;
        if (!e.sender || (mp.envid && !e.envid) || envelope_add_rcpt(&e, "bob@example.org", rp.orcpt, rp.notify) < 0 ||
            envelope_format(&e, &file) < 0 || buf_append_str(&file, "Subject: x\r\n\r\nhi\r\n") < 0)
                fail("out of memory", NULL);
        if (envelope_parse(file.data, file.len, &p, NULL, NULL) < 0)
                fail("the envelope's reader refuses what receive took", (const char *) file.data);

        /* deliver: MAIL and RCPT exactly as received */
        if (mail_command_format(&p, &caps, 100, false, &cmd) < 0)
                fail("deliver cannot write the MAIL receive took", mp.envid);
        check_line(&cmd);
        if (buf_append_byte(&cmd, 0) < 0 || command_parse(cmd.data, cmd.len - 1, &c) < 0 || c.verb != COMMAND_MAIL ||
            mail_params_parse(c.params, c.n_params, &mp2, reply, sizeof(reply)) < 0)
                fail("deliver's MAIL does not parse", (const char *) cmd.data);
        if (!streq_null(mp2.envid, mp.envid) || mp2.ret != mp.ret || !mp2.has_size || mp2.size != 100 ||
            mp2.smtputf8 || mp2.has_auth)
                fail("deliver's MAIL says something else", (const char *) cmd.data);
        buf_reset(&cmd);
        if (rcpt_command_format(&p, &p.rcpts[0], &caps, &cmd) < 0)
                fail("deliver cannot write the RCPT receive took", rp.orcpt);
        check_line(&cmd);
        if (buf_append_byte(&cmd, 0) < 0 || command_parse(cmd.data, cmd.len - 1, &c) < 0 || c.verb != COMMAND_RCPT ||
            rcpt_params_parse(c.params, c.n_params, &rp2, reply, sizeof(reply)) < 0)
                fail("deliver's RCPT does not parse", (const char *) cmd.data);
        if (!streq_null(rp2.orcpt, rp.orcpt) || rp2.notify != rp.notify)
                fail("deliver's RCPT says something else", (const char *) cmd.data);

        /* deliver: the report to the sender */
        Dsn d = { .status = DELIVERY_BOUNCED, .code = "5.1.1", .valid = true };
        BounceRcpt br = { &p.rcpts[0], &d };
        BounceInfo info = {
                .kind = BOUNCE_FAILED, .reporting_mta = "mail.example.com", .env = &p,
                .message = (const uint8_t *) "Subject: x\r\n\r\nhi\r\n", .message_len = 19, .rcpts = &br,
                .n_rcpts = 1, .now_usec = UINT64_C(1764300600000000), .boundary = "=_chain_boundary",
                .message_id = "id@mail.example.com",
        };

        if (bounce_compose(&info, &report) < 0)
                fail("deliver cannot report on what receive took", NULL);
        report_check(&report, info.boundary, 1, mp.envid,
                     rp.orcpt && address_is_ascii(rp.orcpt, strlen(rp.orcpt)) ? rp.orcpt : NULL);
        /* and the values are in it, not lost */
        if (mp.envid && !memmem(report.data, report.len, "Original-Envelope-Id: ", 22))
                fail("the ENVID is missing from the report", mp.envid);
        whole = true;
done:
        mail_params_done(&mp);
        mail_params_done(&mp2);
        rcpt_params_done(&rp);
        rcpt_params_done(&rp2);
        envelope_done(&e);
        envelope_done(&p);
        buf_done(&file);
        buf_done(&cmd);
        buf_done(&report);
        return whole;
}
