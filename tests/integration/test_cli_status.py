#!/usr/bin/python3
"""pochtar status in a private network namespace: queue sizes and ages from
a real spool, and the port 25 probe against the MX of domains dnsmasq
serves -- one with an SMTP server listening, one refusing, one whose
exchange drops packets (the hosting-provider block). Nothing leaves the
namespace."""
import os
import socket
import subprocess
import threading
import time

import netns
from pochtar import Spool, binary, new_queue_id, skip, write_spool_config

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "cli-status", "suites": ["cli"], "timeout": 60}

POCHTAR = binary("pochtar")
netns.enter(["203.0.113.25", "203.0.113.26"])
os.environ["PATH"] += ":/usr/sbin:/sbin"
if subprocess.run(["which", "dnsmasq"], capture_output=True).returncode != 0:
    skip("dnsmasq not installed")

# an SMTP greeting on 203.0.113.25:25
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("203.0.113.25", 25))
srv.listen(4)
seen = []


def serve():
    while True:
        c, _ = srv.accept()
        c.sendall(b"220 mx.probe.example.net ESMTP \x1b[2Jhi\r\n")
        c.settimeout(1)
        try:
            seen.append(c.recv(100))     # the probe must send nothing
        except socket.timeout:
            seen.append(b"")
        c.close()


threading.Thread(target=serve, daemon=True).start()

dns = netns.Dnsmasq()
dns.mx_at("probe.example.net", "203.0.113.25")
dns.mx_at("refused.example.net", "203.0.113.26")
dns.mx_at("blocked.example.net", "203.0.113.27")       # no route: like a filtered port
dns.start()

spool = Spool()
now = time.time()
spool.inject("incoming", "a@example.com", ["b@example.org"], b"x\r\n")
old = new_queue_id(int((now - 3 * 3600) * 1e6))
spool.inject("signed", "a@example.com", ["b@example.org"], b"x\r\n", qid=old)
spool.inject("signed", "a@example.com", ["c@example.org"], b"x\r\n")
spool.inject("quarantine", "a@example.com", ["b@example.org"], b"x\r\n")
conf = write_spool_config(spool.root, spool.root)


def status(*args):
    return subprocess.run([POCHTAR, "status", "--config", conf, "--timeout", "2"] + list(args),
                          capture_output=True, text=True, timeout=30)


try:
    p = status("--probe-domain", "probe.example.net")
    print(p.stdout, p.stderr)
    assert p.returncode == 0, p.returncode
    out = p.stdout
    for unit in ("pochtar-receive.socket", "pochtar-sign.service", "pochtar-deliver.service"):
        assert unit in out
    q = {l.split()[0]: l.split()[1:] for l in out.splitlines() if l.startswith("  ") and "oldest" in l}
    assert q["incoming"][0] == "1" and q["signed"][0] == "2" and q["quarantine"][0] == "1", q
    assert q["deliver"] == ["0", "oldest", "-"], q
    assert q["signed"][2] == "3h", q              # the oldest signed message is 3 hours old
    assert "reachable: mx.probe.example.net [203.0.113.25]:25" in out
    assert "220 mx.probe.example.net ESMTP ?[2Jhi" in out and "\x1b" not in out
    time.sleep(1.2)
    assert seen == [b""], seen                    # connected, read the greeting, sent nothing

    p = status("--probe-domain", "refused.example.net")
    assert p.returncode == 1 and "UNREACHABLE: connect to mx.refused.example.net [203.0.113.26]:25" in p.stdout, p.stdout

    p = status("--probe-domain", "blocked.example.net")
    assert p.returncode == 1 and "UNREACHABLE" in p.stdout and "mx.blocked.example.net" in p.stdout, p.stdout

    p = status("--probe-domain", "nothing.example.net")
    assert p.returncode == 1 and "unknown: MX lookup of nothing.example.net failed" in p.stdout, p.stdout

    p = status("--no-probe")
    assert p.returncode == 0 and "port 25" not in p.stdout, p.stdout

    # relay mode: no default probe (it would say nothing about the relay)
    with open(conf, "a") as f:
        f.write("[deliver]\nmode = relay\nrelayhost = [smtp.example.net]:587\n")
    p = status()
    assert p.returncode == 0 and "not probed, [deliver] mode is not mx" in p.stdout, p.stdout
    p = status("--probe-domain", "probe.example.net")
    assert p.returncode == 0 and "reachable: mx.probe.example.net" in p.stdout, p.stdout

    p = subprocess.run([POCHTAR, "status", "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "--probe-domain" in p.stdout
finally:
    dns.stop()
    spool.cleanup()
print("status behaved")
