#!/usr/bin/python3
"""A relay configuration that would send the password in clear text, or a
password file that has leaked or can be swapped, stops pochtar-deliver at
start with 78 (EX_CONFIG) and a message naming the key or the file, what
is wrong and the fix:

  (f) relay_user with tls_policy = none (also with the override), or with a
      tls_policy_map line saying none for the relay host;
  (g) relay_password_file with mode 0644, owned by another uid, a FIFO
      (refused at once, nothing hangs), a symbolic link, a directory, empty;
      relay_ca_file missing or holding no certificate.

And what must still start: a 0600 file, the same 0644 file given as the
systemd credential, and the override, which warns at every start.
No mail is queued, so deliver connects nowhere."""
import os
import tempfile
import time

import pochtar

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "test-deliver-relay-config", "suites": ["deliver"], "timeout": 90,
              "parallel": False}

DELIVER = pochtar.binary("deliver")
STARTED = "started (mode relay)"

work = tempfile.mkdtemp(prefix="pochtar-deliver-relay-config-")
check = pochtar.Checks()
daemons = []
try:
    spool = pochtar.Spool(os.path.join(work, "spool"))

    def secret(name, mode=0o600, owner=None, text="s3cret pass\n"):
        path = os.path.join(work, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        if owner is not None:
            os.chown(path, owner, -1)
        return path

    good = secret("good-password")

    def start(extra, password=good, env=None):
        """deliver in relay mode with extra [deliver] lines: (exit status, or
        None while it runs after start-up, and its output). A start that
        neither finishes nor exits within 10 s (a hang) is None too."""
        conf = pochtar.write_spool_config(work, spool.root, deliver="""
mode = relay
relayhost = [relay.example.net]:587
relay_user = app@example.net
%s
%s
""" % ("relay_password_file = " + password if password else "", extra))
        d = pochtar.Daemon([DELIVER, "--config", conf], env=env)
        daemons.append(d)
        deadline = time.monotonic() + 10 * pochtar.TIMEOUT_SCALE
        while d.proc.poll() is None and STARTED not in d.output() and time.monotonic() < deadline:
            time.sleep(0.02)
        rc = d.proc.poll()
        d.stop()
        return rc, d.output()

    def refused(what, extra, wants, password=good):
        rc, out = start(extra, password)
        missing = [w for w in wants if w not in out]
        check(rc == 78 and not missing, "%s: exit %s, message has %s: %s" % (what, rc, wants, out.strip()))

    # (f) a password in clear text cannot be configured
    refused("(f) tls_policy = none", "tls_policy = none",
            ["relay_user is set, but the TLS policy for relay.example.net is none (tls_policy or tls_policy_map)",
             "relay_user implies verify for the relay"])
    refused("(f) tls_policy = none with the override", "tls_policy = none\nrelay_password_to_unverified_host = yes",
            ["the TLS policy for relay.example.net is none"])
    policy_map = os.path.join(work, "tls_policy")
    with open(policy_map, "w") as f:
        f.write("relay.example.net none\n")
    refused("(f) tls_policy_map: none for the relay", "tls_policy_map = " + policy_map,
            ["the TLS policy for relay.example.net is none"])

    # (g) the password file
    world = secret("world-password", mode=0o644)
    refused("(g) mode 0644", "", ["relay_password_file %s refused: mode 0644 lets group or others access it; "
                                  "chmod 0600 or 0400" % world], password=world)
    group = secret("group-password", mode=0o640)
    refused("(g) mode 0640", "", ["%s refused: mode 0640" % group], password=group)
    if os.geteuid() == 0:
        other = secret("other-password", owner=12345)
        refused("(g) owned by uid 12345", "", ["relay_password_file %s refused: owned by uid 12345, not by root or "
                                               "the service user" % other, "chown root"], password=other)
    fifo = os.path.join(work, "fifo-password")
    os.mkfifo(fifo, 0o600)
    refused("(g) a FIFO, without hanging", "",
            ["relay_password_file %s refused: not a regular file but a FIFO" % fifo], password=fifo)
    link = os.path.join(work, "link-password")
    os.symlink(good, link)
    refused("(g) a symbolic link", "", ["relay_password_file %s refused: it is a symbolic link" % link], password=link)
    refused("(g) a directory", "", ["relay_password_file %s refused: not a regular file but a directory" % work],
            password=work)
    empty = secret("empty-password", text="\n")
    refused("(g) an empty password", "", ["relay_password_file %s refused: its first line, the password, is empty"
                                          % empty], password=empty)
    refused("(g) a missing file", "", ["Cannot open relay_password_file %s/missing: No such file" % work],
            password=os.path.join(work, "missing"))
    refused("(g) neither file nor credential", "", ["neither relay_password_file nor the credential"],
            password=None)

    # relay_ca_file
    no_ca = os.path.join(work, "no-ca.pem")
    refused("relay_ca_file missing", "relay_ca_file = " + no_ca, ["Cannot use relay_ca_file %s" % no_ca])
    refused("relay_ca_file without a certificate", "relay_ca_file = " + good,
            ["relay_ca_file %s holds no PEM certificate" % good])

    # what starts
    rc, out = start("")
    check(rc is None and STARTED in out, "a 0600 password file: deliver starts: %s" % out.strip())
    creds = os.path.join(work, "credentials")
    os.mkdir(creds)
    secret(os.path.join("credentials", "relay-password"), mode=0o644)
    rc, out = start("", password=None, env={"CREDENTIALS_DIRECTORY": creds})
    check(rc is None and STARTED in out, "the credential copy (0644, systemd's): deliver starts: %s" % out.strip())
    rc, out = start("relay_password_to_unverified_host = yes")
    check(rc is None and STARTED in out and
          "relay_password_to_unverified_host = yes: the password of relay_user app@example.net goes to "
          "relay.example.net over TLS without checking its certificate" in out,
          "the override: deliver starts, with a warning: %s" % out.strip())
finally:
    for d in daemons:
        d.stop()
    pochtar.remove_work_dir(work)
check.exit("relay configuration refusals ok")
