#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The sub10 load: app servers submitting over STARTTLS and AUTH PLAIN.

    submit.py --port 587 --ca CERT --user U --password-file F --messages N
              [--sessions 10] [--per-connection 50] [--resume] [--size 1024]

Each of --sessions threads sends its share of N messages, one connection
per --per-connection messages: EHLO, STARTTLS, EHLO, AUTH PLAIN once,
then MAIL/RCPT/DATA per message, one command at a time as smtplib (what
app servers use) does, QUIT. --resume offers the previous connection's TLS
session (a ticket) to the next handshake, which smtplib cannot do.
smtp-source has no TLS or AUTH, hence this client: raw sockets and the
ssl module, no smtplib, so that Python's own cost per message stays
small; the harness runs it in a cgroup of its own and reports its CPU.

Prints one JSON object: monotonic start and end, messages sent,
connections, handshakes the client saw resumed, and the first error.
"""
import argparse
import base64
import json
import socket
import ssl
import sys
import threading
import time


class SmtpError(Exception):
    pass


class Conn:
    """One SMTP connection, plain until starttls()."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def reply(self, want):
        """Reads one (multi-line) reply; SmtpError unless its code is want."""
        while True:
            end = self.buf.find(b"\r\n")
            while end >= 0:
                line = self.buf[:end]
                if len(line) < 4 or line[3:4] != b"-":
                    text = self.buf[:end]
                    self.buf = self.buf[end + 2:]
                    if not line.startswith(want):
                        raise SmtpError(text.decode("ascii", "replace")[-200:])
                    return
                self.buf = self.buf[end + 2:]
                end = self.buf.find(b"\r\n")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SmtpError("connection closed (after %r)" % self.buf[-200:])
            self.buf += chunk

    def command(self, line, want):
        self.sock.sendall(line)
        self.reply(want)

    def starttls(self, ctx, session):
        self.command(b"STARTTLS\r\n", b"220")
        self.sock = ctx.wrap_socket(self.sock, server_hostname="mail.example.com",
                                    session=session)
        self.buf = b""


def message(size, tag):
    head = ("From: <bench@example.com>\r\nTo: <rcpt@example.org>\r\nSubject: submission %s\r\n"
            "Message-ID: <%s@bench.example.com>\r\n\r\n" % (tag, tag)).encode()
    line = b"x" * 76 + b"\r\n"
    body = line * max(1, (size - len(head)) // len(line))
    return head + body + b".\r\n"


def session(a, ctx, k, count, out, lock):
    sent = conns = resumed = 0
    error = None
    tls_session = None
    auth = b"AUTH PLAIN " + base64.b64encode(b"\0" + a.user.encode() + b"\0" + a.password) + b"\r\n"
    try:
        while sent < count:
            c = Conn(a.host, a.port)
            conns += 1
            c.reply(b"220")
            c.command(b"EHLO app%d.example.com\r\n" % k, b"250")
            c.starttls(ctx, tls_session if a.resume else None)
            resumed += c.sock.session_reused
            c.command(b"EHLO app%d.example.com\r\n" % k, b"250")
            c.command(auth, b"235")
            for _ in range(min(a.per_connection, count - sent)):
                c.command(b"MAIL FROM:<bench@example.com>\r\n", b"250")
                c.command(b"RCPT TO:<rcpt@example.org>\r\n", b"250")
                c.command(b"DATA\r\n", b"354")
                c.command(message(a.size, "%d.%d.%d" % (a.tag, k, sent)), b"250")
                sent += 1
            c.command(b"QUIT\r\n", b"221")
            tls_session = c.sock.session
            c.sock.close()
    except (OSError, SmtpError) as e:
        error = "session %d after %d messages: %s" % (k, sent, e)
    with lock:
        out["sent"] += sent
        out["connections"] += conns
        out["resumed"] += resumed
        if error and not out["error"]:
            out["error"] = error


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=587)
    ap.add_argument("--ca", required=True, help="the server's (self-signed) certificate")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--messages", type=int, required=True)
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--per-connection", type=int, default=50)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--tag", type=int, default=0, help="makes Message-IDs unique across runs")
    a = ap.parse_args()
    with open(a.password_file, "rb") as f:
        a.password = f.read().rstrip(b"\n")
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    out = {"sent": 0, "connections": 0, "resumed": 0, "error": None}
    lock = threading.Lock()
    shares = [a.messages // a.sessions + (k < a.messages % a.sessions) for k in range(a.sessions)]
    threads = [threading.Thread(target=session, args=(a, ctx, k, shares[k], out, lock))
               for k in range(a.sessions)]
    out["t_start"] = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["t_end"] = time.monotonic()
    json.dump(out, sys.stdout)
    return 0 if out["sent"] == a.messages else 1


if __name__ == "__main__":
    sys.exit(main())
