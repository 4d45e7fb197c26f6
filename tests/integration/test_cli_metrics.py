#!/usr/bin/python3
"""pochtar metrics: counters and the delay histogram from real journal
files (written by systemd-journal-remote from the export format, as the
stages' entries would look), queue gauges from a real spool; the output is
parsed by prometheus_client's own parsers, for both formats."""
import os
import shutil
import subprocess
import tempfile
import time

from pochtar import Spool, binary, new_queue_id, skip, write_spool_config

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "cli-metrics", "suites": ["cli"], "timeout": 60}

POCHTAR = binary("pochtar")
REMOTE = "/lib/systemd/systemd-journal-remote"
if not os.access(REMOTE, os.X_OK):
    skip("systemd-journal-remote not installed")
try:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
    from prometheus_client.parser import text_string_to_metric_families as parse_prom
except ImportError:
    skip("python3-prometheus-client not installed")

# shared/log-ids.h
RECEIVED = "8d92ca30e3124f30ac033b8098113054"
SIGNED = "1b64f106e813404498bb0ffeffde5c28"
QUARANTINED = "7a95f3e6ae414ee68a0cb3981b6024d2"

work = tempfile.mkdtemp(prefix="pochtar-metrics-")
t0 = int((time.time() - 86400) * 1e6)
entries = []


def entry(at, **fields):
    entries.append((at, fields))


ids = [new_queue_id(t0 + i) for i in range(4)]
for i, qid in enumerate(ids[:3]):
    entry(t0 + 1000 + i, MESSAGE_ID=RECEIVED, POCHTAR_QUEUE_ID=qid, POCHTAR_STAGE="receive")
for qid in ids[:2]:
    entry(t0 + 2000, MESSAGE_ID=SIGNED, POCHTAR_QUEUE_ID=qid, POCHTAR_STATUS="signed")
entry(t0 + 3000, MESSAGE_ID=QUARANTINED, POCHTAR_QUEUE_ID=ids[2], POCHTAR_STATUS="quarantined")
# deliveries, one per recipient: delays 0.5 s, 40 s and 2 h
entry(t0 + 500000, POCHTAR_QUEUE_ID=ids[0], POCHTAR_RCPT="a@example.org", POCHTAR_STATUS="sent")
entry(t0 + 40000000, POCHTAR_QUEUE_ID=ids[0], POCHTAR_RCPT="b@example.org", POCHTAR_STATUS="sent")
entry(t0 + 7200000000, POCHTAR_QUEUE_ID=ids[1], POCHTAR_RCPT="c@example.org", POCHTAR_STATUS="sent")
entry(t0 + 600000000, POCHTAR_QUEUE_ID=ids[1], POCHTAR_RCPT="c@example.org", POCHTAR_STATUS="deferred")
entry(t0 + 900000000, POCHTAR_QUEUE_ID=ids[1], POCHTAR_RCPT="c@example.org", POCHTAR_STATUS="deferred")
entry(t0 + 900000000, POCHTAR_QUEUE_ID=ids[3], POCHTAR_RCPT="d@example.org", POCHTAR_STATUS="bounced")
# not per-recipient results, not ours: not counted
entry(t0 + 5000, POCHTAR_QUEUE_ID=ids[3], POCHTAR_STATUS="sent")
entry(t0 + 5000, MESSAGE="unrelated", SYSLOG_IDENTIFIER="cron")

export = []
for n, (at, fields) in enumerate(entries):
    lines = ["__REALTIME_TIMESTAMP=%d" % at, "__MONOTONIC_TIMESTAMP=%d" % (n + 1),
             "_BOOT_ID=0123456789abcdef0123456789abcdef", "_HOSTNAME=test",
             "MESSAGE=%s" % fields.get("MESSAGE", "entry %d" % n)]
    lines += ["%s=%s" % kv for kv in fields.items() if kv[0] != "MESSAGE"]
    export.append("\n".join(lines) + "\n")
jdir = os.path.join(work, "journal")
os.mkdir(jdir)
subprocess.run([REMOTE, "-o", os.path.join(jdir, "test.journal"), "-"], input="\n".join(export) + "\n",
               text=True, check=True, capture_output=True)

spool = Spool(os.path.join(work, "spool"))
spool.inject("incoming", "x@example.com", ["y@example.org"], b"x\r\n")
spool.inject("signed", "x@example.com", ["y@example.org"], b"x\r\n",
             qid=new_queue_id(int((time.time() - 600) * 1e6)))
spool.inject("signed", "x@example.com", ["y@example.org"], b"x\r\n")
conf = write_spool_config(work, spool.root)


def metrics(*args):
    p = subprocess.run([POCHTAR, "metrics", "--directory", jdir, "--config", conf] + list(args),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    return p.stdout


def samples(families):
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


for fmt, parse in (("prometheus", parse_prom), ("openmetrics", parse_om)):
    out = metrics(*(["--openmetrics"] if fmt == "openmetrics" else []))
    fams = list(parse(out))
    types = {f.name: f.type for f in fams}
    s = samples(fams)
    print(fmt, s)
    want = {"pochtar_received_total": 3, "pochtar_signed_total": 2, "pochtar_quarantined_total": 1,
            "pochtar_sent_total": 3, "pochtar_deferred_total": 2, "pochtar_bounced_total": 1}
    for name, v in want.items():
        assert s[(name, ())] == v, (fmt, name, s.get((name, ())))
    assert types["pochtar_delivery_delay_seconds"] == "histogram"
    assert types["pochtar_queue_messages"] == "gauge"
    assert types.get("pochtar_sent", types.get("pochtar_sent_total")) == "counter", types
    b = {dict(k[1])["le"]: v for k, v in s.items() if k[0] == "pochtar_delivery_delay_seconds_bucket"}
    le = lambda x: b.get(x, b.get(x.replace(".0", "")))  # noqa: E731  (parsers differ on "1.0")
    assert le("1.0") == 1 and le("30.0") == 1 and le("60.0") == 2 and le("3600.0") == 2, b
    assert le("14400.0") == 3 and le("+Inf") == 3, b
    assert s[("pochtar_delivery_delay_seconds_count", ())] == 3
    assert abs(s[("pochtar_delivery_delay_seconds_sum", ())] - 7240.5) < 0.01
    q = {dict(k[1])["queue"]: v for k, v in s.items() if k[0] == "pochtar_queue_messages"}
    assert q == {"incoming": 1, "signed": 2, "deliver": 0, "hold": 0, "quarantine": 0}, q
    age = {dict(k[1])["queue"]: v for k, v in s.items() if k[0] == "pochtar_queue_oldest_seconds"}
    assert 590 <= age["signed"] <= 700 and age["deliver"] == 0, age
    assert out.endswith("# EOF\n") == (fmt == "openmetrics")

# a journal that cannot be read gives no counters (not zeros) and exit 1
p = subprocess.run([POCHTAR, "metrics", "--directory", os.path.join(work, "none"), "--config", conf],
                   capture_output=True, text=True)
assert p.returncode == 1 and "pochtar_received" not in p.stdout, p.stdout
assert 'pochtar_queue_messages{queue="signed"} 2' in p.stdout and "journal" in p.stderr
shutil.rmtree(work)
print("metrics behaved")
