"""Shared helpers for pochtar's integration tests (run with /usr/bin/python3).

Spool files are read and written here independently of the C code, from
docs/spool-format.md, so a test checks the format rather than trusting it.

The shape of most tests, with the helpers below:

    BIN = pochtar.binaries("receive", "sign", "deliver")   # or skip (77)
    work, spool = pochtar.new_work_dir("pochtar-xyz-")
    config = pochtar.write_chain_config(work, spool.root, port, key, deliver="mode = mx\n")
    check = pochtar.Checks()
    ... pochtar.Daemon([BIN["receive"], "--config", config]) ...
    ... pochtar.wait_until_smtp_answers(port), pochtar.wait_for(...), check(cond, what) ...
    pochtar.remove_work_dir(work)        # in a finally
    check.exit("xyz ok")

Beside it in tests/lib (meson puts the directory on every test's
PYTHONPATH): netns.py has the network namespace and dnsmasq
(Dnsmasq.mx_at()), sink.py the SMTP sinks, signlib.py DKIM keys and the
verifier's DNS.
"""
import atexit
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import xxhash

QUEUES = ("incoming", "signed", "quarantine")
ID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{16}$")
# a consumed queue file kept in tmp/ for reuse (shared/spool-spare.h)
SPARE_RE = re.compile(r"^spare\.[0-9]{3}$")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def xtext_encode(b):
    if isinstance(b, str):
        b = b.encode()
    return "".join(chr(c) if 33 <= c <= 126 and c not in (43, 61) else "+%02X" % c for c in b)


def xtext_decode(s):
    out = bytearray()
    i = 0
    while i < len(s):
        if s[i] == "+":
            out.append(int(s[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(ord(s[i]))
            i += 1
    return bytes(out)


def new_queue_id(usec=None):
    usec = int(time.time() * 1e6) if usec is None else usec
    rnd = int.from_bytes(os.urandom(4), "little") & 0x1FFFFFF
    t = "".join(CROCKFORD[(usec >> (5 * (10 - i))) & 31] for i in range(11))
    r = "".join(CROCKFORD[(rnd >> (5 * (4 - i))) & 31] for i in range(5))
    return t + r


def parse_queue_file(data):
    """Returns (envelope dict, message bytes). rcpts is a list of dicts."""
    head, sep, message = data.partition(b"\n\n")
    assert sep, "no blank line ends the envelope"
    lines = head.decode("ascii").split("\n")
    assert lines[0] in ("pochtar-queue 1", "pochtar-queue 2"), lines[0]
    env = {"rcpts": []}
    if lines[0] == "pochtar-queue 2":
        # version 2: the check, XXH3-64 of the message, is the second line
        key, _, value = lines[1].partition(" ")
        assert key == "check" and re.fullmatch("[0-9a-f]{16}", value), lines[1]
        assert int(value, 16) == xxhash.xxh3_64_intdigest(message), "the check does not match"
        env["check"] = value
        lines = lines[1:]
    for line in lines[1:]:
        key, _, value = line.partition(" ")
        if key == "rcpt":
            parts = value.split(" ")
            r = {"addr": xtext_decode(parts[0]).decode()}
            for attr in parts[1:]:
                k, _, v = attr.partition("=")
                r[k] = v if k == "notify" else xtext_decode(v).decode()
            env["rcpts"].append(r)
        elif key in ("client", "helo", "auth", "sender", "envid"):
            env[key] = xtext_decode(value).decode("utf-8", "replace")
        else:
            env[key] = value
    return env, message


def format_queue_file(qid, sender, rcpts, message, arrival=None, check=None, **extra):
    """check=True writes version 2 with the message's check (as receive
    does), a string writes version 2 with that check, None version 1."""
    arrival = int(time.time() * 1e6) if arrival is None else arrival
    lines = ["pochtar-queue 1"]
    if check is not None:
        value = "%016x" % xxhash.xxh3_64_intdigest(message) if check is True else check
        lines = ["pochtar-queue 2", "check " + value]
    lines += ["id " + qid, "arrival %d" % arrival]
    for k in ("kind", "client", "helo"):
        if k in extra:
            lines.append("%s %s" % (k, xtext_encode(extra[k])))
    lines.append("sender " + xtext_encode(sender))
    for k in ("ret", "envid", "body", "smtputf8"):
        if k in extra:
            lines.append("%s %s" % (k, extra[k] if k != "envid" else xtext_encode(extra[k])))
    for r in rcpts:
        lines.append("rcpt " + xtext_encode(r))
    return ("\n".join(lines) + "\n\n").encode() + message


class Spool:
    """A private spool tree under a temporary directory."""

    def __init__(self, root=None):
        self.root = root or tempfile.mkdtemp(prefix="pochtar-test-")
        for q in QUEUES:
            for sub in ("tmp", "new"):
                os.makedirs(os.path.join(self.root, q, sub), exist_ok=True)

    def path(self, queue, sub="new", name=""):
        return os.path.join(self.root, queue, sub, name)

    def ids(self, queue, sub="new"):
        return sorted(n for n in os.listdir(self.path(queue, sub)) if ID_RE.match(n))

    def tmp_files(self, queue):
        """Files being written in queue's tmp/: every name but the spares
        (shared/spool-spare.c), which are consumed files kept for reuse."""
        return [n for n in os.listdir(self.path(queue, "tmp")) if not SPARE_RE.match(n)]

    def spares(self, queue):
        return [n for n in os.listdir(self.path(queue, "tmp")) if SPARE_RE.match(n)]

    def read(self, queue, qid):
        with open(self.path(queue, "new", qid), "rb") as f:
            return parse_queue_file(f.read())

    def inject(self, queue, sender, rcpts, message, qid=None, **extra):
        """Publishes a queue file the way a stage does (tmp, fsync, rename)."""
        qid = qid or new_queue_id()
        tmp = self.path(queue, "tmp", qid + ".test")
        with open(tmp, "wb") as f:
            f.write(format_queue_file(qid, sender, rcpts, message, **extra))
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, self.path(queue, "new", qid))
        return qid

    def tmp_and_new_dirs(self):
        """{path under the root: [file names]} of every tmp/ and new/ in the
        tree, deliver/queue and deliver/state included; spares are left out
        (they are consumed files kept for reuse, not messages)."""
        return {os.path.relpath(top, self.root): [f for f in files if not SPARE_RE.match(f)]
                for top, dirs, files in os.walk(self.root) if os.path.basename(top) in ("tmp", "new")}

    def settle(self, timeout=2.0, ignore=()):
        """Waits (at most timeout) until every tmp/ and new/ outside the
        paths in ignore is empty: a stage syncs the removal of what it
        consumed up to 20 ms later (ID.gone in new/ until then). Returns
        tmp_and_new_dirs() either way, for the caller to check."""
        def left():
            return {p: f for p, f in self.tmp_and_new_dirs().items() if not any(i in p for i in ignore)}
        deadline = time.monotonic() + timeout * TIMEOUT_SCALE
        while any(left().values()) and time.monotonic() < deadline:
            time.sleep(0.02)
        return left()

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


def new_work_dir(prefix):
    """A test's own directory with a spool tree in it: (path, Spool)."""
    work = tempfile.mkdtemp(prefix=prefix)
    return work, Spool(os.path.join(work, "spool"))


def remove_work_dir(work):
    """Removes a test's directory, or keeps it and says where when $KEEP is set."""
    if os.environ.get("KEEP"):
        print("kept", work)
    else:
        shutil.rmtree(work, ignore_errors=True)


# Under valgrind the daemons run some 20 times slower: the valgrind test
# setup stretches every wait by this factor.
TIMEOUT_SCALE = float(os.environ.get("POCHTAR_TEST_TIMEOUT_SCALE", "1"))


def wait_for(predicate, timeout=10.0, interval=0.02, what="condition"):
    timeout *= TIMEOUT_SCALE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))


class Checks:
    """A test's soft assertions: each check prints "ok:" or "FAIL:" and the
    test goes on, so that one run shows every failure; exit() ends the test
    with status 1 when any check failed."""

    def __init__(self):
        self.failures = []

    def __call__(self, cond, what):
        print(("ok: " if cond else "FAIL: ") + what)
        if not cond:
            self.failures.append(what)

    def exit(self, passed=None):
        """Exits 1 naming the failed checks; else prints `passed` and returns."""
        if self.failures:
            print("FAILED: " + "; ".join(self.failures))
            sys.exit(1)
        if passed:
            print(passed)


def smtp_answers(port):
    """Whether an SMTP server on 127.0.0.1:port greets and takes QUIT."""
    try:
        smtplib.SMTP("127.0.0.1", port, timeout=1).quit()
        return True
    except OSError:             # smtplib.SMTPException is an OSError too
        return False


def wait_until_smtp_answers(port, what="receive to listen"):
    wait_for(lambda: smtp_answers(port), what=what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(directory, text):
    path = os.path.join(directory, "pochtar.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def write_spool_config(directory, spool_root, **sections):
    """pochtar.conf in directory for the spool at spool_root; each keyword
    is a [section] with the lines given, in the order given."""
    text = "[spool]\ndir = %s\n" % spool_root
    for name, lines in sections.items():
        text += "[%s]\n%s\n" % (name, lines.strip("\n"))
    return write_config(directory, text)


def write_chain_config(directory, spool_root, port, key=None, receive="", **sections):
    """pochtar.conf for the stages on one spool as the chain tests run them:
    receive on 127.0.0.1:port as mail.example.com, plus the `receive` lines;
    with a key, sign for example.com as selector mail; then `sections`
    (deliver=...) as write_spool_config() takes them."""
    chain = {"receive": "listen = 127.0.0.1:%d\nhostname = mail.example.com\n%s" % (port, receive)}
    if key:
        chain["sign"] = "domain = example.com\nselector = mail\nkey = %s\n" % key
    return write_spool_config(directory, spool_root, **chain, **sections)


# POCHTAR_TEST_VALGRIND=1 runs every Daemon under valgrind. Definite leaks
# count as errors; what libraries keep until exit does not.
VALGRIND = ("valgrind", "--error-exitcode=1", "--leak-check=full", "--errors-for-leak-kinds=definite",
            "--show-leak-kinds=definite", "--num-callers=30")
# A sanitizer or valgrind report in a daemon's output fails the test at
# exit, also where the test does not look at the daemon's exit status.
MEMORY_ERROR_RE = re.compile(rb"ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error: |"
                             rb"==\d+== ERROR SUMMARY: [1-9]")
_memory_errors = []


def _fail_on_memory_errors():
    if _memory_errors:
        sys.stdout.write("".join(_memory_errors))
        sys.stdout.write("FAIL: memory errors reported by a daemon (see above)\n")
        sys.stdout.flush()
        os._exit(1)


atexit.register(_fail_on_memory_errors)

# Whatever a test starts inherits this: tests/test_leftover_processes.py
# names the test that left a process running.
os.environ.setdefault("POCHTAR_TEST_BY", " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]))

# Daemons not stopped yet. meson ends a test that ran out of time with
# SIGTERM to the test's process group, and SIGKILL half a second later; a
# Daemon has a group of its own, which neither reaches. So on SIGTERM they
# are killed here, and SystemExit then runs the test's finally blocks.
_running = []


def _stop_on_sigterm(signum, frame):
    for d in list(_running):
        d._signal_group(signal.SIGKILL)
    raise SystemExit(128 + signum)


if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)


class Daemon:
    """A pochtar binary run in the foreground, its stderr kept for asserts."""

    def __init__(self, argv, env=None, wrapper=()):
        self.log_path = tempfile.mktemp(prefix="pochtar-log-")
        self.log = open(self.log_path, "w+b")
        full_env = dict(os.environ)
        full_env.pop("JOURNAL_STREAM", None)
        full_env.update(env or {})
        self.valgrind = os.environ.get("POCHTAR_TEST_VALGRIND") == "1" and not wrapper
        if self.valgrind:
            wrapper = VALGRIND
        self.argv = list(argv)
        # its own process group: stop() signals the daemon and whatever
        # wraps it (strace -f, say) together, so no tracee outlives a test
        self.proc = subprocess.Popen(list(wrapper) + list(argv), stdout=self.log,
                                     stderr=subprocess.STDOUT, env=full_env, start_new_session=True)
        _running.append(self)
        self.final_output = None

    def output(self):
        if self.final_output is not None:
            return self.final_output
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def _signal_group(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self._signal_group(sig)
            try:
                self.proc.wait(timeout * TIMEOUT_SCALE)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait()
        # a wrapper's child may still be on its way out: it gets no reprieve
        self._signal_group(signal.SIGKILL)
        if self in _running:
            _running.remove(self)
        # keep what it wrote for asserts after stop(), but leave no file in /tmp
        if self.final_output is None:
            self.final_output = self.output()
            self.log.close()
            os.unlink(self.log_path)
            self._check_memory_errors(sig)
        return self.proc.returncode

    def _check_memory_errors(self, sig):
        out = self.final_output.encode("utf-8", "replace")
        name = os.path.basename(self.argv[0])
        if MEMORY_ERROR_RE.search(out):
            _memory_errors.append("%s:\n%s\n" % (name, self.final_output))
        elif self.valgrind and sig != signal.SIGKILL and b"ERROR SUMMARY: 0 errors" not in out:
            # killed before valgrind could check: nothing was proven
            _memory_errors.append("%s: no valgrind summary (killed?)\n%s\n" % (name, self.final_output))


def _binary_variable(name):
    return "POCHTAR" if name == "pochtar" else "POCHTAR_" + name.upper()


def binaries(*names):
    """{name: path} of the pochtar binaries meson passes as $POCHTAR_<NAME>
    ($POCHTAR for the pochtar command); the test is skipped when one is not
    given."""
    paths = {n: os.environ.get(_binary_variable(n)) for n in names}
    missing = [_binary_variable(n) for n, p in paths.items() if not p]
    if missing:
        skip(", ".join(missing) + " not set")
    return paths


def binary(name):
    return binaries(name)[name]


def skip(reason):
    print("SKIP: " + reason)
    raise SystemExit(77)
