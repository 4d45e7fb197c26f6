# SPDX-License-Identifier: MIT
"""The SMTP sinks of pochtar's tests: servers on TEST-NET addresses inside
a test's network namespace, each recording what it got.

- Recorder: an aiosmtpd handler that keeps every accepted message (and,
  given a directory, writes it there too); start_sink() and
  start_mx_with_sink() run one;
- WireSink: raw command lines, kept exactly as they came (parameters
  included, which aiosmtpd rewrites or refuses);
- HangingServer: accepts and never answers.

Run as a program it is the recipients' MX of the system test, in a
process of its own inside the container's network namespace:

    sink.py ADDRESS PORT DIR [CERT KEY]

Every accepted message goes to DIR/N.eml (via a temporary name, so a
reader never sees half a file) with the envelope and "tls" or "plain" in
DIR/N.env; the 250 comes after the files exist. With CERT and KEY it
offers STARTTLS.
"""
import os
import socket
import ssl
import subprocess
import sys
import threading
import time

from aiosmtpd.controller import Controller

import netns
import pochtar


class Recorder:
    """aiosmtpd handler: records each accepted message; behaviour hooks
    decide the reply to RCPT and DATA."""

    def __init__(self, rcpt_reply=None, data_reply=None, directory=None):
        self.messages = []          # (mail_from, [rcpts], content bytes, tls, time)
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.directory = directory
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
            if self.directory:
                self._store(len(self.messages), envelope, session)
        return "250 2.0.0 Ok: queued"

    def _store(self, n, envelope, session):
        base = os.path.join(self.directory, "%06d" % n)
        with open(base + ".env", "w") as f:
            f.write("%s\n%s\n%s\n" % (envelope.mail_from, " ".join(envelope.rcpt_tos),
                                       "tls" if session.ssl else "plain"))
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".tmp", base + ".eml")

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


def self_signed_cert(directory, name, prefix=""):
    cert, key = os.path.join(directory, prefix + "cert.pem"), os.path.join(directory, prefix + "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=" + name, "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class TestCA:
    """A private certificate authority for a test: its certificate is what
    relay_ca_file names; issue() signs server certificates with it. EC
    P-256 keys, which are quick to make."""

    def __init__(self, directory, name="pochtar test CA"):
        self.dir = directory
        self.cert, self.key = os.path.join(directory, "ca.pem"), os.path.join(directory, "ca.key")
        self.serial = 0
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-days", "2", "-subj", "/CN=" + name, "-keyout", self.key, "-out", self.cert,
                        "-addext", "basicConstraints=critical,CA:TRUE",
                        "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def issue(self, *names):
        """(cert, key) paths of a server certificate for names: DNS names,
        or IPv4 addresses, which go in as IP subjectAltNames."""
        self.serial += 1
        base = os.path.join(self.dir, "issued-%d" % self.serial)
        sans = ",".join(("IP:" if _is_ipv4(n) else "DNS:") + n for n in names)
        ext = base + ".ext"
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=serverAuth\nsubjectAltName=%s\n" % sans)
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-subj", "/CN=" + names[0], "-keyout", base + ".key", "-out", base + ".csr"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["openssl", "x509", "-req", "-in", base + ".csr", "-CA", self.cert, "-CAkey", self.key,
                        "-set_serial", str(self.serial), "-days", "2", "-extfile", ext, "-out", base + ".pem"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return base + ".pem", base + ".key"


def _is_ipv4(name):
    try:
        socket.inet_pton(socket.AF_INET, name)
        return True
    except OSError:
        return False


def start_sink(addr, handler, tls=None, implicit_tls=False, port=25, hostname="sink.test", **kwargs):
    """An aiosmtpd server for handler on addr:port. tls: (cert, key) paths,
    or an ssl.SSLContext of the test's own; STARTTLS unless implicit_tls."""
    if tls:
        if isinstance(tls, ssl.SSLContext):
            ctx = tls
        else:
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


class _Listener:
    """A TCP server on its own thread: session(conn) for each connection."""

    def __init__(self, addr, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(64)
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
            self.session(c)

    def session(self, conn):
        pass

    def stop(self):
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


class HangingServer(_Listener):
    """Accepts TCP connections and never says anything (a stuck MX)."""

    def __init__(self, addr, port=25):
        super().__init__(addr, port)


def tear_down(work, daemons, servers, failed=False):
    """The end of a deliver test: stops the daemons, then the servers
    (sinks, dnsmasq); shows what the daemons logged when a check failed or
    an exception is on its way out; removes work and the daemons' logs."""
    daemons = [d for d in daemons if d]
    for d in daemons:
        d.stop()
    for s in servers:
        if s:
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


class WireSink(_Listener):
    """An SMTP server that keeps every command line exactly as it came in
    (aiosmtpd upper-cases parameters and refuses DSN ones): it offers
    PIPELINING, 8BITMIME, SIZE and DSN, answers 250 to everything but a
    RCPT for an address in `refuse` (550 5.1.1), and keeps one record per
    transaction: {"lines": [command lines, bytes, no CRLF], "data": the
    message, unstuffed}; and every line of every session in `commands`."""

    def __init__(self, addr, port=25, refuse=()):
        self.refuse = {a.lower() for a in refuse}
        self.transactions = []
        self.commands = []
        self.lock = threading.Lock()
        super().__init__(addr, port)

    def session(self, conn):
        threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        f = conn.makefile("rb")
        lines = []

        def reply(text):
            conn.sendall(text.encode() + b"\r\n")

        try:
            reply("220 wire.test ESMTP")
            while True:
                line = f.readline()
                if not line:
                    return
                assert line.endswith(b"\r\n"), line
                line = line[:-2]
                with self.lock:
                    self.commands.append(line)
                verb = line.split(b" ", 1)[0].upper()
                if verb == b"EHLO":
                    reply("250-wire.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 0\r\n250 DSN")
                    continue
                if verb == b"QUIT":
                    reply("221 bye")
                    return
                lines.append(line)
                if verb == b"RCPT":
                    rcpt = line.split(b"<", 1)[1].split(b">", 1)[0].decode().lower()
                    reply("550 5.1.1 no such user" if rcpt in self.refuse else "250 2.1.5 ok")
                elif verb == b"DATA":
                    if not any(l.upper().startswith(b"RCPT") for l in lines) or \
                            all(l.split(b"<", 1)[1].split(b">", 1)[0].decode().lower() in self.refuse
                                for l in lines if l.upper().startswith(b"RCPT")):
                        reply("554 5.5.1 no valid recipients")
                        lines = []
                        continue
                    reply("354 go ahead")
                    data = bytearray()
                    while True:
                        d = f.readline()
                        if d in (b".\r\n", b""):
                            break
                        data += d[1:] if d.startswith(b".") else d
                    with self.lock:
                        self.transactions.append({"lines": lines, "data": bytes(data)})
                    lines = []
                    reply("250 2.0.0 ok")
                elif verb == b"RSET":
                    lines = []
                    reply("250 2.0.0 ok")
                else:
                    reply("250 2.0.0 ok")
        except (OSError, AssertionError, IndexError):
            return
        finally:
            conn.close()


def main(argv):
    """The system test's MX (see the top of this file)."""
    address, port, directory = argv[1], int(argv[2]), argv[3]
    os.makedirs(directory, exist_ok=True)
    tls = (argv[4], argv[5]) if len(argv) > 5 else None
    # original_content: the bytes exactly as sent, so the DKIM signature
    # is checked over what deliver transmitted
    controller = start_sink(address, Recorder(directory=directory), tls=tls, port=port,
                            hostname="mx.other.org", data_size_limit=0)
    print("sink listening on %s:%d" % (address, port), flush=True)
    try:
        threading.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main(sys.argv)
