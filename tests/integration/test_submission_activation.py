#!/usr/bin/python3
"""Socket activation decides a listener's kind by its name, and a process
that serves submission does not exit when idle.

systemd-socket-activate hands pochtar-receive one socket, named as the
units name theirs (FileDescriptorName=), with [receive] idle_exit = 1s:

  (a) named "submission": EHLO offers STARTTLS (the submission policy,
      from the name alone), and after three idle seconds the process is
      still there, saying why (the AUTH failure counts it holds would be
      lost with it);
  (b) named "loopback": EHLO offers neither STARTTLS nor AUTH, and the
      process exits once idle, as before.
"""
import os
import smtplib
import time

import netns

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "test-submission-activation", "suites": ["receive"], "timeout": 60, "parallel": False}

netns.enter()

import pochtar  # noqa: E402
from sink import TestCA  # noqa: E402

bins = pochtar.binaries("receive", "pochtar")
work, spool = pochtar.new_work_dir("pochtar-submission-activation-")
check = pochtar.Checks()
ca = TestCA(work)
cert, key = ca.issue("mail.example.com")
users = os.path.join(work, "users")
conf = pochtar.write_spool_config(work, spool.root, receive="""
hostname = mail.example.com
idle_exit = 1s
""", submission="""
certificate = %s
key = %s
users = %s
""" % (cert, key, users))


def activated(name, port):
    return pochtar.Daemon(["systemd-socket-activate", "-l", "127.0.0.1:%d" % port, "--fdname=" + name,
                           bins["receive"], "--config", conf])


def ehlo_features(port):
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
        c.ehlo("web1.example.com")
        return set(c.esmtp_features)


daemons = []
try:
    with open(users, "w") as f:
        f.write("# no user yet\n")
    os.chmod(users, 0o600)

    port = pochtar.free_port()
    d = activated("submission", port)
    daemons.append(d)
    pochtar.wait_until_smtp_answers(port, "the activated submission listener")
    features = ehlo_features(port)
    check("starttls" in features and "auth" not in features,
          "(a) named submission: STARTTLS offered, AUTH only after it (%s)" % sorted(features))
    time.sleep(3)
    check(d.proc.poll() is None, "(a) still running after 3 s idle with idle_exit = 1s")
    check("idle_exit ignored" in d.output(), "(a) the log says why it stays")
    d.stop()

    port = pochtar.free_port()
    d = activated("loopback", port)
    daemons.append(d)
    pochtar.wait_until_smtp_answers(port, "the activated loopback listener")
    features = ehlo_features(port)
    check("starttls" not in features and "auth" not in features,
          "(b) named loopback: neither STARTTLS nor AUTH (%s)" % sorted(features))
    pochtar.wait_for(lambda: d.proc.poll() is not None, timeout=10, what="(b) the idle exit")
    check(d.proc.returncode == 0 and "Idle for" in d.output(), "(b) exits when idle, cleanly")
finally:
    for dm in daemons:
        dm.stop()
    if check.failures:
        for dm in daemons:
            print(dm.output()[-3000:])
    pochtar.remove_work_dir(work)

check.exit()
