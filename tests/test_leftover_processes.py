#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Fails when a process a test started outlives the tests: every test must
stop what it started, also when it fails. meson runs this one last and
alone (priority below every other test, not parallel: it starts when all
others have ended), in every suite that has integration tests.

A process counts when its environment holds the mark meson gives every
Python test, POCHTAR_TEST_RUN=<this build directory>, which whatever a
test starts inherits (the daemons, dnsmasq, a sink, strace, tools/dev-run
and its chain), or when it runs a binary of this build directory (a test
may give a daemon an environment of its own). Tests of other trees,
which may run on the same machine at the same time, carry another mark.
What is found is listed, with the test that started it
(POCHTAR_TEST_BY, set by tests/lib/pochtar.py), and killed.
"""
import os
import signal
import sys
import time

GRACE = 5.0     # a process killed just before may still be on its way out


def ancestors():
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            with open("/proc/%d/stat" % pid) as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            break
    return pids


def environ(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        return dict(v.partition(b"=")[::2] for v in f.read().split(b"\0") if v)


def runs_binary(arg, build_dirs):
    """Whether arg names an executable of the build directory (a daemon,
    also behind valgrind or strace), not just a file there (a log)."""
    return (any(arg.startswith(d + b"/") for d in build_dirs)
            and os.path.isfile(arg) and os.access(arg, os.X_OK))


def leftovers(build_dir):
    mark = build_dir.encode()
    build_dirs = {mark, os.path.realpath(build_dir).encode()}
    me = ancestors()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in me:
            continue
        pid = int(name)
        try:
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = [a for a in f.read().split(b"\0") if a]
            env = environ(pid)
        except OSError:             # gone meanwhile, or another user's
            continue
        if state == "Z" or not argv:
            continue                # a zombie, or a kernel thread
        if env.get(b"POCHTAR_TEST_RUN") == mark or any(runs_binary(a, build_dirs) for a in argv):
            found.append((pid, env.get(b"POCHTAR_TEST_BY", b"?").decode("utf-8", "replace"),
                          b" ".join(argv).decode("utf-8", "replace")))
    return found


def main():
    build_dir = os.environ.get("POCHTAR_TEST_RUN")
    if not build_dir:
        print("SKIP: POCHTAR_TEST_RUN not set (meson sets it)")
        return 77
    deadline = time.monotonic() + GRACE
    found = leftovers(build_dir)
    while found and time.monotonic() < deadline:
        time.sleep(0.1)
        found = leftovers(build_dir)
    if not found:
        print("ok: no process started by a test of %s is left" % build_dir)
        return 0
    for pid, by, cmdline in found:
        print("FAIL: left running by %s: pid %d: %s" % (by, pid, cmdline[:300]))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return 1


if __name__ == "__main__":
    sys.exit(main())
