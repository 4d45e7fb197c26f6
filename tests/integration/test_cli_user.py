#!/usr/bin/python3
"""pochtar user against a real users file: add, list, passwd, senders, del;
passwords from a script's stdin and from a terminal (a pty: echo off,
asked twice), hashes checked with Python's crypt (the system's libcrypt,
as receive will verify them), the file's mode and owner, a broken file
(exit 78 with file:line), a password on the command line refused, and
concurrent adds that all land."""
import json
import os
import pty
import pwd
import select
import stat
import subprocess
import tempfile
import time
import warnings

import pochtar

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt        # deprecated in 3.11, still Debian 12's way to libcrypt

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "cli-user", "suites": ["cli"], "timeout": 120}

POCHTAR = pochtar.binary("pochtar")
check = pochtar.Checks()
work = tempfile.mkdtemp(prefix="pochtar-cli-user-")
users = os.path.join(work, "users")


def user(*args, password=None, stdin=None):
    """Runs pochtar user ARGS --users USERS; password: the line on stdin."""
    data = (password + "\n") if password is not None else stdin
    return subprocess.run([POCHTAR, "user"] + list(args) + ["--users", users], input=data,
                          capture_output=True, text=True, timeout=60)


def entries():
    """{name: (hash, [senders])} read from the file itself."""
    out = {}
    for line in open(users):
        if line.startswith("#") or not line.strip():
            continue
        name, hash_, senders = line.rstrip("\n").split(":")
        out[name] = (hash_, senders.split(","))
    return out


def verifies(password, hash_):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return crypt.crypt(password, hash_) == hash_


def expected_owner():
    try:
        return pwd.getpwnam("pochtar-receive").pw_uid
    except KeyError:
        return os.geteuid()


def add_on_a_terminal(name, first, second):
    """pochtar user add NAME on a pty: (exit code, everything it showed)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(POCHTAR, [POCHTAR, "user", "add", name, "tty@example.com", "--users", users])
    shown = b""

    def read_until(text):
        nonlocal shown
        deadline = time.monotonic() + 30 * pochtar.TIMEOUT_SCALE
        while text not in shown and time.monotonic() < deadline:
            if select.select([fd], [], [], 1)[0]:
                try:
                    data = os.read(fd, 1024)
                except OSError:         # EIO: the child closed the terminal
                    return
                if not data:
                    return
                shown += data

    try:
        read_until(b"Password for %s: " % name.encode())
        os.write(fd, first.encode() + b"\n")
        read_until(b"Again: ")
        os.write(fd, second.encode() + b"\n")
        read_until(b"\0")              # everything, to the end
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


try:
    # (a) two users, passwords from a script's stdin; the file is created
    p = user("add", "web1", "app@example.com", "@news.example.com", password="first web1 password")
    check(p.returncode == 0, "add web1: exit 0 (%d %s)" % (p.returncode, p.stderr.strip()))
    p = user("add", "worker@example.com", "jobs@example.com", password="the worker's password")
    check(p.returncode == 0, "add worker@example.com: exit 0 (%d %s)" % (p.returncode, p.stderr.strip()))
    st = os.lstat(users)
    check(stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600,
          "the file is a regular file of mode 0600 (%o)" % st.st_mode)
    check(st.st_uid == expected_owner(), "the file belongs to pochtar-receive, or to us without it (%d)"
          % st.st_uid)
    e = entries()
    check(sorted(e) == ["web1", "worker@example.com"], "both users are in the file: %s" % sorted(e))
    check(e["web1"][0].startswith("$y$") and verifies("first web1 password", e["web1"][0]),
          "web1's hash is yescrypt and verifies the password")
    check(not verifies("first web1 passwor", e["web1"][0]), "and no other password")
    check("first web1 password" not in open(users).read(), "the password itself is nowhere in the file")
    check(e["web1"][1] == ["app@example.com", "@news.example.com"], "web1's senders as given")

    # (b) list, and list --json: names and senders, never hashes
    p = user("list")
    check(p.returncode == 0 and p.stdout.split() == ["web1", "app@example.com,@news.example.com",
                                                      "worker@example.com", "jobs@example.com"],
          "list shows names and senders: %r" % p.stdout)
    check("$y$" not in p.stdout, "list shows no hash")
    p = user("list", "--json")
    listed = json.loads(p.stdout)["users"] if p.returncode == 0 else []
    check(listed == [{"name": "web1", "locked": False, "senders": ["app@example.com", "@news.example.com"]},
                     {"name": "worker@example.com", "locked": False, "senders": ["jobs@example.com"]}],
          "list --json: %s" % p.stdout.strip())
    check("$y$" not in p.stdout, "list --json shows no hash")

    # (c) passwd: a new hash; the old password no longer verifies
    old = entries()["web1"][0]
    p = user("passwd", "web1", password="second web1 password")
    new = entries()["web1"][0]
    check(p.returncode == 0 and new != old, "passwd writes a new hash (%d %s)" % (p.returncode, p.stderr.strip()))
    check(verifies("second web1 password", new) and not verifies("first web1 password", new),
          "the new password verifies, the old one no longer does")
    check(entries()["worker@example.com"] == e["worker@example.com"], "passwd leaves the other user alone")
    p = user("passwd", "web1", password="too short")
    check(p.returncode == 1 and "fewer than 12" in p.stderr and entries()["web1"][0] == new,
          "a password under 12 characters is refused and nothing changes (%d %s)"
          % (p.returncode, p.stderr.strip()))
    p = user("passwd", "web1", "--allow-short", password="short ok")
    check(p.returncode == 0 and verifies("short ok", entries()["web1"][0]), "--allow-short takes it")
    p = user("passwd", "nobody", password="a password long enough")
    check(p.returncode == 1 and "no user 'nobody'" in p.stderr, "passwd of a missing user: exit 1 (%d %s)"
          % (p.returncode, p.stderr.strip()))
    p = user("passwd", "web1", stdin="")
    check(p.returncode == 1 and "No password" in p.stderr, "an empty stdin is no password (%d %s)"
          % (p.returncode, p.stderr.strip()))

    # (d) senders replaces the list
    p = user("senders", "web1", "noreply@example.com", "@example.org")
    check(p.returncode == 0 and entries()["web1"][1] == ["noreply@example.com", "@example.org"],
          "senders replaces web1's list: %s" % entries()["web1"][1])
    p = user("senders", "web1", "not-an-address@")
    check(p.returncode == 64 and entries()["web1"][1] == ["noreply@example.com", "@example.org"],
          "a bad sender is a usage error and changes nothing (%d %s)" % (p.returncode, p.stderr.strip()))

    # (e) a duplicate is refused, the first user stays as it was
    before = open(users).read()
    p = user("add", "web1", "x@example.com", password="yet another password")
    check(p.returncode == 1 and "exists already" in p.stderr and open(users).read() == before,
          "adding web1 again: exit 1, file unchanged (%d %s)" % (p.returncode, p.stderr.strip()))

    # (f) a password on the command line is a usage error, and is not echoed
    p = user("add", "web2", "hunter2hunter2hunter2", stdin="")
    check(p.returncode == 64 and "hunter2" not in p.stderr + p.stdout and "web2" not in entries(),
          "add NAME PASSWORD: exit 64, the password not repeated (%d %s)" % (p.returncode, p.stderr.strip()))
    p = user("passwd", "web1", "hunter2hunter2hunter2", stdin="")
    check(p.returncode == 64 and "hunter2" not in p.stderr + p.stdout,
          "passwd NAME PASSWORD: exit 64 (%d %s)" % (p.returncode, p.stderr.strip()))
    p = user("add", "web2", "a@example.com", "--password", "hunter2hunter2", stdin="")
    check(p.returncode == 64 and "web2" not in entries(), "there is no --password option (%d)" % p.returncode)

    # (g) a terminal: echo off, asked twice; two different answers change nothing
    code, shown = add_on_a_terminal("tty1", "terminal password 1", "terminal password 1")
    check(code == 0 and "tty1" in entries() and verifies("terminal password 1", entries()["tty1"][0]),
          "add on a terminal, the password typed twice (%d %r)" % (code, shown))
    check("Password for tty1:" in shown and "Again:" in shown, "it asked twice: %r" % shown)
    check("terminal password" not in shown, "the terminal did not echo the password")
    before = open(users).read()
    code, shown = add_on_a_terminal("tty2", "terminal password 2", "terminal password 3")
    check(code == 1 and "differ" in shown and open(users).read() == before,
          "two different answers: exit 1, nothing written (%d %r)" % (code, shown))

    # (h) comments survive every rewrite; del removes one user
    with open(users, "a") as f:
        f.write("# a comment the admin wrote\n")
    p = user("del", "tty1")
    check(p.returncode == 0 and "tty1" not in entries() and "web1" in entries(), "del tty1")
    check("# a comment the admin wrote\n" in open(users).read(), "the admin's comment is still there")
    p = user("del", "tty1")
    check(p.returncode == 1 and "no user 'tty1'" in p.stderr, "del of a missing user: exit 1")
    check(stat.S_IMODE(os.lstat(users).st_mode) == 0o600, "still mode 0600 after the rewrites")

    # (i) concurrent adds: every one lands (each waits on its stdin until
    # all have started, then all race for the file)
    procs = []
    for i in range(8):
        procs.append(subprocess.Popen([POCHTAR, "user", "add", "racer%d" % i, "r%d@example.com" % i,
                                       "--users", users], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    try:
        for p in procs:
            p.stdin.write("racing password number\n")
            p.stdin.flush()
        for p in procs:
            p.stdin.close()
        codes = [p.wait(timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    e = entries()
    check(codes == [0] * 8, "8 concurrent adds all exit 0: %s" % codes)
    check(all("racer%d" % i in e for i in range(8)) and "web1" in e and "worker@example.com" in e,
          "all 8 land and nobody else is lost: %s" % sorted(e))
    check(not [n for n in os.listdir(work) if n != "users"], "no temporary file is left: %s" % os.listdir(work))

    # (j) a file that does not parse: exit 78 with file:line, and untouched
    with open(users, "a") as f:
        f.write("broken line without fields\n")
    broken = open(users).read()
    line = broken.count("\n")
    for args in (["list"], ["del", "web1"], ["senders", "web1", "a@example.com"]):
        p = user(*args)
        check(p.returncode == 78 and ("%s:%d:" % (users, line)) in p.stderr,
              "%s on a broken file: exit 78 naming %s:%d (%d %s)" % (args[0], users, line, p.returncode,
                                                                   p.stderr.strip()))
    p = user("add", "web3", "w@example.com", password="a password long enough")
    check(p.returncode == 78 and open(users).read() == broken, "add on a broken file: exit 78, untouched")

    # (k) a file others can read is refused, not used
    os.chmod(users, 0o644)
    p = user("list")
    check(p.returncode == 1 and "mode 0644" in p.stderr, "a file of mode 0644 is refused (%d %s)"
          % (p.returncode, p.stderr.strip()))
finally:
    pochtar.remove_work_dir(work)

check.exit("cli-user ok")
