"""SMTP sinks for pochtar-deliver's tests: aiosmtpd servers on TEST-NET
addresses inside the test's network namespace, each recording what it got."""
import asyncio
import os
import socket
import ssl
import subprocess
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

# tests/lib, on the path of every test that imports this module
import netns
import pochtar


class Recorder:
    """aiosmtpd handler: records each accepted message; behaviour hooks
    decide the reply to RCPT and DATA."""

    def __init__(self, rcpt_reply=None, data_reply=None):
        self.messages = []          # (mail_from, [rcpts], content bytes, tls, time)
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.data_calls = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            reply = self.rcpt_reply(address)
            if reply:
                return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.data_calls += 1
            n = self.data_calls
        if self.data_reply:
            reply = self.data_reply(n)
            if reply:
                return reply
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content,
                                  session.ssl is not None, time.monotonic(), list(envelope.mail_options),
                                  id(session), session.peer))
        return "250 2.0.0 Ok: queued"

    def rcpts(self):
        with self.lock:
            return [r for m in self.messages for r in m[1]]

    def contents(self):
        """The bytes of every message accepted so far."""
        with self.lock:
            return [m[2] for m in self.messages]

    def numbers(self, regex):
        """{n} of the messages accepted so far, where a test numbers its
        messages in a header that regex's first group matches."""
        return {int(regex.search(c).group(1)) for c in self.contents()}


def self_signed_cert(directory, name):
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=" + name, "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def start_sink(addr, handler, tls=None, implicit_tls=False, port=25, hostname="sink.test", **kwargs):
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls)
        if implicit_tls:
            kwargs["ssl_context"] = ctx
        else:
            kwargs["tls_context"] = ctx
    c = Controller(handler, hostname=addr, port=port, server_hostname=hostname, ready_timeout=10,
                   **kwargs)
    c.start()
    return c


def start_mx_with_sink(domain, ip, handler):
    """dnsmasq saying domain's mail goes to ip, and a sink there with
    handler: (dnsmasq, sink controller)."""
    dns = netns.Dnsmasq()
    dns.mx_at(domain, ip)
    dns.start()
    return dns, start_sink(ip, handler)


class HangingServer:
    """Accepts TCP connections and never says anything (a stuck MX)."""

    def __init__(self, addr, port=25):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(16)
        self.accepted = 0
        self.conns = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.conns.append(c)

    def stop(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def tear_down(work, daemons, servers, failed=False):
    """The end of a deliver test: stops the daemons, then the servers
    (sinks, dnsmasq); shows what the daemons logged when a check failed or
    an exception is on its way out; removes work and the daemons' logs."""
    daemons = [d for d in daemons if d]
    for d in daemons:
        d.stop()
    for s in servers:
        s.stop()
    if failed or sys.exc_info()[0]:
        for d in daemons:
            print(d.output())
    for d in daemons:
        try:
            os.unlink(d.log_path)
        except OSError:
            pass
    pochtar.remove_work_dir(work)


class PasswordCheck:
    """aiosmtpd authenticator: accepts one login/password, records attempts."""

    def __init__(self, login, password):
        self.login, self.password = login.encode(), password.encode()
        self.attempts = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult
        ok = auth_data.login == self.login and auth_data.password == self.password
        tls = server.transport is not None and server.transport.get_extra_info("sslcontext") is not None
        self.attempts.append((mechanism, ok, tls))
        return AuthResult(success=ok, handled=False)
