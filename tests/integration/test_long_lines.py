#!/usr/bin/python3
"""Long lines and bare newlines, the way applications send them (issue 13),
through the real chain (receive, sign with a key, deliver in capture mode):

- swaks sends a plain message with a 5000-octet line and an HTML
  multipart with a 3000-octet line: each arrives with no line over 998
  octets, the affected part quoted-printable, a DKIM signature
  python3-dkim verifies, and a body Python's email package decodes back
  to exactly what was sent;
- a To: header of 300 addresses on one line is folded, and verifies;
- a long line inside an attached message (message/rfc822) and a header
  line with nowhere to fold are refused at the end of DATA with 550 5.6.0;
- a message that re-encoding would make larger than any stage reads gets
  552 5.3.4;
- an old mailer's bare-LF message (bare_newline = normalize, the default)
  is taken, arrives with CRLF lines and verifies."""
import email
import email.policy
import os
import shutil
import socket
import subprocess

import pochtar
import signlib
from sink import tear_down

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "long-lines", "suites": ["chain", "receive"], "timeout": 120}

BIN = pochtar.binaries("receive", "sign", "deliver")
if not shutil.which("swaks"):
    pochtar.skip("swaks missing")
check = pochtar.Checks()
work, spool = pochtar.new_work_dir("pochtar-long-lines-")
capture = os.path.join(work, "capture")
daemons = []


def swaks(port, data, extra=()):
    path = os.path.join(work, "message.eml")
    with open(path, "wb") as f:
        f.write(data)
    res = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port), "--from", "app@example.com",
                          "--to", "bob@example.org", "--data", "@" + path] + list(extra),
                         capture_output=True, text=True, timeout=60)
    return res


def captured():
    new = os.path.join(capture, "new")
    return [open(os.path.join(new, n), "rb").read() for n in sorted(os.listdir(new))] if os.path.isdir(new) else []


def longest_line(m):
    return max(len(x) for x in m.split(b"\r\n"))


def text_of(part):
    return part.get_payload(decode=True)


try:
    key, dns = signlib.new_published_key(work, "mail")
    port = pochtar.free_port()
    conf = pochtar.write_chain_config(work, spool.root, port, key, receive="max_message_size = 60k\n", deliver="""
mode = capture
capture_dir = %s
""" % capture)
    daemons = [pochtar.Daemon([BIN[s], "--config", conf]) for s in ("deliver", "sign", "receive")]
    pochtar.wait_until_smtp_answers(port)

    long_text = ("word " * 1000).encode()           # 5000 octets, one line
    plain = (b"From: app@example.com\r\nTo: bob@example.org\r\nSubject: plain long\r\n\r\nbefore\r\n" +
             long_text + b"\r\nafter\r\n")
    html_line = b"<html><body>" + b"<p>cell</p>" * 270 + b"</body></html>"  # 3000+ octets
    multipart = (b"From: app@example.com\r\nTo: bob@example.org\r\nSubject: html long\r\nMIME-Version: 1.0\r\n"
                 b"Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n"
                 b"--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nshort\r\n"
                 b"--b1\r\nContent-Type: text/html; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" +
                 html_line + b"\r\n--b1--\r\n")
    to_list = b", ".join(b"user%03d@example.org" % i for i in range(300))
    long_to = b"From: app@example.com\r\nTo: " + to_list + b"\r\nSubject: many\r\n\r\nhi\r\n"
    for name, data in (("plain", plain), ("multipart", multipart), ("long To:", long_to)):
        res = swaks(port, data)
        check(res.returncode == 0 and "250 2.0.0 Ok: queued" in res.stdout,
              "%s: swaks gets 250 (%s)" % (name, res.stdout[-200:]))

    # a bare-LF mailer, as old PHP mailers wrote messages
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"HELO php.example\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
    replies = [f.readline() for _ in range(4)]
    s.sendall(b"From: app@example.com\nTo: bob@example.org\nSubject: bare lf\n\nline one\nline two\r\n.\r\n")
    reply = f.readline()
    s.sendall(b"QUIT\r\n")
    s.close()
    check(replies[-1].startswith(b"354") and reply.startswith(b"250 2.0.0"), "a bare-LF message is taken (%r)" % reply)

    pochtar.wait_for(lambda: len(captured()) >= 4, timeout=30, what="four messages captured")
    got = {}
    for m in captured():
        msg = email.message_from_bytes(m, policy=email.policy.default)
        got[msg["Subject"]] = (m, msg)
    for subject, (m, msg) in got.items():
        check(longest_line(m) <= 998, "%s: no line over 998 octets (%d)" % (subject, longest_line(m)))
        check(signlib.verifies(m, 0, dns), "%s: the DKIM signature verifies" % subject)
        check(b"\n" not in m.replace(b"\r\n", b""), "%s: CRLF lines only" % subject)
    m, msg = got["plain long"]
    check(msg["Content-Transfer-Encoding"] == "quoted-printable" and msg["MIME-Version"] == "1.0",
          "plain: quoted-printable, MIME-Version added")
    # (swaks ends the data with one more empty line)
    check(text_of(msg).rstrip(b"\r\n") == b"before\r\n" + long_text + b"\r\nafter",
          "plain: the text decodes to what was sent, trailing space included")
    m, msg = got["html long"]
    parts = list(msg.iter_parts())
    check(len(parts) == 2 and parts[0].get_content().strip() == "short" and
          b"--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nshort\r\n--b1\r\n" in m,
          "html: the text part is unchanged")
    check(parts[1]["Content-Transfer-Encoding"] == "quoted-printable" and
          text_of(parts[1]).strip() == html_line, "html: the HTML part is quoted-printable and decodes to it")
    m, msg = got["many"]
    check(b"\r\n user" in m or b"\r\n\tuser" in m, "long To: folded")
    check(msg["To"].replace(" ", "") == to_list.decode().replace(" ", ""), "long To: the same addresses")
    m, msg = got["bare lf"]
    check(b"\r\n\r\nline one\r\nline two\r\n" in m, "bare LF: CRLF lines")

    # what cannot be re-encoded, or would be too big
    attached = (b"From: app@example.com\r\nSubject: attached\r\nMIME-Version: 1.0\r\n"
                b"Content-Type: multipart/mixed; boundary=b2\r\n\r\n--b2\r\nContent-Type: message/rfc822\r\n\r\n"
                b"Subject: inner\r\n\r\n" + b"x" * 1500 + b"\r\n--b2--\r\n")
    token = b"From: app@example.com\r\nX-Token: " + b"k" * 1200 + b"\r\nSubject: token\r\n\r\nhi\r\n"
    equals = b"From: app@example.com\r\nSubject: equals\r\n\r\n" + b"=" * 58000 + b"\r\n"
    for name, data, want in (("attached", attached, "550 5.6.0"), ("token", token, "550 5.6.0"),
                             ("equals", equals, "552 5.3.4")):
        res = swaks(port, data)
        check(want in res.stdout and "250 2.0.0 Ok: queued" not in res.stdout,
              "%s: %s at the end of DATA (%s)" % (name, want, [x for x in res.stdout.splitlines() if "<** " in x]))
    left = spool.settle(ignore=("capture",))
    check(not any(left.values()), "every queue is empty: %s" % left)
    check(not spool.ids("quarantine"), "nothing quarantined")
    out = daemons[2].output()
    check("lines over 998 octets re-encoded" in out and "bare LF written as CRLF" in out,
          "receive logs what it changed")
finally:
    tear_down(work, daemons, [], check.failures)
check.exit("long lines ok")
