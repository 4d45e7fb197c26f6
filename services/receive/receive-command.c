/* SPDX-License-Identifier: MIT */
/*
 * The SMTP command parser. It splits a line into verb, argument and
 * parameters and checks only the grammar of RFC 5321 §4.1.1-2; what an
 * address or a parameter value means is the session's business. Input is
 * untrusted: an embedded NUL, CR or LF, or any byte the grammar does not
 * allow, is a syntax error.
 */
#include <stdbool.h>
#include <string.h>

#include "services/receive/receive-command.h"
#include "shared/macro.h"

static const struct {
        const char *name;
        CommandVerb verb;
} verbs[] = {
        { "HELO", COMMAND_HELO },
        { "EHLO", COMMAND_EHLO },
        { "MAIL", COMMAND_MAIL },
        { "RCPT", COMMAND_RCPT },
        { "DATA", COMMAND_DATA },
        { "RSET", COMMAND_RSET },
        { "NOOP", COMMAND_NOOP },
        { "QUIT", COMMAND_QUIT },
        { "VRFY", COMMAND_VRFY },
        { "EXPN", COMMAND_EXPN },
        { "HELP", COMMAND_HELP },
        { "STARTTLS", COMMAND_STARTTLS },
        { "AUTH", COMMAND_AUTH },
        { "BDAT", COMMAND_BDAT },
};

static void skip_spaces(const char *p, size_t n, size_t *i) {
        while (*i < n && p[*i] == ' ')
                (*i)++;
}

/*
 * The path of MAIL FROM / RCPT TO: "<" [A-d-l ":"] Mailbox ">", where a
 * quoted local part may contain ">" and escaped quotes. The source route
 * (A-d-l) is dropped, as §4.1.2 says it must be accepted and ignored.
 * Postfix and sendmail accept a path without angle brackets too; so do
 * we, up to the first space.
 */
static int parse_path(const char *p, size_t n, size_t *i, Span *ret) {
        size_t start, end;
        bool quoted = false;

        if (*i >= n || p[*i] != '<') {
                start = *i;
                while (*i < n && p[*i] != ' ')
                        (*i)++;
                if (*i == start)
                        return -EBADMSG;
                *ret = (Span) { p + start, *i - start };
                return 0;
        }
        start = ++(*i);
        for (;; (*i)++) {
                if (*i >= n)
                        return -EBADMSG;
                if (quoted && p[*i] == '\\') {
                        (*i)++;
                        if (*i >= n)
                                return -EBADMSG;
                } else if (p[*i] == '"')
                        quoted = !quoted;
                else if (!quoted && p[*i] == '>')
                        break;
        }
        end = (*i)++;
        if (end > start && p[start] == '@') {
                /* A-d-l: "@one,@two:" before the mailbox */
                const char *colon = memchr(p + start, ':', end - start);

                if (!colon)
                        return -EBADMSG;
                start = (size_t) (colon - p) + 1;
        }
        *ret = (Span) { p + start, end - start };
        return 0;
}

/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-");
 * esmtp-value = 1*(%d33-60 / %d62-126), or UTF-8 (RFC 6531 §3.3) */
static int parse_params(const char *p, size_t n, size_t i, Command *c) {
        for (;;) {
                CommandParam *prm;
                size_t start;

                skip_spaces(p, n, &i);
                if (i >= n)
                        return 0;
                if (c->n_params >= COMMAND_PARAMS_MAX)
                        return -EBADMSG;
                prm = &c->params[c->n_params++];
                start = i;
                while (i < n && ((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z') ||
                                 (p[i] >= '0' && p[i] <= '9') || (p[i] == '-' && i > start)))
                        i++;
                if (i == start)
                        return -EBADMSG;
                prm->key = (Span) { p + start, i - start };
                prm->value = (Span) {};
                if (i < n && p[i] == '=') {
                        start = ++i;
                        while (i < n && p[i] != ' ' && p[i] != '=' &&
                               ((unsigned char) p[i] > 32 && (unsigned char) p[i] != 127))
                                i++;
                        if (i == start)
                                return -EBADMSG;
                        prm->value = (Span) { p + start, i - start };
                }
                if (i < n && p[i] != ' ')
                        return -EBADMSG;
        }
}

/* "FROM:" or "TO:", then optional spaces (tolerated, as Postfix does). */
static int parse_mail_rcpt(const char *p, size_t n, size_t i, const char *prefix, Command *c) {
        size_t k = strlen(prefix);
        int r;

        if (n - i < k || !ascii_strncaseeq(p + i, k, prefix))
                return -EBADMSG;
        i += k;
        skip_spaces(p, n, &i);
        r = parse_path(p, n, &i, &c->arg);
        if (r < 0)
                return r;
        if (i < n && p[i] != ' ')
                return -EBADMSG;
        return parse_params(p, n, i, c);
}

/**
 * command_parse() - parse one command line (without CRLF).
 * Returns 0 with *ret filled (verb COMMAND_UNKNOWN for a verb we do not
 * know), or -EBADMSG for a syntax error, in which case ret->verb is still
 * set when the verb was recognised, so the reply can name the command.
 */
int command_parse(const uint8_t *line, size_t n, Command *ret) {
        const char *p = (const char *) line;
        size_t i = 0, vlen;

        *ret = (Command) { .verb = COMMAND_UNKNOWN };

        while (i < n && p[i] != ' ')
                i++;
        vlen = i;
        for (size_t k = 0; k < ELEMENTSOF(verbs); k++)
                if (ascii_strncaseeq(p, vlen, verbs[k].name)) {
                        ret->verb = verbs[k].verb;
                        break;
                }
        if (ret->verb == COMMAND_UNKNOWN)
                return 0;
        for (size_t k = 0; k < n; k++)
                if (line[k] == 0 || line[k] == '\r' || line[k] == '\n')
                        return -EBADMSG;
        skip_spaces(p, n, &i);

        switch (ret->verb) {
        case COMMAND_MAIL:
                return parse_mail_rcpt(p, n, i, "FROM:", ret);
        case COMMAND_RCPT:
                return parse_mail_rcpt(p, n, i, "TO:", ret);
        case COMMAND_HELO:
        case COMMAND_EHLO: {
                size_t start = i;

                /* RFC 5321 §4.1.1.1: one domain or address literal, nothing more. */
                while (i < n && p[i] != ' ')
                        i++;
                ret->arg = (Span) { p + start, i - start };
                skip_spaces(p, n, &i);
                return ret->arg.n == 0 || i < n ? -EBADMSG : 0;
        }
        case COMMAND_DATA:
        case COMMAND_RSET:
        case COMMAND_QUIT:
                return i < n ? -EBADMSG : 0;
        default:
                /* NOOP, HELP, VRFY, …: the argument is informational. */
                ret->arg = (Span) { p + i, n - i };
                return 0;
        }
}
