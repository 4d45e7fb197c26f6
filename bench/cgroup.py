# SPDX-License-Identifier: MIT
"""One cgroup-v1 cpuacct group per system under test.

Every process of a system is started through wrapper(), which moves the
launching shell into the group before it execs, so all children (Postfix's
master and everything it forks, OpenDKIM, pochtar's three stages) are
accounted together. CPU comes from cpuacct.usage (kernel accounting, exact);
memory is sampled from /proc because the memory controller would also
charge the page cache of the queue files the MTA writes.
"""
import os
import signal
import threading
import time

ROOT = "/sys/fs/cgroup/cpuacct"


def available():
    return os.access(os.path.join(ROOT, "cgroup.procs"), os.W_OK)


def process_rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass                    # exited, or a kernel thread without VmRSS
    return 0


def process_name(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "?"


class Cgroup:
    def __init__(self, parent, name):
        self.path = os.path.join(ROOT, parent, name)
        os.makedirs(self.path, exist_ok=True)

    def wrapper(self):
        """argv prefix: join the group, then exec the rest of argv."""
        return ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', self.path]

    def cpu_ns(self):
        with open(os.path.join(self.path, "cpuacct.usage")) as f:
            return int(f.read())

    def pids(self):
        with open(os.path.join(self.path, "cgroup.procs")) as f:
            return [int(x) for x in f.read().split()]

    def memory_kb(self):
        """(sum of VmRSS, sum of Pss) over the group's processes, in kB.

        RSS counts shared pages (libc, the key, Postfix's shared libraries)
        once per process; PSS splits them, so it is the fairer sum for a
        many-process MTA. Both are printed."""
        rss = pss = 0
        for pid in self.pids():
            rss += process_rss_kb(pid)
            try:
                with open("/proc/%d/smaps_rollup" % pid) as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            pss += int(line.split()[1])
                            break
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue        # exited between listing and reading
        return rss, pss

    def kill_all(self, timeout=5):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in self.pids():
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + timeout
            while self.pids() and time.monotonic() < deadline:
                time.sleep(0.05)
            if not self.pids():
                return

    def remove(self):
        self.kill_all()
        try:
            os.rmdir(self.path)
        except OSError:
            pass


class MemorySampler:
    """Peak of the summed RSS/PSS of a cgroup, sampled every `interval` s."""

    def __init__(self, cgroup, interval=0.1):
        self.cgroup = cgroup
        self.interval = interval
        self.peak_rss = self.peak_pss = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while True:
            try:
                rss, pss = self.cgroup.memory_kb()
            except OSError:
                return          # the group is gone
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.samples += 1
            if self._stop.wait(self.interval):
                return

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        """Safe to call whether or not start() was."""
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join()
