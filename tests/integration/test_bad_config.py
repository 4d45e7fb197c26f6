#!/usr/bin/python3
"""Bad configuration and bad keys stop every daemon at start, with a
non-zero exit and a message naming the file (and the line, for
pochtar.conf). Every daemon reads the whole pochtar.conf, so each invalid
option is tried on all three. Then sign's keys: missing, readable by group
or others, owned by someone else, a FIFO, too short, not a key; and the same
world-readable file is accepted when systemd passes it as a credential."""
import os
import shutil
import subprocess
import tempfile

import pochtar

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "faults-bad-config", "suites": ["receive", "sign", "deliver"], "timeout": 180,
              "parallel": False}

BIN = pochtar.binaries("receive", "sign", "deliver")

check = pochtar.Checks()


# (pochtar.conf text, line of the error, what the message must say)
BAD_OPTIONS = [
    ("[receive]\nbogus = 1\n", 2, "unknown key 'bogus' in [receive]"),
    ("[spool]\ndir = /x\n[nope]\nx = 1\n", 4, "unknown section [nope]"),
    ("x = 1\n", 1, "'x' is outside any section"),
    ("[receive]\njunk line\n", 2, "syntax error"),
    ("[receive]\nmax_sessions = lots\n", 2, "invalid value 'lots' for 'max_sessions' in [receive]"),
    ("[receive]\nmax_sessions = 0\n", 2, "value '0' for 'max_sessions' is out of range"),
    ("[receive]\nmax_recipients = -1\n", 2, "invalid value '-1' for 'max_recipients'"),
    ("[receive]\nmax_message_size = 10QB\n", 2, "invalid value '10QB' for 'max_message_size'"),
    ("[receive]\n\n\ncommand_timeout = 5 fortnights\n", 4, "invalid value '5 fortnights' for 'command_timeout'"),
    ("[receive]\nidle_exit = -5s\n", 2, "invalid value '-5s' for 'idle_exit'"),
    ("[spool]\ndir = spool\n", 2, "'spool' for 'dir' in [spool] is not an absolute path"),
    ("[spool]\nspare_keep = a while\n", 2, "invalid value 'a while' for 'spare_keep' in [spool]"),
    ("[deliver]\ncapture_dir = rel/dir\n", 2, "'rel/dir' for 'capture_dir' in [deliver] is not an absolute path"),
    ("[deliver]\nmode = carrier-pigeon\n", 2, "invalid value 'carrier-pigeon' for 'mode' in [deliver]"),
    ("[deliver]\nretry_min = soon\n", 2, "invalid value 'soon' for 'retry_min'"),
    ("[deliver]\n\nconnection_cache_time = 301\n", 3, "value '301' for 'connection_cache_time' is out of range"),
    ("[deliver]\nconnection_cache_time = -1\n", 2, "invalid value '-1' for 'connection_cache_time' in [deliver]"),
    ("[sign]\non_no_key = maybe\n", 2, "invalid value 'maybe' for 'on_no_key' in [sign]"),
]

work = tempfile.mkdtemp(prefix="pochtar-badconf-")
try:
    spool = pochtar.Spool(os.path.join(work, "spool"))

    def start(stage, text, env=None):
        path = pochtar.write_config(work, text)
        full_env = dict(os.environ)
        full_env.pop("CREDENTIALS_DIRECTORY", None)
        full_env.update(env or {})
        try:
            return subprocess.run([BIN[stage], "--config", path], capture_output=True, text=True, timeout=10,
                                  env=full_env)
        except subprocess.TimeoutExpired:
            return None

    for text, line, want in BAD_OPTIONS:
        for stage in BIN:
            out = start(stage, text)
            conf = os.path.join(work, "pochtar.conf")
            check(out is not None and out.returncode == 78 and "%s:%d: %s" % (conf, line, want) in out.stderr,
                  "%s refuses %r: %s" % (stage, text, out and out.stderr.strip()))

    for stage in BIN:
        out = subprocess.run([BIN[stage], "--config", os.path.join(work, "missing.conf")], capture_output=True,
                             text=True, timeout=10)
        check(out.returncode == 78 and "missing.conf" in out.stderr and "No such file" in out.stderr,
              "%s refuses a missing config file: %s" % (stage, out.stderr.strip()))

    # sign's keys
    def key(name, bits=2048, mode=0o600, owner=None):
        path = os.path.join(work, name)
        subprocess.run(["openssl", "genrsa", "-traditional", "-out", path, str(bits)], check=True,
                       stderr=subprocess.DEVNULL)
        os.chmod(path, mode)
        if owner is not None:
            os.chown(path, owner, -1)
        return path

    def sign_conf(path):
        return "[spool]\ndir = %s\n[sign]\ndomain = example.com\nselector = mail\nkey = %s\n" % (spool.root, path)

    junk = os.path.join(work, "junk.private")
    with open(junk, "w") as f:
        f.write("-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n")
    os.chmod(junk, 0o600)
    bad_keys = [
        (os.path.join(work, "missing.private"), "cannot read key: No such file or directory"),
        (key("world.private", mode=0o644), "key refused: mode 0644 lets group or others access it"),
        (key("group.private", mode=0o640), "key refused: mode 0640 lets group or others access it"),
        (key("short.private", bits=512), "key refused: RSA keys must have 1024 to 4096 bits"),
        (junk, "not a PEM private key"),
    ]
    if os.geteuid() == 0:
        bad_keys.append((key("nobody.private", owner=65534), "key refused: owned by uid 65534, not by root"))
    # a FIFO where the key should be: refused at once, sign does not hang opening it
    fifo = os.path.join(work, "fifo.private")
    os.mkfifo(fifo, 0o600)
    bad_keys.append((fifo, "key refused: not a regular file but a FIFO"))
    for path, want in bad_keys:
        out = start("sign", sign_conf(path))
        check(out is not None and out.returncode == 78 and "%s: %s" % (path, want) in out.stderr,
              "sign refuses %s: %s" % (os.path.basename(path), out and out.stderr.strip()))

    # systemd's credential copy is the service's own; its mode is systemd's business
    creds = os.path.join(work, "credentials")
    os.mkdir(creds)
    shutil.copy(os.path.join(work, "world.private"), os.path.join(creds, "mail.private"))
    os.chmod(os.path.join(creds, "mail.private"), 0o644)
    # A spool tree that is not there is not made up (owners and modes are
    # systemd-tmpfiles'): every stage stops, naming the first directory it
    # needs that is missing and how to create the tree. (receive is not
    # started on the partial tree: it needs only incoming/ and would run.)
    good_key = key("spoolcheck.private")
    nospool = os.path.join(work, "nospool")
    partial = os.path.join(work, "partial")
    for q in ("incoming", "signed"):
        for sub in ("tmp", "new"):
            os.makedirs(os.path.join(partial, q, sub))
    for stage, root, want in [(s, nospool, nospool) for s in BIN] + \
            [(s, partial, os.path.join(partial, "quarantine")) for s in ("sign", "deliver")]:
        out = start(stage, "[spool]\ndir = %s\n[sign]\ndomain = example.com\nselector = mail\nkey = %s\n"
                    % (root, good_key))
        check(out is not None and out.returncode == 78
              and "Cannot use spool directory %s: No such file or directory" % want in out.stderr
              and "systemd-tmpfiles --create" in out.stderr,
              "%s refuses a spool without %s: %s" % (stage, want, out and out.stderr.strip()))
    check(not os.path.exists(nospool) and sorted(os.listdir(partial)) == ["incoming", "signed"],
          "nothing created in the spool")

    def sign_keeps_running(path, what, env=None):
        """Starts sign with the key at path until it signs or exits: (running, its output)."""
        d = pochtar.Daemon([BIN["sign"], "--config", pochtar.write_config(work, sign_conf(path))], env=env)
        try:
            pochtar.wait_for(lambda: "Signing with 1 key(s)" in d.output() or d.proc.poll() is not None, what=what)
            return d.proc.poll() is None, d.output().strip()
        finally:
            d.stop()

    running, out = sign_keeps_running("/etc/pochtar/dkim/mail.private", "sign to start with the credential",
                                      env={"CREDENTIALS_DIRECTORY": creds})
    check(running, "sign accepts a key from $CREDENTIALS_DIRECTORY: %s" % out)
    # and the same key, safe, outside credentials starts too (the refusals above are about the key)
    running, out = sign_keeps_running(key("good.private"), "sign to start with a safe key")
    check(running, "sign starts with a 0600 key: %s" % out)
finally:
    shutil.rmtree(work, ignore_errors=True)
check.exit("bad configuration ok")
