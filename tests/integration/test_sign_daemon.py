#!/usr/bin/python3
"""pochtar-sign as a daemon: policies (no key, bad From:), quarantine with
its reason, crash recovery (a state left between publish and unlink, and a
real SIGKILL mid-batch), key rotation on SIGHUP, keys from
$CREDENTIALS_DIRECTORY, start-up errors that name the file, and
`pochtar dkim keygen` keys verified through the record it prints."""
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time

import signlib
import pochtar

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "sign-daemon", "suites": ["sign", "threads"], "timeout": 120}

signlib.need_binaries()
work = tempfile.mkdtemp(prefix="pochtar-sign-daemon-")
rsa, dns = signlib.new_published_key(work, "rsa")
SIMPLE = "domain = example.com\nselector = rsa\nkey = %s\n" % rsa


def msg(frm="From: Joe <joe@example.com>\r\n", body=b"Hello.\r\n"):
    return frm.encode() + b"To: ann@example.net\r\nSubject: test\r\n\r\n" + body


def dkim_sigs(m):
    return signlib.header_value(m, "DKIM-Signature")


def test_policies():
    spool = pochtar.Spool()
    try:
        config = signlib.signer_config(spool, SIMPLE)
        cases = [msg(), msg("From: x@other.org\r\n"), msg(""), msg("From: a@example.com\r\nFrom: b@example.com\r\n"),
                 msg("From: ann@Sub.Example.com\r\n")]
        signed, ids, out = signlib.run_signer(spool, config, cases)
        assert len(dkim_sigs(signed[ids[0]][1])) == 1 and signlib.verifies(signed[ids[0]][1], 0, dns)
        for i in (1, 2, 3):    # default policy: passed on unsigned, unchanged, logged
            assert signed[ids[i]][1] == cases[i], i
        assert "passed on unsigned: no key for From: domain other.org (on_no_key = pass)" in out, out
        assert "passed on unsigned: no From: header (on_bad_from = pass)" in out, out
        assert "more than one From: header" in out, out
        # relaxed DMARC alignment: the parent domain's key signs a subdomain author
        s = dkim_sigs(signed[ids[4]][1])
        assert signlib.tag(s[0], "d") == "example.com" and signlib.verifies(signed[ids[4]][1], 0, dns)
        assert out.count(": signed: ") == 2 and out.count("passed on unsigned") == 3, out
    finally:
        spool.cleanup()

    spool = pochtar.Spool()
    try:
        config = signlib.signer_config(spool, SIMPLE + "on_no_key = quarantine\non_bad_from = quarantine\n")
        cases = [msg("From: x@other.org\r\n"), msg(""), msg("From: a@example.com, b@example.com\r\n"),
                 b"not a header line\r\n\r\nbody\r\n"]
        ids = [spool.inject("incoming", "joe@example.com", ["ann@example.net"], m) for m in cases]
        # A queue file whose envelope is broken
        bad = pochtar.new_queue_id()
        with open(spool.path("incoming", "new", bad), "wb") as f:
            f.write(b"pochtar-queue 1\ngarbage line\n\n" + msg())
        ids.append(bad)
        d = pochtar.Daemon([signlib.SIGN, "--config", config])
        pochtar.wait_for(lambda: len(spool.ids("quarantine")) == len(ids), what="quarantine")
        d.stop()
        out = d.output()
        assert spool.ids("signed") == [] and spool.ids("incoming") == []
        reasons = [open(spool.path("quarantine", "new", i + ".reason")).read() for i in ids]
        assert "no key for From: domain other.org" in reasons[0], reasons
        assert "no From: header" in reasons[1]
        assert "single valid author" in reasons[2]
        assert "malformed header section" in reasons[3]
        assert "malformed envelope" in reasons[4]
        assert out.count("quarantined: ") == 5, out
        # the quarantined file is the original, byte for byte
        assert spool.read("quarantine", ids[0])[1] == cases[0]
    finally:
        spool.cleanup()


def test_checked_files():
    """Version 2 queue files, which receive renames into new/ before they
    are durable: a whole one is signed (and its signed copy carries its
    own check, for deliver); one a crash cut short or filled with an older
    file's blocks is quarantined, never signed."""
    spool = pochtar.Spool()
    try:
        config = signlib.signer_config(spool, SIMPLE)
        good = msg(body=b"whole\r\n")
        ids = [spool.inject("incoming", "joe@example.com", ["ann@example.net"], good, check=True)]
        # the blocks after the first did not reach the disk: zeros
        cut = msg(body=b"x" * 6000)
        ids.append(spool.inject("incoming", "joe@example.com", ["ann@example.net"], cut[:4000] + bytes(2000 + 6),
                                check="%016x" % pochtar.xxhash.xxh3_64_intdigest(cut)))
        # shorter than what was acknowledged... never was: the size is older
        ids.append(spool.inject("incoming", "joe@example.com", ["ann@example.net"], cut[:100],
                                check="%016x" % pochtar.xxhash.xxh3_64_intdigest(cut)))
        # a reused file whose new blocks were lost: the old envelope, another ID
        older = pochtar.new_queue_id()
        stale = spool.path("incoming", "new", pochtar.new_queue_id())
        with open(stale, "wb") as f:
            f.write(pochtar.format_queue_file(older, "joe@example.com", ["ann@example.net"], good, check=True))
        ids.append(os.path.basename(stale))
        d = pochtar.Daemon([signlib.SIGN, "--config", config])
        pochtar.wait_for(lambda: not spool.ids("incoming"), what="incoming drained")
        d.stop()
        assert spool.ids("signed") == [ids[0]], spool.ids("signed")
        env, m = spool.read("signed", ids[0])      # verifies the copy's check
        assert env["check"] and m.endswith(good) and signlib.verifies(m, 0, dns)
        assert sorted(spool.ids("quarantine")) == sorted(ids[1:])
        reasons = [open(spool.path("quarantine", "new", i + ".reason")).read() for i in ids[1:]]
        assert "does not match the envelope's check" in reasons[0], reasons
        assert "does not match the envelope's check" in reasons[1], reasons
        assert "names another queue ID" in reasons[2], reasons
    finally:
        spool.cleanup()


def test_lanes():
    """A batch is signed by one thread per CPU sign may use (at most 4):
    the same messages, each with one valid signature, whether sign runs on
    one CPU or on all of them."""
    cpus = sorted(os.sched_getaffinity(0))
    for allowed in ([cpus[0]], cpus):
        spool = pochtar.Spool()
        try:
            config = signlib.signer_config(spool, SIMPLE)
            cases = [msg(body=b"lane test %d\r\n" % i + b"x" * (i * 997 % 20000) + b"\r\n") for i in range(60)]
            ids = [spool.inject("incoming", "joe@example.com", ["ann@example.net"], m) for m in cases]
            d = pochtar.Daemon(["taskset", "-c", ",".join(map(str, allowed)), signlib.SIGN, "--config", config])
            pochtar.wait_for(lambda: not spool.ids("incoming") and len(spool.ids("signed")) == len(ids),
                             what="signed on %d CPU(s)" % len(allowed))
            d.stop()
            lanes = min(len(allowed), 4)
            assert "%d thread(s)" % lanes in d.output(), d.output()
            for qid, m in zip(ids, cases):
                signed = spool.read("signed", qid)[1]
                assert signed.endswith(m) and len(dkim_sigs(signed)) == 1 and signlib.verifies(signed, 0, dns), qid
        finally:
            spool.cleanup()


def test_crash_state():
    """The state a crash between publish and unlink leaves: signed/new/ID
    and incoming/new/ID both there. A restart leaves exactly one copy."""
    spool = pochtar.Spool()
    try:
        config = signlib.signer_config(spool, SIMPLE)
        qid = spool.inject("incoming", "joe@example.com", ["ann@example.net"], msg())
        shutil.copy(spool.path("incoming", "new", qid), spool.path("signed", "new", qid))
        with open(spool.path("signed", "tmp", qid + ".sign"), "wb") as f:
            f.write(b"half-written leftover")
        d = pochtar.Daemon([signlib.SIGN, "--config", config])
        pochtar.wait_for(lambda: not spool.ids("incoming"), what="incoming drained")
        d.stop()
        assert spool.ids("signed") == [qid]
        assert spool.tmp_files("signed") == []
        m = spool.read("signed", qid)[1]
        assert len(dkim_sigs(m)) == 1 and signlib.verifies(m, 0, dns)
    finally:
        spool.cleanup()


def test_sigkill():
    """SIGKILL at a random moment mid-run, then restart: every message in
    signed/ exactly once, each with exactly one valid signature."""
    spool = pochtar.Spool()
    try:
        config = signlib.signer_config(spool, SIMPLE)
        ids = [spool.inject("incoming", "joe@example.com", ["ann@example.net"], msg(body=b"n %d\r\n" % i))
               for i in range(300)]
        for attempt in range(3):
            d = pochtar.Daemon([signlib.SIGN, "--config", config])
            time.sleep(random.uniform(0.02, 0.15))
            d.stop(signal.SIGKILL)
        d = pochtar.Daemon([signlib.SIGN, "--config", config])
        pochtar.wait_for(lambda: not spool.ids("incoming"), timeout=30, what="incoming drained")
        d.stop()
        assert spool.ids("signed") == sorted(ids)
        for qid in ids:
            m = spool.read("signed", qid)[1]
            assert len(dkim_sigs(m)) == 1, qid
        assert signlib.verifies(spool.read("signed", ids[-1])[1], 0, dns)
        assert spool.tmp_files("signed") == []
    finally:
        spool.cleanup()


def test_reload_and_credentials():
    spool = pochtar.Spool()
    keys = tempfile.mkdtemp(prefix="pochtar-keys-", dir=work)
    try:
        key = os.path.join(keys, "mail.private")
        shutil.copy(rsa, key)
        config = signlib.signer_config(spool, "domain = example.com\nselector = rsa\nkey = %s\n" % key)
        d = pochtar.Daemon([signlib.SIGN, "--config", config])
        a = spool.inject("incoming", "joe@example.com", ["ann@example.net"], msg())
        pochtar.wait_for(lambda: a in spool.ids("signed"), what="first message")
        # rotate: a new Ed25519 key under the same path, then SIGHUP
        os.unlink(key)
        signlib.make_key(keys, "mail", "ed25519")
        d.proc.send_signal(signal.SIGHUP)
        pochtar.wait_for(lambda: "Reloaded 1 signing key" in d.output(), what="reload")
        b = spool.inject("incoming", "joe@example.com", ["ann@example.net"], msg())
        pochtar.wait_for(lambda: b in spool.ids("signed"), what="second message")
        # a broken key on reload keeps the old one
        with open(key, "w") as f:
            f.write("broken")
        d.proc.send_signal(signal.SIGHUP)
        pochtar.wait_for(lambda: "Reload failed" in d.output(), what="failed reload")
        c = spool.inject("incoming", "joe@example.com", ["ann@example.net"], msg())
        pochtar.wait_for(lambda: c in spool.ids("signed"), what="third message")
        assert d.stop() == 0
        ma, mb, mc = (spool.read("signed", x)[1] for x in (a, b, c))
        assert signlib.tag(dkim_sigs(ma)[0], "a") == "rsa-sha256" and signlib.verifies(ma, 0, dns)
        assert signlib.tag(dkim_sigs(mb)[0], "a") == "ed25519-sha256"
        assert signlib.tag(dkim_sigs(mc)[0], "a") == "ed25519-sha256"
    finally:
        spool.cleanup()

    # systemd LoadCredential=: the configured path does not exist, the credential does
    spool = pochtar.Spool()
    creds = tempfile.mkdtemp(prefix="creds-", dir=work)
    try:
        shutil.copy(rsa, os.path.join(creds, "mail.private"))
        config = signlib.signer_config(spool, "domain = example.com\nselector = rsa\n"
                                       "key = /etc/pochtar/dkim/mail.private\n")
        signed, ids, out = signlib.run_signer(spool, config, [msg()], env={"CREDENTIALS_DIRECTORY": creds})
        assert signlib.verifies(signed[ids[0]][1], 0, dns)
    finally:
        spool.cleanup()


def start_fails(sign_section, expect):
    spool = pochtar.Spool()
    try:
        config = signlib.signer_config(spool, sign_section)
        res = subprocess.run([signlib.SIGN, "--config", config], capture_output=True, timeout=10)
        err = res.stderr.decode()
        assert res.returncode != 0 and re.search(expect, err), (sign_section, res.returncode, err)
    finally:
        spool.cleanup()


def test_startup_errors():
    start_fails("domain = example.com\nselector = s\nkey = %s/missing.private\n" % work,
                re.escape(work) + r"/missing\.private: cannot read key: No such file")
    weak = os.path.join(work, "weak.private")
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", weak, "512"], check=True, stderr=subprocess.DEVNULL)
    start_fails("domain = example.com\nselector = s\nkey = %s\n" % weak, re.escape(weak) + r": key refused: RSA")
    with open(os.path.join(work, "kt"), "w") as f:
        f.write("# comment\nname example.com:sel\n")
    with open(os.path.join(work, "st"), "w") as f:
        f.write("example.com name\n")
    start_fails("key_table = file:%s/kt\nsigning_table = %s/st\n" % (work, work), re.escape(work) + r"/kt:2: expected")
    start_fails("", "no signing keys configured")
    start_fails(SIMPLE + "canonicalization = nofws\n", "canonicalization 'nofws'")


def test_spare_keep():
    """Spares in signed/tmp that sign does not use are unlinked after
    [spool] spare_keep, counted from its last batch; 0 keeps them."""
    for keep in ("1s", "0"):
        spool = pochtar.Spool()
        try:
            config = pochtar.write_config(spool.root, "[spool]\ndir = %s\nspare_keep = %s\n[sign]\n%s"
                                          % (spool.root, keep, SIMPLE))
            for name in ("spare.001", "spare.002", "spare.003", "not-a-spare"):
                with open(spool.path("signed", "tmp", name), "wb") as f:
                    f.write(b"x" * 1000)
            d = pochtar.Daemon([signlib.SIGN, "--config", config])
            try:
                qid = spool.inject("incoming", "joe@example.com", ["ann@example.net"], msg())
                pochtar.wait_for(lambda: spool.ids("signed") == [qid], what="the message signed")
                if keep == "1s":
                    pochtar.wait_for(lambda: not spool.spares("signed"), timeout=5, what="the spares unlinked")
                else:
                    time.sleep(2.5)
                    # the signed copy took one of them (spool-spare.c), the rest stay
                    assert len(spool.spares("signed")) == 2, spool.spares("signed")
                assert os.path.exists(spool.path("signed", "tmp", "not-a-spare"))
            finally:
                d.stop()
        finally:
            spool.cleanup()


def test_keygen():
    if not signlib.CLI:
        return
    d = tempfile.mkdtemp(prefix="keygen-", dir=work)
    for kind in ("rsa", "ed25519"):
        res = subprocess.run([signlib.CLI, "dkim", "keygen", "--domain", "example.com", "--selector", kind,
                              "--type", kind, "--directory", d], capture_output=True, check=True)
        path = os.path.join(d, kind + ".private")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        first = open(path).readline().strip()
        assert first == ("-----BEGIN RSA PRIVATE KEY-----" if kind == "rsa" else "-----BEGIN PRIVATE KEY-----")
        strings = re.findall(r'"([^"]*)"', res.stdout.decode())
        assert all(len(s) <= 255 for s in strings) and res.stdout.startswith(kind.encode() + b"._domainkey\tIN\tTXT")
        dns.add(kind, "example.com", "".join(strings).encode())
        # a second keygen never overwrites the key
        again = subprocess.run([signlib.CLI, "dkim", "keygen", "--domain", "example.com", "--selector", kind,
                                "--type", kind, "--directory", d], capture_output=True)
        assert again.returncode != 0 and b"File exists" in again.stderr
    spool = pochtar.Spool()
    try:
        config = signlib.signer_config(spool, "domain = example.com\nselector = rsa, ed25519\nkey = %s/rsa.private, "
                                       "%s/ed25519.private\n" % (d, d))
        signed, ids, out = signlib.run_signer(spool, config, [msg()])
        m = signed[ids[0]][1]
        assert len(dkim_sigs(m)) == 2 and signlib.verifies(m, 0, dns) and signlib.verifies(m, 1, dns)
    finally:
        spool.cleanup()
    for args in (["dkim", "keygen", "--help"], ["dkim", "record", "--help"], ["dkim", "--help"]):
        assert b"Usage: pochtar dkim" in subprocess.run([signlib.CLI] + args, capture_output=True, check=True).stdout
    assert subprocess.run([signlib.CLI, "dkim", "keygen", "--domain", "x"], capture_output=True).returncode == 64


try:
    test_policies()
    test_checked_files()
    test_lanes()
    test_crash_state()
    test_sigkill()
    test_reload_and_credentials()
    test_startup_errors()
    test_keygen()
    test_spare_keep()
    print("ok")
finally:
    shutil.rmtree(work, ignore_errors=True)
