#!/usr/bin/python3
"""With relay_user set, the relay password goes only into TLS whose
certificate verifies for the relayhost name, whatever tls_policy says
(default: may). Each case is one deliver against one relay sink that
requires AUTH and records every attempt:

  (a) a self-signed certificate for another name, default config: no
      AUTH, deferred 4.7.5, the state and the log say why;
  (b) a certificate from a private CA for the right name, relay_ca_file
      naming that CA: delivered with AUTH; the same relay without
      relay_ca_file (the system store does not know the CA): deferred;
      a self-signed certificate for the right name that relay_ca_file
      names: delivered with AUTH;
  (c) a certificate from that CA for another name: deferred, no AUTH;
  (d) a relay without STARTTLS: deferred 4.7.4, no AUTH;
  (e) relay_password_to_unverified_host = yes: AUTH to (a)'s relay, a
      warning at start and the override in the TLS line of the delivery;
      even so, (d)'s relay gets no AUTH;
  (l) an address literal ([203.0.113.40]:465): the certificate must hold
      that IP address (an IP subjectAltName); one for the relay's DNS
      name only is not trusted.
"""
import os
import tempfile

import netns

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "test-deliver-relay-verify", "suites": ["deliver"], "timeout": 90,
              "parallel": False}

netns.enter(["203.0.113.40", "203.0.113.41"])

import pochtar  # noqa: E402
from sink import PasswordCheck, Recorder, TestCA, self_signed_cert, start_sink, tear_down  # noqa: E402

DELIVER = pochtar.binary("deliver")
LOGIN, PASSWORD = "app@example.net", "s3cret pass"

work = tempfile.mkdtemp(prefix="pochtar-deliver-relay-verify-")
check = pochtar.Checks()
daemons, servers = [], []
try:
    dns = netns.Dnsmasq()
    dns.a("relay.example.net", "203.0.113.40")
    dns.start()
    servers.append(dns)
    ca = TestCA(work)
    self_signed = self_signed_cert(work, "evil.example.org", prefix="evil-")
    # relay -> (address, port, the certificate it presents, implicit TLS)
    RELAYS = {
        "a": ("203.0.113.40", 587, self_signed, False),
        "b": ("203.0.113.40", 588, ca.issue("relay.example.net"), False),
        "c": ("203.0.113.40", 589, ca.issue("other.example.org"), False),
        "d": ("203.0.113.40", 2525, None, False),
        "s": ("203.0.113.40", 590, self_signed_cert(work, "relay.example.net", prefix="self-"), False),
        "l-ip": ("203.0.113.40", 465, ca.issue("203.0.113.40"), True),
        "l-name": ("203.0.113.41", 465, ca.issue("relay.example.net"), True),
    }
    recorders, auths = {}, {}
    for name, (addr, port, cert, implicit) in RELAYS.items():
        recorders[name], auths[name] = Recorder(), PasswordCheck(LOGIN, PASSWORD)
        # the sinks would take AUTH anywhere, in clear text too: only deliver decides
        servers.append(start_sink(addr, recorders[name], tls=cert, implicit_tls=implicit, port=port,
                                  authenticator=auths[name], auth_required=True, auth_require_tls=False))
    pwfile = os.path.join(work, "relay-password")
    with open(pwfile, "w") as f:
        f.write(PASSWORD + "\n")
    os.chmod(pwfile, 0o600)

    def attempt(relay, relayhost, extra=""):
        """One deliver with one message for relay: (daemon, spool, queue ID),
        after the first attempt is over (deferred, or the sink has it)."""
        spool = pochtar.Spool(os.path.join(work, "spool-%d" % len(daemons)))
        conf = pochtar.write_spool_config(work, spool.root, deliver="""
mode = relay
relayhost = %s
helo_name = mail.example.com
relay_user = %s
relay_password_file = %s
retry_min = 1h
connect_timeout = 2s
command_timeout = 2s
%s
""" % (relayhost, LOGIN, pwfile, extra))
        qid = spool.inject("signed", "app@example.com", ["x@gmail.test"], b"Subject: v\r\n\r\nhi\r\n")
        d = pochtar.Daemon([DELIVER, "--config", conf])
        daemons.append(d)
        pochtar.wait_for(lambda: "deferred" in state(spool, qid) or recorders[relay].messages,
                         what="the first attempt to relay %s" % relay)
        return d, spool, qid

    def state(spool, qid):
        """deliver's state file of qid, diagnostics xtext-decoded"""
        p = os.path.join(spool.root, "deliver", "state", "new", qid)
        return pochtar.xtext_decode(open(p).read()).decode() if os.path.exists(p) else ""

    def refused(relay, relayhost, code, why, extra="", what=""):
        d, spool, qid = attempt(relay, relayhost, extra)
        st = state(spool, qid)
        check(auths[relay].attempts == [] and not recorders[relay].messages,
              "%s: no AUTH (attempts %s), no mail" % (what, auths[relay].attempts))
        rcpt = [line for line in st.splitlines() if line.startswith("rcpt ")]
        check((" %s " % code) in st and why in st, "%s: deferred %s saying %r: %s" % (what, code, why, rcpt))
        check(why in d.output(), "%s: the log says why" % what)
        return d

    # (a) the on-path attacker's certificate, default configuration
    refused("a", "[relay.example.net]:587", "4.7.5", "certificate for relay.example.net not trusted",
            what="(a) self-signed certificate for another name, default tls_policy")
    # (c) the right CA, the wrong name
    d = refused("c", "[relay.example.net]:589", "4.7.5", "certificate for relay.example.net not trusted",
                extra="relay_ca_file = " + ca.cert, what="(c) CA-issued certificate for another name")
    check("does not match" in d.output(), "(c) the log says the name does not match")
    # (b) without relay_ca_file the system store does not know the test CA
    refused("b", "[relay.example.net]:588", "4.7.5", "certificate for relay.example.net not trusted",
            what="(b) CA-issued certificate, CA not trusted")
    # (b) with it, the password goes
    d, spool, qid = attempt("b", "[relay.example.net]:588", "relay_ca_file = " + ca.cert)
    check(len(recorders["b"].messages) == 1 and auths["b"].attempts == [("PLAIN", True, True)],
          "(b) CA-issued certificate for relay.example.net + relay_ca_file: delivered after AUTH PLAIN in TLS")
    check("relay.example.net[203.0.113.40]:588" in d.output() and ", verified" in d.output(),
          "(b) the TLS line says verified")
    # (b) relay_ca_file may also name the relay's own self-signed certificate
    d, spool, qid = attempt("s", "[relay.example.net]:590", "relay_ca_file = " + RELAYS["s"][2][0])
    check(len(recorders["s"].messages) == 1 and auths["s"].attempts == [("PLAIN", True, True)],
          "(b) self-signed certificate for relay.example.net named by relay_ca_file: delivered after AUTH")
    # (d) no STARTTLS at all
    refused("d", "[relay.example.net]:2525", "4.7.4", "TLS is required, but was not offered",
            what="(d) relay without STARTTLS")

    # (e) the override: the attacker's certificate gets the password, loudly
    d, spool, qid = attempt("a", "[relay.example.net]:587", "relay_password_to_unverified_host = yes")
    check(auths["a"].attempts == [("PLAIN", True, True)] and len(recorders["a"].messages) == 1,
          "(e) override: AUTH in TLS to the unverified relay, delivered")
    check("relay_password_to_unverified_host = yes: the password of relay_user %s goes to relay.example.net "
          "over TLS without checking its certificate" % LOGIN in d.output(), "(e) override: warning at start")
    check("untrusted, password sent unverified (relay_password_to_unverified_host)" in d.output(),
          "(e) override: named in the TLS line of the delivery (POCHTAR_TLS)")
    refused("d", "[relay.example.net]:2525", "4.7.4", "TLS is required, but was not offered",
            extra="relay_password_to_unverified_host = yes", what="(e) override, relay without STARTTLS")

    # (l) address literals: GnuTLS matches an IP address only against IP subjectAltNames
    d, spool, qid = attempt("l-ip", "[203.0.113.40]:465", "relay_ca_file = " + ca.cert)
    check(len(recorders["l-ip"].messages) == 1 and auths["l-ip"].attempts == [("PLAIN", True, True)],
          "(l) [203.0.113.40]:465 with IP:203.0.113.40 in the certificate: delivered after AUTH")
    refused("l-name", "[203.0.113.41]:465", "4.7.5", "certificate for 203.0.113.41 not trusted",
            extra="relay_ca_file = " + ca.cert, what="(l) [203.0.113.41]:465 with a certificate for a DNS name only")

    rcs = [x.stop() for x in daemons]
    check(rcs == [0] * len(rcs), "clean exits on SIGTERM %s" % rcs)
finally:
    tear_down(work, daemons, servers, check.failures)
check.exit()
