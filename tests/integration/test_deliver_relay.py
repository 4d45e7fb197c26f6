#!/usr/bin/python3
"""mode = relay: everything goes to relayhost, on STARTTLS (port 587) and
on implicit TLS (port 465), whatever the recipient domains. SMTP AUTH is
not implemented yet, so the sinks do not require it."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import netns  # noqa: E402

netns.enter(["203.0.113.40"])

import pochtar  # noqa: E402
from deliver_sinks import cleanup, Recorder, self_signed_cert, start_sink  # noqa: E402

DELIVER = os.environ.get("POCHTAR_DELIVER")
if not DELIVER:
    pochtar.skip("POCHTAR_DELIVER not set")

work = tempfile.mkdtemp(prefix="pochtar-deliver-relay-")
dns = netns.Dnsmasq()
dns.a("relay.example.net", "203.0.113.40")
dns.start()
cert = self_signed_cert(work, "relay.example.net")
sub, smtps = Recorder(), Recorder()
sinks = [start_sink("203.0.113.40", sub, tls=cert, port=587),
         start_sink("203.0.113.40", smtps, tls=cert, implicit_tls=True, port=465)]
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


daemons = []
try:
    for port, rec in ((587, sub), (465, smtps)):
        spool = pochtar.Spool(os.path.join(work, "spool%d" % port))
        conf = pochtar.write_config(work, """
[spool]
dir = %s
[deliver]
mode = relay
relayhost = [relay.example.net]:%d
helo_name = mail.example.com
""" % (spool.root, port))
        spool.inject("signed", "app@example.com", ["x@gmail.test", "y@other.test"], b"Subject: r\r\n\r\nhi\r\n")
        d = pochtar.Daemon([DELIVER, "--config", conf])
        daemons.append(d)
        pochtar.wait_for(lambda: rec.messages, what="relay delivery on port %d" % port)
        check(sorted(rec.messages[0][1]) == ["x@gmail.test", "y@other.test"],
              "port %d: both recipients in one transaction to the relay" % port)
        # aiosmtpd marks only STARTTLS sessions; on 465 the sink speaks
        # nothing but TLS, so a delivery there is TLS by construction
        check(rec.messages[0][3] if port == 587 else
              "TLS connection established to relay.example.net[203.0.113.40]:465" in d.output(),
              "port %d: TLS used" % port)
        d.stop()
finally:
    for d in daemons:
        d.stop()
    for s in sinks:
        s.stop()
    dns.stop()
    if failures:
        for d in daemons:
            print(d.output())
    cleanup(work, daemons)
sys.exit(1 if failures else 0)
