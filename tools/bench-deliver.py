#!/usr/bin/python3
"""Benchmark pochtar-deliver (not a meson test): N × 1 KB messages put
into signed/new, delivered to Postfix's smtp-sink (plain) or an aiosmtpd
STARTTLS sink, inside a private netns; plus the signed/new → 250 latency
of single messages at light load.
    POCHTAR_DELIVER=build/services/deliver/pochtar-deliver tools/bench-deliver.py [N]"""
import os
import subprocess
import sys
import tempfile
import time

# run by hand, not by meson: the test library is found from here
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
import netns  # noqa: E402

netns.enter(["203.0.113.25", "203.0.113.26"])
import pochtar  # noqa: E402
from sink import Recorder, self_signed_cert, start_sink  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
DELIVER = os.environ["POCHTAR_DELIVER"]
work = tempfile.mkdtemp(prefix="pochtar-bench-")
dns = netns.Dnsmasq()
dns.mx("plain.example.org", "mx.plain.example.org", 10)
dns.a("mx.plain.example.org", "203.0.113.25")
dns.mx("tls.example.org", "mx.tls.example.org", 10)
dns.a("mx.tls.example.org", "203.0.113.26")
dns.start()
sink = subprocess.Popen(["smtp-sink", "-u", "nobody", "-c", "203.0.113.25:25", "1000"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
tlsrec = Recorder()
tls_sink = start_sink("203.0.113.26", tlsrec, tls=self_signed_cert(work, "mx.tls.example.org"))
body = b"Subject: bench\r\nFrom: app@example.com\r\n\r\n" + (b"x" * 70 + b"\r\n") * 13


def run(domain, n, wait_done):
    spool = pochtar.Spool(os.path.join(work, "spool-" + domain))
    conf = pochtar.write_config(work, "[spool]\ndir = %s\n[deliver]\nhelo_name = bench.example.com\n" % spool.root)
    for i in range(n):
        spool.inject("signed", "app@example.com", ["u%d@%s" % (i, domain)], body)
    t0 = time.monotonic()
    d = pochtar.Daemon([DELIVER, "--config", conf], env={"POCHTAR_LOG_LEVEL": "info"})
    qdir = os.path.join(spool.root, "deliver", "queue", "new")
    time.sleep(0.2)
    pochtar.wait_for(lambda: wait_done(spool, qdir), timeout=600, interval=0.05, what="queue drained")
    dt = time.monotonic() - t0
    return d, spool, dt


def drained(spool, qdir):
    return not spool.ids("signed") and not os.listdir(qdir)


d, spool, dt = run("plain.example.org", N, drained)
sent = d.output().count("status=sent")
print("plain  smtp-sink: %d messages in %.2fs = %.0f msg/s (%d logged sent)" % (N, dt, N / dt, sent))
# light load: one message at a time into the running deliver, time to the sink's 250
lat = []
for i in range(20):
    t0 = time.monotonic()
    q = spool.inject("signed", "app@example.com", ["lat%d@tls.example.org" % i], body)
    pochtar.wait_for(lambda: len(tlsrec.messages) > i, timeout=10, interval=0.001, what="latency")
    lat.append(tlsrec.messages[i][4] - t0)
    time.sleep(0.05)
lat.sort()
print("latency signed/new -> 250 (STARTTLS aiosmtpd sink, new connection, DNS, handshake): "
      "median %.1f ms, max %.1f ms" % (lat[len(lat) // 2] * 1000, lat[-1] * 1000))
d.stop()
M = min(N, 2000)
tlsrec.messages.clear()
d, spool, dt = run("tls.example.org", M, drained)
print("STARTTLS aiosmtpd sink: %d messages in %.2fs = %.0f msg/s, sink got %d, %d over TLS"
      % (M, dt, M / dt, len(tlsrec.messages), sum(1 for m in tlsrec.messages if m[3])))
d.stop()
sink.terminate()
tls_sink.stop()
dns.stop()
subprocess.run(["rm", "-rf", work])
