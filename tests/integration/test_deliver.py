#!/usr/bin/python3
"""pochtar-deliver against real DNS (dnsmasq) and real SMTP sinks (aiosmtpd)
in a private network namespace: plain, STARTTLS, 4xx-then-250 with retry
timing, per-recipient 5xx with the RFC 3464 bounce, a hanging MX, a dead
first MX, TLS policy encrypt without STARTTLS, null MX, NXDOMAIN,
SERVFAIL, and DKIM still verifying after delivery."""
import email
import os
import time

import netns

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "test-deliver", "suites": ["deliver"], "timeout": 90, "parallel": False,
              "valgrind": True}

ADDRS = ["203.0.113.%d" % i for i in range(25, 31)]
netns.enter(ADDRS)

import dkim  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

import pochtar  # noqa: E402
from sink import HangingServer, Recorder, self_signed_cert, start_sink, tear_down  # noqa: E402

DELIVER = pochtar.binary("deliver")

work, spool = pochtar.new_work_dir("pochtar-deliver-test-")

dns = netns.Dnsmasq()
domains = {
    "plain.example.org": "203.0.113.25",
    "tls.example.org": "203.0.113.26",
    "retry.example.org": "203.0.113.27",
    "reject.example.org": "203.0.113.28",
    "hang.example.org": "203.0.113.29",
    "encrypt.example.org": "203.0.113.25",
}
for d, ip in domains.items():
    dns.mx_at(d, ip)
# first MX down (nothing listens on .30), second is the plain sink
dns.mx("down.example.org", "mx1.down.example.org", 10)
dns.a("mx1.down.example.org", "203.0.113.30")
dns.mx("down.example.org", "mx2.down.example.org", 20)
dns.a("mx2.down.example.org", "203.0.113.25")
# no MX: the domain's A record (RFC 5321 §5.1)
dns.a("amx.example.org", "203.0.113.25")
dns.null_mx("nullmx.example.org")
dns.servfail("broken.test")
dns.start()

plain = Recorder()
tlsrec = Recorder()
retry_state = {"n": 0}


def retry_data(n):
    return "451 4.3.0 try again later" if n == 1 else None


retry = Recorder(data_reply=retry_data)
reject = Recorder(rcpt_reply=lambda a: "550 5.1.1 <%s>: Recipient address rejected\x1b[31m" % a
                  if a.startswith("bad") else None)
cert = self_signed_cert(work, "mx.tls.example.org")
sinks = [
    start_sink("203.0.113.25", plain),
    start_sink("203.0.113.26", tlsrec, tls=cert),
    start_sink("203.0.113.27", retry),
    start_sink("203.0.113.28", reject),
]
hang = HangingServer("203.0.113.29")

policy_map = os.path.join(work, "tls_policy")
with open(policy_map, "w") as f:
    f.write("# test policy\nencrypt.example.org encrypt\n")
conf = pochtar.write_spool_config(work, spool.root, deliver="""
mode = mx
helo_name = mail.example.com
bind_address = 203.0.113.30
tls_policy_map = %s
retry_min = 2s
retry_max = 4s
connect_timeout = 2s
command_timeout = 2s
data_timeout = 4s
""" % policy_map)

# DKIM: sign with python3-dkim itself, check the sink's copy verifies
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                        serialization.NoEncryption())
pub = key.public_key().public_bytes(serialization.Encoding.DER,
                                    serialization.PublicFormat.SubjectPublicKeyInfo)
import base64  # noqa: E402
txt = b"v=DKIM1; k=rsa; p=" + base64.b64encode(pub)
raw = (b"From: App <app@example.com>\r\nTo: bob@plain.example.org\r\nSubject: signed\r\n"
       b"Date: Sat, 28 Nov 2026 03:00:00 +0000\r\nMessage-ID: <dkim-test@example.com>\r\n\r\n"
       b"Hello.\r\n.leading dot line\r\n\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 8-bit\r\n")
sig = dkim.sign(raw, b"mail", b"example.com", pem, include_headers=[b"from", b"to", b"subject", b"date"])
signed = sig.replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n") if b"\r\n" not in sig else sig
signed_msg = signed + raw


def msg(subject):
    return ("From: app@example.com\r\nTo: x@example.org\r\nSubject: %s\r\n\r\nbody of %s\r\n"
            % (subject, subject)).encode()


ids = {}
ids["dkim"] = spool.inject("signed", "app@example.com", ["bob@plain.example.org"], signed_msg, body="8BITMIME")
ids["tls"] = spool.inject("signed", "app@example.com", ["carol@tls.example.org"], msg("tls"))
# no BODY= in the envelope: deliver must find the 8-bit byte itself, here
# the last of the body, past the last whole 8-byte word it scans
scan8 = msg("scan") + b"x" * 11 + b"\xe9\r\n"
ids["scan8"] = spool.inject("signed", "app@example.com", ["dave@plain.example.org"], scan8)
# ... and here in the middle of a long body, inside one of its 256-byte blocks
scan8mid = msg("scanmid") + (b"x" * 70 + b"\r\n") * 15 + b"xx\xe9yy\r\n" + (b"y" * 70 + b"\r\n") * 15
ids["scan8mid"] = spool.inject("signed", "app@example.com", ["fred@plain.example.org"], scan8mid)
# bodies larger than the client's 64 KiB write chunk: more than one EPOLLOUT round
big = (b"From: app@example.com\r\nTo: x@example.org\r\nSubject: big\r\n\r\n" +
       b"".join(b"%s line %06d of a big message, long enough to matter\r\n" % (b"." if i % 97 == 0 else b"", i)
                for i in range(6000)))
ids["big"] = spool.inject("signed", "app@example.com", ["big@plain.example.org"], big)
ids["bigtls"] = spool.inject("signed", "app@example.com", ["big@tls.example.org"], big)
ids["retry"] = spool.inject("signed", "app@example.com", ["dave@retry.example.org"], msg("retry"))
ids["reject"] = spool.inject("signed", "app@example.com",
                             ["good@reject.example.org", "bad@reject.example.org"], msg("reject"))
ids["hang"] = spool.inject("signed", "app@example.com", ["eve@hang.example.org"], msg("hang"))
ids["down"] = spool.inject("signed", "app@example.com", ["frank@down.example.org"], msg("down"))
ids["amx"] = spool.inject("signed", "app@example.com", ["gina@amx.example.org"], msg("amx"))
ids["encrypt"] = spool.inject("signed", "app@example.com", ["hal@encrypt.example.org"], msg("encrypt"))
ids["nullmx"] = spool.inject("signed", "app@example.com", ["ivy@nullmx.example.org"], msg("nullmx"))
ids["nx"] = spool.inject("signed", "app@example.com", ["jo@nx.example.org"], msg("nx"))
ids["servfail"] = spool.inject("signed", "app@example.com", ["kim@broken.test"], msg("servfail"))
ids["null-sender"] = spool.inject("signed", "", ["lee@nx.example.org"], msg("null sender"))
# NOTIFY=SUCCESS to a hop without DSN (aiosmtpd offers none): we owe a "relayed" notice
qf = pochtar.format_queue_file(pochtar.new_queue_id(), "notify@example.com", ["mo@plain.example.org"], msg("notify"))
qf = qf.replace(b"rcpt mo@plain.example.org\n", b"rcpt mo@plain.example.org notify=SUCCESS,FAILURE\n")
with open(spool.path("signed", "tmp", "notify.test"), "wb") as f:
    f.write(qf)
os.rename(spool.path("signed", "tmp", "notify.test"), spool.path("signed", "new", qf.split(b"\n")[1][3:].decode()))

d = pochtar.Daemon([DELIVER, "--config", conf], env={"POCHTAR_LOG_LEVEL": "info"})
check = pochtar.Checks()


def state_of(qid):
    p = os.path.join(spool.root, "deliver", "state", "new", qid)
    return open(p).read() if os.path.exists(p) else ""


def queued(qid):
    return os.path.exists(os.path.join(spool.root, "deliver", "queue", "new", qid))


try:
    pochtar.wait_for(lambda: "bob@plain.example.org" in plain.rcpts(), what="plain delivery")
    pochtar.wait_for(lambda: tlsrec.rcpts(), what="TLS delivery")
    pochtar.wait_for(lambda: "big@plain.example.org" in plain.rcpts(), what="big message, plain")
    pochtar.wait_for(lambda: "fred@plain.example.org" in plain.rcpts(), what="8-bit byte mid-body")
    pochtar.wait_for(lambda: "big@tls.example.org" in tlsrec.rcpts(), what="big message over STARTTLS")
    pochtar.wait_for(lambda: "frank@down.example.org" in plain.rcpts(), what="second MX used")
    pochtar.wait_for(lambda: "gina@amx.example.org" in plain.rcpts(), what="A fallback")
    pochtar.wait_for(lambda: retry.rcpts(), timeout=15, what="delivery after 4xx retry")
    pochtar.wait_for(lambda: "deferred" in state_of(ids["hang"]), timeout=15, what="hang deferred")
    pochtar.wait_for(lambda: "deferred" in state_of(ids["servfail"]), timeout=10, what="servfail deferred")
    pochtar.wait_for(lambda: "deferred" in state_of(ids["encrypt"]), timeout=10, what="encrypt deferred")
    pochtar.wait_for(lambda: not queued(ids["reject"]) and not queued(ids["nx"]) and not queued(ids["nullmx"]),
                     timeout=10, what="bounced messages leave the queue")
    time.sleep(0.5)
    log = d.output()

    # DKIM and byte-exactness
    got = [m for m in plain.messages if "bob@plain.example.org" in m[1]][0]
    check(got[2] == signed_msg, "sink got exactly the signed bytes")
    check(dkim.verify(got[2], dnsfunc=lambda name, timeout=5: txt), "DKIM signature verifies after delivery")
    check("BODY=8BITMIME" in got[5], "BODY=8BITMIME sent for an 8-bit message")
    got8 = [m for m in plain.messages if "dave@plain.example.org" in m[1]][0]
    check(got8[2] == scan8 and "BODY=8BITMIME" in got8[5],
          "BODY=8BITMIME sent for a body whose only 8-bit byte is its last (%s)" % (got8[5],))
    got8 = [m for m in plain.messages if "fred@plain.example.org" in m[1]][0]
    check(got8[2] == scan8mid and "BODY=8BITMIME" in got8[5],
          "BODY=8BITMIME sent for a body whose only 8-bit byte is in its middle (%s)" % (got8[5],))
    got7 = [m for m in plain.messages if "x@example.org" in m[1] or "big@plain.example.org" in m[1]]
    check(got7 and all("BODY=8BITMIME" not in m[5] for m in got7), "no BODY=8BITMIME for 7-bit bodies")
    check(not got[3], "plain sink: no TLS")
    check(got[7][0] == "203.0.113.30", "connections come from bind_address (%s)" % (got[7],))
    for rec, rcpt in ((plain, "big@plain.example.org"), (tlsrec, "big@tls.example.org")):
        got_big = [m for m in rec.messages if rcpt in m[1]][0]
        check(got_big[2] == big, "%d-byte message arrives byte-exact (%s)" % (len(big), rcpt))
    # TLS
    check(tlsrec.messages[0][3], "STARTTLS used where offered")
    check("TLS connection established to mx.tls.example.org" in log and "untrusted" in log,
          "TLS version/cipher/verification logged")
    # retry timing: first attempt 451, the next one at least retry_min later
    check(retry.data_calls == 2, "retry sink saw exactly two DATA attempts")
    check("status=deferred (451 4.3.0 try again later)" in log, "4xx logged as deferred")
    # per-recipient 5xx + bounce
    check(reject.rcpts() == ["good@reject.example.org"], "good recipient delivered, bad refused")
    bounces = [spool.read("incoming", q) for q in spool.ids("incoming")]
    by_rcpt = {}
    for env, body in bounces:
        check(env.get("kind") == "dsn" and env["sender"] == "", "bounce has kind dsn and sender <>")
        by_rcpt.setdefault(env["rcpts"][0]["addr"], []).append(body)
    reports = by_rcpt.get("app@example.com", [])
    check(len(reports) == 3, "three bounces to the sender (reject, nullmx, nx): %d" % len(reports))
    statuses = {}
    for body in reports:
        m = email.message_from_bytes(body)
        check(m.get_content_type() == "multipart/report" and m.get_param("report-type") == "delivery-status",
              "bounce is multipart/report; report-type=delivery-status")
        parts = m.get_payload()
        check(parts[0].get_content_type() == "text/plain", "first part is text/plain")
        check(parts[1].get_content_type() == "message/delivery-status", "second part is message/delivery-status")
        check(parts[2].get_content_type() in ("message/rfc822", "text/rfc822-headers"), "third part is the original")
        blocks = parts[1].get_payload()
        check(blocks[0]["Reporting-MTA"] == "dns; mail.example.com", "Reporting-MTA")
        for b in blocks[1:]:
            statuses[b["Final-Recipient"]] = (b["Action"], b["Status"], b.get("Diagnostic-Code", ""))
    check(statuses.get("rfc822; bad@reject.example.org", ("",))[:2] == ("failed", "5.1.1"), "5xx rcpt → 5.1.1")
    check("\x1b" not in str(statuses) and "Recipient address rejected?" in
          statuses.get("rfc822; bad@reject.example.org", ("", "", ""))[2], "remote reply censored in the bounce")
    check(statuses.get("rfc822; ivy@nullmx.example.org", ("",))[:2] == ("failed", "5.1.10"), "null MX → 5.1.10")
    check(statuses.get("rfc822; jo@nx.example.org", ("",))[:2] == ("failed", "5.1.2"), "NXDOMAIN → 5.1.2")
    check("lee@nx.example.org" in log and not by_rcpt.get(""), "no bounce for the null sender")
    relayed = [email.message_from_bytes(b) for b in by_rcpt.get("notify@example.com", [])]
    check(len(relayed) == 1 and "Action: relayed\r\nStatus: 2.0.0" in relayed[0].as_string().replace("\n", "\r\n")
          .replace("\r\r", "\r"), "NOTIFY=SUCCESS via a hop without DSN: one 'relayed' notice")
    # defers
    check("timed out" in state_of(ids["hang"]).replace("+20", " "), "hanging MX: timed out, deferred")
    check(queued(ids["servfail"]) and "4.4.3" in state_of(ids["servfail"]), "SERVFAIL deferred 4.4.3")
    check("hal@encrypt.example.org" not in plain.rcpts() and "4.7.4" in state_of(ids["encrypt"]),
          "policy encrypt without STARTTLS: deferred 4.7.4, nothing sent in plaintext")
    check("\x1b" not in log, "no control bytes in the log")
    check("relay=mx.plain.example.org[203.0.113.25]:25" in log and "status=sent (250 2.0.0 Ok: queued)" in log,
          "Postfix-style log line")
    rc = d.stop()
    check(rc == 0, "clean exit on SIGTERM (%s)" % rc)
    check("Sanitizer" not in d.output(), "no sanitizer report")
finally:
    tear_down(work, [d], [hang] + sinks + [dns], check.failures)

check.exit("all checks passed")
