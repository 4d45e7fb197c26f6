/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "services/deliver/deliver-relay.h"
#include "shared/buf.h"
#include "shared/fd-util.h"
#include "shared/log.h"
#include "shared/secret-file.h"
#include "shared/spool.h"

/* a password longer than this is a wrong file */
#define RELAY_PASSWORD_FILE_MAX 4095

TlsPolicy relay_tls_policy(TlsPolicy configured, bool login, bool unverified_ok) {
        if (!login)
                return configured;
        if (configured == TLS_POLICY_NONE)
                return _TLS_POLICY_INVALID;
        if (!unverified_ok)
                return TLS_POLICY_VERIFY;
        return configured < TLS_POLICY_ENCRYPT ? TLS_POLICY_ENCRYPT : configured;
}

int relay_password_parse(const uint8_t *p, size_t n, char **ret) {
        size_t len = 0;
        char *s;

        while (len < n && p[len] != '\n' && p[len] != '\r')
                len++;
        if (len == 0 || memchr(p, 0, len))
                return -EINVAL;
        s = strndup((const char *) p, len);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int relay_password_load(const char *path, char **ret) {
        const char *creds = getenv("CREDENTIALS_DIRECTORY"), *what = "relay_password_file";
        _cleanup_free_ char *cpath = NULL;
        _cleanup_close_ int fd = -EBADF;
        Buf b = BUF_INIT(0);
        char reason[256];
        int k;

        if (!path && creds && *creds) {
                if (asprintf(&cpath, "%s/relay-password", creds) < 0)
                        return log_oom();
                path = cpath;
                what = "credential";
        }
        if (!path)
                return log_error_errno(-EINVAL, "relay_user is set, but neither relay_password_file nor the "
                                       "credential 'relay-password' is.");
        fd = secret_file_open(AT_FDCWD, path, geteuid(), creds, reason, sizeof(reason));
        if (fd == -ELOOP || fd == -EPERM)
                return log_error_errno(-EINVAL, "%s %s refused: %s.", what, path, reason);
        if (fd < 0)
                return log_error_errno(fd == -ENOMEM ? -ENOMEM : -EINVAL, "Cannot open %s %s: %s", what, path,
                                       reason);
        k = read_full_fd(fd, RELAY_PASSWORD_FILE_MAX, &b);
        if (k >= 0)
                k = relay_password_parse(b.data, b.len, ret);
        if (b.data)
                explicit_bzero(b.data, b.cap);
        buf_done(&b);
        if (k == -ENOMEM)
                return log_oom();
        if (k == -EFBIG)
                return log_error_errno(-EINVAL, "%s %s refused: longer than %d bytes; the password goes on its "
                                       "first line.", what, path, RELAY_PASSWORD_FILE_MAX);
        if (k == -EINVAL)
                return log_error_errno(-EINVAL, "%s %s refused: its first line, the password, is empty or holds "
                                       "a NUL byte.", what, path);
        if (k < 0)
                return log_error_errno(-EINVAL, "Cannot read %s %s: %s", what, path, strerror(-k));
        return 0;
}
