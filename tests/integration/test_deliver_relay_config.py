#!/usr/bin/python3
"""A relay password file that has leaked or can be swapped stops
pochtar-deliver at start with 78 (EX_CONFIG) and a message naming the
file, what is wrong and the fix: mode 0644, owned by another uid, a FIFO
(refused at once, nothing hangs), a symbolic link, a directory, empty.
What must still start: a 0600 file, and the same 0644 file given as the
systemd credential. No mail is queued, so deliver connects nowhere."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import pochtar  # noqa: E402

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

    world = secret("world-password", mode=0o644)
    refused("mode 0644", "", ["relay_password_file %s refused: mode 0644 lets group or others access it; "
                              "chmod 0600 or 0400" % world], password=world)
    group = secret("group-password", mode=0o640)
    refused("mode 0640", "", ["%s refused: mode 0640" % group], password=group)
    if os.geteuid() == 0:
        other = secret("other-password", owner=12345)
        refused("owned by uid 12345", "", ["relay_password_file %s refused: owned by uid 12345, not by root or "
                                           "the service user" % other, "chown root"], password=other)
    fifo = os.path.join(work, "fifo-password")
    os.mkfifo(fifo, 0o600)
    refused("a FIFO, without hanging", "", ["relay_password_file %s refused: not a regular file but a FIFO" % fifo],
            password=fifo)
    link = os.path.join(work, "link-password")
    os.symlink(good, link)
    refused("a symbolic link", "", ["relay_password_file %s refused: it is a symbolic link" % link], password=link)
    refused("a directory", "", ["relay_password_file %s refused: not a regular file but a directory" % work],
            password=work)
    empty = secret("empty-password", text="\n")
    refused("an empty password", "", ["relay_password_file %s refused: its first line, the password, is empty"
                                      % empty], password=empty)
    refused("a missing file", "", ["Cannot open relay_password_file %s/missing: No such file" % work],
            password=os.path.join(work, "missing"))
    refused("neither file nor credential", "", ["neither relay_password_file nor the credential"], password=None)

    # what starts
    rc, out = start("")
    check(rc is None and STARTED in out, "a 0600 password file: deliver starts: %s" % out.strip())
    creds = os.path.join(work, "credentials")
    os.mkdir(creds)
    secret(os.path.join("credentials", "relay-password"), mode=0o644)
    rc, out = start("", password=None, env={"CREDENTIALS_DIRECTORY": creds})
    check(rc is None and STARTED in out, "the credential copy (0644, systemd's): deliver starts: %s" % out.strip())
finally:
    for d in daemons:
        d.stop()
    pochtar.remove_work_dir(work)
check.exit("relay password file refusals ok")
