#!/usr/bin/python3
"""A file deliver gives back to sign as a spare had two names before:
signed/new/ID (until deliver's claim renamed it) and deliver/queue/new/ID.
sign overwrites a spare with another message, so it must not become one
while a crash could still bring either name back: after the give, an
fsync of deliver/queue/new and, after the claim, one of signed/new, both
before the rename into signed/tmp/spare.NNN. Watched from outside, in
the order the kernel saw the calls (strace -y)."""
import os
import re
import shutil

import pochtar

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "test-deliver-spare-order", "suites": ["deliver"], "timeout": 90,
              "parallel": False}

DELIVER = pochtar.binary("deliver")
STRACE = shutil.which("strace")
if not STRACE:
    pochtar.skip("strace missing")
N = 40

work, spool = pochtar.new_work_dir("pochtar-deliver-spare-order-")
capture = os.path.join(work, "capture")
conf = pochtar.write_spool_config(work, spool.root, deliver="mode = capture\ncapture_dir = %s\n" % capture)
trace = os.path.join(work, "trace")
check = pochtar.Checks()

d = None
try:
    ids = []
    d = pochtar.Daemon([DELIVER, "--config", conf],
                       wrapper=(STRACE, "-f", "-y", "-qq", "-o", trace, "-e", "trace=renameat,renameat2,fsync"))
    # in bursts, so that claims, deliveries and gives overlap as under load
    for burst in range(4):
        ids += [spool.inject("signed", "app@example.com", ["bob@example.org"],
                             b"Subject: %d\r\n\r\nbody\r\n" % (burst * 100 + i)) for i in range(N // 4)]
        pochtar.wait_for(lambda: len(os.listdir(os.path.join(capture, "new"))) == len(ids)
                         if os.path.isdir(os.path.join(capture, "new")) else False, what="captured")
    pochtar.wait_for(lambda: len(spool.spares("signed")) > 0, what="spares in signed/tmp")
    d.stop()
    d = None

    sig_new, sig_tmp = (os.path.normpath(spool.path("signed", s)) for s in ("new", "tmp"))
    q_new = os.path.join(spool.root, "deliver", "queue", "new")
    call = re.compile(r'^\d+ +(renameat2?|fsync)\((.*)\) += 0$')
    fd = r'\d+<([^>]*)>'
    events = []                     # (kind, id), in the kernel's order
    for line in open(trace):
        m = call.match(line.strip())
        if not m:
            continue
        name, args = m.groups()
        if name == "fsync":
            events.append(("fsync", re.fullmatch(fd, args).group(1)))
            continue
        a = re.match(fd + r', "([^"]+)", ' + fd + r', "([^"]+)"', args)
        if not a:
            continue
        src_dir, src, dst_dir, dst = a.groups()
        if src_dir == sig_new and dst_dir == q_new:
            events.append(("claim", src))
        elif src_dir == q_new and dst_dir == q_new and dst == src + ".gone":
            events.append(("give", src))
        elif src_dir == q_new and dst_dir == sig_tmp and src.endswith(".gone"):
            events.append(("ready", src[:-len(".gone")]))

    ready = [(i, e[1]) for i, e in enumerate(events) if e[0] == "ready"]
    check(len(ready) >= N // 2, "most finished files became spares (%d of %d)" % (len(ready), N))
    bad = []
    for r, qid in ready:
        claim = next(i for i, e in enumerate(events) if e == ("claim", qid))
        give = next(i for i, e in enumerate(events) if e == ("give", qid))
        synced_signed = any(e == ("fsync", sig_new) for e in events[claim + 1:r])
        synced_queue = any(e == ("fsync", q_new) for e in events[give + 1:r])
        if not (claim < give < r and synced_signed and synced_queue):
            bad.append(qid)
    check(not bad, "every spare came after fsyncs of signed/new (since its claim) and of "
          "deliver/queue/new (since its give); not so: %s" % bad[:5])
    check(sorted(ids) == sorted(f.split(".")[0] for f in os.listdir(os.path.join(capture, "new"))),
          "every message captured once")
finally:
    if d:
        d.stop()
    pochtar.remove_work_dir(work)
check.exit("deliver spare order ok")
