/* SPDX-License-Identifier: MIT */
/*
 * Reading and hashing a new password (password.h).
 */
#include <crypt.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "cli/password.h"
#include "shared/log.h"
#include "shared/macro.h"

int password_check(const char *pw, size_t n, bool allow_short, char *reason, size_t size) {
        size_t chars = 0;

        if (n == 0) {
                (void) snprintf(reason, size, "the password is empty");
                return -EINVAL;
        }
        if (n > PASSWORD_MAX_BYTES) {
                (void) snprintf(reason, size, "the password is longer than %d bytes", PASSWORD_MAX_BYTES);
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) pw[i];

                if (c < ' ' || c == 0x7f) {
                        (void) snprintf(reason, size, "the password holds a control character (byte %zu)", i + 1);
                        return -EINVAL;
                }
                /* a UTF-8 continuation byte is part of the character before it */
                if ((c & 0xc0) != 0x80)
                        chars++;
        }
        if (chars < PASSWORD_MIN_CHARS && !allow_short) {
                (void) snprintf(reason, size, "the password has %zu characters, fewer than %d "
                                "(--allow-short to take it anyway)", chars, PASSWORD_MIN_CHARS);
                return -EINVAL;
        }
        return 0;
}

void password_free(char *pw) {
        if (pw) {
                explicit_bzero(pw, strlen(pw));
                free(pw);
        }
}

/*
 * One line from @fd, at most PASSWORD_MAX_BYTES, read a byte at a time so
 * nothing after it is consumed. @sig_fd, when not negative, is watched
 * too: a signal arriving ends the read with -EINTR and its number.
 */
static int read_line(int fd, int sig_fd, char **ret, int *ret_signo) {
        char *line = calloc(1, PASSWORD_MAX_BYTES + 2);
        size_t n = 0;

        if (!line)
                return log_oom();
        for (;;) {
                struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = sig_fd, .events = POLLIN } };
                ssize_t k;
                char c;

                if (sig_fd >= 0) {
                        if (poll(p, 2, -1) < 0) {
                                if (errno == EINTR)
                                        continue;
                                password_free(line);
                                return log_error_errno(-errno, "Cannot read the password: %m");
                        }
                        if (p[1].revents & POLLIN) {
                                struct signalfd_siginfo si;

                                *ret_signo = read(sig_fd, &si, sizeof(si)) == sizeof(si) ? (int) si.ssi_signo : SIGINT;
                                password_free(line);
                                return -EINTR;
                        }
                }
                k = read(fd, &c, 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        password_free(line);
                        return log_error_errno(-errno, "Cannot read the password: %m");
                }
                if (k == 0 || c == '\n')
                        break;
                if (n == PASSWORD_MAX_BYTES + 1)       /* one too many: password_check() says so */
                        continue;
                line[n++] = c;
        }
        *ret = line;
        return (int) n;
}

/* Reads one line from the terminal @fd with echo off. A signal that would
 * end the process ends it only after the terminal echoes again. */
static int read_hidden(int fd, const char *prompt, char **ret) {
        _cleanup_close_ int sig_fd = -EBADF;
        struct termios old, quiet;
        sigset_t mask, saved;
        int r, signo = 0;

        if (tcgetattr(fd, &old) < 0)
                return log_error_errno(-errno, "Cannot read the terminal's settings: %m");
        (void) sigemptyset(&mask);
        for (int s = 0, sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP }; s < 5; s++)
                (void) sigaddset(&mask, sigs[s]);
        if (sigprocmask(SIG_BLOCK, &mask, &saved) < 0)
                return log_error_errno(-errno, "Cannot block signals: %m");
        sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t) ECHO;
        quiet.c_lflag |= ECHONL;
        if (sig_fd < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) < 0) {
                r = log_error_errno(-errno, "Cannot turn the terminal's echo off: %m");
                (void) sigprocmask(SIG_SETMASK, &saved, NULL);
                return r;
        }
        fputs(prompt, stderr);
        fflush(stderr);
        r = read_line(fd, sig_fd, ret, &signo);
        (void) tcsetattr(fd, TCSAFLUSH, &old);
        if (r == -EINTR) {
                /* the terminal is itself again: now the signal may act */
                fputc('\n', stderr);
                (void) signal(signo, SIG_DFL);
                (void) raise(signo);
        }
        (void) sigprocmask(SIG_SETMASK, &saved, NULL);
        return r;
}

int password_read(int fd, const char *prompt, char **ret) {
        _cleanup_(password_freep) char *a = NULL, *b = NULL;
        int r;

        if (!isatty(fd)) {
                r = read_line(fd, -EBADF, &a, NULL);
                if (r < 0)
                        return r;
                if (r == 0)
                        return log_error_errno(-ENODATA, "No password: the first line of stdin is empty.");
                *ret = TAKE_PTR(a);
                return 0;
        }
        r = read_hidden(fd, prompt, &a);
        if (r < 0)
                return r;
        r = read_hidden(fd, "Again: ", &b);
        if (r < 0)
                return r;
        if (!streq(a, b))
                return log_error_errno(-ECANCELED, "The two passwords differ; nothing changed.");
        *ret = TAKE_PTR(a);
        return 0;
}

int password_hash(const char *pw, char **ret) {
        char salt[CRYPT_GENSALT_OUTPUT_SIZE];
        struct crypt_data *cd;
        char *h;
        int r = 0;

        /* NULL random bytes: libcrypt takes them from getentropy() */
        if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)))
                return log_error_errno(-errno, "Cannot make a yescrypt salt: %m");
        cd = calloc(1, sizeof(*cd));
        if (!cd)
                return log_oom();
        h = crypt_rn(pw, salt, cd, sizeof(*cd));
        /* a failure is NULL or, from some versions, a string that begins with '*' */
        if (!h || h[0] == '*')
                r = log_error_errno(errno > 0 ? -errno : -EINVAL, "Cannot hash the password with yescrypt: %m");
        else {
                *ret = strdup(h);
                if (!*ret)
                        r = log_oom();
        }
        explicit_bzero(cd, sizeof(*cd));
        free(cd);
        return r;
}
