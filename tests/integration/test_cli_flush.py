#!/usr/bin/python3
"""pochtar flush against the real pochtar-deliver: a message deferred by
the remote MX (retry in an hour) is listed by pochtar queue with deliver's
per-recipient state, and `pochtar flush ID` (then `pochtar flush` for all)
makes deliver retry at once. dnsmasq and an aiosmtpd MX in a private
network namespace."""
import json
import os
import subprocess
import sys
import time

import netns
import pochtar

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "cli-flush-deliver", "suites": ["cli", "deliver"], "timeout": 90, "parallel": False}

POCHTAR = pochtar.binary("pochtar")
DELIVER = pochtar.binary("deliver")
try:
    from sink import Recorder, start_sink
except ImportError:
    pochtar.skip("python3-aiosmtpd not installed")

netns.enter(["203.0.113.60"])
os.environ["PATH"] += ":/usr/sbin:/sbin"


# the MX answers RCPT with 451 while this is set
greylisting = True


work, spool = pochtar.new_work_dir("pochtar-cli-flush-")
dns = netns.Dnsmasq()
dns.mx_at("flush.example.org", "203.0.113.60")
dns.start()
sink = Recorder(rcpt_reply=lambda address: "451 4.2.0 greylisted, try later" if greylisting else None)
mx = start_sink("203.0.113.60", sink)
conf = pochtar.write_spool_config(work, spool.root, deliver="""
helo_name = mail.example.com
retry_min = 1h
retry_max = 1h
connect_timeout = 2s
command_timeout = 5s
""")


def queue():
    p = subprocess.run([POCHTAR, "queue", "--json", "--config", conf], capture_output=True, text=True,
                       timeout=20, check=True)
    return {m["id"]: m for m in json.loads(p.stdout)["messages"]}


def deferred(qid):
    m = queue().get(qid)
    return m if m and m["recipients"][0]["status"] == "deferred" else None


def flush(*args):
    t = time.monotonic()
    subprocess.run([POCHTAR, "flush", "--config", conf] + list(args), check=True, capture_output=True,
                   timeout=20)
    return t


body = b"From: app@example.com\r\nSubject: flush\r\n\r\nbody\r\n"
d = None
try:
    first = spool.inject("signed", "app@example.com", ["a@flush.example.org"], body)
    d = pochtar.Daemon([DELIVER, "--config", conf])

    # deferred, and pochtar queue shows deliver's record of it
    m = pochtar.wait_for(lambda: deferred(first), timeout=15, what="the first attempt to be deferred")
    r = m["recipients"][0]
    assert m["queue"] == "deliver" and m["attempts"] == 1, m
    assert r["code"] == "4.2.0" and "greylisted, try later" in r["diagnostic"], r
    next_retry = time.mktime(time.strptime(m["next_retry"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert next_retry > time.time() + 3000, m          # an hour away
    text = subprocess.run([POCHTAR, "queue", "--config", conf], capture_output=True, text=True).stdout
    assert "<a@flush.example.org>  deferred 4.2.0: 451 4.2.0 greylisted, try later" in text, text

    # flush ID: deliver retries now, not in an hour
    greylisting = False
    t = flush(first)
    pochtar.wait_for(lambda: sink.messages, timeout=10, what="delivery after pochtar flush ID")
    print("flush ID -> delivered in %.3f s" % (sink.messages[0][4] - t))
    pochtar.wait_for(lambda: first not in queue(), what="the delivered message to leave the queue")
    flush_dir = os.path.join(spool.root, "control", "flush")
    pochtar.wait_for(lambda: not os.listdir(flush_dir), what="deliver to remove the flush request")

    # flush (all): two more deferred messages go at once
    greylisting = True
    more = [spool.inject("signed", "app@example.com", ["%s@flush.example.org" % u], body) for u in "bc"]
    pochtar.wait_for(lambda: all(deferred(q) for q in more), timeout=15, what="two deferred messages")
    greylisting = False
    t = flush()
    pochtar.wait_for(lambda: len(sink.messages) == 3, timeout=10, what="delivery after pochtar flush")
    print("flush all -> both delivered in %.3f s" % (sink.messages[2][4] - t))
    pochtar.wait_for(lambda: not queue(), what="an empty queue")
    assert d.proc.poll() is None, d.output()
finally:
    if d:
        rc = d.stop()
        if sys.exc_info()[0]:
            print(d.output())
    mx.stop()
    dns.stop()
    pochtar.remove_work_dir(work)
print("flush made deliver retry at once")
