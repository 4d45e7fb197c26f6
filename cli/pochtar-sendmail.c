/* SPDX-License-Identifier: MIT */
/*
 * pochtar-sendmail: sendmail(1) for programs that expect one (cron, PHP's
 * mail(), mail(1), scripts). It reads the message from stdin and submits
 * it over SMTP to the local pochtar-receive. Exit 0 means the receiver
 * answered 250: the message is durable in the spool. Anything else is a
 * sysexits.h code: EX_TEMPFAIL when it could not hand the message over
 * (the caller keeps it and retries), EX_USAGE/EX_DATAERR/EX_NOUSER when
 * retrying cannot help. No setuid: it needs no privilege.
 */
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli/sendmail-message.h"
#include "config-build.h"
#include "shared/address.h"
#include "shared/config.h"
#include "shared/fd-util.h"
#include "shared/limits.h"
#include "shared/log.h"
#include "shared/macro.h"
#include "shared/spool.h"
#include "shared/xtext.h"

/* Largest message read from stdin; receive's own limit applies after. */
#define SENDMAIL_INPUT_MAX (1024UL * 1024 * 1024)
/* RFC 5321 §4.5.3.2: the client waits 5 minutes for most replies, 10 for
 * the one after the final dot. One bound for all keeps it simple. */
#define SENDMAIL_TIMEOUT_SEC 600

typedef struct Args {
        bool ignore_dots;
        bool extract;
        const char *sender;
        const char *full_name;
        const char *config;
        const char *notify;
        const char *ret;
        const char *envid;
        char **rcpts;
        size_t n_rcpts;
} Args;

static int usage(const char *fmt, ...) _printf_(1, 2);
static int usage(const char *fmt, ...) {
        char text[256];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        log_error("%s", text);
        fprintf(stderr, "Usage: pochtar-sendmail [-t] [-i] [-f sender] [-F name] [-N dsn] [-R ret] [-V envid] "
                        "[-C config] [recipient...]\n");
        return EX_USAGE;
}

/* The value of "-fADDR" or "-f ADDR". */
static const char *opt_value(int argc, char **argv, int *i) {
        if (argv[*i][2])
                return argv[*i] + 2;
        if (*i + 1 < argc)
                return argv[++*i];
        return NULL;
}

static int parse_args(int argc, char **argv, Args *a) {
        int i;

        for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
                const char *arg = argv[i], **dst = NULL;

                if (streq(arg, "--")) {
                        i++;
                        break;
                }
                switch (arg[1]) {
                case 't':
                case 'i':
                case 'v':
                        /* single-letter flags, also combined: "-ti" */
                        for (const char *c = arg + 1; *c; c++)
                                if (*c == 't')
                                        a->extract = true;
                                else if (*c == 'i')
                                        a->ignore_dots = true;
                                else if (*c != 'v')
                                        return usage("Unknown option '%s'.", arg);
                        continue;
                case 'o':
                        /* -oi; every other -oX is a sendmail.cf option with no meaning here */
                        if (streq(arg, "-oi"))
                                a->ignore_dots = true;
                        else if (!arg[2])
                                i++;
                        continue;
                case 'f':
                case 'r':
                        dst = &a->sender;
                        break;
                case 'F':
                        dst = &a->full_name;
                        break;
                case 'C':
                        dst = &a->config;
                        break;
                case 'N':
                        dst = &a->notify;
                        break;
                case 'R':
                        dst = &a->ret;
                        break;
                case 'V':
                        dst = &a->envid;
                        break;
                case 'B':
                case 'L':
                case 'h':
                        /* body type (we detect 8-bit ourselves), syslog label, hop count */
                        if (!opt_value(argc, argv, &i))
                                return usage("Option '%s' needs a value.", arg);
                        continue;
                case 'b':
                        if (streq(arg, "-bm"))
                                continue;
                        return usage("Mode '%s' is not supported; pochtar-sendmail only submits mail (-bm).", arg);
                case 'U':
                case 'G':
                        continue;
                default:
                        return usage("Unknown option '%s'.", arg);
                }
                *dst = opt_value(argc, argv, &i);
                if (!*dst)
                        return usage("Option '%s' needs a value.", arg);
        }
        for (; i < argc; i++)
                if (sendmail_add_rcpts(argv[i], &a->rcpts, &a->n_rcpts) < 0)
                        return usage("Bad recipient address '%s'.", argv[i]);
        return 0;
}

/* ---- the SMTP client ---- */

typedef struct Conn {
        int fd;
        Buf in;
        char reply[SMTP_REPLY_LINE_MAX + 1];    /* the last line of the last reply, censored */
} Conn;

/* Reads one reply (all its lines); returns its code, or -errno / -EPROTO. */
static int conn_reply(Conn *c) {
        for (unsigned lines = 0; lines < SMTP_REPLY_LINES_MAX;) {
                uint8_t *eol = memmem(c->in.data ?: (uint8_t *) "", c->in.len, "\r\n", 2);
                size_t len;

                if (!eol) {
                        ssize_t k;
                        int r;

                        if (c->in.len > SMTP_REPLY_LINE_MAX)
                                return -EPROTO;
                        r = buf_reserve(&c->in, 512);
                        if (r < 0)
                                return r;
                        k = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1);
                        if (k < 0)
                                return errno == EAGAIN ? -ETIMEDOUT : -errno;
                        if (k == 0)
                                return -ECONNRESET;
                        c->in.len += (size_t) k;
                        continue;
                }
                len = (size_t) (eol - c->in.data);
                if (len < 3 || len > SMTP_REPLY_LINE_MAX || c->in.data[0] < '2' || c->in.data[0] > '5' ||
                    c->in.data[1] < '0' || c->in.data[1] > '9' || c->in.data[2] < '0' || c->in.data[2] > '9' ||
                    (len > 3 && c->in.data[3] != ' ' && c->in.data[3] != '-'))
                        return -EPROTO;
                for (size_t k = 0; k < len; k++)
                        c->reply[k] = c->in.data[k] >= 0x20 && c->in.data[k] < 0x7f ? (char) c->in.data[k] : '?';
                c->reply[len] = 0;
                lines++;
                if (len == 3 || c->in.data[3] == ' ') {
                        int code = (c->in.data[0] - '0') * 100 + (c->in.data[1] - '0') * 10 + (c->in.data[2] - '0');

                        buf_consume(&c->in, len + 2);
                        return code;
                }
                buf_consume(&c->in, len + 2);
        }
        return -EPROTO;
}

static int conn_send(Conn *c, const char *fmt, ...) _printf_(2, 3);
static int conn_send(Conn *c, const char *fmt, ...) {
        _cleanup_(buf_done) Buf b = BUF_INIT(SMTP_COMMAND_LINE_MAX);
        char *line = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&line, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        r = buf_append_str(&b, line);
        free(line);
        if (r >= 0)
                r = buf_append_str(&b, "\r\n");
        if (r < 0)
                return r;
        return write_full_fd(c->fd, b.data, b.len);
}

static int conn_open(const char *server, Conn *ret) {
        _cleanup_free_ char *host = NULL;
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
        struct addrinfo *ai = NULL;
        const char *colon = strrchr(server, ':');
        struct timeval tv = { .tv_sec = SENDMAIL_TIMEOUT_SEC };
        int r, fd = -EBADF;

        if (!colon || colon == server)
                return -EINVAL;
        host = server[0] == '[' && colon[-1] == ']' ? strndup(server + 1, (size_t) (colon - server - 2))
                                                    : strndup(server, (size_t) (colon - server));
        if (!host)
                return -ENOMEM;
        /* a wildcard listen address is reached on loopback */
        if (streq(host, "0.0.0.0") || streq(host, "*")) {
                free(host);
                host = strdup("127.0.0.1");
        } else if (streq(host, "::")) {
                free(host);
                host = strdup("::1");
        }
        if (!host)
                return -ENOMEM;
        if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
                return -EHOSTUNREACH;
        r = -ECONNREFUSED;
        for (struct addrinfo *a = ai; a; a = a->ai_next) {
                fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0) {
                        r = -errno;
                        continue;
                }
                (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
                (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
                if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
                        r = 0;
                        break;
                }
                r = -errno;
                fd = safe_close(fd);
        }
        freeaddrinfo(ai);
        if (r < 0)
                return r;
        *ret = (Conn) { .fd = fd, .in = BUF_INIT(SMTP_REPLY_LINE_MAX * 2) };
        return 0;
}

/* The exit code for an unexpected reply @code (or error) at @step. */
static int fail(Conn *c, int code, const char *step, int permanent_exit) {
        if (code < 0) {
                log_error_errno(code, "Could not hand the message to the receiver (%s): %m", step);
                return EX_TEMPFAIL;
        }
        log_error("Receiver refused %s: %s", step, c->reply);
        if (code >= 400 && code < 500)
                return EX_TEMPFAIL;
        if (code >= 500)
                return permanent_exit;
        return EX_PROTOCOL;
}

static int submit(const char *server, const Args *a, const char *sender, const SendmailMessage *m,
                  char **rcpts, size_t n_rcpts) {
        _cleanup_(buf_done) Buf params = BUF_INIT(SMTP_COMMAND_LINE_MAX);
        char helo[256] = "localhost";
        bool utf8 = !address_is_ascii(sender, strlen(sender));
        Conn c;
        int r, code;

        r = conn_open(server, &c);
        if (r < 0) {
                log_error_errno(r, "Could not connect to the receiver at %s: %m", server);
                return EX_TEMPFAIL;
        }
        for (size_t i = 0; i < n_rcpts; i++)
                utf8 = utf8 || !address_is_ascii(rcpts[i], strlen(rcpts[i]));
        if (m->eightbit)
                r = buf_append_str(&params, " BODY=8BITMIME");
        if (r >= 0 && utf8)
                r = buf_append_str(&params, " SMTPUTF8");
        if (r >= 0 && a->ret)
                r = buf_printf(&params, " RET=%s", a->ret);
        if (r >= 0 && a->envid) {
                r = buf_append_str(&params, " ENVID=");
                if (r >= 0)
                        r = xtext_encode(&params, a->envid, strlen(a->envid));
        }
        if (r < 0) {
                safe_close(c.fd);
                return usage("DSN parameters too long.");
        }
        (void) gethostname(helo, sizeof(helo) - 1);

        code = conn_reply(&c);
        if (code != 220) {
                r = fail(&c, code, "the connection", EX_UNAVAILABLE);
                goto out;
        }
        if ((r = conn_send(&c, "EHLO %s", helo)) < 0 || (code = conn_reply(&c)) != 250) {
                r = fail(&c, r < 0 ? r : code, "EHLO", EX_PROTOCOL);
                goto out;
        }
        if ((r = conn_send(&c, "MAIL FROM:<%s>%s", sender, params.len ? (char *) params.data : "")) < 0 ||
            (code = conn_reply(&c)) != 250) {
                r = fail(&c, r < 0 ? r : code, "the sender", EX_DATAERR);
                goto out;
        }
        for (size_t i = 0; i < n_rcpts; i++) {
                /* Every recipient or none: a partial hand-over would exit non-zero for mail
                 * that was in fact queued for the others. */
                if ((r = conn_send(&c, "RCPT TO:<%s>%s%s", rcpts[i], a->notify ? " NOTIFY=" : "",
                                   a->notify ?: "")) < 0 ||
                    (code = conn_reply(&c)) != 250) {
                        r = fail(&c, r < 0 ? r : code, "a recipient", EX_NOUSER);
                        goto out;
                }
        }
        if ((r = conn_send(&c, "DATA")) < 0 || (code = conn_reply(&c)) != 354) {
                r = fail(&c, r < 0 ? r : code, "DATA", EX_DATAERR);
                goto out;
        }
        if ((r = write_full_fd(c.fd, m->wire.data, m->wire.len)) < 0 || (code = conn_reply(&c)) != 250) {
                r = fail(&c, r < 0 ? r : code, "the message", EX_DATAERR);
                goto out;
        }
        r = EX_OK;
        (void) conn_send(&c, "QUIT");
        (void) conn_reply(&c);
out:
        buf_done(&c.in);
        safe_close(c.fd);
        return r;
}

static int server_address(const Args *a, char **ret) {
        _cleanup_(config_done) Config config = {};
        _cleanup_free_ char *error = NULL;
        const char *env = getenv("POCHTAR_SENDMAIL_SERVER"), *path = a->config ?: POCHTAR_CONFIG;
        int r;

        if (env && *env) {
                *ret = strdup(env);
                return *ret ? 0 : -ENOMEM;
        }
        r = config_init(&config);
        if (r < 0)
                return r;
        if (a->config || access(path, F_OK) == 0) {
                r = config_load(&config, path, &error);
                if (r < 0) {
                        if (error)
                                log_error("%s", error);
                        else
                                log_error_errno(r, "Failed to read '%s': %m", path);
                        return r;
                }
        }
        if (!config.receive.listen || !config.receive.listen[0])
                return -EINVAL;
        *ret = strdup(config.receive.listen[0]);
        return *ret ? 0 : -ENOMEM;
}

static char *login_name(void) {
        struct passwd *pw = getpwuid(getuid());

        return strdup(pw && pw->pw_name ? pw->pw_name : "nobody");
}

int main(int argc, char **argv) {
        _cleanup_(buf_done) Buf input = BUF_INIT(SENDMAIL_INPUT_MAX);
        _cleanup_free_ char *server = NULL, *sender = NULL;
        SendmailMessage m = {};
        SendmailInput in = {};
        Args a = {};
        char **rcpts = NULL;
        size_t n_rcpts = 0;
        int r, ex;

        log_setup("sendmail");
        ex = parse_args(argc, argv, &a);
        if (ex != 0)
                goto out;

        if (a.sender) {
                size_t n = strlen(a.sender);

                /* "-f <a@b>" and "-f <>" as well as "-f a@b" */
                if (n >= 2 && a.sender[0] == '<' && a.sender[n - 1] == '>')
                        sender = strndup(a.sender + 1, n - 2);
                else
                        sender = strdup(a.sender);
        } else
                sender = login_name();
        if (!sender) {
                ex = EX_OSERR;
                goto out;
        }
        if (sender[0] && address_valid(sender, strlen(sender), ADDRESS_UNQUALIFIED | ADDRESS_UTF8) < 0) {
                ex = usage("Bad sender address '%s'.", sender);
                goto out;
        }
        if (a.notify)
                for (char *p = (char *) a.notify; *p; p++)
                        *p = (char) (*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        if (a.ret && !streq(a.ret, "full") && !streq(a.ret, "hdrs") && !streq(a.ret, "FULL") && !streq(a.ret, "HDRS")) {
                ex = usage("Bad -R value '%s': expected full or hdrs.", a.ret);
                goto out;
        }

        /* stdin is a pipe, a terminal or a file */
        r = read_full_stream(STDIN_FILENO, 0, SENDMAIL_INPUT_MAX, &input);
        if (r < 0) {
                log_error_errno(r, "Failed to read the message from stdin: %m");
                ex = r == -EMSGSIZE || r == -EFBIG ? EX_DATAERR : EX_IOERR;
                goto out;
        }

        in = (SendmailInput) { .ignore_dots = a.ignore_dots, .extract = a.extract, .sender = sender,
                               .full_name = a.full_name };
        r = sendmail_message_prepare(input.data, input.len, &in, &m);
        if (r == -EINVAL) {
                ex = usage("A To:, Cc: or Bcc: header has an address that is not valid.");
                goto out;
        }
        if (r < 0) {
                log_oom();
                ex = EX_OSERR;
                goto out;
        }
        /* -t: header recipients plus those on the command line (Postfix does the same) */
        rcpts = a.rcpts;
        n_rcpts = a.n_rcpts;
        for (size_t i = 0; i < m.n_rcpts; i++) {
                char **t = reallocarray(rcpts, n_rcpts + 1, sizeof(char *));

                if (!t) {
                        ex = EX_OSERR;
                        goto out;
                }
                rcpts = t;
                rcpts[n_rcpts++] = TAKE_PTR(m.rcpts[i]);
        }
        a.rcpts = rcpts;
        a.n_rcpts = n_rcpts;
        if (n_rcpts == 0) {
                ex = usage("No recipients: give them as arguments or use -t.");
                goto out;
        }
        r = server_address(&a, &server);
        if (r < 0) {
                ex = r == -ENOMEM ? EX_OSERR : EX_CONFIG;
                goto out;
        }
        ex = submit(server, &a, sender, &m, rcpts, n_rcpts);
out:
        for (size_t i = 0; i < a.n_rcpts; i++)
                free(a.rcpts[i]);
        free(a.rcpts);
        sendmail_message_done(&m);
        return ex;
}
