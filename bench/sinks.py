# SPDX-License-Identifier: MIT
"""The remote MX at 203.0.113.25:25 inside the benchmark's namespace.

SmtpSink is Postfix's smtp-sink (C, one process, no queue: as fast a
receiver as there is); with -c it prints "sess=N quit=N mesg=N" counters,
separated by \\r, which are parsed to know when every message arrived.
StunnelSink puts stunnel's STARTTLS in front of smtp-sink. PySink is
bench/pysink.py (aiosmtpd), for per-message arrival times (latency) and as
the alternative STARTTLS sink. Each sink runs in its own cgroup
so its CPU use is reported and one can see whether it was the bound.
"""
import os
import re
import subprocess
import threading
import time

import process
from process import wait_port

MX = "203.0.113.25"
HERE = os.path.dirname(os.path.abspath(__file__))


class _Sink:
    def __init__(self, cgroup, log_dir):
        self.cgroup = cgroup
        self.log_dir = log_dir
        self.count = 0
        self.arrivals = {}              # Message-ID -> monotonic time (PySink)
        self.plain = 0                  # messages that came without TLS (PySink)
        self.sessions = None            # SMTP sessions (smtp-sink: ended; pysink: opened)
        self.last_arrival = None
        self._cond = threading.Condition()
        self.proc = None
        self.log = None

    def _log(self, name):
        self.log = open(os.path.join(self.log_dir, name), "ab")
        return self.log

    def _arrived(self, n=1, msgid=None, when=None, tls=True):
        with self._cond:
            self.plain += not tls
            self.count += n
            self.last_arrival = when if when is not None else time.monotonic()
            if msgid:
                self.arrivals[msgid] = self.last_arrival
            self._cond.notify_all()

    def wait_for(self, n, timeout):
        """Monotonic time at which the n-th message arrived, None on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.count < n:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self._cond.wait(min(left, 0.5))
            return self.last_arrival

    def stop(self):
        process.stop(self.proc, 5)
        self.cgroup.kill_all()
        if self.log:
            self.log.close()


class SmtpSink(_Sink):
    listen = (MX, 25)

    def start(self):
        self.proc = subprocess.Popen(
            self.cgroup.wrapper() + ["/usr/sbin/smtp-sink", "-c", "-u", "nobody",
                                     "%s:%d" % self.listen, "1024"],
            stdout=subprocess.PIPE, stderr=self._log("smtp-sink.log"))
        threading.Thread(target=self._read, daemon=True).start()
        wait_port(*self.listen, self.proc)
        return self

    def _read(self):
        buf = b""
        last = 0
        while True:
            chunk = self.proc.stdout.read1(65536)
            if not chunk:
                return
            now = time.monotonic()
            buf += chunk
            *records, buf = buf.split(b"\r")
            for rec in reversed(records):
                m = re.search(rb"sess=(\d+) .*mesg=(\d+)", rec)
                if m:
                    # minus the one session wait_port() opened
                    self.sessions = max(0, int(m.group(1)) - 1)
                    n = int(m.group(2))
                    if n > last:
                        self._arrived(n - last, when=now)
                        last = n
                    break


class StunnelSink(SmtpSink):
    """STARTTLS in front of smtp-sink: stunnel's server-side "protocol =
    smtp" answers EHLO with STARTTLS, does the handshake (OpenSSL, C,
    threads) and then passes the session through to smtp-sink. Its one cost
    that a real MX does not have: before the greeting it waits 200 ms to see
    whether the client speaks first (RFC 2487 detection), on every
    connection, so a client that opens many short connections is slowed by
    it; the sessions column says how many there were."""
    listen = ("127.0.0.1", 2525)

    def __init__(self, cgroup, log_dir, tls):
        super().__init__(cgroup, log_dir)
        self.tls = tls
        self.stunnel = None

    def start(self):
        super().start()
        conf = os.path.join(self.log_dir, "stunnel.conf")
        with open(conf, "w") as f:
            f.write("foreground = yes\npid =\nsyslog = no\ndebug = 3\noutput = %s\n"
                    "[smtp]\naccept = %s:25\nconnect = %s:%d\nprotocol = smtp\n"
                    "cert = %s\nkey = %s\n"
                    % (os.path.join(self.log_dir, "stunnel.log"), MX, *self.listen, *self.tls))
        self.stunnel = subprocess.Popen(self.cgroup.wrapper() + ["stunnel4", conf],
                                        stdout=self.log, stderr=self.log)
        wait_port(MX, 25, self.stunnel)
        return self

    def stop(self):
        process.stop(self.stunnel, 5)
        super().stop()


class PySink(_Sink):
    def __init__(self, cgroup, log_dir, tls=None, dump=None):
        super().__init__(cgroup, log_dir)
        self.tls = tls
        self.dump = dump

    def start(self):
        argv = ["/usr/bin/python3", os.path.join(HERE, "pysink.py"), "--listen", MX + ":25"]
        if self.tls:
            argv += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        if self.dump:
            argv += ["--dump", self.dump]
        self.proc = subprocess.Popen(
            self.cgroup.wrapper() + argv, stdout=subprocess.PIPE,
            stderr=self._log("pysink.log"))
        if self.proc.stdout.readline().strip() != b"ready":
            raise RuntimeError("pysink did not start, see pysink.log")
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self):
        for line in self.proc.stdout:
            t, msgid, tls = line.decode("ascii", "replace").split()
            if tls == "session":
                self.sessions = (self.sessions or 0) + 1
                continue
            self._arrived(msgid=msgid, when=float(t), tls=tls == "tls")

