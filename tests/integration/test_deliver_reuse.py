#!/usr/bin/python3
"""pochtar-deliver keeps a session with nothing to send open for a while
(connection_cache_time, default 2 s) and sends the next message to the
same destination over it; ends it with QUIT when nothing came; and when
the server closed the idle session first, the next message goes over a
new one, delivered at once, not deferred. With connection_cache_time = 0
each message has its own session, ended with QUIT at once. Real DNS
(dnsmasq) and aiosmtpd sinks in a private network namespace."""
import os
import time

import netns

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "test-deliver-reuse", "suites": ["deliver", "threads"], "timeout": 90,
              "parallel": False}

netns.enter(["203.0.113.25", "203.0.113.26"])

import pochtar  # noqa: E402
from sink import Recorder, start_sink, tear_down  # noqa: E402

DELIVER = pochtar.binary("deliver")


class QuitRecorder(Recorder):
    def __init__(self):
        super().__init__()
        self.quits = 0

    async def handle_QUIT(self, server, session, envelope):
        with self.lock:
            self.quits += 1
        return "221 2.0.0 Bye"


work, spool = pochtar.new_work_dir("pochtar-deliver-reuse-")
dns = netns.Dnsmasq()
dns.mx_at("keep.example.org", "203.0.113.25")
dns.mx_at("short.example.org", "203.0.113.26")
dns.start()

keep = QuitRecorder()
short = Recorder()
# the second server ends a session idle for 0.5 s (421, then close)
sinks = [start_sink("203.0.113.25", keep), start_sink("203.0.113.26", short, timeout=0.5)]
DELIVER_CONF = """
mode = mx
helo_name = mail.example.com
retry_min = 60s
"""
conf = pochtar.write_spool_config(work, spool.root, deliver=DELIVER_CONF)


def msg(subject):
    return ("From: app@example.com\r\nTo: x@example.org\r\nSubject: %s\r\n\r\nbody of %s\r\n"
            % (subject, subject)).encode()


def sessions(rec):
    with rec.lock:
        return [m[6] for m in rec.messages]


d = pochtar.Daemon([DELIVER, "--config", conf], env={"POCHTAR_LOG_LEVEL": "info"})
check = pochtar.Checks()


try:
    spool.inject("signed", "app@example.com", ["a@keep.example.org"], msg("first"))
    pochtar.wait_for(lambda: len(keep.messages) == 1, what="first message")
    time.sleep(0.5)
    t0 = time.monotonic()
    spool.inject("signed", "app@example.com", ["b@keep.example.org"], msg("second"))
    pochtar.wait_for(lambda: len(keep.messages) == 2, what="second message")
    check(time.monotonic() - t0 < 1.5, "second message delivered at once")
    s = sessions(keep)
    check(s[0] == s[1], "second message sent over the idle session of the first")
    check(keep.quits == 0, "no QUIT while the session may still be used")
    pochtar.wait_for(lambda: keep.quits == 1, timeout=5, what="QUIT after the idle time")

    spool.inject("signed", "app@example.com", ["c@short.example.org"], msg("third"))
    pochtar.wait_for(lambda: len(short.messages) == 1, what="third message")
    time.sleep(1.2)             # the server has ended the idle session by now
    t0 = time.monotonic()
    spool.inject("signed", "app@example.com", ["d@short.example.org"], msg("fourth"))
    pochtar.wait_for(lambda: len(short.messages) == 2, timeout=5, what="fourth message")
    check(time.monotonic() - t0 < 1.5, "after the server ended the idle session: a new one, at once")
    s = sessions(short)
    check(s[0] != s[1], "two sessions with the server that ends idle ones")
    pochtar.wait_for(lambda: not spool.ids("signed") and not os.listdir(
        os.path.join(spool.root, "deliver", "queue", "new")), what="queue empty")
    log = d.output()
    check("deferred" not in log, "nothing deferred")
    rc = d.stop()
    check(rc == 0, "clean exit on SIGTERM (%s)" % rc)

    # no reuse: the same two messages as above, two sessions
    d = pochtar.Daemon([DELIVER, "--config", pochtar.write_spool_config(work, spool.root, deliver=DELIVER_CONF + "connection_cache_time = 0\n")],
                       env={"POCHTAR_LOG_LEVEL": "info"})
    spool.inject("signed", "app@example.com", ["e@keep.example.org"], msg("fifth"))
    pochtar.wait_for(lambda: len(keep.messages) == 3, what="fifth message")
    pochtar.wait_for(lambda: keep.quits == 2, timeout=1, what="QUIT at once without a cache time")
    time.sleep(0.5)
    spool.inject("signed", "app@example.com", ["f@keep.example.org"], msg("sixth"))
    pochtar.wait_for(lambda: len(keep.messages) == 4, what="sixth message")
    pochtar.wait_for(lambda: keep.quits == 3, timeout=1, what="QUIT at once after the sixth")
    with keep.lock:
        # id() of a freed session may come back; with the source port it will not
        peers = [(m[6], m[7]) for m in keep.messages]
    check(len({peers[0], peers[2], peers[3]}) == 3, "connection_cache_time = 0: one session per message")
    rc = d.stop()
    check(rc == 0, "clean exit on SIGTERM (%s)" % rc)
finally:
    tear_down(work, [d], sinks + [dns], check.failures)

check.exit("all checks passed")
