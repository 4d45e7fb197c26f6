#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""pochtar under the real systemd: install, run, restart, sandbox.

Boots a Debian 12 container (container.py, boot.sh) whose network
namespace also holds dnsmasq (the DNS of example.com and other.org, on
127.0.0.53 as systemd-resolved's stub would be) and an SMTP sink on
203.0.113.25, the MX of other.org. pochtar is installed the
way docs/install.md says: meson install, systemd-sysusers,
systemd-tmpfiles --create, pochtar dkim keygen, pochtar.conf, then
systemctl enable --now pochtar.target. Output is TAP, one line per step
of issue 5's list; steps that need the stage binaries are skipped, and
say so, when the build has none. Then issue 14's submission as
docs/install.md section 7 sets it up (a certificate linked in as certbot
lays it out, `pochtar user add`, the two sockets enabled), used by swaks
and Python from the container's network namespace as an app server would.

Environment: POCHTAR_BUILD_DIR (the meson build to install). Run as root;
exits 77 when the host lacks what it needs.
"""
import base64
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import traceback

import container
import rootfs
import sink
from pochtar import new_queue_id

PROBE = os.path.join(os.path.dirname(os.path.abspath(sink.__file__)), "submit_probe.py")

SPOOL = "/var/spool/pochtar"
MX_ADDR = "203.0.113.25"
STAGES = ("pochtar-receive", "pochtar-sign", "pochtar-deliver")
SERVICES = [s + ".service" for s in STAGES]
SUBMISSION = "pochtar-submission.service"
SUBMISSION_SOCKETS = ["pochtar-submission.socket", "pochtar-submissions.socket"]
SCORE_MAX = 1.5
# The container's own name (boot.sh), as the app servers reach it; the
# certificate is for it. The sink's messages come from example.com.
MAIL_HOST, MAIL_ADDR = "mail.example.com", "127.0.1.1"
APP_PASSWORD = "correct horse battery staple"
TEST_WATCHDOG = 3

CONFIG = """\
[receive]
hostname = mail.example.com
origin_domain = example.com
idle_exit = 3s

[sign]
domain = example.com
selector = mail
key = {key}

[deliver]
mode = mx
helo_name = mail.example.com
retry_min = 2s
retry_max = 10s
"""

# The article's snippet (seed/self-postman-article.md), unchanged but for
# the addresses: example.com signs, other.org's MX is the sink.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration",
                       "article_snippet.py")) as _f:
    SNIPPET = _f.read().replace("'from@some.com', 'to@other.org'", "'info@example.com', 'bob@other.org'")
assert "'info@example.com', 'bob@other.org'" in SNIPPET

# Many messages over a few connections, each with a unique Subject.
BULK = '''\
import smtplib, sys
tag, n, conns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per = (n + conns - 1) // conns
i = 0
while i < n:
    c = smtplib.SMTP('127.0.0.1', 25)
    for _ in range(per):
        if i >= n:
            break
        msg = ('From: info@example.com\\r\\nTo: bob@other.org\\r\\n'
               'Subject: %s-%d\\r\\n\\r\\nmessage %d of %d\\r\\n' % (tag, i, i, n))
        c.sendmail('info@example.com', ['bob@other.org'], msg)
        i += 1
    c.quit()
'''


# Run inside pochtar-deliver.service's cgroup, where the unit's IP filter
# applies to every socket made there: may it reach receive on loopback,
# and the DNS? The filter drops packets: a datagram to 127.0.0.1 fails at
# once with EPERM, a TCP SYN is dropped too, so the connect to the socket
# unit's listener (which the kernel answers at once) times out instead.
DELIVER_IP_PROBE = '''\
import socket
with open("/sys/fs/cgroup/system.slice/pochtar-deliver.service/cgroup.procs", "w") as f:
    f.write("0")
out = []
try:
    socket.create_connection(("127.0.0.1", 25), 2).close()
    out.append("tcp-receive:reached")
except OSError as e:
    out.append("tcp-receive:" + type(e).__name__)
query = bytes.fromhex("123401000001000000000000" "056f74686572036f726700" "000f0001")  # other.org MX
for name, addr in (("udp-127.0.0.1", "127.0.0.1"), ("dns-127.0.0.53", "127.0.0.53")):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    try:
        s.sendto(query, (addr, 53))
        s.recv(512)
        out.append(name + ":answered")
    except OSError as e:
        out.append(name + ":" + type(e).__name__)
print(" ".join(out))
'''


# A connection to 587 that reads the greeting, prints it and stays open.
FIRST_CONNECTION = '''\
import socket, sys
s = socket.create_connection((sys.argv[1], 587), 30)
print(s.makefile("rb").readline().decode().strip(), flush=True)
sys.stdin.readline()
'''


# An app server's session kept open across `systemctl reload`: logged in
# before it, sends after it when told to (a line on stdin).
HELD_SESSION = '''\
import smtplib, ssl, sys
ca, password, addr, subject = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False       # the chain is verified; the name is swaks's check
c = smtplib.SMTP(addr, 587, local_hostname="web1.example.com", timeout=30)
c.starttls(context=ctx)
c.login("app1", password)
print("ready", flush=True)
sys.stdin.readline()
c.sendmail("app@example.com", ["bob@other.org"], "From: app@example.com\\r\\nTo: bob@other.org\\r\\n"
           "Subject: %s\\r\\n\\r\\nsent across a reload\\r\\n" % subject)
c.quit()
print("sent", flush=True)
'''


# python3-dkim over every file of a directory; prints the failures.
VERIFY = '''\
import dkim, os, sys
d = sys.argv[1]
bad = [n for n in sorted(os.listdir(d)) if not dkim.verify(open(os.path.join(d, n), 'rb').read())]
print(' '.join(str(int(n)) for n in bad))
sys.exit(1 if bad else 0)
'''


class Skip(Exception):
    pass


class SystemTest:
    def __init__(self, c):
        self.c = c
        self.sink_dir = os.path.join(c.run_dir, "sink")
        self.dkim_txt = None
        self.chain_up = False
        self.verify_runs = 0
        self.submission_up = False
        self.ca = None
        # Where this build put the configuration and the keys (a /usr/local
        # prefix puts them under /usr/local/etc): as the units say.
        self.conf = self.unit_setting("pochtar-sign.service", r"ExecStart=\S+ --config (\S+)")
        self.dkim_dir = self.unit_setting("pochtar-sign.service", r"LoadCredential=dkim:(\S+)")
        self.key = self.dkim_dir + "/mail.private"

    # --- helpers ----------------------------------------------------------

    def wait(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("timed out after %ds waiting for %s" % (timeout, what))
            time.sleep(0.1)

    def journal_tail(self, lines=25):
        """What pochtar's units logged last: printed under a failed step."""
        r = self.c.run(["journalctl", "--no-pager", "-n", str(lines), "-o", "short-monotonic",
                        "-u", "pochtar-*"], check=False)
        return r.stdout.strip()

    def unit_setting(self, unit, regex):
        with open(self.c.path("/lib/systemd/system/" + unit)) as f:
            return re.search("^" + regex, f.read(), re.M).group(1)

    def exec_paths(self):
        """The stage binaries the installed units start."""
        return {svc: self.unit_setting(svc, r"ExecStart=(\S+)") for svc in SERVICES}

    def stages_built(self):
        return all(os.access(self.c.path(p), os.X_OK) for p in self.exec_paths().values())

    def need_stages(self):
        if not self.stages_built():
            missing = [p for p in self.exec_paths().values() if not os.path.exists(self.c.path(p))]
            raise Skip("stage binaries not in this build: " + " ".join(missing))

    def need_chain(self):
        self.need_stages()
        if not self.chain_up:
            raise Skip("the chain did not start (step 1)")

    def as_user(self, user, script, check=None):
        r = self.c.run(["setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups",
                        "sh", "-c", "umask 027; cd %s; %s" % (SPOOL, script)], check=False)
        if check is not None and (r.returncode == 0) != check:
            raise AssertionError("as %s: `%s` %s (exit %d) %s" % (
                user, script, "failed" if check else "was allowed", r.returncode, r.stderr.strip()))
        return r

    def in_service(self, svc, user, script):
        """script as the service's user inside the service's own mount and
        network namespaces: what the running stage itself can reach."""
        pid = self.main_pid(svc)
        return self.c.run(["nsenter", "-t", str(pid), "-m", "-n", "--",
                           "setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups",
                           "sh", "-c", script], check=False)

    def main_pid(self, svc):
        pid = int(self.c.systemctl("show", "-P", "MainPID", svc).stdout.strip() or 0)
        if pid <= 0:
            raise AssertionError(svc + " has no main process")
        return pid

    def sink_files(self):
        try:
            return sorted(n for n in os.listdir(self.sink_dir) if n.endswith(".eml"))
        except FileNotFoundError:
            return []

    def sink_messages(self):
        out = []
        for n in self.sink_files():
            with open(os.path.join(self.sink_dir, n), "rb") as f:
                out.append(f.read())
        return out

    def subjects(self, tag):
        subs = []
        for m in self.sink_messages():
            s = re.search(rb"^Subject: (%s-\d+)\r?$" % re.escape(tag.encode()), m, re.M)
            if s:
                subs.append(s.group(1).decode())
        return subs

    def dkim_failures(self, messages):
        """Indexes of the messages python3-dkim does not verify, checked
        inside the container: the key comes from the DNS (dnsmasq), as a
        receiving MX would fetch it."""
        self.verify_runs += 1
        d = "/tmp/dkim-verify-%d" % self.verify_runs
        os.makedirs(self.c.path(d))
        for i, m in enumerate(messages):
            with open(self.c.path("%s/%06d" % (d, i)), "wb") as f:
                f.write(m)
        r = self.c.run(["/usr/bin/python3", "-c", VERIFY, d], check=False)
        assert r.returncode in (0, 1), "the verifier failed: " + r.stderr
        return [int(n) for n in r.stdout.split()]

    def send_bulk(self, tag, n, conns=1, background=False):
        argv = ["/usr/bin/python3", "-c", BULK, tag, str(n), str(conns)]
        if background:
            return subprocess.Popen(self.c.nsenter() + argv, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT)
        self.c.run(argv, timeout=120)

    def queue_ids(self, stage):
        r = self.c.run(["journalctl", "-o", "json", "--no-pager", "POCHTAR_STAGE=" + stage],
                       check=False)
        ids = []
        for line in r.stdout.splitlines():
            qid = json.loads(line).get("POCHTAR_QUEUE_ID")
            if qid and qid not in ids:
                ids.append(qid)
        return ids

    # --- installation (docs/install.md) -----------------------------------

    def install(self):
        """docs/install.md inside the container; meson install already ran
        in boot.sh."""
        c = self.c
        # Not an install step: a shorter watchdog than the units' 30 s, so
        # a stage that does not feed it is killed within this test's
        # minute rather than after it (step 8 then sees the restart).
        for svc in SERVICES:
            os.makedirs(c.path("/etc/systemd/system/%s.d" % svc), exist_ok=True)
            with open(c.path("/etc/systemd/system/%s.d/test-watchdog.conf" % svc), "w") as f:
                f.write("[Service]\nWatchdogSec=%ds\n" % TEST_WATCHDOG)
        c.run(["systemctl", "daemon-reload"])
        c.run(["systemd-sysusers"])
        c.run(["systemd-tmpfiles", "--create"])
        if self.stages_built():
            c.run(["pochtar", "dkim", "keygen", "--domain", "example.com",
                   "--selector", "mail", "--directory", self.dkim_dir])
            c.run(["test", "-s", self.key])
            with open(c.path(self.conf), "w") as f:
                f.write(CONFIG.format(key=self.key))
            self.dkim_txt = dkim_record(c.path(self.key))

    def start_network(self):
        """dnsmasq and the sink, in the container's network namespace."""
        c = self.c
        c.host_in_netns(["ip", "addr", "add", MX_ADDR + "/32", "dev", "lo"], check=True)
        conf = os.path.join(c.run_dir, "dnsmasq.conf")
        lines = ["no-resolv", "no-hosts", "listen-address=127.0.0.53", "bind-interfaces",
                 "user=root", "mx-host=other.org,mx.other.org,10",
                 "host-record=mx.other.org,%s" % MX_ADDR,
                 "host-record=mail.example.com,127.0.1.1"]
        if self.dkim_txt:
            chunks = [self.dkim_txt[i:i + 250] for i in range(0, len(self.dkim_txt), 250)]
            lines.append("txt-record=mail._domainkey.example.com," +
                         ",".join('"%s"' % ch for ch in chunks))
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        c.host_helper(["dnsmasq", "--keep-in-foreground", "--log-facility=-",
                       "--conf-file=" + conf, "--pid-file="], "dnsmasq.log")
        # The MX offers STARTTLS (self-signed, as most MX hosts are to a
        # "may" client): deliver's GnuTLS runs under the real sandbox.
        cert, key = os.path.join(c.run_dir, "mx.pem"), os.path.join(c.run_dir, "mx.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=mx.other.org", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        c.host_helper(["/usr/bin/python3", os.path.abspath(sink.__file__),
                       MX_ADDR, "25", self.sink_dir, cert, key], "sink.log")
        probe = "import socket; socket.create_connection(('%s', 25), 1).close()" % MX_ADDR
        self.wait(lambda: c.host_in_netns(["/usr/bin/python3", "-c", probe],
                                          capture_output=True).returncode == 0,
                  10, "the sink to listen")

    # --- the steps --------------------------------------------------------

    def step_units_score(self):
        """every service rated <= 1.5 by systemd-analyze security (in the container)"""
        scores = {}
        for svc in SERVICES + [SUBMISSION]:
            r = self.c.run(["systemd-analyze", "security", "--no-pager", svc])
            m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
            scores[svc] = float(m.group(1))
        print("# scores: " + ", ".join("%s %.1f" % kv for kv in scores.items()))
        bad = {k: v for k, v in scores.items() if v > SCORE_MAX}
        assert not bad, "rated above %.1f: %s" % (SCORE_MAX, bad)

    def step_units_verify(self):
        """systemd-analyze verify of the installed units"""
        self.need_stages()
        units = ["/lib/systemd/system/" + u for u in
                 SERVICES + [SUBMISSION, "pochtar-receive.socket", "pochtar.target"] + SUBMISSION_SOCKETS]
        r = self.c.run(["systemd-analyze", "verify", "--man=no"] + units, check=False)
        out = (r.stdout + r.stderr).strip()
        assert r.returncode == 0 and not out, out

    def step_spool_permissions(self):
        """spool: each stage user can write only what it must"""
        rx, sg, dl = STAGES
        ok, no = True, False
        probe = "0PROBE0000000000"
        checks = [
            (rx, "echo m > incoming/tmp/%s.receive && mv incoming/tmp/%s.receive incoming/new/%s"
             % (probe, probe, probe), ok),
            (rx, "stat -c '%%a %%G' incoming/new/%s | grep -qx '640 pochtar-incoming'" % probe, ok),
            (rx, ": > signed/tmp/x", no), (rx, ": > signed/new/x", no),
            (rx, ": > quarantine/new/x", no), (rx, "ls deliver", no), (rx, ": > capture/x", no),
            (dl, "echo b > incoming/tmp/B%s.deliver && mv incoming/tmp/B%s.deliver incoming/new/B%s"
             % (probe[1:], probe[1:], probe[1:]), ok),
            # sticky: a writer cannot remove another writer's file
            (dl, "rm -f incoming/new/%s" % probe, no),
            (rx, "rm -f incoming/new/B%s" % probe[1:], no),
            (sg, "cat incoming/new/%s" % probe, ok),
            (sg, "echo s > signed/tmp/%s.sign && mv signed/tmp/%s.sign signed/new/%s"
             % (probe, probe, probe), ok),
            (sg, "rm incoming/new/%s incoming/new/B%s" % (probe, probe[1:]), ok),
            (sg, ": > quarantine/tmp/q.sign", ok),
            (sg, "ls deliver", no), (sg, ": > capture/x", no),
            (sg, "cat %s/probe.private" % self.dkim_dir, no),
            (dl, "mv signed/new/%s deliver/%s && cat deliver/%s" % (probe, probe, probe), ok),
            (dl, ": > quarantine/tmp/q.deliver && : > capture/x", ok),
            (rx, "cat deliver/%s" % probe, no),
        ]
        self.c.sh("umask 077; echo secret > %s/probe.private" % self.dkim_dir)
        try:
            for user, script, expect in checks:
                self.as_user(user, script, check=expect)
        finally:
            self.c.sh("rm -f %s/probe.private %s/deliver/%s %s/quarantine/tmp/q.* %s/capture/x"
                      % (self.dkim_dir, SPOOL, probe, SPOOL, SPOOL))

    def step_enable(self):
        """1. systemctl enable --now pochtar.target: all active, none failed"""
        self.need_stages()
        c = self.c
        c.systemctl("enable", "--now", "pochtar.target")
        units = ["pochtar.target", "pochtar-receive.socket", "pochtar-sign.service",
                 "pochtar-deliver.service"]

        def all_active():
            return c.systemctl("is-active", *units, check=False).returncode == 0
        try:
            self.wait(all_active, 20, "pochtar's units to be active")
            # Still up a moment later, and never restarted: a stage in a
            # crash loop (or killed by its watchdog) passes is-active at times.
            time.sleep(2)
            assert all_active(), "a unit left the active state"
            for svc in ("pochtar-sign.service", "pochtar-deliver.service"):
                n = c.systemctl("show", "-P", "NRestarts", svc).stdout.strip()
                assert n == "0", "%s restarted %s times" % (svc, n)
        finally:
            failed = c.systemctl("list-units", "--failed", "--plain", "--no-legend",
                                 check=False).stdout.strip()
            if failed:
                print("# failed units:\n# " + failed.replace("\n", "\n# "))
                for svc in SERVICES:
                    print("# " + c.run(["journalctl", "--no-pager", "-n", "15", "-u", svc],
                                       check=False).stdout.replace("\n", "\n# "))
        assert not failed, "failed units: " + failed
        assert c.systemctl("is-enabled", "pochtar.target", check=False).stdout.strip() == "enabled"
        self.chain_up = True
        self.chain_started = time.monotonic()

    def step_snippet(self):
        """2. the article's smtplib snippet: one message over STARTTLS, DKIM verifies"""
        self.need_chain()
        self.c.run(["/usr/bin/python3", "-c", SNIPPET])
        self.wait(lambda: len(self.sink_files()) >= 1, 30, "the message at the sink")
        time.sleep(0.5)        # a second copy would arrive now
        msgs = self.sink_messages()
        assert len(msgs) == 1, "sink holds %d messages, expected 1" % len(msgs)
        assert b"Subject: Hello from Earth" in msgs[0]
        assert not self.dkim_failures(msgs), "python3-dkim does not verify the signature"
        with open(os.path.join(self.sink_dir, self.sink_files()[0][:-4] + ".env")) as f:
            assert f.read().split("\n")[2] == "tls", "delivered without STARTTLS"

    def step_journal(self):
        """3. journalctl POCHTAR_QUEUE_ID=<id> shows receive, sign, deliver, with their fields"""
        self.need_chain()
        ids = self.queue_ids("receive")
        assert len(ids) == 1, "receive logged queue IDs %s, expected one" % ids
        qid = ids[0]
        msgs = self.sink_messages()
        assert msgs, "no message at the sink (step 2)"
        msg = msgs[0]
        assert qid.encode() in msg, "queue ID %s not in the delivered message's Received:" % qid

        def units():
            r = self.c.run(["journalctl", "-o", "json", "--no-pager", "POCHTAR_QUEUE_ID=" + qid])
            return {json.loads(line).get("_SYSTEMD_UNIT") for line in r.stdout.splitlines()}
        seen = self.wait(lambda: (lambda u: u if set(SERVICES) <= u else None)(units()),
                         10, "log lines of all three stages")
        print("# %s logged by %s" % (qid, " ".join(sorted(u for u in seen if u))))

        # the structured fields of DESIGN.md "Logging", as journalctl -o json shows them
        r = self.c.run(["journalctl", "-o", "json", "--no-pager", "POCHTAR_QUEUE_ID=" + qid])
        entries = [json.loads(line) for line in r.stdout.splitlines()]
        stages = {e.get("POCHTAR_STAGE") for e in entries}
        assert {"receive", "sign", "deliver"} <= stages, stages
        ids = {e.get("MESSAGE_ID") for e in entries}
        for kind, mid in (("received", "8d92ca30e3124f30ac033b8098113054"),
                          ("signed", "1b64f106e813404498bb0ffeffde5c28"),
                          ("delivery", "4d44057da6d045298d571680738da668")):
            assert mid in ids, "no %s event (MESSAGE_ID=%s) for %s" % (kind, mid, qid)
        sent = [e for e in entries if e.get("POCHTAR_STATUS") == "sent"]
        assert len(sent) == 1, sent
        e = sent[0]
        assert e.get("_SYSTEMD_UNIT") == "pochtar-deliver.service", e
        assert e.get("POCHTAR_RCPT") and e.get("POCHTAR_DSN") == "2.0.0", e
        assert e.get("POCHTAR_RELAY", "").startswith("mx.") and ":25" in e["POCHTAR_RELAY"], e
        assert e.get("POCHTAR_TLS", "").startswith("TLS"), e
        assert "status=sent" in e.get("MESSAGE", "") and "to=<" in e.get("MESSAGE", ""), e
        # what an operator types to list what was sent (or is stuck)
        r = self.c.run(["journalctl", "-o", "json", "--no-pager", "-u", "pochtar-deliver",
                        "POCHTAR_STATUS=sent"])
        assert any(json.loads(line).get("POCHTAR_QUEUE_ID") == qid for line in r.stdout.splitlines())

    def step_sign_stopped(self):
        """4. sign stopped: 20 messages wait in incoming/, all arrive after start"""
        self.need_chain()
        c = self.c
        before = len(self.sink_files())
        c.systemctl("stop", "pochtar-sign.service")
        self.send_bulk("stopped-sign", 20)
        waiting = c.sh("ls %s/incoming/new | wc -l" % SPOOL).stdout.strip()
        assert waiting == "20", "incoming/new holds %s files, expected 20" % waiting
        time.sleep(1)
        assert len(self.sink_files()) == before, "mail got past a stopped signer"
        c.systemctl("start", "pochtar-sign.service")
        self.wait(lambda: len(set(self.subjects("stopped-sign"))) == 20, 60,
                  "the 20 messages at the sink")
        assert len(self.subjects("stopped-sign")) == 20, "duplicates delivered"
        bad = self.dkim_failures(self.sink_messages()[before:])
        assert not bad, "%d of 20 fail DKIM verification" % len(bad)

    def step_deliver_restart(self):
        """5. restart deliver while 200 messages flow: all arrive"""
        self.need_chain()
        sender = self.send_bulk("restart-deliver", 200, conns=4, background=True)
        try:
            self.wait(lambda: len(self.subjects("restart-deliver")) >= 20, 60,
                      "the first deliveries")
            old_pid = self.main_pid("pochtar-deliver.service")
            self.c.systemctl("restart", "pochtar-deliver.service")
            assert self.main_pid("pochtar-deliver.service") != old_pid, "deliver did not restart"
            in_flight = 200 - len(set(self.subjects("restart-deliver")))
            rc = sender.wait(timeout=120)
            assert rc == 0, "the client failed: " + sender.stdout.read().decode()
        finally:
            if sender.poll() is None:
                sender.kill()
                sender.wait()
        self.wait(lambda: len(set(self.subjects("restart-deliver"))) == 200, 120,
                  "all 200 messages at the sink")
        subs = self.subjects("restart-deliver")
        dups = len(subs) - len(set(subs))
        print("# 200 delivered across a deliver restart (%d still to go when it restarted), "
              "%d duplicates" % (in_flight, dups))
        # Only what was in flight at the restart may arrive twice.
        assert dups <= 20, "%d duplicates" % dups

    def step_idle_exit(self):
        """6. receive exits when idle; the socket starts it again"""
        self.need_chain()
        c = self.c

        def receive_state():
            return c.systemctl("is-active", "pochtar-receive.service", check=False).stdout.strip()
        self.wait(lambda: receive_state() == "inactive", 20, "receive to exit when idle")
        assert c.systemctl("is-active", "pochtar-receive.socket", check=False).stdout.strip() == "active"
        before = len(self.sink_files())
        self.send_bulk("after-idle", 1)
        assert receive_state() == "active", "receive not started by the socket"
        self.wait(lambda: len(self.sink_files()) == before + 1, 30, "the message at the sink")
        result = c.systemctl("show", "-P", "Result", "pochtar-receive.service").stdout.strip()
        assert result == "success", "receive's last exit: " + result

    def step_sandbox(self):
        """7. sandbox: sign has only lo and sees only its paths; receive cannot write signed/; deliver reaches no loopback but DNS"""
        self.need_chain()
        c = self.c
        # An open session keeps receive running (no idle exit) meanwhile.
        session = subprocess.Popen(self.c.nsenter() + [
            "/usr/bin/python3", "-c",
            "import smtplib, time; c = smtplib.SMTP('127.0.0.1', 25); c.ehlo(); time.sleep(60)"])
        try:
            self.wait(lambda: c.systemctl("is-active", "pochtar-receive.service",
                                          check=False).returncode == 0, 10, "receive to start")
            self.check_sandbox()
        finally:
            session.kill()
            session.wait()

    def check_sandbox(self):
        c = self.c

        def netns(svc):
            pid = self.main_pid(svc)
            ifaces = [line.split(":")[0].strip() for line in
                      c.run(["cat", "/proc/%d/net/dev" % pid]).stdout.splitlines()[2:]]
            return c.run(["readlink", "/proc/%d/ns/net" % pid]).stdout.strip(), ifaces
        host_ns = c.run(["readlink", "/proc/1/ns/net"]).stdout.strip()
        for svc in ("pochtar-sign.service", "pochtar-receive.service"):
            ns, ifaces = netns(svc)
            assert ns != host_ns, svc + " shares the host's network namespace"
            assert ifaces == ["lo"], "%s's network namespace has %s" % (svc, ifaces)
        assert netns("pochtar-deliver.service")[0] == host_ns, "deliver has no network"
        sg, rx = "pochtar-sign", "pochtar-receive"
        cred = "/run/credentials/pochtar-sign.service/dkim_mail.private"
        for script, expect in [
                ("test -r " + cred, True),
                ("cat " + self.key, False),                 # only as a credential
                ("ls " + self.dkim_dir, False),
                ("ls %s/deliver" % SPOOL, False),             # not even mounted
                ("ls /var/lib/dpkg", False),
                ("ls /root", False), ("ls /home", False),
                ("ls %s/incoming/new %s/signed/new" % (SPOOL, SPOOL), True)]:
            r = self.in_service("pochtar-sign.service", sg, script)
            assert (r.returncode == 0) == expect, "sign: `%s` %s: %s" % (
                script, "failed" if expect else "worked", r.stderr.strip())
        for script in (": > %s/signed/new/x" % SPOOL, ": > %s/signed/tmp/x.receive" % SPOOL,
                       ": > %s/quarantine/new/x" % SPOOL):
            r = self.in_service("pochtar-receive.service", rx, script)
            assert r.returncode != 0, "receive could: " + script
        # deliver's unit: IPAddressDeny=localhost, but for the resolver's stub
        r = c.run(["systemd-run", "--quiet", "--wait", "--pipe", "--collect",
                   "/usr/bin/python3", "-c", DELIVER_IP_PROBE], check=False)
        got = r.stdout.split()
        assert (len(got) == 3 and got[0] in ("tcp-receive:TimeoutError", "tcp-receive:PermissionError")
                and got[1:] == ["udp-127.0.0.1:PermissionError", "dns-127.0.0.53:answered"]), (
            "in deliver's cgroup: %s %s" % (r.stdout.strip(), r.stderr.strip()))


    def step_hostile_names(self):
        """spool: a FIFO under a queue ID in incoming/ and signed/ is quarantined in the sandbox, nothing hangs"""
        self.need_chain()
        c = self.c
        dropped = {}
        # each by a stage user that may write the queue, made in tmp/ and
        # renamed into new/ as a hand-over is, so the running reader's
        # watch reports it; in the reader's user namespace its owner is
        # the overflow uid (docs/security.md, "Who owns a queue file")
        for user, queue in (("pochtar-receive", "incoming"), ("pochtar-sign", "signed")):
            qid = new_queue_id()
            self.as_user(user, "mkfifo %s/tmp/%s.fifo && mv %s/tmp/%s.fifo %s/new/%s"
                         % (queue, qid, queue, qid, queue, qid), check=True)
            dropped[qid] = queue

        def reason(qid):
            try:
                with open(c.path("%s/quarantine/new/%s.reason" % (SPOOL, qid))) as f:
                    return f.read()
            except OSError:
                return None
        self.wait(lambda: all(reason(q) for q in dropped), 30, "both FIFOs in quarantine")
        for qid, queue in dropped.items():
            assert "not opened: a FIFO" in reason(qid), "%s/: %r" % (queue, reason(qid))
            assert stat.S_ISFIFO(os.lstat(c.path("%s/quarantine/new/%s" % (SPOOL, qid))).st_mode), qid
        before = len(self.sink_files())
        self.send_bulk("after-fifo", 1)
        self.wait(lambda: len(self.sink_files()) == before + 1, 30, "the next message at the sink")
        listing = c.run(["pochtar", "queue"], timeout=30).stdout
        for qid in dropped:
            assert re.search(qid + r".*not opened: a FIFO", listing), listing

    # --- submission (issue 14) ---------------------------------------------

    def need_submission(self):
        self.need_chain()
        if not self.submission_up:
            raise Skip("the submission sockets did not start")

    def journal(self, *matches):
        r = self.c.run(["journalctl", "-o", "json", "--no-pager"] + list(matches), check=False)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def probe(self, scenario, **a):
        """tests/lib/submit_probe.py from the container's network namespace"""
        a.setdefault("host", MAIL_ADDR)
        a.setdefault("port", 587)
        a.setdefault("ca", self.ca.cert)
        r = self.c.host_in_netns(["/usr/bin/python3", PROBE, scenario, json.dumps(a)],
                                 capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, "probe %s: %s" % (scenario, r.stderr)
        return json.loads(r.stdout)

    def swaks(self, port, password, subject, *extra):
        """An app server's swaks, AUTH over TLS, the chain and the name
        verified; (exit code, transcript, queue ID or None)."""
        tls = ["--tls"] if port == 587 else ["--tlsc"]
        argv = ["swaks", "--server", "%s:%d" % (MAIL_ADDR, port), "--helo", "web1.example.com",
                "--tls-verify", "--tls-ca-path", self.ca.cert, "--tls-sni", MAIL_HOST,
                "--auth-user", "app1", "--auth-password", password,
                "--from", "app@example.com", "--to", "bob@other.org",
                "--h-Subject", subject] + tls + list(extra)
        r = self.c.host_in_netns(argv, capture_output=True, text=True, timeout=60)
        m = re.search(r"^<~  250 2\.0\.0 Ok: queued as (\S+)$", r.stdout, re.M)
        return r.returncode, r.stdout, m.group(1) if m else None

    def submission_state(self):
        return self.c.systemctl("is-active", SUBMISSION, check=False).stdout.strip()

    def step_submission_enable(self):
        """submission: a certificate linked as /etc/letsencrypt's, a user, enable --now both sockets; the first connection starts the service"""
        self.need_chain()
        for tool in ("swaks", "ss"):
            if not shutil.which(tool):
                raise Skip(tool + " not installed")
        c = self.c
        # A certificate for the container's name, laid out as certbot does:
        # live/ links to archive/, both root's alone, and pochtar's two
        # credential names link to live/ (docs/install.md, section 7).
        tls_dir = os.path.join(c.run_dir, "tls")
        os.makedirs(tls_dir)
        self.ca = sink.TestCA(tls_dir)
        cert, key = self.ca.issue(MAIL_HOST)
        le = "/etc/letsencrypt"
        archive, live = le + "/archive/" + MAIL_HOST, le + "/live/" + MAIL_HOST
        for d in (archive, live):
            os.makedirs(c.path(d), mode=0o700)
        for src, name in ((cert, "fullchain"), (key, "privkey")):
            with open(src, "rb") as f, open(c.path("%s/%s1.pem" % (archive, name)), "wb") as g:
                os.fchmod(g.fileno(), 0o600)
                g.write(f.read())
            os.symlink("../../archive/%s/%s1.pem" % (MAIL_HOST, name), c.path("%s/%s.pem" % (live, name)))
        for cred, name in (("submission.crt", "fullchain"), ("submission.key", "privkey")):
            target = self.unit_setting(SUBMISSION, r"LoadCredential=%s:(\S+)" % re.escape(cred))
            os.symlink("%s/%s.pem" % (live, name), c.path(target))

        # pochtar user add, the password on stdin (never argv)
        r = c.run(["pochtar", "user", "add", "app1", "app@example.com"], input=APP_PASSWORD + "\n",
                  check=False)
        assert r.returncode == 0, "pochtar user add: " + r.stderr
        users = os.path.join(os.path.dirname(self.conf), "users")
        mode = c.run(["stat", "-c", "%a %U", users]).stdout.strip()
        assert mode == "600 pochtar-receive", "%s: %s" % (users, mode)

        c.systemctl("enable", "--now", *SUBMISSION_SOCKETS)
        for sock, port in zip(SUBMISSION_SOCKETS, (587, 465)):
            listen = c.systemctl("show", "-P", "Listen", sock).stdout.strip()
            assert re.fullmatch(r"\S*:%d \(Stream\)" % port, listen), "%s listens on %r" % (sock, listen)
        listening = c.host_in_netns(["ss", "-Hltn"], capture_output=True, text=True, check=True).stdout
        for port in (587, 465):
            assert re.search(r":%d\s" % port, listening), "nothing listens on %d:\n%s" % (port, listening)
        assert self.submission_state() == "inactive", "the service started before any connection"

        # The first connection starts the service; it stays open while the
        # service is looked at, so the idle exit ([receive] idle_exit) waits.
        first = subprocess.Popen(["nsenter", "-t", str(c.pid), "--net", "--", "/usr/bin/python3", "-c",
                                  FIRST_CONNECTION, MAIL_ADDR], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            greeting = first.stdout.readline().strip()
            assert greeting.startswith("220 " + MAIL_HOST), "587 greeted %r %s" % (
                greeting, "" if greeting else first.stderr.read())
            self.wait(lambda: self.submission_state() == "active", 10,
                      "the connection to 587 to start " + SUBMISSION)
            pid = self.main_pid(SUBMISSION)
            creds = c.run(["ls", "/run/credentials/" + SUBMISSION]).stdout.split()
            assert creds == ["submission.crt", "submission.key"], creds
            out = self.probe("raw", ops=[["read"], ["send", "EHLO web1.example.com\r\n"], ["read"],
                                         ["send", "QUIT\r\n"], ["read"]])
            rep = out["replies"]
            assert any("STARTTLS" in line for line in rep[1]), "587: no STARTTLS before TLS: %s" % rep
            assert not any("AUTH" in line for line in rep[1]), "587: AUTH offered in clear text: %s" % rep
            # the certificate from the credentials, verified against the CA
            out = self.probe("raw", port=465, ops=[["tls"], ["read"], ["send", "EHLO web1.example.com\r\n"],
                                                   ["read"], ["send", "QUIT\r\n"], ["read"]])
            rep = out["replies"]
            assert rep[0][0].startswith("TLS") and rep[1][0].startswith("220 "), "465: %s" % rep
            assert any("AUTH PLAIN LOGIN" in line for line in rep[2]), "465: no AUTH: %s" % rep
            assert self.main_pid(SUBMISSION) == pid, "a second process served 465"
        finally:
            first.kill()
            first.wait()
        print("# %s started by the first connection (pid %d)" % (SUBMISSION, pid))
        self.submission_up = True

    def step_submission_send(self):
        """submission: swaks --tls --auth on 587 and --tlsc on 465 reach the MX signed, the received line names the user; a wrong password gets 535, logged with the client"""
        self.need_submission()
        before = len(self.sink_files())
        qids = []
        for port, mech in ((587, "PLAIN"), (465, "LOGIN")):
            rc, out, qid = self.swaks(port, APP_PASSWORD, "submission-%d" % port, "--auth", mech)
            assert rc == 0 and qid, "swaks on %d: exit %d\n%s" % (port, rc, out[-600:])
            qids.append(qid)
        self.wait(lambda: len(self.sink_files()) >= before + 2, 30, "the two messages at the sink")
        msgs = [m for m in self.sink_messages()[before:] if re.search(rb"^Subject: submission-", m, re.M)]
        assert len(msgs) == 2, "%d submitted messages at the sink" % len(msgs)
        assert not self.dkim_failures(msgs), "a submitted message does not verify"
        for m in msgs:
            # the client by its IPv4 address, though the socket is [::]:587
            head = m.split(b"\r\n\r\n")[0].decode(errors="replace")
            assert re.search(r"^Received: from web1\.example\.com \(\[127\.0\.0\.1\]\)\r\n"
                             r"\t\(using TLSv1\.3 ", head, re.M), head
            assert " with ESMTPSA id " in head, head
        for qid in qids:
            entries = self.journal("POCHTAR_QUEUE_ID=" + qid, "MESSAGE_ID=8d92ca30e3124f30ac033b8098113054")
            assert len(entries) == 1, "%d received lines for %s" % (len(entries), qid)
            e = entries[0]
            assert e.get("_SYSTEMD_UNIT") == SUBMISSION, e.get("_SYSTEMD_UNIT")
            assert e.get("POCHTAR_SASL_USER") == "app1", "received line of %s: %s" % (qid, e)
            assert e.get("POCHTAR_CLIENT") == "127.0.0.1", e

        rc, out, qid = self.swaks(587, "not the password", "submission-wrong", "--auth", "PLAIN")
        assert rc != 0 and qid is None and re.search(r"^<~\* 535 5\.7\.8 ", out, re.M), out[-600:]
        fails = self.journal("MESSAGE_ID=d005a71fc64303b6663426869afd3504")
        assert len(fails) == 1, "%d AUTH failure lines" % len(fails)
        e = fails[0]
        assert e.get("_SYSTEMD_UNIT") == SUBMISSION and e.get("POCHTAR_SASL_USER") == "app1", e
        assert e.get("POCHTAR_CLIENT") == "127.0.0.1", e
        assert "authentication failed from [%s]" % e["POCHTAR_CLIENT"] in e.get("MESSAGE", ""), e
        print("# %s: %s" % (e["POCHTAR_CLIENT"], e["MESSAGE"]))

    def step_submission_reload(self):
        """submission: systemctl reload reads the certificate again; a session open across it sends, and so does a new one"""
        self.need_submission()
        c = self.c

        def reloaded():
            return [e for e in self.journal("-u", SUBMISSION)
                    if e.get("MESSAGE", "").startswith("Submission certificate reloaded")]
        assert not reloaded(), "reloaded before the reload"
        held = subprocess.Popen(["nsenter", "-t", str(c.pid), "--net", "--",
                                 "/usr/bin/python3", "-c", HELD_SESSION, self.ca.cert, APP_PASSWORD,
                                 MAIL_ADDR, "submission-held-0"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            line = held.stdout.readline().strip()
            assert line == "ready", "the held session: %r %s" % (line, held.stderr.read() if not line else "")
            pid = self.main_pid(SUBMISSION)
            c.systemctl("reload", SUBMISSION)
            lines = self.wait(reloaded, 10, "the reload in the journal")
            assert len(lines) == 1 and self.main_pid(SUBMISSION) == pid, "reloaded by a new process"
            print("# " + lines[0]["MESSAGE"])
            held.stdin.write("go\n")
            held.stdin.flush()
            rest, err = held.communicate(timeout=30)
            assert held.returncode == 0 and rest.strip() == "sent", "the held session: %s %s" % (rest, err)
        finally:
            if held.poll() is None:
                held.kill()
                held.wait()
        rc, out, qid = self.swaks(587, APP_PASSWORD, "submission-reload-0", "--auth", "PLAIN")
        assert rc == 0 and qid, "swaks after the reload: exit %d\n%s" % (rc, out[-600:])
        self.wait(lambda: {"submission-held-0", "submission-reload-0"} <=
                  set(self.subjects("submission-held") + self.subjects("submission-reload")),
                  30, "both messages at the sink")

    def step_loopback_unchanged(self):
        """submission on: the loopback listener (127.0.0.1:25) still offers neither STARTTLS nor AUTH"""
        self.need_submission()
        r = self.c.host_in_netns(["swaks", "--server", "127.0.0.1:25", "--helo", "app.example.com",
                                  "--from", "info@example.com", "--to", "bob@other.org",
                                  "--quit-after", "EHLO"], capture_output=True, text=True, timeout=30)
        ehlo = [line for line in r.stdout.splitlines() if line.startswith("<~") or line.startswith("<-")]
        assert r.returncode == 0 and any(" 250" in line for line in ehlo), r.stdout[-600:]
        bad = [line for line in ehlo if "STARTTLS" in line or "AUTH" in line]
        assert not bad, "the loopback listener offers: %s" % bad

    def step_no_restarts(self):
        """8. no stage restarted on its own: no crash, the watchdog was fed"""
        self.need_chain()
        # a missed WATCHDOG=1 shows only after a full watchdog period: let the
        # chain run at least two before looking
        remaining = 2 * TEST_WATCHDOG - (time.monotonic() - self.chain_started)
        if remaining > 0:
            time.sleep(remaining)
        for svc in SERVICES + [SUBMISSION]:
            n = self.c.systemctl("show", "-P", "NRestarts", svc).stdout.strip()
            result = self.c.systemctl("show", "-P", "Result", svc).stdout.strip()
            assert n == "0" and result == "success", "%s: %s restarts, result %s" % (svc, n, result)


def dkim_record(key_path):
    """The DKIM TXT record for a private key, computed independently of
    pochtar (openssl), as a DNS operator would publish it."""
    der = subprocess.run(["openssl", "pkey", "-in", key_path, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    if len(der) == 44:          # Ed25519 SubjectPublicKeyInfo: RFC 8463 wants the raw key
        return "v=DKIM1; k=ed25519; p=" + base64.b64encode(der[-32:]).decode()
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def main():
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root (namespaces, debootstrap)")
        return 77
    for tool in ("debootstrap", "unshare", "nsenter", "meson", "dnsmasq", "openssl"):
        if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode:
            print("1..0 # SKIP %s not installed" % tool)
            return 77
    build_dir = os.environ.get("POCHTAR_BUILD_DIR")
    if not build_dir:
        print("1..0 # SKIP POCHTAR_BUILD_DIR not set")
        return 77
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))   # meson's timeout: clean up

    t0 = time.monotonic()
    lower = rootfs.ensure(log=lambda s: print("# " + s, flush=True))
    c = container.Container(lower, build_dir=build_dir, log=lambda s: print("# " + s))
    failed = 0
    try:
        state = c.start()
        print("# booted in %.1fs (%s)" % (time.monotonic() - t0, state), flush=True)
        t = SystemTest(c)
        t.install()
        t.start_network()
        steps = [t.step_units_score, t.step_spool_permissions, t.step_units_verify,
                 t.step_enable, t.step_snippet, t.step_journal, t.step_sign_stopped,
                 t.step_deliver_restart, t.step_idle_exit, t.step_sandbox, t.step_hostile_names,
                 t.step_submission_enable, t.step_submission_send, t.step_submission_reload,
                 t.step_loopback_unchanged, t.step_no_restarts]
        print("1..%d" % len(steps), flush=True)
        for n, step in enumerate(steps, 1):
            name = step.__doc__.strip()
            t1 = time.monotonic()
            try:
                step()
                print("ok %d - %s (%.1fs)" % (n, name, time.monotonic() - t1), flush=True)
            except Skip as e:
                print("ok %d - %s # SKIP %s" % (n, name, e), flush=True)
            except Exception as e:
                failed += 1
                print("not ok %d - %s" % (n, name))
                for line in ("".join(traceback.format_exception_only(type(e), e))).splitlines():
                    print("# " + line)
                for line in t.journal_tail().splitlines():
                    print("#   " + line)
                sys.stdout.flush()
    finally:
        c.stop()
        print("# total %.1fs" % (time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
