#!/usr/bin/python3
"""A queue file deliver read once and cannot read on a later attempt (here
grown past the size bound behind its back): the attempt is a deferral, the
delay notice it owes goes out without the original message instead of
being written from the last attempt's offsets, and deliver stays up."""
import os

import netns

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "test-deliver-unreadable", "suites": ["deliver"], "timeout": 60, "parallel": False}

netns.enter(["203.0.113.25"])

import pochtar  # noqa: E402
from sink import Recorder, start_sink, tear_down  # noqa: E402

DELIVER = pochtar.binary("deliver")

work, spool = pochtar.new_work_dir("pochtar-deliver-unreadable-")

conf = pochtar.write_spool_config(work, spool.root, receive="""
max_message_size = 1k
""", deliver="""
helo_name = mail.example.com
retry_min = 1s
retry_max = 1s
delay_warning = 1s
connect_timeout = 2s
command_timeout = 3s
""")
check = pochtar.Checks()


def queue_path(qid):
    return os.path.join(spool.root, "deliver", "queue", "new", qid)


def state_of(qid):
    try:
        with open(os.path.join(spool.root, "deliver", "state", "new", qid)) as f:
            return f.read()
    except FileNotFoundError:
        return ""


daemons, dns, sink = [], None, None
try:
    dns = netns.Dnsmasq()
    dns.mx_at("later.example.org", "203.0.113.25")
    dns.start()
    sink = start_sink("203.0.113.25", Recorder(rcpt_reply=lambda a: "451 4.2.0 not yet"))
    qid = spool.inject("signed", "app@example.com", ["bob@later.example.org"],
                       b"Subject: grows\r\nFrom: app@example.com\r\n\r\nbody\r\n")
    d = pochtar.Daemon([DELIVER, "--config", conf])
    daemons.append(d)
    pochtar.wait_for(lambda: "deferred 4.2.0" in state_of(qid), what="the first attempt's deferral")
    check(spool.ids("incoming") == [], "no notice after the first attempt (younger than delay_warning)")

    # past spool_message_max(1k) + the envelope bound: the next read fails
    with open(queue_path(qid), "ab") as f:
        f.write(b"x" * (3 * 1024 * 1024))
    pochtar.wait_for(lambda: "local error starting the attempt" in d.output(), timeout=20,
                     what="an attempt that cannot read the file")
    pochtar.wait_for(lambda: spool.ids("incoming") != [], timeout=10, what="the delay notice")
    _, text = spool.read("incoming", spool.ids("incoming")[0])
    check(b"Action: delayed" in text, "the notice is a delay notice")
    check(b"Final-Recipient: rfc822; bob@later.example.org" in text, "it names the recipient")
    check(b"x" * 64 not in text and len(text) < 64 * 1024, "it carries nothing of the unreadable file")
    check(d.proc.poll() is None, "deliver still runs")
    check(os.path.exists(queue_path(qid)), "the message stays queued")
    rc = d.stop()
    check(rc == 0 and "Sanitizer" not in d.output(), "clean exit on SIGTERM (%s), no sanitizer report" % rc)
finally:
    tear_down(work, daemons, [sink, dns], check.failures)

check.exit()
