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
SUBMISSION = ("127.0.0.1", 587)         # sub10: STARTTLS, then AUTH PLAIN
SUB_USER = "bench"                      # its login; its one sender is bench@example.com
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

# sub10's submission service: Debian's commented-out "submission" entry in
# master.cf.dist, on 127.0.0.1 as the article's smtpd, with the article's
# SASL lines (smtpd_sasl_*, broken_sasl_auth_clients). Only this service
# gets them, so the port-25 smtpd of the other cases stays as it was.
# The article's restriction list names check_relay_domains, which Postfix
# 3.7 no longer knows; the relay restriction is master.cf.dist's instead.
SUBMISSION_SERVICE = [
        "syslog_name=postfix-bench/submission",
        "smtpd_tls_security_level=encrypt",
        "smtpd_sasl_auth_enable=yes",
        "smtpd_tls_auth_only=yes",
        "smtpd_reject_unlisted_recipient=no",
        "smtpd_relay_restrictions=permit_sasl_authenticated,reject",
        "smtpd_recipient_restrictions=permit_sasl_authenticated,reject",
        "milter_macro_daemon_name=ORIGINATING",
        "smtpd_sasl_security_options=noanonymous",
        "smtpd_sasl_local_domain=$myhostname",
        "broken_sasl_auth_clients=yes",
]

# Cyrus SASL (smtpd_sasl_type = cyrus, Postfix's default) reads
# smtpd.conf from the sasl/ directory beside main.cf (Debian's build looks
# in $config_directory/sasl, as /etc/postfix/sasl/smtpd.conf); Debian's
# default backend is sasldb2 through the auxprop plugin. Only its location
# is ours (Debian's is /etc/sasldb2).
CYRUS_SMTPD_CONF = """\
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: {sasldb}
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
    make_password(dir)
    return dir


def make_password(dir):
    """sub10's password, in a file only root reads (the client reads it)."""
    path = os.path.join(dir, "submission.password")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(os.urandom(12).hex() + "\n")
    return path


class System:
    name = label = ""

    def missing(self):
        """None if runnable, else why not."""
        return None

    def setup(self, dir, keys):
        raise NotImplementedError

    def start(self, cgroup, submission=False):
        """submission: also listen on SUBMISSION (sub10)"""
        raise NotImplementedError

    def handshakes(self):
        """(TLS handshakes, of which resumed) the submission listener
        logged since the last call, or None if it cannot tell."""
        return None

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
        for exe in ("/usr/sbin/postfix", "/usr/sbin/opendkim", "/usr/sbin/postconf",
                    "/usr/sbin/saslpasswd2"):
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
        self.setup_submission(keys)
        _run(["postfix", "-c", self.etc, "check"])

    def setup_submission(self, keys):
        """sub10: a submission service on 127.0.0.1:587 with Cyrus SASL and
        sasldb2, the user made with saslpasswd2 (password on stdin). It
        listens in every case but only sub10 connects to it. Its smtpd, and
        postlogd, write their log to a file, the one departure for this
        service: without a syslog daemon here nothing else would count its
        handshakes ("... TLS connection established from ...")."""
        sasldb = os.path.join(self.etc, "sasldb2")
        with open(os.path.join(keys, "submission.password"), "rb") as pw:
            _run(["saslpasswd2", "-f", sasldb, "-u", "mail.example.com", "-p", "-c", SUB_USER],
                 stdin=pw)
        # instead of Debian's `adduser postfix sasl` (the host's groups):
        # the database readable by the postfix group alone
        shutil.chown(sasldb, user="root", group="postfix")
        os.chmod(sasldb, 0o640)
        os.makedirs(os.path.join(self.etc, "sasl"), exist_ok=True)
        with open(os.path.join(self.etc, "sasl", "smtpd.conf"), "w") as f:
            f.write(CYRUS_SMTPD_CONF.format(sasldb=sasldb))
        self.sub_log = os.path.join(self.dir, "submission.log")
        pc = ["postconf", "-c", self.etc]
        _run(pc + ["-M", "%s:submission/inet=%s:submission inet n - n - - smtpd" % (SUBMISSION[0],
                                                                                     SUBMISSION[0])])
        for o in SUBMISSION_SERVICE + ["maillog_file=" + self.sub_log]:
            _run(pc + ["-P", "%s:submission/inet/%s" % (SUBMISSION[0], o)])
        _run(pc + ["-P", "postlog/unix-dgram/maillog_file=" + self.sub_log])
        self.sub_log_seen = 0

    def start(self, cgroup, submission=False):
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
        if submission:
            wait_port(*SUBMISSION, None)

    def logs(self):
        return [self.log.name, self.sub_log]

    def handshakes(self):
        """Postfix at smtpd_tls_loglevel = 1 logs every handshake, resumed
        or not, as "... TLS connection established from ...: <version>
        with cipher ... server-signature RSA-PSS (2048 bits) server-digest
        SHA256"; a resumed one has no server-digest (the key signed
        nothing; server-signature names the certificate's key either way)."""
        try:
            with open(self.sub_log, "rb") as f:
                f.seek(self.sub_log_seen)
                text = f.read()
        except FileNotFoundError:
            return 0, 0
        self.sub_log_seen += len(text)
        lines = [x for x in text.split(b"\n") if b"TLS connection established from" in x]
        return len(lines), sum(b"server-digest" not in x for x in lines)

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
        self.cli = os.path.join(build_dir, "cli", "pochtar")
        self.procs = []

    def missing(self):
        absent = [p for p in list(self.exes.values()) + [self.cli] if not os.access(p, os.X_OK)]
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
        self.setup_submission(keys)

    def setup_submission(self, keys):
        """sub10: the same config plus [submission], in a file of its own
        so that the other cases run without the listener (and without the
        certificate in memory, which idle500 would count). The certificate
        is Postfix's, its key our own 0600 copy (receive refuses a secret
        file that group or others can read); the user is made with `pochtar
        user add`, the password on stdin."""
        key = os.path.join(self.dir, "submission.key")
        shutil.copy(os.path.join(keys, "smtpd.key"), key)
        os.chmod(key, 0o600)
        users = os.path.join(self.dir, "users")
        with open(os.path.join(keys, "submission.password"), "rb") as pw:
            _run([self.cli, "user", "add", "--users", users, SUB_USER, "bench@" + DOMAIN], stdin=pw)
        self.conf_submission = os.path.join(self.dir, "pochtar-submission.conf")
        with open(self.conf) as f, open(self.conf_submission, "w") as out:
            out.write(f.read())
            out.write("\n[submission]\nlisten = %s:%d\ncertificate = %s\nkey = %s\nusers = %s\n"
                      % (SUBMISSION + (os.path.join(keys, "smtpd.crt"), key, users)))
        self.log_seen = 0

    def start(self, cgroup, submission=False):
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
                cgroup.wrapper() + [self.exes[stage], "--config",
                                    self.conf_submission if submission else self.conf],
                stdout=log, stderr=log, env=env))
        wait_port(*SMTPD, self.procs[-1])
        if submission:
            wait_port(*SUBMISSION, self.procs[-1])

    def handshakes(self):
        """receive logs "TLS with [client]: ..." after every handshake,
        with ", resumed" when a ticket was used."""
        with open(os.path.join(self.dir, "receive.log"), "rb") as f:
            f.seek(self.log_seen)
            text = f.read()
        self.log_seen += len(text)
        lines = [x for x in text.split(b"\n") if b"TLS with [" in x]
        return len(lines), sum(x.rstrip().endswith(b", resumed") for x in lines)

    def logs(self):
        return [os.path.join(self.dir, s + ".log") for s in self.STAGES]

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            process.stop(p)
