#!/usr/bin/python3
"""Integration tests of pochtar-receive and pochtar-sendmail with real clients.

Run as `test_receive.py CASE`; meson runs one test per case. The receiver is
started under systemd-socket-activate, so LISTEN_FDS is the real thing.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pochtar

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "receive", "suites": ["receive"], "timeout": 60,
              "cases": {"concurrent": {"suites": ["threads"]}, "sendmail": {"suites": ["sendmail"]}}}

RECEIVE = os.environ.get("POCHTAR_RECEIVE")
SENDMAIL = os.environ.get("POCHTAR_SENDMAIL")
HOST = "mail.example.com"
ORIGIN = "example.com"
RECEIVED_RE = re.compile(
    rb"^Received: from (?P<helo>\S+) \(\[(?P<client>[0-9a-f.:]+)\]\)\r\n"
    rb"\tby mail\.example\.com \(pochtar\) with (?P<proto>E?SMTP|UTF8SMTP) id (?P<id>[0-9A-Z]{16})"
    rb"(?:\r\n\tfor <(?P<rcpt>[^>]+)>)?; (?P<date>[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4})\r\n")
DATE_RE = rb"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}"


def need(*tools):
    for t in tools:
        if not (os.path.isabs(t) and os.access(t, os.X_OK)) and not shutil.which(t):
            pochtar.skip("%s not found" % t)


class Receiver:
    """pochtar-receive under systemd-socket-activate with a private spool."""

    def __init__(self, extra="", listen="127.0.0.1", spool_root=None, activate=True, wrapper=(), spool_extra=""):
        need(RECEIVE or "pochtar-receive", "systemd-socket-activate")
        self.dir = tempfile.mkdtemp(prefix="pochtar-receive-test-")
        self.spool_root = spool_root or os.path.join(self.dir, "spool")
        pochtar.Spool(self.spool_root)          # the daemons do not create it (docs/spool-format.md)
        self.port = pochtar.free_port()
        self.config = pochtar.write_config(self.dir, (
            "[spool]\ndir = %s\n%s[receive]\nlisten = 127.0.0.1:%d\nhostname = %s\n"
            "origin_domain = %s\ncommand_timeout = 20s\ndata_timeout = 20s\n%s\n")
            % (self.spool_root, spool_extra, self.port, HOST, ORIGIN, extra))
        argv = [RECEIVE, "--config", self.config]
        if activate:
            argv = ["systemd-socket-activate", "-l", "%s:%d" % (listen, self.port)] + argv
        self.daemon = pochtar.Daemon(list(wrapper) + argv)
        self.wait_listening(listen)

    def wait_listening(self, host):
        def ok():
            try:
                socket.create_connection((host if host != "0.0.0.0" else "127.0.0.1", self.port), 0.2).close()
                return True
            except OSError:
                return False
        pochtar.wait_for(ok, what="the listening socket")
        # the probe connection above started the receiver; wait until it is
        # exec'ed (systemd-socket-activate replaces itself) and has its spool
        pochtar.wait_for(lambda: "Ready:" in self.daemon.output(), what="the receiver to be ready")

    def new(self):
        d = os.path.join(self.spool_root, "incoming", "new")
        return sorted(n for n in os.listdir(d) if pochtar.ID_RE.match(n))

    def tmp(self):
        return os.listdir(os.path.join(self.spool_root, "incoming", "tmp"))

    def read(self, qid):
        with open(os.path.join(self.spool_root, "incoming", "new", qid), "rb") as f:
            return pochtar.parse_queue_file(f.read())

    def stop(self):
        rc = self.daemon.stop()
        out = self.daemon.output()
        shutil.rmtree(self.dir, ignore_errors=True)
        return rc, out

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        rc, out = self.stop()
        if exc[0] is not None:
            sys.stderr.write(out)
        else:
            assert rc == 0, "receiver exited %r:\n%s" % (rc, out)


class Raw:
    """A raw SMTP client socket, for what smtplib would not send."""

    def __init__(self, port, host="127.0.0.1", source=None):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if source:
            self.s.bind((source, 0))
        self.s.settimeout(10)
        self.s.connect((host, port))
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def reply(self):
        lines = [self.line()]
        while lines[-1][3:4] == b"-":
            lines.append(self.line())
        return lines

    def send(self, data):
        self.s.sendall(data)

    def rest(self):
        """Everything until the server closes."""
        out = self.buf
        while True:
            chunk = self.s.recv(65536)
            if not chunk:
                return out
            out += chunk

    def close(self):
        self.s.close()


def expect_wire(s):
    """What smtplib sends for a str message: CRLF lines, ending in CRLF."""
    b = re.sub(r"(?:\r\n|\n|\r(?!\n))", "\r\n", s).encode()
    return b if b.endswith(b"\r\n") else b + b"\r\n"


def split_received(message, qid, rcpt, proto=b"ESMTP"):
    m = RECEIVED_RE.match(message)
    assert m, message[:300]
    assert m.group("id").decode() == qid
    assert m.group("client") == b"127.0.0.1"
    assert m.group("proto") == proto, m.group("proto")
    assert (m.group("rcpt") or b"").decode() == (rcpt or "")
    return m, message[m.end():]


def check_added(rest, original, qid):
    """rest = original headers + Date + Message-ID + original body."""
    head, sep, body = original.partition(b"\r\n\r\n")
    assert rest.startswith(head + b"\r\n"), rest[:400]
    added = rest[len(head) + 2:]
    m = re.match(rb"Date: " + DATE_RE + rb"\r\nMessage-ID: <\d{14}\." + qid.encode() +
                 rb"@mail\.example\.com>\r\n", added)
    assert m, added[:200]
    got, want = added[m.end():], b"\r\n" + body    # the blank line, then the body
    at = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), min(len(got), len(want)))
    assert got == want, (at, got[max(0, at - 20):at + 40], want[max(0, at - 20):at + 40])


# ---- cases ----

ARTICLE_SNIPPET = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "article_snippet.py")).read()


def case_article_smtplib():
    with Receiver() as r:
        # The article's snippet, unchanged but for the port.
        code = ARTICLE_SNIPPET.replace("conn = smtplib.SMTP(host)", "conn = smtplib.SMTP(host, %d)" % r.port)
        assert code != ARTICLE_SNIPPET
        ns = {}
        exec(compile(code, "article_snippet", "exec"), ns)
        ids = r.new()
        assert len(ids) == 1, ids
        env, message = r.read(ids[0])
        assert env["id"] == ids[0]
        assert env["sender"] == "from@some.com"
        assert [x["addr"] for x in env["rcpts"]] == ["to@other.org"]
        assert env["client"] == "127.0.0.1"
        # smtplib's EHLO name: the FQDN, or the address literal when it has no dot
        fqdn = socket.getfqdn()
        assert env["helo"] == (fqdn if "." in fqdn else "[127.0.0.1]"), (env["helo"], fqdn)
        assert "body" not in env and "smtputf8" not in env
        assert abs(int(env["arrival"]) / 1e6 - time.time()) < 60
        m, rest = split_received(message, ids[0], "to@other.org")
        check_added(rest, expect_wire(ns["msg"].as_string()), ids[0])
        assert r.tmp() == []


def case_swaks_pipeline():
    need("swaks")
    data = ("From: a@example.com\nTo: b@example.org\nSubject: pipelined\n"
            "Date: Sat, 28 Nov 2026 00:00:00 +0000\nMessage-ID: <p1@example.com>\n\n"
            "line one\nline two\n")
    with Receiver() as r:
        out = subprocess.run(["swaks", "--pipeline", "-s", "127.0.0.1:%d" % r.port, "--ehlo", "client.example",
                              "-f", "a@example.com", "-t", "b@example.org,c@example.org", "--data", data],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "PIPELINING" in out.stdout
        assert re.search(r"<[-*~]\s+250 2\.0\.0 Ok: queued as [0-9A-Z]{16}", out.stdout), out.stdout
        ids = r.new()
        assert len(ids) == 1, ids
        env, message = r.read(ids[0])
        assert env["sender"] == "a@example.com" and env["helo"] == "client.example"
        assert [x["addr"] for x in env["rcpts"]] == ["b@example.org", "c@example.org"]
        m, rest = split_received(message, ids[0], None)
        # Date and Message-ID present: nothing added, every byte as sent (swaks
        # always sends a CRLF of its own before the final dot)
        assert rest == data.replace("\n", "\r\n").encode() + b"\r\n", rest


def case_sendmail():
    need(SENDMAIL or "pochtar-sendmail")
    cron = ("From: root (Cron Daemon)\nTo: root\nBcc: audit@example.net\nSubject: Cron <root@host> run-parts\n"
            "\n.hidden dot line\n..two dots\nlast\n")
    with Receiver() as r:
        env_vars = dict(os.environ, POCHTAR_SENDMAIL_SERVER="127.0.0.1:%d" % r.port)
        out = subprocess.run([SENDMAIL, "-t", "-i"], input=cron.encode(), env=env_vars,
                             capture_output=True, timeout=30)
        assert out.returncode == 0, out
        ids = r.new()
        assert len(ids) == 1, ids
        env, message = r.read(ids[0])
        import pwd
        user = pwd.getpwuid(os.getuid()).pw_name
        assert env["sender"] == "%s@%s" % (user, ORIGIN), env
        assert [x["addr"] for x in env["rcpts"]] == ["root@example.com", "audit@example.net"]
        m, rest = split_received(message, ids[0], None)
        qualified = ("From: root@example.com (Cron Daemon)\r\nTo: root@example.com\r\n"
                     "Subject: Cron <root@host> run-parts\r\n").encode()
        assert rest.startswith(qualified), rest
        added = rest[len(qualified):]
        mm = re.match(rb"Date: " + DATE_RE + rb"\r\nMessage-ID: <\d{14}\." + ids[0].encode() +
                      rb"@mail\.example\.com>\r\n", added)
        assert mm, added
        # Bcc gone, dots exactly as the program wrote them
        assert added[mm.end():] == b"\r\n.hidden dot line\r\n..two dots\r\nlast\r\n", added[mm.end():]
        assert b"audit@" not in message

        # without -i a lone "." ends the input (sendmail(1)); recipients as arguments
        out = subprocess.run([SENDMAIL, "-f", "www-data@example.com", "bob@example.org"],
                             input=b"Subject: php\n\nbody\n.\nnot sent\n", env=env_vars, capture_output=True,
                             timeout=30)
        assert out.returncode == 0, out
        ids2 = [i for i in r.new() if i not in ids]
        env, message = r.read(ids2[0])
        assert env["sender"] == "www-data@example.com"
        assert message.endswith(b"\r\n\r\nbody\r\n") and b"not sent" not in message
        assert b"From: www-data@example.com\r\n" in message

        # Debian cron's exact invocation (MAILCMD "%s -FCronDaemon -i -B8BITMIME -oem %s")
        out = subprocess.run([SENDMAIL, "-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"],
                             input="Subject: Cron <root@host> date\nX-Cron-Env: <SHELL=/bin/sh>\n\n\u00e9t\u00e9\n".encode(),
                             env=env_vars, capture_output=True, timeout=30)
        assert out.returncode == 0, out
        ids3 = [i for i in r.new() if i not in ids + ids2]
        env, message = r.read(ids3[0])
        assert env["sender"] == "%s@%s" % (user, ORIGIN) and env["rcpts"][0]["addr"] == "root@example.com"
        assert env["body"] == "8BITMIME"
        assert ('\r\nFrom: "CronDaemon" <%s@%s>\r\n' % (user, ORIGIN)).encode() in message, message
        assert message.endswith("\r\n\r\n\u00e9t\u00e9\r\n".encode())

        # could not hand over: 75, and nothing queued
        before = r.new()
        out = subprocess.run([SENDMAIL, "x@example.org"], input=b"Subject: x\n\nx\n",
                             env=dict(env_vars, POCHTAR_SENDMAIL_SERVER="127.0.0.1:%d" % pochtar.free_port()),
                             capture_output=True, timeout=30)
        assert out.returncode == 75, out
        # refused recipient: not 0
        out = subprocess.run([SENDMAIL, "bad address"], input=b"x\n", env=env_vars, capture_output=True, timeout=30)
        assert out.returncode == 64, out
        out = subprocess.run([SENDMAIL], input=b"x\n", env=env_vars, capture_output=True, timeout=30)
        assert out.returncode == 64, out
        assert r.new() == before


def smuggle(r, variant):
    c = Raw(r.port)
    assert c.reply()[0].startswith(b"220 ")
    c.send(b"EHLO attacker.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
    replies = [c.reply() for _ in range(4)]
    assert replies[-1][0].startswith(b"354"), replies
    c.send(b"Subject: first\r\n\r\nhello" + variant +
           b"MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n"
           b"Subject: smuggled\r\n\r\nevil\r\n.\r\nQUIT\r\n")
    rest = c.rest()
    c.close()
    return rest


def case_smuggling():
    """SMTP smuggling (CVE-2023-51764): only <CRLF>.<CRLF> ends DATA. A
    bare CR is refused in every mode; a bare LF is refused with
    bare_newline = reject, and with the default (normalize, as Postfix
    3.9) it ends a content line: every variant then gives exactly one
    message, holding what came after the false terminator as text."""
    lf_variants = [b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\n.\n\r\n", b"\r\n\n.\r\n"]
    cr_variants = [b"\r.\r", b"\r\n.\r", b"\r.\r\n", b"\r\n.\r\r\n"]
    with Receiver("bare_newline = reject") as r:
        for v in lf_variants + cr_variants:
            rest = smuggle(r, v)
            # the whole transaction is refused at the real terminator; the
            # "second message" was never commands
            assert rest.startswith(b"550 5.5.2 Error: bare <"), (v, rest)
            assert rest.endswith(b"221 2.0.0 Bye\r\n"), (v, rest)
            assert b"250 2.0.0" not in rest, (v, rest)
            assert r.new() == [], (v, r.new())
            assert r.tmp() == []
        # a clean message on the same server is still accepted
        c = Raw(r.port)
        c.reply()
        c.send(b"HELO x\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"
               b"Subject: ok\r\n\r\nhello\r\n.\r\nQUIT\r\n")
        rest = c.rest()
        assert b"250 2.0.0 Ok: queued as" in rest, rest
        assert len(r.new()) == 1
    with Receiver() as r:
        for v in cr_variants:
            rest = smuggle(r, v)
            assert rest.startswith(b"550 5.5.2 Error: bare <CR>"), (v, rest)
            assert r.new() == [], (v, r.new())
        for v in lf_variants:
            rest = smuggle(r, v)
            # one 250, for the one message; "MAIL FROM:<evil..." was its text
            assert rest.count(b"250 2.0.0 Ok: queued as") == 1, (v, rest)
            assert rest.endswith(b"221 2.0.0 Bye\r\n"), (v, rest)
            ids = r.new()
            assert len(ids) == 1, (v, ids)
            env, message = r.read(ids[0])
            assert [x["addr"] for x in env["rcpts"]] == ["b@example.org"], (v, env)
            assert b"hello" in message and b"\r\nMAIL FROM:<evil@example.com>\r\n" in message, (v, message)
            assert b"\n" not in message.replace(b"\r\n", b""), (v, message)      # CRLF only
            os.unlink(os.path.join(r.spool_root, "incoming", "new", ids[0]))
        assert "bare LF written as CRLF" in r.daemon.output()


def case_oversize():
    import smtplib
    with Receiver("max_message_size = 10k") as r:
        conn = smtplib.SMTP("127.0.0.1", r.port)
        conn.ehlo()
        assert conn.esmtp_features["size"] == "10240"
        # declared too big: refused at MAIL (RFC 1870)
        code, msg = conn.docmd("MAIL FROM:<a@example.com> SIZE=20000")
        assert code == 552 and msg.startswith(b"5.3.4"), (code, msg)
        # undeclared: read to the end, then refused
        conn.docmd("RSET")
        del conn.esmtp_features["size"]
        body = "Subject: big\r\n\r\n" + ("x" * 998 + "\r\n") * 20
        try:
            conn.sendmail("a@example.com", ["b@example.org"], body)
            raise AssertionError("oversized message accepted")
        except smtplib.SMTPDataError as e:
            assert e.smtp_code == 552 and e.smtp_error.startswith(b"5.3.4"), e
        # the session goes on
        conn.sendmail("a@example.com", ["b@example.org"], "Subject: small\r\n\r\nok\r\n")
        conn.quit()
        assert len(r.new()) == 1
        assert r.tmp() == []


def case_too_many_recipients():
    with Receiver("max_recipients = 100") as r:
        c = Raw(r.port)
        c.reply()
        cmds = b"EHLO x\r\nMAIL FROM:<a@example.com>\r\n" + b"".join(
            b"RCPT TO:<r%d@example.org>\r\n" % i for i in range(101)) + b"DATA\r\n"
        c.send(cmds)
        replies = [c.reply() for _ in range(2 + 101 + 1)]
        rcpt = [x[0] for x in replies[2:103]]
        assert all(x == b"250 2.1.5 Ok" for x in rcpt[:100]), rcpt[:100]
        assert rcpt[100] == b"452 4.5.3 Error: too many recipients", rcpt[100]
        assert replies[-1][0].startswith(b"354")
        c.send(b"Subject: many\r\n\r\nx\r\n.\r\nQUIT\r\n")
        assert c.reply()[0].startswith(b"250 2.0.0 Ok: queued as")
        c.close()
        env, _ = r.read(r.new()[0])
        assert len(env["rcpts"]) == 100


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        fields = dict(line.split(":", 1) for line in f)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def case_concurrent():
    n = 200
    with Receiver() as r:
        clients = []
        for i in range(n):
            c = Raw(r.port)
            clients.append(c)
        for c in clients:
            assert c.reply()[0].startswith(b"220 "), "banner"
        rss, hwm = rss_kib(r.daemon.proc.pid)
        print("pochtar-receive with %d sessions open: VmRSS %d KiB, VmHWM %d KiB" % (n, rss, hwm))
        for i, c in enumerate(clients):
            c.send(b"EHLO c%d\r\nMAIL FROM:<a%d@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n" % (i, i))
        for c in clients:
            replies = [c.reply() for _ in range(4)]
            assert replies[-1][0].startswith(b"354"), replies
        for i, c in enumerate(clients):
            c.send(b"Subject: %d\r\n\r\n%s\r\n.\r\nQUIT\r\n" % (i, b"y" * 1000))
        for c in clients:
            rest = c.rest()
            assert rest.startswith(b"250 2.0.0 Ok: queued as ") and rest.endswith(b"221 2.0.0 Bye\r\n"), rest
            c.close()
        ids = r.new()
        assert len(ids) == n, len(ids)
        senders = sorted(r.read(q)[0]["sender"] for q in ids)
        assert senders == sorted("a%d@example.com" % i for i in range(n))
        rss, hwm = rss_kib(r.daemon.proc.pid)
        print("after %d messages: VmRSS %d KiB, VmHWM %d KiB" % (n, rss, hwm))


def case_client_killed():
    with Receiver() as r:
        # a client process killed mid-DATA, after 300 KB (past the first flush to tmp/)
        script = ("import socket,os,sys,time\n"
                  "s=socket.create_connection(('127.0.0.1',%d))\n"
                  "f=s.makefile('rb')\n"
                  "f.readline()\n"
                  "s.sendall(b'HELO x\\r\\nMAIL FROM:<a@example.com>\\r\\nRCPT TO:<b@example.org>\\r\\nDATA\\r\\n')\n"
                  "[f.readline() for _ in range(4)]\n"
                  "s.sendall(b'Subject: cut\\r\\n\\r\\n' + b'z'*1000 + b'\\r\\n' + (b'x'*998+b'\\r\\n')*300)\n"
                  "print('sent', flush=True)\n"
                  "time.sleep(60)\n") % r.port
        p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        assert p.stdout.readline().strip() == b"sent"
        pochtar.wait_for(lambda: r.tmp() != [], what="the tmp file of the message in flight")
        p.kill()
        p.wait()
        pochtar.wait_for(lambda: r.tmp() == [], what="the aborted tmp file to go")
        assert r.new() == []
        # and the server is fine
        c = Raw(r.port)
        c.reply()
        c.send(b"HELO x\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n")
        assert b"250 2.0.0 Ok: queued as" in c.rest()
        assert len(r.new()) == 1


def in_private_namespace(flags, case):
    """Re-runs this case inside `unshare FLAGS` (needs root)."""
    if os.environ.get("POCHTAR_TEST_IN_NS") == case:
        return True
    if os.geteuid() != 0:
        pochtar.skip("needs root for unshare")
    need("unshare")
    rc = subprocess.run(["unshare"] + flags + [sys.executable, os.path.abspath(__file__), case],
                        env=dict(os.environ, POCHTAR_TEST_IN_NS=case)).returncode
    raise SystemExit(rc)


def case_disk_full():
    in_private_namespace(["--mount", "--propagation", "private"], "disk_full")
    root = tempfile.mkdtemp(prefix="pochtar-tinyfs-")
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", root], check=True)
        with Receiver(spool_root=root) as r:
            for size in (200 * 1024, 3 * 1024 * 1024):     # fails at the final write / mid-stream
                c = Raw(r.port)
                c.reply()
                c.send(b"HELO x\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
                [c.reply() for _ in range(4)]
                c.send(b"Subject: big\r\n\r\n" + (b"x" * 1022 + b"\r\n") * (size // 1024) + b".\r\n")
                reply = c.reply()[0]
                assert reply == b"452 4.3.1 Insufficient system storage", reply
                assert r.new() == [] and r.tmp() == [], (r.new(), r.tmp())
                # the session continues and small mail still fits
                c.send(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
                [c.reply() for _ in range(3)]
                c.send(b"Subject: small\r\n\r\nok\r\n.\r\nQUIT\r\n")
                rest = c.rest()
                assert rest.startswith(b"250 2.0.0 Ok: queued as"), rest
                c.close()
                for q in r.new():
                    os.unlink(os.path.join(root, "incoming", "new", q))
    finally:
        subprocess.run(["umount", root])
        os.rmdir(root)


def case_not_allowed():
    in_private_namespace(["--net", "--mount", "--propagation", "private"], "not_allowed")
    need("ip")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", "203.0.113.5/32", "dev", "lo"], check=True)
    with Receiver(listen="0.0.0.0") as r:
        # a client on 203.0.113.5: 554 and nothing else
        c = Raw(r.port, host="203.0.113.5", source="203.0.113.5")
        assert c.rest() == b"554 5.7.1 Access denied\r\n"
        c.close()
        # a loopback client is served
        c = Raw(r.port, host="127.0.0.1")
        assert c.reply()[0] == b"220 mail.example.com ESMTP pochtar"
        c.send(b"QUIT\r\n")
        assert c.rest() == b"221 2.0.0 Bye\r\n"


def case_protocol():
    """Replies to the rest of the command set, pipelined, in order."""
    with Receiver() as r:
        c = Raw(r.port)
        assert c.reply() == [b"220 mail.example.com ESMTP pochtar"]
        c.send(b"MAIL FROM:<a@example.com>\r\nEHLO client.example\r\n")
        assert c.reply() == [b"503 5.5.1 Error: send HELO/EHLO first"]
        assert c.reply() == [b"250-mail.example.com", b"250-PIPELINING", b"250-SIZE 10240000", b"250-8BITMIME",
                             b"250-SMTPUTF8", b"250-ENHANCEDSTATUSCODES", b"250 DSN"]
        c.send(b"VRFY root\r\nHELP\r\nNOOP\r\nEXPN list\r\nFOO\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"
               b"MAIL FROM:<bad address>\r\n" + b"NOOP " + b"x" * 3000 + b"\r\nMAIL FROM:<>\r\n"
               b"MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z> NOTIFY=BOGUS\r\nRSET\r\n")
        want = [b"252 2.0.0", b"214 2.0.0", b"250 2.0.0 Ok", b"502 5.5.1", b"500 5.5.2 Error: command not recognized",
                b"503 5.5.1 Error: need MAIL", b"503 5.5.1 Error: need MAIL", b"501 5.1.7",
                b"500 5.5.2 Error: line too long", b"250 2.1.0 Ok", b"503 5.5.1 Error: nested MAIL",
                b"501 5.5.4 Bad NOTIFY", b"250 2.0.0 Ok"]
        for w in want:
            got = c.reply()[0]
            assert got.startswith(w), (w, got)
        # DSN parameters and the null sender into the envelope; SMTPUTF8 address
        c.send(b"MAIL FROM:<> RET=HDRS ENVID=QQ+2B314159 BODY=8BITMIME SMTPUTF8\r\n"
               b"RCPT TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+40example.org\r\n" +
               "RCPT TO:<пользователь@пример.рф>\r\nRCPT TO:<root>\r\nDATA\r\n".encode())
        for _ in range(4):
            assert c.reply()[0].startswith(b"250"), "MAIL/RCPT"
        assert c.reply()[0].startswith(b"354")
        c.send("Subject: \u00fcber\r\n\r\n\u00e9t\u00e9\r\n.\r\nQUIT\r\n".encode())
        qid = c.reply()[0].split()[-1].decode()
        assert c.rest() == b"221 2.0.0 Bye\r\n"
        env, message = r.read(qid)
        assert env["sender"] == "" and env["ret"] == "HDRS" and env["envid"] == "QQ+314159"
        assert env["body"] == "8BITMIME" and env["smtputf8"] == "yes"
        assert env["rcpts"][0] == {"addr": "bob@example.org", "notify": "SUCCESS,FAILURE",
                                   "orcpt": "rfc822;bob@example.org"}, env["rcpts"][0]
        assert env["rcpts"][1]["addr"] == "пользователь@пример.рф"
        assert env["rcpts"][2]["addr"] == "root@example.com"
        split_received(message, qid, None, proto=b"UTF8SMTP")


def case_split_reads():
    """Commands and the terminator cut across reads, one byte at a time."""
    with Receiver() as r:
        c = Raw(r.port)
        c.reply()
        c.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        dialogue = (b"EHLO x\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"
                    b"Subject: split\r\n\r\n..one\r\n.\r\nQUIT\r\n")
        for i in range(len(dialogue)):
            c.send(dialogue[i:i + 1])
            time.sleep(0.001)
        rest = c.rest()
        assert rest.count(b"250 2.0.0 Ok: queued as") == 1 and rest.endswith(b"221 2.0.0 Bye\r\n"), rest
        env, message = r.read(r.new()[0])
        assert message.endswith(b"\r\n\r\n.one\r\n"), message


def case_sender_map():
    d = tempfile.mkdtemp(prefix="pochtar-map-")
    path = os.path.join(d, "sender_map")
    with open(path, "w") as f:
        f.write("# cron and system mail\nroot alerts@example.com\n")
    try:
        with Receiver("sender_map = %s" % path) as r:
            c = Raw(r.port)
            c.reply()
            c.send(b"HELO h\r\nMAIL FROM:<root>\r\nRCPT TO:<root>\r\nDATA\r\n")
            [c.reply() for _ in range(4)]
            c.send(b"From: root (Cron Daemon)\r\nTo: root\r\nSubject: s\r\n\r\nx\r\n.\r\nQUIT\r\n")
            qid = c.reply()[0].split()[-1].decode()
            c.close()
            env, message = r.read(qid)
            assert env["sender"] == "alerts@example.com"
            assert env["rcpts"][0]["addr"] == "root@example.com"
            assert b"\r\nFrom: alerts@example.com (Cron Daemon)\r\nTo: root@example.com\r\n" in message
    finally:
        shutil.rmtree(d)


def case_timeout_and_idle():
    with Receiver("command_timeout = 1s\nidle_exit = 2s") as r:
        c = Raw(r.port)
        c.reply()
        t = time.monotonic()
        assert c.rest() == b"421 4.4.2 mail.example.com Error: timeout exceeded\r\n"
        assert 0.5 < time.monotonic() - t < 5
        c.close()
        # a spare (a consumed file sign gave back) is dropped on the way out
        spare = os.path.join(r.spool_root, "incoming", "tmp", "spare.007")
        with open(spare, "wb") as f:
            f.write(b"x" * 4096)
        # socket-activated and idle: it exits by itself, status 0
        r.daemon.proc.wait(timeout=10)
        assert r.daemon.proc.returncode == 0
        assert not os.path.exists(spare), "spare left after the idle exit"


def case_max_sessions():
    def served():
        # the start-up probe's session may not be gone yet: retry briefly
        for _ in range(50):
            x = Raw(r.port)
            if x.line().startswith(b"220 "):
                return x
            x.close()
            time.sleep(0.1)
        raise AssertionError("no session slot")

    with Receiver("max_sessions = 2") as r:
        a, b = served(), served()
        c = Raw(r.port)
        assert c.rest() == b"421 4.3.2 Too many connections, try again later\r\n"
        for x in (a, b, c):
            x.close()


def case_bad_config():
    """A bad value stops the start with file, line and reason; a missing --config file is an error."""
    need(RECEIVE)
    d = tempfile.mkdtemp(prefix="pochtar-badconf-")
    try:
        for text, want in (("[receive]\nallow = 10.0.0.0/99\n", "Bad [receive] allow entry '10.0.0.0/99'"),
                           ("[spool]\ndir = %s/spool\n[receive]\nsender_map = %s/missing\n" % (d, d),
                            "Failed to open sender_map"),
                           ("[receive]\n\nmax_recipients = 5\n", "pochtar.conf:3:")):
            path = pochtar.write_config(d, text)
            out = subprocess.run([RECEIVE, "--config", path], capture_output=True, text=True, timeout=10)
            assert out.returncode == 78 and want in out.stderr, (text, out)
        out = subprocess.run([RECEIVE, "--config", os.path.join(d, "nope.conf")], capture_output=True, text=True,
                             timeout=10)
        assert out.returncode == 78 and "No such file" in out.stderr, out
        out = subprocess.run([RECEIVE, "--bogus"], capture_output=True, text=True, timeout=10)
        assert out.returncode == 64, out
    finally:
        shutil.rmtree(d)


def case_out_of_descriptors():
    """With few descriptors the receiver pauses accepting instead of spinning, and resumes."""
    need("prlimit")
    with Receiver(wrapper=["prlimit", "--nofile=32"]) as r:
        clients = [Raw(r.port) for _ in range(40)]
        served, waiting = [], []
        for c in clients:
            c.s.settimeout(0.5)
            try:
                assert c.reply()[0].startswith(b"220 ")
                served.append(c)
            except socket.timeout:
                waiting.append(c)
        assert served and waiting, (len(served), len(waiting))
        cpu0 = sum(int(x) for x in open("/proc/%d/stat" % r.daemon.proc.pid).read().rsplit(")", 1)[1].split()[11:13])
        time.sleep(1)
        cpu1 = sum(int(x) for x in open("/proc/%d/stat" % r.daemon.proc.pid).read().rsplit(")", 1)[1].split()[11:13])
        assert cpu1 - cpu0 < 20, "spinning: %d ticks in 1s" % (cpu1 - cpu0)
        for c in served:
            c.send(b"QUIT\r\n")
            c.close()
        for c in waiting:
            c.s.settimeout(10)
            assert c.reply()[0].startswith(b"220 ")
            c.send(b"QUIT\r\n")
            assert c.rest() == b"221 2.0.0 Bye\r\n"
            c.close()
        assert "pausing until a session ends" in r.daemon.output()


def case_bind_itself():
    """Without LISTEN_FDS it binds [receive] listen itself, and SIGTERM stops it cleanly."""
    with Receiver(activate=False) as r:
        c = Raw(r.port)
        assert c.reply()[0].startswith(b"220 ")
        c.send(b"HELO x\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\npartial\r\n")
        [c.reply() for _ in range(4)]
        r.daemon.proc.send_signal(signal.SIGTERM)
        assert c.rest() == b"421 4.3.2 mail.example.com Service shutting down\r\n"
        c.close()
        assert r.daemon.proc.wait(10) == 0
        # the unfinished message left nothing
        assert r.new() == [] and r.tmp() == []


def case_spare_keep():
    """Spares receive does not use are unlinked after [spool] spare_keep;
    with 0 they are kept; other files in tmp/ are never touched."""
    for keep in ("1s", "0"):
        with Receiver(spool_extra="spare_keep = %s\n" % keep, activate=False) as r:
            tmp = os.path.join(r.spool_root, "incoming", "tmp")
            for name in ("spare.003", "spare.200", "not-a-spare"):
                with open(os.path.join(tmp, name), "wb") as f:
                    f.write(b"x" * 1000)
            spares = lambda: sorted(n for n in os.listdir(tmp) if n.startswith("spare."))  # noqa: E731
            if keep == "1s":
                pochtar.wait_for(lambda: not spares(), timeout=5, what="the spares to be unlinked")
            else:
                time.sleep(2.5)
                assert spares() == ["spare.003", "spare.200"], spares()
            assert os.path.exists(os.path.join(tmp, "not-a-spare"))


def case_session_abuse():
    """Issue 13: a client cannot hold a session with junk commands or by
    trickling bytes (Postfix's smtpd_junk_command_limit, and deadlines that
    slow input does not extend)."""
    with Receiver("") as r:
        # 100 NOOP/RSET/VRFY are fine; past that each is an error too, and
        # after 20 errors the session ends (smtpd_hard_error_limit)
        c = Raw(r.port)
        c.reply()
        c.send(b"EHLO client.example.com\r\n")
        c.reply()
        c.send(b"NOOP\r\nRSET\r\nVRFY x\r\n" * 45)
        replies = [c.reply()[0] for _ in range(120)]
        assert all(x.startswith(b"250") or x.startswith(b"252") for x in replies), replies[-3:]
        assert c.rest() == b"421 4.7.0 mail.example.com Error: too many errors\r\n"
        c.close()
        # sending mail resets the count: 100 junk, a message, 100 junk
        c = Raw(r.port)
        c.reply()
        c.send(b"EHLO client.example.com\r\n")
        c.reply()
        c.send(b"NOOP\r\n" * 100 + b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        replies = [c.reply()[0] for _ in range(103)]
        assert replies[-1].startswith(b"354"), replies[-3:]
        c.send(b"Subject: x\r\n\r\nhi\r\n.\r\n" + b"NOOP\r\n" * 100 + b"QUIT\r\n")
        replies = [c.reply()[0] for _ in range(102)]
        assert replies[0].startswith(b"250 2.0.0 Ok: queued"), replies[0]
        assert replies[-1].startswith(b"221"), replies[-1]
        c.close()
    with Receiver("command_timeout = 2s\ndata_timeout = 2s\nsession_timeout = 5s") as r:
        # a command line trickled a byte at a time still has command_timeout
        c = Raw(r.port)
        c.reply()
        t = time.monotonic()
        got = b""
        for b in b"EHLO client.example.com":
            try:
                c.send(bytes([b]))
            except OSError:
                break
            c.s.settimeout(0.25)
            try:
                got += c.s.recv(4096)
            except socket.timeout:
                pass
            if got:
                break
        elapsed = time.monotonic() - t
        c.s.settimeout(10)
        got += c.rest()
        assert got == b"421 4.4.2 mail.example.com Error: timeout exceeded\r\n", got
        assert 1.5 < elapsed < 4, elapsed
        c.close()
        # a message trickled a line at a time ends at session_timeout
        c = Raw(r.port)
        c.reply()
        t = time.monotonic()
        c.send(b"EHLO client.example.com\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        for _ in range(4):
            c.reply()
        got = b""
        c.s.settimeout(0.5)
        while not got and time.monotonic() - t < 20:
            try:
                c.send(b"x-line: trickled\r\n")
                got = c.s.recv(4096)
            except socket.timeout:
                pass
            except OSError:
                break
        c.s.settimeout(10)
        got += c.rest()
        assert got == b"421 4.4.2 mail.example.com Error: session too long\r\n", got
        assert 4 < time.monotonic() - t < 9, time.monotonic() - t
        assert r.new() == [], "the trickled message is discarded"
        c.close()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    if not RECEIVE:
        pochtar.skip("POCHTAR_RECEIVE not set")
    CASES[sys.argv[1]]()
