#!/usr/bin/python3
"""One set of limits (issue 13, finding 5): what sign or deliver would
refuse, receive refuses at SMTP time, and nothing receive acknowledges is
set aside silently later.

- max_message_size = 0 used to mean "no limit" to receive and 1 MiB to
  sign; now every stage refuses it at start (exit 78, file and line).
- A header section over the limits sign's parser enforces (100 KB, 1000
  fields, a 64 KB field, a 1 KB name, or no end within 100 KB) gets
  552 5.3.4 at the end of DATA instead of 250 and a quarantine.
- A message without header fields, or whose first body line follows the
  fields without the empty line, is taken and delivered (receive adds
  the empty line, as Postfix does) instead of quarantined by sign as
  "malformed".

The real chain: receive, sign (with a key) and deliver in capture mode."""
import os
import smtplib
import subprocess

import pochtar
import signlib
from sink import tear_down

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "limits", "suites": ["chain", "receive"], "timeout": 120}

BIN = pochtar.binaries("receive", "sign", "deliver")
check = pochtar.Checks()
work, spool = pochtar.new_work_dir("pochtar-limits-")
capture = os.path.join(work, "capture")
daemons = []


def send(port, message):
    """The reply to the end of DATA: (code, text)."""
    c = smtplib.SMTP("127.0.0.1", port, timeout=30 * pochtar.TIMEOUT_SCALE)
    try:
        c.ehlo("client.example.com")
        c.mail("app@example.com")
        c.rcpt("bob@example.org")
        return c.data(message)
    finally:
        c.close()


def captured():
    new = os.path.join(capture, "new")
    return [open(os.path.join(new, n), "rb").read() for n in sorted(os.listdir(new))] if os.path.isdir(new) else []


try:
    # max_message_size = 0: refused by every stage, with the file and line
    conf = pochtar.write_spool_config(work, spool.root, receive="max_message_size = 0",
                                      deliver="mode = capture\ncapture_dir = %s" % capture)
    for stage in ("receive", "sign", "deliver"):
        try:
            res = subprocess.run([BIN[stage], "--config", conf], capture_output=True, text=True, timeout=10)
            rc, err = res.returncode, res.stderr
        except subprocess.TimeoutExpired:       # it started: the value was taken
            rc, err = None, "still running after 10 s"
        check(rc == 78 and "pochtar.conf:4:" in err and "max_message_size" in err,
              "%s refuses max_message_size = 0 (exit %s: %s)" % (stage, rc, err.strip()[-160:]))

    key, dns = signlib.new_published_key(work, "mail")
    port = pochtar.free_port()
    conf = pochtar.write_chain_config(work, spool.root, port, key, deliver="""
mode = capture
capture_dir = %s
""" % capture)
    daemons = [pochtar.Daemon([BIN[s], "--config", conf]) for s in ("deliver", "sign", "receive")]
    pochtar.wait_until_smtp_answers(port)

    head = b"From: app@example.com\r\nTo: bob@example.org\r\nSubject: limits\r\n"
    refused = {
        "a 120 KB field": head + b"X-Long: " + b"y" * 120000 + b"\r\n\r\nbody\r\n",
        "1001 fields": head + b"".join(b"X-N%d: v\r\n" % i for i in range(1001)) + b"\r\nbody\r\n",
        "a 70 KB field folded into short lines": head + b"X-Folded: a" + b"\r\n b" * 23000 + b"\r\n\r\nbody\r\n",
        "a 2000-octet field name": head + b"X-" + b"n" * 2000 + b": v\r\n\r\nbody\r\n",
        "no end of the header section within 100 KB": head + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 60)
                                                                      for i in range(1800)),
    }
    for what, message in refused.items():
        code, text = send(port, message)
        check(code == 552 and text.startswith(b"5.3.4"), "%s: 552 5.3.4 at the end of DATA (%d %s)" %
              (what, code, text.decode(errors="replace")))

    taken = {
        "no header fields at all": (b"Hello\r\nWorld\r\n", b"\r\n\r\nHello\r\nWorld\r\n"),
        "a body line right after the fields": (head + b"Hello there\r\nsecond\r\n",
                                              b"Subject: limits\r\n", b"\r\n\r\nHello there\r\nsecond\r\n"),
        "999 fields (under the cap with ours)": (head + b"".join(b"X-N%d: v\r\n" % i for i in range(990)) +
                                                  b"\r\nok\r\n", b"\r\nX-N989: v\r\n", b"\r\n\r\nok\r\n"),
    }
    for what, (message, *wants) in taken.items():
        code, text = send(port, message)
        check(code == 250, "%s: taken (%d %s)" % (what, code, text.decode(errors="replace")))
    pochtar.wait_for(lambda: len(captured()) >= len(taken), timeout=30, what="the taken messages delivered")
    got = captured()
    for what, (message, *wants) in taken.items():
        check(any(all(w in m for w in wants) for m in got), "%s: delivered with its body intact" % what)
    for m in got:
        check(signlib.header_value(m, "DKIM-Signature") or b"From:" not in m.split(b"\r\n\r\n")[0],
              "signed when it has a From: of the key's domain")
    left = spool.settle(ignore=("capture",))
    check(not any(left.values()), "every queue is empty: %s" % left)
    check(not spool.ids("quarantine"), "nothing quarantined: %s" % spool.ids("quarantine"))
finally:
    tear_down(work, daemons, [], check.failures)
check.exit("limits ok")
