#!/usr/bin/python3
"""A full disk under the whole chain. The spool is a small tmpfs in a
private mount namespace. receive accepts a batch while sign and deliver are
stopped; then a filler file takes every free byte and sign and deliver
start: they hit ENOSPC when they write, must keep the messages where they
are (no loss, no quarantine, no truncated file) and keep running; receive
answers 452 4.3.1 to a new message. When the filler is deleted everything
flows to the sink (mx mode, 203.0.113.25 through dnsmasq), each message
complete and DKIM-valid, and every queue ends empty."""
import hashlib
import os
import re
import smtplib
import subprocess
import tempfile
import time

import netns

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "faults-disk-full", "suites": ["chain"], "timeout": 180, "parallel": False}

netns.enter(["203.0.113.25"])

import pochtar  # noqa: E402
import signlib  # noqa: E402
from sink import Recorder, start_mx_with_sink  # noqa: E402

BIN = pochtar.binaries("receive", "sign", "deliver")

MESSAGES = 20
# signed before the disk fills (deliver meets ENOSPC); the rest is not (sign
# does). Receive reuses the first part's files, which sign gives back, for
# the rest, so FIRST - (MESSAGES - FIRST) spares are left for the full disk.
FIRST = 13
# a batch of 20 messages of 40 KiB each, in a 4 MiB spool
check = pochtar.Checks()


work = tempfile.mkdtemp(prefix="pochtar-diskfull-")
root = os.path.join(work, "spool")
os.mkdir(root)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", root], check=True)
spool = pochtar.Spool(root)
key, verify_dns = signlib.new_published_key(work, "mail")
# later@ is deferred while the disk is full, so deliver must write its
# per-recipient state (user0@ sent, later@ deferred) when there is no room
accept_later = {"on": False}
dns, sink = start_mx_with_sink("example.org", "203.0.113.25", Recorder(
    rcpt_reply=lambda a: None if a != "later@example.org" or accept_later["on"] else "451 4.2.0 not yet"))
port = pochtar.free_port()
config = pochtar.write_chain_config(work, root, port, key, deliver="""
mode = mx
helo_name = mail.example.com
retry_min = 1s
retry_max = 2s
""")

SEQ = re.compile(rb"\r\nX-Full-Seq: (\d+)\r\n")


def message(n):
    # 40 KiB bodies: a signed copy does not fit in what is left after the filler
    body = "".join("%d line %05d %s\r\n" % (n, i, "x" * 60) for i in range(560))
    return ("From: app@example.com\r\nTo: user@example.org\r\nSubject: full %d\r\nX-Full-Seq: %d\r\n\r\n"
            % (n, n)) + body


def body_digest(data):
    return hashlib.sha256(data.split(b"\r\n\r\n", 1)[1]).hexdigest()


def fill(path):
    """Takes every free block; returns the bytes written."""
    n = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (65536, 4096, 1):
            while True:
                try:
                    n += os.write(fd, b"\0" * size)
                except OSError:
                    break
    finally:
        os.close(fd)
    return n


daemons = {}
try:
    daemons["receive"] = pochtar.Daemon([BIN["receive"], "--config", config])

    pochtar.wait_until_smtp_answers(port)

    sent = {}
    conn = smtplib.SMTP("127.0.0.1", port)

    def send(numbers):
        for n in numbers:
            m = message(n)
            rcpts = ["user%d@example.org" % n] + (["later@example.org"] if n == 0 else [])
            conn.sendmail("app@example.com", rcpts, m)
            sent[n] = hashlib.sha256(m.split("\r\n\r\n", 1)[1].encode()).hexdigest()

    send(range(FIRST))          # all before sign runs: FIRST files, none reused yet
    sign = pochtar.Daemon([BIN["sign"], "--config", config])
    pochtar.wait_for(lambda: len(spool.ids("signed")) == FIRST, what="the first part signed")
    sign.stop()
    send(range(FIRST, MESSAGES))
    check(len(spool.ids("incoming")) == MESSAGES - FIRST, "receive accepted the rest")

    filler = os.path.join(root, "filler")
    filled = fill(filler)
    print("filler took %d bytes" % filled)
    # sign gave the first part back to receive as spares (shared/spool-spare.c):
    # room on a full disk. receive overwrites a spare, or drops them all when
    # it needs a new file, so it takes at most as many messages as the spares
    # held room for, then answers 452.
    spares = len(spool.spares("incoming"))
    check(spares == FIRST - (MESSAGES - FIRST),
          "sign gave the first part back as spares, the rest reused them (%d left in incoming/tmp)" % spares)
    accepted, refused = 0, None
    for n in range(MESSAGES, MESSAGES + spares + 1):
        try:
            send([n])
            accepted += 1
        except smtplib.SMTPDataError as e:
            refused = e
            break
    print("on the full disk receive took %d message(s) into the room of %d spare(s)" % (accepted, spares))
    check(1 <= accepted <= spares, "receive used the spares' room, no more")
    check(not spool.spares("incoming"), "no spare left")
    check(refused is not None and refused.smtp_code == 452 and b"4.3.1" in refused.smtp_error,
          "then receive answers 452 4.3.1: %r" % (refused.args if refused else None,))
    try:
        conn.sendmail("app@example.com", ["late@example.org"], message(999))
        check(False, "receive refuses mail on a full disk")
    except smtplib.SMTPDataError as e:
        check(e.smtp_code == 452 and b"4.3.1" in e.smtp_error, "receive answers 452 4.3.1: %r" % (e.args,))
    conn.quit()

    for s in ("deliver", "sign"):
        daemons[s] = pochtar.Daemon([BIN[s], "--config", config])
    # the disk stays full: whatever a stage frees (deliver removing what it
    # sent) the filler takes again, as another writer on a full disk would
    end = time.monotonic() + 4
    while time.monotonic() < end:
        fill(filler)
        time.sleep(0.05)
    for s, d in daemons.items():
        check(d.proc.poll() is None, "%s keeps running on a full disk" % s)
    check(not spool.ids("quarantine"), "nothing quarantined on a full disk")
    queued = set(spool.ids("incoming")) | set(spool.ids("signed"))
    queued |= set(os.listdir(spool.path("deliver", "queue", "new")))
    delivered = sink.handler.numbers(SEQ)
    check(len(queued) + len(delivered) >= MESSAGES,
          "every message is still queued or delivered (%d queued, %d delivered)" % (len(queued), len(delivered)))
    for q in ("signed",):
        for qid in spool.ids(q):
            env, body = spool.read(q, qid)
            check(signlib.verifies(body, 0, verify_dns), "%s/new/%s is complete and signed" % (q, qid))
    print("on the full disk: %d still queued, %d delivered" % (len(queued), len(delivered)))
    outs = {s: d.output() for s, d in daemons.items()}
    check("No space left" in outs["sign"], "sign met ENOSPC and said so")
    check("Failed to record delivery state, will retry: No space left" in outs["deliver"],
          "deliver met ENOSPC and said so")

    check(not any(m[1] == ["later@example.org"] for m in sink.handler.messages), "later@ not yet delivered")
    os.unlink(filler)
    accept_later["on"] = True
    t = time.monotonic()

    def drained():
        got = sink.handler.numbers(SEQ)
        return got >= set(sent) and not spool.ids("incoming") and not spool.ids("signed") \
            and not os.listdir(spool.path("deliver", "queue", "new"))
    pochtar.wait_for(drained, timeout=30, interval=0.1, what="every message at the sink once space returned")
    print("drained %.1fs after the filler was deleted" % (time.monotonic() - t))
    msgs = sink.handler.contents()
    rcpts = sorted(r for m in sink.handler.messages for r in m[1])
    dups = len(rcpts) - len(set(rcpts))
    print("recipients delivered twice: %d" % dups)
    check(set(rcpts) == {"user%d@example.org" % n for n in sent} | {"later@example.org"},
          "every recipient got its message")
    check(dups == 0, "no recipient got a message twice")
    for m in msgs:
        n = int(SEQ.search(m).group(1))
        check(body_digest(m) == sent[n], "message %d arrived complete" % n)
        check(signlib.verifies(m, 0, verify_dns), "message %d: DKIM verifies" % n)
    check(not spool.ids("quarantine"), "quarantine is empty")
    for path, files in spool.settle(ignore=("deliver/state",)).items():
        check(not files, "%s is empty but for spares: %s" % (path, files[:5]))
finally:
    for d in daemons.values():
        d.stop()
    for s, d in daemons.items():
        print("--- %s\n%s" % (s, d.output()))
    dns.stop()
    sink.stop()
    subprocess.run(["umount", root])
    pochtar.remove_work_dir(work)
check.exit("disk full ok")
