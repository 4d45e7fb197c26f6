#!/usr/bin/python3
"""pochtar-deliver, the less common paths: a server whose TLS stops at 1.1
(the handshake fails, and under "may" the same host is retried in
plaintext); policy verify against a self-signed certificate (deferred);
delay warning then expiry bounce with short lifetimes; SMTPUTF8 required
but not offered (5.6.7); SIZE over the server's limit (5.3.4); several
messages to one domain over one connection (max_per_destination = 1)."""
import email
import os
import ssl
import time

import netns

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "test-deliver-tls-retry", "suites": ["deliver"], "timeout": 90,
              "parallel": False}

netns.enter(["203.0.113.50", "203.0.113.51", "203.0.113.52", "203.0.113.53", "203.0.113.54"])

import pochtar  # noqa: E402
from sink import Recorder, self_signed_cert, start_sink, tear_down  # noqa: E402

DELIVER = pochtar.binary("deliver")

work, spool = pochtar.new_work_dir("pochtar-deliver-tls-retry-")
dns = netns.Dnsmasq()
for name, ip in (("oldtls", "50"), ("verify", "51"), ("slow", "52"), ("small", "53"), ("reuse", "54")):
    dns.mx_at("%s.example.org" % name, "203.0.113." + ip)
dns.start()

cert = self_signed_cert(work, "mx.verify.example.org")
old_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
old_ctx.load_cert_chain(*cert)
old_ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
old_ctx.maximum_version = ssl.TLSVersion.TLSv1_1
try:
    old_ctx.set_ciphers("ALL:@SECLEVEL=0")
except ssl.SSLError:
    pass
oldtls = Recorder()
c_old = start_sink("203.0.113.50", oldtls, tls=old_ctx)
verify = Recorder()
slow = Recorder(data_reply=lambda n: "451 4.4.5 insufficient system storage")
small = Recorder()
reuse = Recorder()
sinks = [c_old,
         start_sink("203.0.113.51", verify, tls=cert),
         start_sink("203.0.113.52", slow),
         start_sink("203.0.113.53", small, data_size_limit=200, enable_SMTPUTF8=False),
         start_sink("203.0.113.54", reuse)]

policy = os.path.join(work, "policy")
with open(policy, "w") as f:
    f.write("verify.example.org verify\n")
conf = pochtar.write_spool_config(work, spool.root, deliver="""
helo_name = mail.example.com
tls_policy_map = %s
retry_min = 1s
retry_max = 1s
delay_warning = 1s
max_queue_lifetime = 3s
max_per_destination = 1
connect_timeout = 2s
command_timeout = 2s
""" % policy)
check = pochtar.Checks()


def msg(s):
    return ("From: app@example.com\r\nSubject: %s\r\n\r\nbody\r\n" % s).encode()


def reports():
    out = {}
    for q in spool.ids("incoming"):
        env, body = spool.read("incoming", q)
        m = email.message_from_bytes(body)
        for b in m.get_payload()[1].get_payload()[1:]:
            out.setdefault(str(b["Final-Recipient"]), []).append((str(b["Action"]), str(b["Status"])))
    return out


d = None
try:
    spool.inject("signed", "app@example.com", ["a@oldtls.example.org"], msg("old tls"))
    q_verify = spool.inject("signed", "app@example.com", ["b@verify.example.org"], msg("verify"))
    spool.inject("signed", "app@example.com", ["c@slow.example.org"], msg("slow"))
    spool.inject("signed", "app@example.com", ["d@small.example.org"], msg("x" * 400))
    spool.inject("signed", "app@example.com", ["\u0434\u0438\u043c\u0430@reuse.example.org"], msg("utf8"),
                 smtputf8="yes")
    spool.inject("signed", "app@example.com", ["\u0434\u0438\u043c\u0430@small.example.org"], msg("utf8"),
                 smtputf8="yes")
    for i in range(5):
        spool.inject("signed", "app@example.com", ["r%d@reuse.example.org" % i], msg("reuse %d" % i))
    t0 = time.monotonic()
    d = pochtar.Daemon([DELIVER, "--config", conf])
    pochtar.wait_for(lambda: oldtls.messages, what="plaintext retry after a failed handshake")
    check(not oldtls.messages[0][3], "TLS <= 1.1 server: handshake refused, mail sent in plaintext")
    check("retrying in plaintext" in d.output(), "plaintext fallback logged")
    pochtar.wait_for(lambda: len(reuse.messages) == 6, what="six messages to one domain")
    check(len({m[6] for m in reuse.messages}) == 1, "six messages over one connection")
    utf8 = [m for m in reuse.messages if m[1][0].startswith("\u0434")]
    check(utf8 and "SMTPUTF8" in utf8[0][5], "SMTPUTF8 passed on where offered")
    pochtar.wait_for(lambda: any(a == "failed" for a, s in reports().get("rfc822; c@slow.example.org", [])),
                     timeout=15, what="expiry bounce")
    r = reports()
    slow_r = r.get("rfc822; c@slow.example.org", [])
    check(("delayed", "4.4.5") in slow_r, "delay warning with the last status")
    check(("failed", "5.4.7") in slow_r, "expired after max_queue_lifetime: 5.4.7")
    check(len(slow_r) == 2, "exactly one warning and one bounce: %s" % slow_r)
    check(("failed", "5.3.4") in r.get("rfc822; d@small.example.org", []), "over the server's SIZE: 5.3.4")
    raw = [spool.read("incoming", q)[1] for q in spool.ids("incoming")]
    want = ("Final-Recipient: utf-8; \u0434\u0438\u043c\u0430@small.example.org\r\nAction: failed\r\n"
            "Status: 5.6.7\r\n").encode()
    check(any(want in b for b in raw), "SMTPUTF8 needed, not offered: 5.6.7 (RFC 6533 utf-8 address type)")
    check(not verify.messages, "policy verify, self-signed certificate: nothing sent")
    check("dsn=4.7.5, status=deferred (TLS handshake failed: certificate for mx.verify.example.org not trusted: "
          "The certificate is NOT trusted. The certificate issuer is unknown." in d.output(),
          "policy verify: certificate failure deferred (4.7.5), saying why")
    rc = d.stop()
    check(rc == 0 and "Sanitizer" not in d.output(), "clean exit (%s)" % rc)
finally:
    tear_down(work, [d], sinks + [dns], check.failures)
check.exit()
