# SPDX-License-Identifier: MIT
"""The systems under test, each with its own config and queue directories
below the benchmark's temporary directory (nothing of the host's is read
for configuration or written).

PostfixOpenDKIM is the article's setup (../shared/seed/self-postman-article.md),
block by block; every departure from it is needed to run a private
instance next to the host's and is listed in docs/performance.md.
Pochtar is the three stages with the same DKIM key.
"""
import os
import shutil
import subprocess
import time

import process
from process import wait_port

SMTPD = ("127.0.0.1", 25)
DOMAIN = "example.com"
SELECTOR = "mail"

# The article's TLS block, verbatim except for file locations.
ARTICLE_TLS = """\
smtpd_tls_security_level = may
smtp_tls_security_level = may
smtp_tls_loglevel = 1
smtpd_tls_loglevel = 1
smtpd_tls_CAfile = {cert}
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtp_tls_session_cache_database = btree:{data}/smtp_scache
smtp_tls_mandatory_exclude_ciphers = aNULL, MD5 , DES, ADH, RC4, PSD, SRP, 3DES, eNULL
smtp_tls_mandatory_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1
smtp_tls_protocols=!SSLv2, !SSLv3, !TLSv1, !TLSv1.1
smtp_tls_mandatory_ciphers=high
tls_high_cipherlist=EDH+CAMELLIA:EDH+aRSA:EECDH+aRSA+AESGCM:EECDH+aRSA+SHA384:EECDH+aRSA+SHA256:EECDH:+CAMELLIA256:+AES256:+CAMELLIA128:+AES128:+SSLv3:!aNULL:!eNULL:!LOW:!3DES:!MD5:!EXP:!PSK:!DSS:!RC4:!SEED:!ECDSA:CAMELLIA256-SHA:AES256-SHA:CAMELLIA128-SHA:AES128-SHA
tls_random_source = dev:/dev/urandom
"""

# The article's opendkim.conf additions, appended to Debian's file.
ARTICLE_OPENDKIM = """\
Canonicalization relaxed/relaxed
SyslogSuccess yes
RequireSafeKeys false
KeyTable file:{dir}/keytable
SigningTable file:{dir}/signingtable
X-Header yes
"""


def _run(argv, **kw):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


def make_keys(dir):
    """A 2048-bit DKIM key from opendkim-genkey, as the article makes it, and
    self-signed certificates for the Postfix smtpd and the TLS sink."""
    os.makedirs(dir, exist_ok=True)
    _run(["opendkim-genkey", "-b", "2048", "-D", dir, "-d", DOMAIN, "-s", SELECTOR])
    shutil.chown(os.path.join(dir, SELECTOR + ".private"), group="opendkim")
    os.chmod(os.path.join(dir, SELECTOR + ".private"), 0o640)
    for name, cn in (("smtpd", "mail.example.com"), ("sink", "mx.example.org")):
        _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
              "-subj", "/CN=" + cn, "-keyout", os.path.join(dir, name + ".key"),
              "-out", os.path.join(dir, name + ".crt")])
    return dir


class System:
    name = label = ""

    def missing(self):
        """None if runnable, else why not."""
        return None

    def setup(self, dir, keys):
        raise NotImplementedError

    def start(self, cgroup):
        raise NotImplementedError

    def stop(self):
        raise NotImplementedError

    def logs(self):
        """Log files worth a look when a measurement fails."""
        return []

    def diagnose(self, lines=3):
        out = []
        for path in self.logs():
            try:
                with open(path, "rb") as f:
                    tail = f.read().decode("utf-8", "replace").splitlines()[-lines:]
            except OSError:
                continue
            out += ["  %s: %s" % (os.path.basename(path), line) for line in tail]
        return "\n".join(out)


class PostfixOpenDKIM(System):
    def __init__(self, milter="unix"):
        self.milter = milter
        self.name = "postfix" if milter == "unix" else "postfix-tcp"
        self.label = "Postfix+OpenDKIM (milter %s)" % ("UNIX socket" if milter == "unix"
                                                       else "TCP 127.0.0.1:8891")
        self.opendkim = None

    def missing(self):
        for exe in ("/usr/sbin/postfix", "/usr/sbin/opendkim", "/usr/sbin/postconf"):
            if not os.access(exe, os.X_OK):
                return exe + " is not installed"
        return None

    def setup(self, dir, keys):
        self.dir = dir
        self.etc = os.path.join(dir, "etc")
        self.dkim = os.path.join(dir, "opendkim")
        queue, data = os.path.join(dir, "queue"), os.path.join(dir, "data")
        for d in (self.etc, self.dkim, queue, data):
            os.makedirs(d, exist_ok=True)
        os.chmod(dir, 0o755)
        shutil.chown(data, user="postfix")
        self.log = open(os.path.join(dir, "opendkim.log"), "ab")

        # OpenDKIM: Debian's opendkim.conf plus the article's lines; the key
        # and tables are the article's, with the private key group-readable
        # by opendkim (the article's chgrp/chmod).
        shutil.copy(os.path.join(keys, SELECTOR + ".private"), self.dkim)
        priv = os.path.join(self.dkim, SELECTOR + ".private")
        shutil.chown(priv, group="opendkim")
        os.chmod(priv, 0o640)
        shutil.chown(self.dkim, user="opendkim", group="opendkim")
        os.chmod(self.dkim, 0o755)
        with open(os.path.join(self.dkim, "keytable"), "w") as f:
            f.write("mail._domainkey.%s %s:%s:%s\n" % (DOMAIN, DOMAIN, SELECTOR, priv))
        with open(os.path.join(self.dkim, "signingtable"), "w") as f:
            f.write("%s    mail._domainkey.%s\n" % (DOMAIN, DOMAIN))
        if self.milter == "unix":
            self.milter_socket = os.path.join(self.dkim, "opendkim.sock")
            dkim_socket, postfix_milter = "local:" + self.milter_socket, "unix:" + self.milter_socket
        else:
            dkim_socket, postfix_milter = "inet:8891@127.0.0.1", "inet:127.0.0.1:8891"
        debian = ""
        with open("/etc/opendkim.conf") as f:
            for line in f:
                key = line.split()[0] if line.split() else ""
                # location keys are ours; Canonicalization is overridden by the article
                if key not in ("Socket", "PidFile", "UMask", "Canonicalization"):
                    debian += line
        self.dkim_conf = os.path.join(self.dkim, "opendkim.conf")
        with open(self.dkim_conf, "w") as f:
            f.write(debian)
            f.write("\n# the article's additions\n" + ARTICLE_OPENDKIM.format(dir=self.dkim))
            # instead of the article's `gpasswd -a postfix opendkim`, which
            # would change the host's groups: a socket anyone may connect to
            f.write("# private instance\nSocket %s\nPidFile %s/opendkim.pid\nUMask 000\n"
                    % (dkim_socket, self.dkim))

        # Postfix: Debian's main.cf template, the article's lines, and what a
        # second instance needs (its own queue/data directories, no chroot).
        shutil.copy("/usr/share/postfix/main.cf.debian", os.path.join(self.etc, "main.cf"))
        shutil.copy("/usr/share/postfix/master.cf.dist", os.path.join(self.etc, "master.cf"))
        with open(os.path.join(self.etc, "main.cf"), "a") as f:
            f.write("\n# the article\n")
            f.write("mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128\n")
            f.write("mydestination = localhost\n")
            f.write(ARTICLE_TLS.format(cert=os.path.join(keys, "smtpd.crt"),
                                       key=os.path.join(keys, "smtpd.key"), data=data))
        pc = ["postconf", "-c", self.etc]
        _run(pc + ["-e", "milter_default_action=accept", "milter_protocol=2",
                   "smtpd_milters=" + postfix_milter, "non_smtpd_milters=" + postfix_milter,
                   "inet_protocols=ipv4"])
        _run(pc + ["-e", "queue_directory=" + queue, "data_directory=" + data,
                   "myhostname=mail.example.com", "mydomain=" + DOMAIN,
                   "syslog_name=postfix-bench", "alias_maps=", "alias_database=",
                   # the MX 203.0.113.25 sits on this namespace's lo; with
                   # inet_interfaces=all Postfix would call it itself and
                   # bounce ("mail loops back to myself")
                   "inet_interfaces=127.0.0.1"])
        # master.cf: the article's 127.0.0.1:smtp line; chroot off because the
        # queue is not under /var/spool/postfix
        _run(pc + ["-M#", "smtp/inet"])
        _run(pc + ["-M", "127.0.0.1:smtp/inet=127.0.0.1:smtp inet n - n - - smtpd"])
        _run(pc + ["-F", "*/*/chroot=n"])
        _run(["postfix", "-c", self.etc, "check"])

    def start(self, cgroup):
        # an empty queue, for the same reason as pochtar's empty spool
        subprocess.run(["postsuper", "-c", self.etc, "-d", "ALL"], stdout=self.log,
                       stderr=self.log)
        self.opendkim = subprocess.Popen(
            cgroup.wrapper() + ["/usr/sbin/opendkim", "-f", "-x", self.dkim_conf],
            stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 10
        if self.milter == "unix":
            while not os.path.exists(self.milter_socket):
                if self.opendkim.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("opendkim did not start, see " + self.log.name)
                time.sleep(0.05)
        else:
            wait_port("127.0.0.1", 8891, self.opendkim, banner=False)
        subprocess.run(cgroup.wrapper() + ["postfix", "-c", self.etc, "start"], check=True,
                       stdout=self.log, stderr=self.log)
        wait_port(*SMTPD, None)

    def logs(self):
        return [self.log.name]

    def stop(self):
        subprocess.run(["postfix", "-c", self.etc, "stop"], stdout=self.log, stderr=self.log)
        process.stop(self.opendkim)


class Pochtar(System):
    name = "pochtar"
    label = "pochtar"
    STAGES = ("receive", "sign", "deliver")

    def __init__(self, build_dir):
        # POCHTAR_RECEIVE=... as for the integration tests, else the build tree
        self.exes = {s: os.environ.get("POCHTAR_" + s.upper()) or
                     os.path.join(build_dir, "services", s, "pochtar-" + s) for s in self.STAGES}
        self.procs = []

    def missing(self):
        absent = [p for p in self.exes.values() if not os.access(p, os.X_OK)]
        if absent:
            return "not built: " + ", ".join(absent)
        return None

    def setup(self, dir, keys):
        self.dir = dir
        self.spool = spool = os.path.join(dir, "spool")
        os.makedirs(dir, exist_ok=True)
        self.conf = os.path.join(dir, "pochtar.conf")
        # The same key as OpenDKIM's, but the operator's own copy at 0600:
        # pochtar-sign refuses a key that group or others can read (as
        # OpenDKIM's RequireSafeKeys does), and the shared copy is 0640
        # for the opendkim group, as the article sets it.
        key = os.path.join(dir, SELECTOR + ".private")
        shutil.copy(os.path.join(keys, SELECTOR + ".private"), key)
        os.chmod(key, 0o600)
        with open(self.conf, "w") as f:
            f.write("[spool]\ndir = %s\n\n" % spool)
            f.write("[receive]\nlisten = %s:%d\nhostname = mail.example.com\n"
                    "origin_domain = %s\n\n" % (SMTPD + (DOMAIN,)))
            f.write("[sign]\ndomain = %s\nselector = %s\nkey = %s\n\n"
                    % (DOMAIN, SELECTOR, key))
            f.write("[deliver]\nmode = mx\nhelo_name = mail.example.com\n")

    def start(self, cgroup):
        # an empty spool: mail a failed measurement left behind would
        # otherwise reach the sink during the next one and be counted
        shutil.rmtree(self.spool, ignore_errors=True)
        for q in ("incoming", "signed", "quarantine"):
            for sub in ("tmp", "new"):
                os.makedirs(os.path.join(self.spool, q, sub))
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)         # log to the file, not the journal
        self.procs = []
        for stage in ("deliver", "sign", "receive"):
            log = open(os.path.join(self.dir, stage + ".log"), "ab")
            self.procs.append(subprocess.Popen(
                cgroup.wrapper() + [self.exes[stage], "--config", self.conf],
                stdout=log, stderr=log, env=env))
        wait_port(*SMTPD, self.procs[-1])

    def logs(self):
        return [os.path.join(self.dir, s + ".log") for s in self.STAGES]

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            process.stop(p)
