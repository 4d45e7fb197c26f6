#!/usr/bin/python3
"""Submission: pochtar-receive with a STARTTLS listener (587) and an
implicit-TLS listener (465) on 203.0.113.1, a loopback listener beside
them, and an app server in a second network namespace (netns.Peer,
203.0.113.2) that submits with real clients:

  swaks with --tls --auth (PLAIN) and over 465 (LOGIN); Django's SMTP
  backend with EMAIL_USE_TLS; openssl s_client -starttls smtp showing the
  chain; Python's smtplib for the refusals: AUTH before STARTTLS (530),
  MAIL without AUTH (530, nothing queued), a wrong password (535, each
  later one answered later, a journal line with the client), a sender and
  a From: outside the user's list (553), the STARTTLS injection (the
  pipelined command is never answered); TLS 1.3 and 1.2 resumption; the
  loopback listener unchanged (no STARTTLS, no AUTH); and the certificate
  rotated (SIGHUP) while four sessions send: no message lost, new
  connections see the new certificate.
"""
import json
import os
import re
import signal
import subprocess
import tempfile
import time

import netns

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "test-submission", "suites": ["receive", "threads"], "timeout": 240, "parallel": False}

netns.enter()

import pochtar  # noqa: E402
from sink import TestCA  # noqa: E402

bins = pochtar.binaries("receive", "pochtar")
PROBE = os.path.join(os.path.dirname(pochtar.__file__), "submit_probe.py")
HOST, APP = "203.0.113.1", "203.0.113.2"
PW1, PW2 = "correct horse battery", "staple 2 paper clips"

work, spool = pochtar.new_work_dir("pochtar-submission-")
check = pochtar.Checks()
ca = TestCA(work)
cert, key = ca.issue("mail.example.com")
users = os.path.join(work, "users")
loop_port = pochtar.free_port()
conf = pochtar.write_spool_config(work, spool.root, receive="""
listen = 127.0.0.1:%d
hostname = mail.example.com
origin_domain = example.com
""" % loop_port, submission="""
listen = %s:587
listen_tls = %s:465
certificate = %s
key = %s
users = %s
""" % (HOST, HOST, cert, key, users))


def user_add(name, password, *senders):
    r = subprocess.run([bins["pochtar"], "user", "add", "--users", users, name] + list(senders),
                       input=password + "\n", capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("pochtar user add: " + r.stderr)


def probe(scenario, **a):
    a.setdefault("host", HOST)
    a.setdefault("port", 587)
    a.setdefault("ca", ca.cert)
    r = app.run(["/usr/bin/python3", PROBE, scenario, json.dumps(a)], timeout=120)
    if r.returncode != 0:
        raise RuntimeError("probe %s: %s" % (scenario, r.stderr))
    return json.loads(r.stdout)


def queued():
    """{queue ID: (envelope, message)} of incoming/"""
    return {qid: spool.read("incoming", qid) for qid in spool.ids("incoming")}


app = None
daemons = []
try:
    user_add("app1", PW1, "app@example.com", "@shop.example.com")
    user_add("worker", PW2, "jobs@example.com")
    app = netns.Peer(here=HOST, there=APP).start()
    d = pochtar.Daemon([bins["receive"], "--config", conf])
    daemons.append(d)
    pochtar.wait_until_smtp_answers(loop_port)

    # --- real clients ---
    r = app.run(["swaks", "--server", HOST + ":587", "--tls", "--auth", "PLAIN", "--auth-user", "app1",
                 "--auth-password", PW1, "--from", "app@example.com", "--to", "bob@example.org",
                 "--h-From", "Shop <orders@shop.example.com>", "--helo", "web1.example.com",
                 "--tls-verify", "--tls-ca-path", ca.cert, "--tls-sni", "mail.example.com"])
    check(r.returncode == 0 and "250 2.0.0 Ok: queued as" in r.stdout, "swaks --tls --auth PLAIN on 587: queued (%s)"
          % r.stdout[-400:])
    r = app.run(["swaks", "--server", HOST + ":465", "--tlsc", "--auth", "LOGIN", "--auth-user", "worker",
                 "--auth-password", PW2, "--from", "jobs@example.com", "--to", "carol@example.net",
                 "--helo", "worker.example.com"])
    check(r.returncode == 0 and "250 2.0.0 Ok: queued as" in r.stdout, "swaks --tlsc --auth LOGIN on 465: queued (%s)"
          % r.stdout[-400:])

    django = """
import django
from django.conf import settings
settings.configure(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="%s",
                   EMAIL_PORT=587, EMAIL_USE_TLS=True, EMAIL_HOST_USER="app1", EMAIL_HOST_PASSWORD="%s",
                   EMAIL_TIMEOUT=30)
django.setup()
from django.core.mail import send_mail
print(send_mail("Order 1017 shipped", "Your order is on its way.", "Shop <app@example.com>",
                ["dave@example.org"]))
""" % (HOST, PW1)
    r = app.run(["/usr/bin/python3", "-c", django])
    check(r.returncode == 0 and r.stdout.strip() == "1", "Django with EMAIL_USE_TLS sends through 587 (%s %s)"
          % (r.stdout, r.stderr[-300:]))

    r = app.run(["openssl", "s_client", "-starttls", "smtp", "-connect", HOST + ":587", "-servername",
                 "mail.example.com", "-CAfile", ca.cert, "-verify_return_error", "-showcerts", "-brief"],
                input="QUIT\n")
    text = r.stdout + r.stderr
    check("Verification: OK" in text or "Verify return code: 0" in text,
          "openssl s_client -starttls smtp verifies the chain (%s)" % text[-500:])
    check("mail.example.com" in text, "s_client shows the certificate's name")

    msgs = queued()
    auths = sorted(str(env.get("auth")) for env, _ in msgs.values())
    check(auths == ["app1", "app1", "worker"], "three messages queued, each envelope names its user: %s" % auths)
    for env, t in msgs.values():
        if env.get("auth") == "app1" and b"orders@shop.example.com" in t:
            check(re.search(rb"Received: from web1\.example\.com \(\[203\.0\.113\.2\]\)\r\n\t\(using TLSv1\.[23] ",
                            t) is not None, "Received: names the TLS")
            check(b"with ESMTPSA id" in t, "Received: says ESMTPSA")
    r = subprocess.run([bins["pochtar"], "queue", "--config", conf], capture_output=True, text=True)
    check(r.stdout.count("auth=app1") == 2 and "auth=worker" in r.stdout, "pochtar queue shows the users")
    check(re.search(r"from=<app@example\.com>.*sasl_username=app1 \(queued\)", d.output()) is not None,
          "the received line names the user")

    # --- what a submission listener refuses ---
    before = set(queued())
    out = probe("send", no_starttls=True, user="app1", password=PW1, sender="app@example.com",
                rcpts=["bob@example.org"])
    check("STARTTLS" in " ".join(out["features_before"]).upper() and
          "auth" not in out["features_before"], "before TLS: STARTTLS offered, AUTH not (%s)" % out["features_before"])
    out = probe("raw", ops=[["read"], ["send", "EHLO web1\r\n"], ["read"], ["send", "AUTH PLAIN AGFwcDEAeA==\r\n"],
                            ["read"]])
    check(out["replies"][2][0].startswith("530 5.7.0"), "AUTH PLAIN before TLS: 530 5.7.0 (%s)" % out["replies"])
    out = probe("send", sender="app@example.com", rcpts=["bob@example.org"])
    check(not out["ok"] and out["error"][0] == 530, "MAIL without AUTH: 530 (%s)" % out.get("error"))
    check("auth" in out["features_after"], "after TLS: AUTH offered")
    out = probe("send", user="app1", password=PW1, sender="other@example.net", rcpts=["bob@example.org"])
    check(not out["ok"] and out["error"][0] == 553, "MAIL FROM outside the user's senders: 553 (%s)" % out)
    out = probe("send", user="app1", password=PW1, sender="x@sub.shop.example.com", rcpts=["bob@example.org"])
    check(not out["ok"] and out["error"][0] == 553, "a subdomain of an @domain entry: 553")
    out = probe("send", user="app1", password=PW1, sender="app@example.com", header_from="ceo@bank.example",
                rcpts=["bob@example.org"])
    check(not out["ok"] and out["error"][0] == 553, "From: outside the user's senders: 553 (%s)" % out)
    out = probe("send", user="app1", password=PW1, sender="app@example.com",
                header_from="app@example.com, <ceo@bank.example", rcpts=["bob@example.org"])
    check(not out["ok"] and out["error"][0] == 553, "a From: address the reader cannot read whole: 553")
    check(set(queued()) == before, "nothing refused was queued")

    t = []
    for i in range(3):
        out = probe("send", user="app1", password="wrong %d" % i, mech="PLAIN", sender="app@example.com",
                    rcpts=["b@example.org"])
        check(out["auth"][0] == 535, "a wrong password: 535 (%s)" % out["auth"])
        t.append(out["auth_seconds"])
    check(t[1] >= 0.9 and t[2] >= 1.9, "each later failure is answered later: %s s" % [round(x, 2) for x in t])
    out = probe("send", user="nobody", password=PW1, mech="LOGIN", sender="app@example.com", rcpts=["b@example.org"])
    check(out["auth"][0] == 535, "an unknown user: the same 535 (%s)" % out["auth"])
    fails = re.findall(r"SASL (?:PLAIN|LOGIN) authentication failed from \[203\.0\.113\.2\]", d.output())
    check(len(fails) == 4, "each failure logged with the client address (%d lines)" % len(fails))
    out = probe("send", user="worker", password=PW2, sender="jobs@example.com", rcpts=["b@example.org"])
    check(out["ok"], "the right password still works meanwhile, and forgets the failures")

    # RFC 3207 §4.2: what was pipelined after STARTTLS is not a command
    out = probe("raw", ops=[["read"], ["send", "EHLO web1\r\n"], ["read"],
                            ["send", "STARTTLS\r\nRSET\r\nMAIL FROM:<app@example.com>\r\n"], ["read"], ["tls"],
                            ["send", "EHLO web1\r\n"], ["read"], ["send", "QUIT\r\n"], ["read"]])
    rep = out["replies"]
    check(rep[2][0].startswith("220 2.0.0"), "STARTTLS: 220 (%s)" % rep)
    check(rep[4][0].startswith("250-mail.example.com") and rep[5][0].startswith("221"),
          "inside TLS the first reply is EHLO's, the injected RSET and MAIL got none (%s)" % rep)
    check("sent after STARTTLS in clear text" in d.output(), "the injection is logged")

    for v in ("TLSv1_3", "TLSv1_2"):
        out = probe("resume", port=465, implicit=True, tls_max=v)
        c = out["connections"]
        check(not c[0]["reused"] and c[1]["reused"], "%s: the second connection resumes (%s)" % (v, c))

    # the loopback listener stays as it was
    r = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % loop_port, "--from", "cron@example.com", "--to",
                        "root@example.org", "--quit-after", "EHLO"], capture_output=True, text=True)
    check("STARTTLS" not in r.stdout and "AUTH" not in r.stdout, "loopback EHLO offers neither STARTTLS nor AUTH")
    r = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % loop_port, "--from", "cron@example.com", "--to",
                        "root@example.org"], capture_output=True, text=True)
    check(r.returncode == 0, "loopback mail without AUTH is queued as before")

    # --- the certificate rotated under load ---
    stop = os.path.join(work, "stop")
    load = app.popen(["/usr/bin/python3", PROBE, "load", json.dumps({
        "host": HOST, "port": 587, "ca": ca.cert, "user": "app1", "password": PW1, "sender": "app@example.com",
        "rcpts": ["bob@example.org"], "threads": 4, "per_connection": 10, "stop": stop})],
        stdout=subprocess.PIPE, text=True)
    base = len(queued())
    pochtar.wait_for(lambda: len(queued()) > base + 40, timeout=60, what="load before the rotation")
    cert2, key2 = ca.issue("mail.example.com")
    os.replace(cert2, cert)
    os.replace(key2, key)
    d.proc.send_signal(signal.SIGHUP)
    pochtar.wait_for(lambda: "Submission certificate reloaded" in d.output(), what="the reload")
    n = len(queued())
    pochtar.wait_for(lambda: len(queued()) > n + 60, timeout=60, what="load after the rotation")
    open(stop, "w").close()
    res = json.loads(load.communicate(timeout=60)[0])
    sent = sum(x["sent"] for x in res["threads"])
    failed = [f for x in res["threads"] for f in x["failed"]]
    certs = set(c for x in res["threads"] for c in x["certs"])
    check(not failed, "no session failed during the rotation (%s)" % failed[:3])
    check(len(queued()) == base + sent, "every message acknowledged is queued (%d sent, %d queued)"
          % (sent, len(queued()) - base))
    check(len(certs) == 2, "the sessions saw the old certificate, then the new one (%d)" % len(certs))
    rc = d.stop()
    check(rc == 0 and "Sanitizer" not in d.output(), "clean exit (%s)" % rc)
finally:
    for dm in daemons:
        dm.stop()
    if app:
        app.stop()
    if check.failures:
        for dm in daemons:
            print(dm.output()[-6000:])
    pochtar.remove_work_dir(work)

check.exit()
