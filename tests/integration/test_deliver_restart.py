#!/usr/bin/python3
"""pochtar-deliver's durable state: a recipient that got 250 is never sent
again after kill -9 and restart; deferred mail keeps its retry time and is
made due by a flush request; a kill -9 in the middle of a busy queue
duplicates at most the transactions in flight (max_per_destination)."""
import asyncio
import collections
import os
import signal

import netns

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "test-deliver-restart", "suites": ["deliver"], "timeout": 90, "parallel": False}

netns.enter(["203.0.113.25", "203.0.113.26"])

import pochtar  # noqa: E402
from sink import Recorder, start_sink, tear_down  # noqa: E402

DELIVER = pochtar.binary("deliver")

work, spool = pochtar.new_work_dir("pochtar-deliver-restart-")
dns = netns.Dnsmasq()
dns.mx_at("restart.example.org", "203.0.113.25")
dns.mx_at("busy.example.org", "203.0.113.26")
dns.start()

accept_later = {"on": False}
sink = start_sink("203.0.113.25", Recorder(
    rcpt_reply=lambda a: None if not a.startswith("later") or accept_later["on"] else "451 4.2.0 not yet"))


class SlowRecorder(Recorder):
    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


busy = SlowRecorder()
busy_sink = start_sink("203.0.113.26", busy)

conf = pochtar.write_spool_config(work, spool.root, deliver="""
helo_name = mail.example.com
retry_min = 1h
retry_max = 2h
max_per_destination = 2
connect_timeout = 2s
command_timeout = 3s
""")
check = pochtar.Checks()


def state_path(qid):
    return os.path.join(spool.root, "deliver", "state", "new", qid)


rec = sink.handler
daemons = []
try:
    qid = spool.inject("signed", "app@example.com",
                       ["good@restart.example.org", "later@restart.example.org"],
                       b"Subject: restart\r\n\r\nbody\r\n")
    d = pochtar.Daemon([DELIVER, "--config", conf])
    daemons.append(d)
    pochtar.wait_for(lambda: os.path.exists(state_path(qid)), what="state after first attempt")
    state = open(state_path(qid)).read()
    check("rcpt 0 sent 2.1.5" in state or "rcpt 0 sent 2.0.0" in state, "state records the 250")
    check("rcpt 1 deferred 4.2.0" in state, "state records the deferral")
    next_line = [l for l in state.splitlines() if l.startswith("next ")][0]
    d.stop(signal.SIGKILL)

    accept_later["on"] = True
    d = pochtar.Daemon([DELIVER, "--config", conf])
    daemons.append(d)
    pochtar.wait_for(lambda: "queue loaded: 1 messages" in d.output(), what="restart")
    import time
    time.sleep(0.5)
    check(rec.rcpts().count("later@restart.example.org") == 0, "retry time (1h) survives the restart")
    check(next_line in open(state_path(qid)).read(), "next-retry time unchanged by the restart")
    open(os.path.join(spool.root, "control", "flush", "all"), "w").close()
    pochtar.wait_for(lambda: "later@restart.example.org" in rec.rcpts(), what="delivery after flush")
    pochtar.wait_for(lambda: not os.path.exists(os.path.join(spool.root, "deliver", "queue", "new", qid)),
                     what="message removed when done")
    check(rec.rcpts().count("good@restart.example.org") == 1, "no duplicate to the recipient that got 250")
    check(not os.listdir(os.path.join(spool.root, "control", "flush")), "flush request consumed")

    # kill -9 in the middle of a busy queue
    n = 150
    for i in range(n):
        spool.inject("signed", "app@example.com", ["u%d@busy.example.org" % i],
                     b"Subject: busy %d\r\n\r\nbody\r\n" % i)
    pochtar.wait_for(lambda: len(busy.messages) >= 30, timeout=20, what="busy deliveries under way")
    d.stop(signal.SIGKILL)
    at_kill = len(busy.messages)
    d = pochtar.Daemon([DELIVER, "--config", conf])
    daemons.append(d)
    pochtar.wait_for(lambda: len(set(busy.rcpts())) == n, timeout=40, what="all busy messages delivered")
    counts = collections.Counter(busy.rcpts())
    dups = sum(c - 1 for c in counts.values())
    print("killed after %d deliveries; duplicates after restart: %d" % (at_kill, dups))
    check(dups <= 2, "at most max_per_destination (2) duplicates from the transactions in flight")
    check(spool.ids("signed") == [], "signed/new emptied")
    rc = d.stop()
    check(rc == 0 and "Sanitizer" not in d.output(), "clean exit on SIGTERM (%s), no sanitizer report" % rc)
finally:
    tear_down(work, daemons, [sink, busy_sink, dns], check.failures)

check.exit()
