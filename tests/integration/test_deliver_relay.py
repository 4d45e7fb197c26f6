#!/usr/bin/python3
"""mode = relay: everything goes to relayhost with SMTP AUTH, on STARTTLS
(port 587, AUTH PLAIN) and on implicit TLS (port 465, AUTH LOGIN only),
whatever the recipient domains; the password comes from
relay_password_file, then from $CREDENTIALS_DIRECTORY; a wrong password
defers and a relay without TLS never sees the password. The relay's
certificate comes from a private CA that relay_ca_file names (the
refusals of certificates that do not verify are in
test_deliver_relay_verify.py)."""
import os
import tempfile

import netns

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "test-deliver-relay", "suites": ["deliver"], "timeout": 90, "parallel": False}

netns.enter(["203.0.113.40"])

import pochtar  # noqa: E402
from sink import PasswordCheck, Recorder, TestCA, start_sink, tear_down  # noqa: E402

DELIVER = pochtar.binary("deliver")

work = tempfile.mkdtemp(prefix="pochtar-deliver-relay-")
dns = netns.Dnsmasq()
dns.a("relay.example.net", "203.0.113.40")
dns.start()
ca = TestCA(work)
# valid for the name (port 587) and for the address literal (port 465)
cert = ca.issue("relay.example.net", "203.0.113.40")
sub, smtps, clear = Recorder(), Recorder(), Recorder()
auth_sub, auth_smtps, auth_clear = (PasswordCheck("app@example.net", "s3cret pass"),
                                    PasswordCheck("app@example.net", "s3cret pass"),
                                    PasswordCheck("app@example.net", "s3cret pass"))
sinks = [start_sink("203.0.113.40", sub, tls=cert, port=587, authenticator=auth_sub, auth_required=True),
         start_sink("203.0.113.40", smtps, tls=cert, implicit_tls=True, port=465, authenticator=auth_smtps,
                    auth_required=True, auth_require_tls=False, auth_exclude_mechanism=["PLAIN"]),
         # a relay without STARTTLS that would take AUTH in clear text
         start_sink("203.0.113.40", clear, port=2525, authenticator=auth_clear, auth_required=True,
                    auth_require_tls=False)]
pwfile = os.path.join(work, "relay-password")
with open(pwfile, "w") as f:
    f.write("s3cret pass\n")
os.chmod(pwfile, 0o600)
creds = os.path.join(work, "creds")
os.mkdir(creds)
with open(os.path.join(creds, "relay-password"), "w") as f:
    f.write("s3cret pass")
check = pochtar.Checks()


daemons = []
try:
    def run(port, extra="", env=None, host="relay.example.net"):
        spool = pochtar.Spool(os.path.join(work, "spool%d-%d" % (port, len(daemons))))
        conf = pochtar.write_spool_config(work, spool.root, deliver="""
mode = relay
relayhost = [%s]:%d
helo_name = mail.example.com
relay_user = app@example.net
relay_ca_file = %s
retry_min = 1h
connect_timeout = 2s
command_timeout = 2s
%s
""" % (host, port, ca.cert, extra))
        qid = spool.inject("signed", "app@example.com", ["x@gmail.test", "y@other.test"],
                           b"Subject: r\r\n\r\nhi\r\n")
        d = pochtar.Daemon([DELIVER, "--config", conf], env=env)
        daemons.append(d)
        return d, spool, qid

    def state(spool, qid):
        """deliver's state file of qid, diagnostics xtext-decoded"""
        p = os.path.join(spool.root, "deliver", "state", "new", qid)
        return pochtar.xtext_decode(open(p).read()).decode() if os.path.exists(p) else ""

    for port, rec in ((587, sub), (465, smtps)):
        if port == 587:
            d, spool, qid = run(port, "relay_password_file = " + pwfile)
        else:
            # an address literal as the relay host: no DNS lookup at all
            d, spool, qid = run(port, env={"CREDENTIALS_DIRECTORY": creds}, host="203.0.113.40")
        daemons.append(d)
        pochtar.wait_for(lambda: rec.messages, what="relay delivery on port %d" % port)
        check(sorted(rec.messages[0][1]) == ["x@gmail.test", "y@other.test"],
              "port %d: both recipients in one transaction to the relay" % port)
        # aiosmtpd marks only STARTTLS sessions; on 465 the sink speaks
        # nothing but TLS, so a delivery there is TLS by construction
        check(rec.messages[0][3] if port == 587 else
              "TLS connection established to 203.0.113.40[203.0.113.40]:465" in d.output(),
              "port %d: TLS used" % port)
        check(", verified" in d.output(), "port %d: the certificate verified" % port)
        check("s3cret" not in d.output(), "port %d: password not in the log" % port)
        d.stop()
    check(auth_sub.attempts == [("PLAIN", True, True)], "587: AUTH PLAIN inside STARTTLS")
    check(auth_smtps.attempts == [("LOGIN", True, True)], "465: AUTH LOGIN (PLAIN not offered), inside TLS")

    # wrong password: deferred 4.7.0, nothing delivered
    with open(pwfile, "w") as f:
        f.write("wrong\n")
    n_before = len(sub.messages)
    d, spool, qid = run(587, "relay_password_file = " + pwfile)
    pochtar.wait_for(lambda: "deferred" in state(spool, qid), what="deferral after a refused login")
    check(len(sub.messages) == n_before and " 4.7.0 " in state(spool, qid) and "535" in state(spool, qid),
          "refused login: deferred 4.7.0 with the relay's 535")
    # a relay without TLS never gets the password
    d, spool, qid = run(2525, "relay_password_file = " + pwfile)
    pochtar.wait_for(lambda: "deferred" in state(spool, qid), what="deferral without TLS")
    check(auth_clear.attempts == [] and not clear.messages, "no AUTH and no mail over plaintext")
    check(" 4.7.4 " in state(spool, qid) and "TLS is required, but was not offered" in state(spool, qid),
          "no STARTTLS: deferred 4.7.4, saying why")
    rcs = [x.stop() for x in daemons]
    check(rcs == [0] * len(rcs) and not any("Sanitizer" in x.output() for x in daemons),
          "clean exits on SIGTERM %s, no sanitizer report" % rcs)
finally:
    tear_down(work, daemons, sinks + [dns], check.failures)
check.exit()
