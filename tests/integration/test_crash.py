#!/usr/bin/python3
"""Crash consistency of the whole chain: receive, sign and deliver (mx mode,
to an aiosmtpd sink on 203.0.113.25 found through dnsmasq) while a random
stage is killed with SIGKILL every ~200 ms and started again. Clients retry
every message that did not get a 250. At the end every acknowledged message
reached the sink at least once, the queues and quarantine are empty, and
after one clean restart of each stage no tmp/ holds a file.

Duplicates are counted in two kinds and printed:
- by queue ID (the same spool file delivered twice): only deliver's window
  between the remote 250 and its local record may cause them;
- by client message (several queue IDs for one client message): receive made
  the message durable but was killed before the client read the 250, so the
  client sent it again, as SMTP (RFC 5321 §4.1.1.4 note, RFC 1047) allows.

POCHTAR_CRASH_MESSAGES overrides the message count (default 2000),
POCHTAR_CRASH_SECONDS the time the stream is paced over (default 15)."""
import os
import random
import re
import signal
import smtplib
import threading
import time

import netns

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "faults-crash", "suites": ["chain", "threads"], "timeout": 180, "parallel": False}

netns.enter(["203.0.113.25"])

import pochtar  # noqa: E402
import signlib  # noqa: E402
from sink import Recorder, start_mx_with_sink  # noqa: E402

BIN = pochtar.binaries("receive", "sign", "deliver")

MESSAGES = int(os.environ.get("POCHTAR_CRASH_MESSAGES", "2000"))
# the stream is paced over this long so that it meets ~75 kills, not ~20
SECONDS = float(os.environ.get("POCHTAR_CRASH_SECONDS", "15"))
CLIENTS = 4
KILL_EVERY = 0.2

work, spool = pochtar.new_work_dir("pochtar-crash-")
key, verify_dns = signlib.new_published_key(work, "mail")
dns, sink = start_mx_with_sink("example.org", "203.0.113.25", Recorder())
port = pochtar.free_port()
config = pochtar.write_chain_config(work, spool.root, port, key, receive="""
origin_domain = example.com
command_timeout = 10s
""", deliver="""
mode = mx
helo_name = mail.example.com
retry_min = 1s
retry_max = 2s
connect_timeout = 2s
command_timeout = 5s
""")

STAGES = ("receive", "sign", "deliver")
lock = threading.Lock()
procs = {}
dead = []          # every Daemon ever started, stopped: output kept for the report
kills = {s: 0 for s in STAGES}


def start(stage):
    procs[stage] = pochtar.Daemon([BIN[stage], "--config", config])


def kill(stage, sig=signal.SIGKILL):
    d = procs.pop(stage)
    d.stop(sig)
    dead.append((stage, d))


def killer(stop):
    rng = random.Random()
    order = []
    while not stop.is_set():
        time.sleep(rng.uniform(KILL_EVERY / 2, KILL_EVERY * 1.5))
        # random order, but every stage gets its share of kills
        if not order:
            order = list(STAGES) * 2
            rng.shuffle(order)
        stage = order.pop()
        with lock:
            kill(stage)
            kills[stage] += 1
            start(stage)


acked = set()
attempts = [0]


def message(n):
    return ("From: app@example.com\r\nTo: user%d@example.org\r\nSubject: crash %d\r\n"
            "X-Crash-Seq: %d\r\n\r\nmessage %d\r\n" % (n, n, n, n) + "line\r\n" * 40)


def client(numbers):
    conn = None
    begin = time.monotonic()
    for i, n in enumerate(numbers):
        ahead = begin + SECONDS * i / len(numbers) - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        while True:
            try:
                if conn is None:
                    conn = smtplib.SMTP("127.0.0.1", port, timeout=15)
                attempts[0] += 1
                conn.sendmail("app@example.com", ["user%d@example.org" % n], message(n))
                with lock:
                    acked.add(n)
                break
            except (OSError, smtplib.SMTPException):
                # no 250: the receiver died or refused; send it again
                try:
                    if conn:
                        conn.close()
                except OSError:
                    pass
                conn = None
                time.sleep(0.05)
    if conn:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            pass


SEQ = re.compile(rb"\r\nX-Crash-Seq: (\d+)\r\n")
QID = re.compile(rb"with E?SMTP id ([0-9A-Z]{16})")


def settled():
    if any(spool.ids(q) for q in ("incoming", "signed")):
        return False
    if os.listdir(spool.path("deliver", "queue", "new")):
        return False
    return acked <= sink.handler.numbers(SEQ)


check = pochtar.Checks()


t0 = time.monotonic()
try:
    for s in STAGES:
        start(s)
    pochtar.wait_until_smtp_answers(port)
    stop = threading.Event()
    k = threading.Thread(target=killer, args=(stop,))
    k.start()
    numbers = list(range(MESSAGES))
    clients = [threading.Thread(target=client, args=(numbers[i::CLIENTS],)) for i in range(CLIENTS)]
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    t_sent = time.monotonic() - t0

    # keep killing while the chain drains, so sign and deliver are killed
    # with work in hand too
    def at_sink():
        return acked <= sink.handler.numbers(SEQ)
    pochtar.wait_for(at_sink, timeout=120, interval=0.2, what="every acknowledged message at the sink")
    stop.set()
    k.join()
    print("sent %d messages in %.1fs (%d SMTP attempts) while killing %s" %
          (MESSAGES, t_sent, attempts[0], kills))
    check(acked == set(range(MESSAGES)), "every message got a 250 in the end")

    pochtar.wait_for(settled, timeout=120, interval=0.2,
                     what="every acknowledged message at the sink and the queues empty")
    t_settled = time.monotonic() - t0

    # one clean restart of each stage: each removes its own tmp/ leftovers
    for s in STAGES:
        kill(s, signal.SIGTERM)
    for s in STAGES:
        start(s)
    pochtar.wait_until_smtp_answers(port, what="receive to listen after the clean restart")
    time.sleep(1)
    for s in STAGES:
        kill(s, signal.SIGTERM)

    msgs = sink.handler.contents()
    by_seq, by_qid = {}, {}
    for m in msgs:
        seq = int(SEQ.search(m).group(1))
        by_seq.setdefault(seq, set())
        q = QID.search(m)
        qid = q.group(1) if q else None
        by_seq[seq].add(qid)
        by_qid[qid] = by_qid.get(qid, 0) + 1
    check(None not in by_qid, "every delivered message carries its queue ID in Received:")
    missing = acked - set(by_seq)
    check(not missing, "every acknowledged message reached the sink (missing: %s)" % sorted(missing)[:20])
    qid_dups = sum(c - 1 for c in by_qid.values())
    seq_dups = sum(len(q) - 1 for q in by_seq.values())
    print("sink got %d messages: %d distinct client messages, %d distinct queue IDs; "
          "duplicates: %d by queue ID (deliver's window / sign re-hand-over), "
          "%d by client retry after a durable message lost its 250" %
          (len(msgs), len(by_seq), len(by_qid), qid_dups, seq_dups))
    # where each queue-ID duplicate came from: a message sign signed twice
    # (killed between publishing and removing its input, and deliver had
    # already finished the first copy) or else deliver's own window
    sign_log = "".join(d.output() for st, d in dead if st == "sign")
    dup_ids = [q.decode() for q, c in by_qid.items() if q and c > 1]
    from_sign = sum(1 for q in dup_ids if sign_log.count(q + ": signed") > 1)
    print("queue-ID duplicates: %d after sign signed the message twice, %d in deliver's window" %
          (from_sign, qid_dups - from_sign))
    # each killed deliver can repeat at most the transactions it had in flight
    check(qid_dups <= kills["deliver"] * 20, "queue-ID duplicates bounded by deliver kills x max_per_destination")
    # a client duplicate needs a receive killed between durability and the 250
    check(seq_dups <= kills["receive"] * CLIENTS, "client duplicates bounded by receive kills x clients")

    sample = random.Random(1).sample(msgs, min(50, len(msgs)))
    check(all(signlib.verifies(m, 0, verify_dns) for m in sample), "DKIM verifies on 50 delivered messages")

    # every tmp/ and new/ in the tree: incoming, signed, quarantine,
    # deliver/queue, deliver/state
    for path, files in spool.settle().items():
        check(not files, "%s is empty but for spares: %s" % (path, files[:5]))
    for q in ("incoming", "signed"):
        check(len(spool.spares(q)) <= 256, "%s/tmp holds at most 256 spares" % q)
    print("RESULT messages=%d kills=%d (receive %d, sign %d, deliver %d) attempts=%d "
          "sink=%d dup_qid=%d (sign %d) dup_client=%d sent_s=%.1f settled_s=%.1f" %
          (MESSAGES, sum(kills.values()), kills["receive"], kills["sign"], kills["deliver"], attempts[0],
           len(msgs), qid_dups, from_sign, seq_dups, t_sent, t_settled))
finally:
    for s in list(procs):
        kill(s, signal.SIGTERM)
    out = "".join(d.output() for _, d in dead)
    errors = [l for l in out.splitlines() if "quarantin" in l.lower() or "assert" in l.lower()]
    print("\n".join(errors[:20]))
    dns.stop()
    sink.stop()
    pochtar.remove_work_dir(work)
check.exit("crash consistency ok")
