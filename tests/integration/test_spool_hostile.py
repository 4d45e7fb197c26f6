#!/usr/bin/python3
"""Names in the queues that are not queue files: a FIFO, a symbolic link
(to a valid queue file elsewhere, and to /etc/passwd), a directory, a
hard link of a valid queue file, a character device and a file of
another user (uid 12345), each under a valid queue ID
(docs/spool-format.md, "Reading a queue file").

- in incoming/new before sign starts and while it runs, in signed/new
  before deliver starts and while it runs, and as the state file of a
  message in deliver/queue: each goes to quarantine, still what it was
  (never opened), with a reason naming what it is;
- in quarantine/new and hold/, and as a quarantine reason file:
  `pochtar queue` lists each with that reason, and returns;
- nothing hangs (every wait is bounded), the three daemons stay up, and
  a normal message sent after all of them is delivered.

The device and the foreign owner need root; without it those cases are
left out (and said so)."""
import json
import os
import smtplib
import stat
import subprocess

import pochtar
import signlib

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "spool-hostile", "suites": ["chain", "cli"], "timeout": 180, "parallel": False}

BIN = pochtar.binaries("receive", "sign", "deliver", "pochtar")
ROOT = os.geteuid() == 0
STRANGER = 12345
BODY = b"From: info@example.com\r\nTo: bob@example.org\r\nSubject: plain\r\n\r\nhello\r\n"

# kind: (what the reason must say, what quarantine must still hold)
KINDS = {
    "fifo": ("a FIFO, not a regular file", stat.S_ISFIFO),
    "symlink-queue-file": ("a symbolic link", stat.S_ISLNK),
    "symlink-passwd": ("a symbolic link", stat.S_ISLNK),
    "directory": ("a directory", stat.S_ISDIR),
    "hard-link": ("2 hard links, not one", stat.S_ISREG),
}
if ROOT:
    KINDS["char-device"] = ("a character device", stat.S_ISCHR)
    KINDS["foreign-owner"] = ("owned by uid %d, which does not write this queue" % STRANGER, stat.S_ISREG)
else:
    print("not root: the character device and foreign owner cases are left out")

work, spool = pochtar.new_work_dir("pochtar-spool-hostile-")
outside = os.path.join(work, "outside")
os.makedirs(outside)
capture = os.path.join(work, "capture")
for q in ("hold/incoming", "hold/signed", "deliver/queue", "deliver/state"):
    for sub in ("tmp", "new"):
        os.makedirs(spool.path(q, sub), exist_ok=True)
key, dns = signlib.new_published_key(work, "mail")
port = pochtar.free_port()
config = pochtar.write_chain_config(work, spool.root, port, key, deliver="""
mode = capture
capture_dir = %s
""" % capture)
check = pochtar.Checks()


def write_valid(path, qid):
    """A valid queue file for qid at path; returns path."""
    with open(path, "wb") as f:
        f.write(pochtar.format_queue_file(qid, "info@example.com", ["bob@example.org"], BODY))
    return path


def make(kind, path, qid):
    """Makes `kind` at path, for queue ID qid."""
    if kind == "fifo":
        os.mkfifo(path, 0o640)
    elif kind == "symlink-queue-file":
        os.symlink(write_valid(os.path.join(outside, qid), qid), path)
    elif kind == "symlink-passwd":
        os.symlink("/etc/passwd", path)
    elif kind == "directory":
        os.mkdir(path, 0o750)
    elif kind == "hard-link":
        os.link(write_valid(os.path.join(outside, qid), qid), path)
    elif kind == "char-device":
        os.mknod(path, stat.S_IFCHR | 0o640, os.makedev(1, 3))
    elif kind == "foreign-owner":
        os.chown(write_valid(path, qid), STRANGER, 0)
    else:
        raise ValueError(kind)


def drop(queue, kind, running):
    """Puts `kind` into queue/new under a new queue ID: made there directly
    (what a stage's start-up scan finds) or, for a running stage, made in
    tmp/ and renamed into new/ (the event its watch reports)."""
    qid = pochtar.new_queue_id()
    if running:
        tmp = spool.path(queue, "tmp", "hostile-" + qid)
        make(kind, tmp, qid)
        os.rename(tmp, spool.path(queue, "new", qid))
    else:
        make(kind, spool.path(queue, "new", qid), qid)
    return qid


def bounded_wait(predicate, what, timeout=15):
    try:
        pochtar.wait_for(predicate, timeout=timeout, what=what)
        return True
    except AssertionError as e:
        print(e)
        return False


def reason_of(qid):
    try:
        with open(spool.path("quarantine", "new", qid + ".reason")) as f:
            return f.read().strip()
    except OSError:
        return None


def check_quarantined(dropped, stage):
    """Every ID of dropped ({qid: kind}) is in quarantine, still what it
    was, with a reason saying so; nothing of them is left behind."""
    check(bounded_wait(lambda: all(reason_of(q) and os.path.lexists(spool.path("quarantine", "new", q))
                                   for q in dropped), "%d hostile names quarantined by %s" % (len(dropped), stage)),
          "%s: every hostile name went to quarantine" % stage)
    for qid, kind in dropped.items():
        why, is_kind = KINDS[kind]
        reason = reason_of(qid)
        path = spool.path("quarantine", "new", qid)
        check(reason is not None and why in reason and "not opened" in reason,
              "%s, %s: reason %r" % (stage, kind, reason))
        check(os.path.lexists(path) and is_kind(os.lstat(path).st_mode),
              "%s, %s: quarantined as it was, never opened" % (stage, kind))


def pochtar_queue(*args):
    """`pochtar queue ARGS` with a deadline: (output, None) or (None, why)."""
    command = " ".join(("pochtar queue",) + args)
    try:
        p = subprocess.run([BIN["pochtar"], "queue", *args, "--config", config], capture_output=True, text=True,
                           timeout=20 * pochtar.TIMEOUT_SCALE)
    except subprocess.TimeoutExpired:
        return None, "%s did not return within 20 s" % command
    if p.returncode != 0:
        return None, "%s: exit %d: %s" % (command, p.returncode, p.stderr)
    return p.stdout, None


daemons = {}
try:
    # before the stages start: what their start-up scans find
    before_sign = {drop("incoming", k, False): k for k in KINDS}
    before_deliver = {drop("signed", k, False): k for k in KINDS}
    # a claimed message whose state file is a FIFO
    claimed = pochtar.new_queue_id()
    with open(spool.path("deliver/queue", "new", claimed), "wb") as f:
        f.write(pochtar.format_queue_file(claimed, "info@example.com", ["carol@example.org"], BODY))
    os.mkfifo(spool.path("deliver/state", "new", claimed), 0o640)

    for s in ("deliver", "sign", "receive"):
        daemons[s] = pochtar.Daemon([BIN[s], "--config", config])
    check(bounded_wait(lambda: pochtar.smtp_answers(port), "receive to listen"), "receive listens")

    check_quarantined(before_sign, "sign at start")
    check_quarantined(before_deliver, "deliver at start")
    check(bounded_wait(lambda: reason_of(claimed), "the claimed message with a FIFO state"),
          "deliver: a message whose state file is a FIFO is quarantined")
    reason = reason_of(claimed) or ""
    check("state file not opened: a FIFO" in reason, "deliver: state file reason %r" % reason)

    # while they run
    check_quarantined({drop("incoming", k, True): k for k in KINDS}, "sign running")
    check_quarantined({drop("signed", k, True): k for k in KINDS}, "deliver running")

    # the admin's view: the quarantine above, hold/, a reason file that is a FIFO
    in_hold = {drop("hold/incoming", k, False): k for k in KINDS}
    in_hold[drop("hold/signed", "fifo", False)] = "fifo"
    odd_reason = spool.inject("quarantine", "info@example.com", ["dave@example.org"], BODY)
    os.mkfifo(spool.path("quarantine", "new", odd_reason + ".reason"), 0o640)
    text, why = pochtar_queue()
    check(text is not None, why or "pochtar queue returns")
    check(text is not None and "not opened: a FIFO, not a regular file" in text, "pochtar queue says what a FIFO is")
    out, why = pochtar_queue("--json")
    check(out is not None, why or "pochtar queue --json returns")
    listed = {m["id"]: m for m in json.loads(out)["messages"]} if out else {}
    for qid, kind in in_hold.items():
        error = (listed.get(qid) or {}).get("error") or ""
        check(listed.get(qid, {}).get("queue") == "hold" and error.startswith("not opened: ")
              and KINDS[kind][0] in error, "pochtar queue, hold, %s: %r" % (kind, error))
    quarantined = [m for m in listed.values() if m["queue"] == "quarantine"]
    check(len([m for m in quarantined if (m["error"] or "").startswith("not opened: ")]) == 4 * len(KINDS),
          "pochtar queue lists every quarantined name, each with why it was not opened")
    odd = listed.get(odd_reason, {})
    check(odd.get("error") is None and "reason file was not opened: a FIFO" in (odd.get("reason") or ""),
          "pochtar queue: a reason file that is a FIFO: %r" % odd.get("reason"))

    # mail behind all of them flows
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
        c.sendmail("info@example.com", ["bob@example.org"],
                   b"From: info@example.com\r\nTo: bob@example.org\r\nSubject: after the hostile names\r\n\r\nok\r\n")
    new = os.path.join(capture, "new")

    def delivered():
        for name in os.listdir(new) if os.path.isdir(new) else ():
            with open(os.path.join(new, name), "rb") as f:
                if b"Subject: after the hostile names" in f.read():
                    return True
        return False
    check(bounded_wait(delivered, "the normal message in the capture maildir"), "a normal message is delivered")
    for s, d in daemons.items():
        check(d.proc.poll() is None, "pochtar-%s is still up" % s)
finally:
    for d in daemons.values():
        d.stop()
    print("".join(d.output() for d in daemons.values()))
    pochtar.remove_work_dir(work)
check.exit("hostile spool names ok")
