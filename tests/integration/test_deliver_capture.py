#!/usr/bin/python3
"""mode = capture: every message lands in the maildir capture_dir, byte
for byte as signed after two prepended header fields, and its DKIM
signature still verifies; the queue is emptied; a second hand-over of the
same ID (sign crashed after publishing) is dropped, not delivered twice;
a torn copy and one with a bare LF in its body are quarantined, not sent."""
import os
import shutil

import pochtar
from sink import tear_down

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "test-deliver-capture", "suites": ["deliver", "threads"], "timeout": 90,
              "parallel": False}

DELIVER = pochtar.binary("deliver")
try:
    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
except ImportError:
    pochtar.skip("python3-dkim or python3-cryptography missing")

work, spool = pochtar.new_work_dir("pochtar-deliver-capture-")
capture = os.path.join(work, "capture")
conf = pochtar.write_spool_config(work, spool.root, deliver="""
mode = capture
capture_dir = %s
helo_name = mail.example.com
""" % capture)

key = ed25519.Ed25519PrivateKey.generate()
priv = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                         serialization.NoEncryption())
import base64  # noqa: E402
pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
txt = b"v=DKIM1; k=ed25519; p=" + base64.b64encode(pub)
raw = (b"From: app@example.com\r\nTo: bob@example.org\r\nSubject: capture\r\n\r\n"
       b"line one\r\n.dot line\r\n")
signed = dkim.sign(raw, b"mail", b"example.com", base64.b64encode(priv), signature_algorithm=b"ed25519-sha256",
                   include_headers=[b"from", b"to", b"subject"]) + raw

check = pochtar.Checks()


d = None
try:
    qid = spool.inject("signed", "app@example.com", ["bob@example.org", "carol@example.net"], signed)
    d = pochtar.Daemon([DELIVER, "--config", conf])
    newdir = os.path.join(capture, "new")
    pochtar.wait_for(lambda: os.path.isdir(newdir) and os.listdir(newdir), what="captured file")
    pochtar.wait_for(lambda: not os.listdir(os.path.join(spool.root, "deliver", "queue", "new")),
                     what="queue emptied")
    files = os.listdir(newdir)
    check(len(files) == 1 and files[0].startswith(qid), "one maildir file named after the queue ID")
    data = open(os.path.join(newdir, files[0]), "rb").read()
    head = (b"Return-Path: <app@example.com>\r\nX-Pochtar-Envelope-To:\r\n <bob@example.org>,\r\n"
            b" <carol@example.net>\r\n")
    check(data == head + signed, "prepended envelope fields, then exactly the signed bytes")
    check(dkim.verify(data, dnsfunc=lambda name, timeout=5: txt), "DKIM (ed25519) verifies in the capture")
    check("status=sent" in d.output() and "dsn=2.0.0" in d.output(), "logged as sent")
    # sign crashed after publishing and published the same ID again while
    # deliver already owns it: the copy in signed/new must be dropped
    d.stop()
    qid2 = spool.inject("signed", "app@example.com", ["dave@example.org"], signed)
    os.makedirs(os.path.join(spool.root, "deliver", "queue", "new"), exist_ok=True)
    # sign's second copy is a file of its own (a hard link would be refused
    # as one: docs/spool-format.md, "Reading a queue file")
    shutil.copyfile(spool.path("signed", "new", qid2), os.path.join(spool.root, "deliver", "queue", "new", qid2))
    d = pochtar.Daemon([DELIVER, "--config", conf])
    pochtar.wait_for(lambda: not spool.ids("signed") and
                     not os.listdir(os.path.join(spool.root, "deliver", "queue", "new")), what="duplicate handled")
    dave = [f for f in os.listdir(newdir) if f.startswith(qid2)]
    check(len(dave) == 1, "a second hand-over of a claimed ID is dropped, delivered once")
    check("dropped duplicate hand-over" in d.output(), "the drop is logged")

    # sign renames its copy into signed/new before it syncs it (version 2,
    # with a check): what a crash leaves of one is quarantined, not sent
    whole = spool.inject("signed", "app@example.com", ["erin@example.org"], signed, check=True)
    cut = spool.inject("signed", "app@example.com", ["fay@example.org"], signed[:-5] + bytes(5),
                       check="%016x" % pochtar.xxhash.xxh3_64_intdigest(signed))
    pochtar.wait_for(lambda: cut in spool.ids("quarantine") and not spool.ids("signed") and
                     not os.listdir(os.path.join(spool.root, "deliver", "queue", "new")), what="cut copy handled")
    check([f for f in os.listdir(newdir) if f.startswith(whole)] != [], "a whole version 2 copy is delivered")
    check([f for f in os.listdir(newdir) if f.startswith(cut)] == [], "a cut one is not")
    reason = open(spool.path("quarantine", "new", cut + ".reason")).read()
    check("does not match the envelope's check" in reason, "and is quarantined with the reason: " + reason.strip())

    # a body with bare LF (no stage writes one; a lenient server would read
    # "\n.\n" as the end of data and the rest as commands): never sent
    bare = spool.inject("signed", "app@example.com", ["gus@example.org"],
                        b"Subject: x\r\n\r\nhi\n.\nRSET\r\nMAIL FROM:<e@x.org>\r\n", check=True)
    pochtar.wait_for(lambda: bare in spool.ids("quarantine") and not spool.ids("signed"), what="bare LF handled")
    check([f for f in os.listdir(newdir) if f.startswith(bare)] == [], "a body with a bare LF is not sent")
    reason = open(spool.path("quarantine", "new", bare + ".reason")).read()
    check("bare CR or LF" in reason, "and is quarantined with the reason: " + reason.strip())
    rc = d.stop()
    check(rc == 0 and "Sanitizer" not in d.output(), "clean exit (%s)" % rc)
finally:
    tear_down(work, [d], [], check.failures)
check.exit()
