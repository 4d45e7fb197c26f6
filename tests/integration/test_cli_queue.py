#!/usr/bin/python3
"""pochtar queue / hold / release / delete / flush on a real spool with a
message in every state, files written the way the stages write them
(tests/lib/pochtar.py, independent of the C code)."""
import json
import os
import subprocess
import time

from pochtar import Spool, binary, format_queue_file, new_queue_id, write_spool_config

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "cli-queue-ops", "suites": ["cli"], "timeout": 60}

POCHTAR = binary("pochtar")

spool = Spool()
for q in ("deliver/queue", "deliver/state", "hold/signed"):
    for sub in ("tmp", "new"):
        os.makedirs(spool.path(q, sub), exist_ok=True)
conf = write_spool_config(spool.root, spool.root)


def pochtar(*args, expect=0):
    p = subprocess.run([POCHTAR] + list(args) + ["--config", conf], capture_output=True, text=True,
                       timeout=20)
    assert p.returncode == expect, (args, p.returncode, p.stdout, p.stderr)
    return p


def listing():
    return {m["id"]: m for m in json.loads(pochtar("queue", "--json").stdout)["messages"]}


BODY = b"From: a@example.com\r\nSubject: test\r\n\r\nhello\r\n"
incoming = spool.inject("incoming", "info@example.com", ["bob@example.org", "carol@example.net"], BODY)
signed = spool.inject("signed", "info@example.com", ["dave@example.org"], BODY * 10)
dsn = spool.inject("signed", "", ["info@example.com"], BODY, kind="dsn")
deferred = spool.inject("deliver/queue", "info@example.com",
                        ["erin@example.org", "ivan@example.net", "judy@example.com"], BODY)
NEXT = 1795835000000000
with open(spool.path("deliver/state", "new", deferred), "w") as f:
    # docs/spool-format.md, "State file format (version 1)"
    f.write("pochtar-deliver-state 1\nattempts 2\nnext %d\nwarned yes\n"
            "rcpt 0 sent 2.0.0 250+202.0.0+20Ok:+20queued\n"
            "rcpt 2 deferred 4.2.0 451+204.2.0+20greylisted+0A\n" % NEXT)
fresh = spool.inject("deliver/queue", "info@example.com", ["kim@example.org"], BODY)
damaged = spool.inject("deliver/queue", "info@example.com", ["lee@example.org"], BODY)
with open(spool.path("deliver/state", "new", damaged), "w") as f:
    f.write("pochtar-deliver-state 1\nattempts 1\nrcpt 5 sent 2.0.0 -\n")     # index past the envelope
quarantined = spool.inject("quarantine", "info@example.com", ["frank@example.org"], BODY)
with open(spool.path("quarantine", "new", quarantined + ".reason"), "w") as f:
    f.write("sign: no key for example.com\x1b[31m\n")        # censored on output
held = spool.inject("hold/signed", "info@example.com", ["gina@example.org"], BODY)
broken = new_queue_id()
with open(spool.path("incoming", "new", broken), "wb") as f:
    f.write(b"pochtar-queue 1\nid " + broken.encode() + b"\nbogus line\n\n" + BODY)
future = new_queue_id()
with open(spool.path("signed", "new", future), "wb") as f:
    f.write(b"pochtar-queue 9\nid " + future.encode() + b"\n\n" + BODY)
wrong_name = new_queue_id()
with open(spool.path("signed", "new", wrong_name), "wb") as f:
    f.write(format_queue_file(incoming, "info@example.com", ["x@example.org"], BODY))
# not queue IDs: never listed or touched
with open(spool.path("incoming", "new", "README"), "w") as f:
    f.write("not a message")
with open(spool.path("incoming", "tmp", new_queue_id() + ".receive"), "w") as f:
    f.write("being written")

# ---- queue --json: every message, where it is, parsed from its envelope
msgs = listing()
expected = {incoming: "incoming", signed: "signed", dsn: "signed", deferred: "deliver",
            fresh: "deliver", damaged: "deliver",
            quarantined: "quarantine", held: "hold", broken: "incoming", future: "signed",
            wrong_name: "signed"}
assert {k: m["queue"] for k, m in msgs.items()} == expected, msgs
m = msgs[incoming]
env, _ = spool.read("incoming", incoming)
assert m["sender"] == "info@example.com"
assert [r["address"] for r in m["recipients"]] == ["bob@example.org", "carol@example.net"]
assert m["size"] == os.path.getsize(spool.path("incoming", "new", incoming))
assert m["arrival_usec"] == int(env["arrival"]), (m, env)
assert m["error"] is None and m["held_from"] is None
assert msgs[signed]["size"] == os.path.getsize(spool.path("signed", "new", signed))
assert msgs[dsn]["sender"] == "" and msgs[dsn]["notification"] is True
d = msgs[deferred]
assert d["attempted"] is True and d["attempts"] == 2 and d["state_error"] is None, d
assert d["next_retry"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NEXT // 10**6)), d
assert [(r["status"], r["code"], r["diagnostic"]) for r in d["recipients"]] == [
    ("sent", "2.0.0", "250 2.0.0 Ok: queued"), ("pending", None, None),
    ("deferred", "4.2.0", "451 4.2.0 greylisted?")], d      # the newline censored
assert msgs[fresh]["attempted"] is False and msgs[fresh]["recipients"][0]["status"] == "pending"
assert msgs[damaged]["state_error"] == "malformed", msgs[damaged]
assert msgs[incoming]["recipients"][0]["status"] is None
assert msgs[quarantined]["reason"] == "sign: no key for example.com?[31m", msgs[quarantined]
assert msgs[held]["held_from"] == "signed"
assert msgs[broken]["error"] == "malformed envelope (line 3)", msgs[broken]
assert msgs[broken]["sender"] is None and msgs[broken]["recipients"] == []
assert msgs[future]["error"] == "unknown envelope version"
assert msgs[wrong_name]["error"].startswith("malformed envelope"), msgs[wrong_name]
# oldest first within a queue (queue IDs are time-ordered)
order = [k for k, m in msgs.items() if m["queue"] == "signed"]
assert order == sorted(order)

# ---- the text listing carries the same facts
text = pochtar("queue").stdout
for qid in expected:
    assert qid in text, qid
assert "<bob@example.org>" in text and "reason: sign: no key for example.com?[31m" in text
assert "hold(signed)" in text and "malformed envelope (line 3)" in text
assert "<erin@example.org>  sent 2.0.0: 250 2.0.0 Ok: queued" in text
assert "<judy@example.com>  deferred 4.2.0: 451 4.2.0 greylisted?" in text
assert "2 attempts, next %s, delay warning sent" % time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(NEXT // 10**6)) in text
assert "not yet attempted" in text and "deliver state damaged: malformed" in text
assert "\x1b" not in text
assert text.strip().endswith("in 11 messages"), text

# ---- hold and release: back where it came from, byte for byte
before = open(spool.path("incoming", "new", incoming), "rb").read()
pochtar("hold", incoming, signed)
assert not os.path.exists(spool.path("incoming", "new", incoming))
assert os.path.exists(spool.path("hold/incoming", "new", incoming))
assert os.path.exists(spool.path("hold/signed", "new", signed))
msgs = listing()
assert msgs[incoming]["queue"] == "hold" and msgs[incoming]["held_from"] == "incoming"
assert msgs[signed]["held_from"] == "signed"
pochtar("release", incoming, signed, held)
assert open(spool.path("incoming", "new", incoming), "rb").read() == before
assert os.path.exists(spool.path("signed", "new", signed))
assert os.path.exists(spool.path("signed", "new", held))
assert os.listdir(spool.path("hold/incoming", "new")) == [] and os.listdir(spool.path("hold/signed", "new")) == []

# hold refuses what it cannot safely move; release what is not held
p = pochtar("hold", quarantined, expect=1)
assert "quarantine" in p.stderr
p = pochtar("hold", deferred, expect=1)
assert "pochtar-deliver" in p.stderr
assert os.path.exists(spool.path("deliver/queue", "new", deferred))
p = pochtar("release", incoming, expect=1)
assert "not held" in p.stderr
pochtar("hold", "not-an-id", expect=64)

# ---- delete: every copy and its side files
pochtar("delete", quarantined, deferred, broken)
assert not os.path.exists(spool.path("quarantine", "new", quarantined))
assert not os.path.exists(spool.path("quarantine", "new", quarantined + ".reason"))
assert not os.path.exists(spool.path("deliver/queue", "new", deferred))
assert not os.path.exists(spool.path("deliver/state", "new", deferred))
assert not os.path.exists(spool.path("incoming", "new", broken))
p = pochtar("delete", quarantined, expect=1)
assert "no such message" in p.stderr
assert os.path.exists(spool.path("incoming", "new", "README"))
assert len(spool.tmp_files("incoming")) == 1
msgs = listing()
assert set(msgs) == {incoming, signed, dsn, held, future, wrong_name, fresh, damaged}, msgs

# ---- flush: the control-file protocol deliver watches
flush_dir = os.path.join(spool.root, "control", "flush")
p = pochtar("flush", expect=74)      # no control/flush/ before deliver made it
assert "control/flush" in p.stderr
os.makedirs(flush_dir)
pochtar("flush")
pochtar("flush", signed)
assert sorted(os.listdir(flush_dir)) == sorted(["all", signed])
assert os.path.getsize(os.path.join(flush_dir, "all")) == 0
pochtar("flush", "../../etc/passwd", expect=64)
pochtar("flush", signed, dsn, expect=64)

# ---- an empty spool, and --help for every subcommand
for qid in list(msgs):
    pochtar("delete", qid)
assert "Mail queue is empty" in pochtar("queue").stdout
assert json.loads(pochtar("queue", "--json").stdout) == {"messages": []}
for cmd in ("queue", "delete", "hold", "release", "flush"):
    p = subprocess.run([POCHTAR, cmd, "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("Usage: pochtar " + cmd), (cmd, p.stdout)

spool.cleanup()
print("queue, hold, release, delete and flush behaved")
