#!/usr/bin/python3
"""The whole chain as the development mode runs it: receive, sign and
deliver (capture mode) as three processes on one spool. The article's
smtplib snippet and a cron-style pochtar-sendmail submission each arrive
exactly once in the capture maildir, DKIM-signed in a way python3-dkim
verifies, and every queue and tmp/ is empty afterwards."""
import os
import subprocess

import pochtar
import signlib

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "chain-capture", "suites": ["chain", "threads"], "timeout": 60, "valgrind": True}

BIN = pochtar.binaries("receive", "sign", "deliver", "sendmail")

work, spool = pochtar.new_work_dir("pochtar-chain-")
capture = os.path.join(work, "capture")
key, dns = signlib.new_published_key(work, "mail")
port = pochtar.free_port()
config = pochtar.write_chain_config(work, spool.root, port, key, receive="origin_domain = example.com\n", deliver="""
mode = capture
capture_dir = %s
""" % capture)

daemons = [pochtar.Daemon([BIN[s], "--config", config]) for s in ("deliver", "sign", "receive")]
try:
    pochtar.wait_until_smtp_answers(port)

    # The article's snippet (article_snippet.py), unchanged but for the
    # names (example.com signs) and the port.
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "article_snippet.py")) as f:
        snippet = f.read()
    code = snippet.replace("'from@some.com', 'to@other.org'", "'info@example.com', 'samael500@example.org'")
    code = code.replace("conn = smtplib.SMTP(host)", "conn = smtplib.SMTP(host, %d)" % port)
    code = code.replace("host = 'localhost'", "host = '127.0.0.1'")
    assert code.count("example.com") == 1 and "%d)" % port in code
    exec(compile(code, "article_snippet", "exec"), {})

    # cron: "root" everywhere, qualified by receive with origin_domain
    cron = subprocess.run([BIN["sendmail"], "-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"],
                          input=b"From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@host> true\n\nok\n",
                          env=dict(os.environ, POCHTAR_SENDMAIL_SERVER="127.0.0.1:%d" % port))
    assert cron.returncode == 0, cron

    new = os.path.join(capture, "new")
    files = pochtar.wait_for(lambda: os.path.isdir(new) and len(os.listdir(new)) >= 2 and os.listdir(new),
                             what="two messages in the capture maildir")
    assert len(files) == 2, files
    seen = {}
    for name in files:
        with open(os.path.join(new, name), "rb") as f:
            data = f.read()
        assert signlib.verifies(data, 0, dns), name + ": DKIM signature does not verify"
        seen[b"Hello from Earth" in data] = data
    assert set(seen) == {True, False}, "one article mail and one cron mail"
    article = seen[True]
    assert b"Date: " in article and b"Message-I" in article, "Date and Message-ID added as Postfix does"
    cron_mail = seen[False]
    # unqualified addresses qualified with origin_domain, in headers and envelope
    assert b"\r\nFrom: root@example.com (Cron Daemon)\r\n" in cron_mail, cron_mail[:600]
    assert b"\r\nTo: root@example.com\r\n" in cron_mail, cron_mail[:600]
    assert b"X-Pochtar-Envelope-To:\r\n <root@example.com>" in cron_mail, cron_mail[:400]

    def drained():
        return all(not spool.ids(q) and not spool.tmp_files(q) for q in ("incoming", "signed"))
    pochtar.wait_for(drained, what="incoming/ and signed/ to drain")
    assert not spool.ids("quarantine")
finally:
    for d in daemons:
        d.stop()
    out = "".join(d.output() for d in daemons)
    print(out)
    pochtar.remove_work_dir(work)
print("chain ok")
