# SPDX-License-Identifier: MIT
"""A Debian 12 container booted with the real systemd, for the system test.

unshare gives it fresh pid, mount, net, cgroup, uts and ipc namespaces;
boot.sh assembles an overlay root over the cached debootstrap root and
execs /lib/systemd/systemd as PID 1. The test drives it with
`nsenter -t PID -a -r -w …`. Host helpers (dnsmasq, the SMTP sink) join
only its network and pid namespaces, so killing PID 1 ends them too.
Nothing outside a temporary run directory and one cgroup is touched, and
stop() removes both.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup2":
                return fields[4]
    return None


def own_cgroup2():
    with open("/proc/self/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                return line[3:].strip()
    return "/"


class Container:
    def __init__(self, lower, build_dir=None, log=print):
        self.lower = lower
        self.build_dir = build_dir
        self.log = log
        self.run_dir = tempfile.mkdtemp(prefix="pochtar-systemtest-", dir="/var/tmp")
        self.proc = None
        self.pid = None
        self.cgroup = None
        self.helpers = []

    # --- life cycle -------------------------------------------------------

    def start(self, timeout=60):
        mnt = cgroup2_mount()
        if mnt is None:
            raise RuntimeError("no cgroup2 hierarchy mounted on this host")
        # The container's systemd manages only this subtree (cgroup namespace).
        parent = os.path.join(mnt, own_cgroup2().lstrip("/"))
        self.cgroup = os.path.join(parent, "pochtar-systemtest-%d" % os.getpid())
        os.makedirs(self.cgroup, exist_ok=True)

        def enter_cgroup():
            with open(os.path.join(self.cgroup, "cgroup.procs"), "w") as f:
                f.write("0")

        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "container": "pochtar-systemtest"}
        # the mark by which tests/test_leftover_processes.py finds a container left running
        if "POCHTAR_TEST_RUN" in os.environ:
            env["POCHTAR_TEST_RUN"] = os.environ["POCHTAR_TEST_RUN"]
        self.console = open(os.path.join(self.run_dir, "console.log"), "wb")
        argv = ["unshare", "--pid", "--mount", "--net", "--cgroup", "--uts", "--ipc",
                "--fork", "--kill-child",
                os.path.join(HERE, "boot.sh"), self.lower, self.run_dir, self.build_dir or ""]
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.console, stderr=subprocess.STDOUT,
                                     preexec_fn=enter_cgroup)
        deadline = time.monotonic() + timeout
        while self.pid is None:
            if self.proc.poll() is not None:
                raise RuntimeError("container exited early:\n" + self.console_log())
            try:
                with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                    kids = f.read().split()
            except OSError:
                kids = []
            if kids:
                self.pid = int(kids[0])
            elif time.monotonic() > deadline:
                raise RuntimeError("container did not start")
            else:
                time.sleep(0.05)
        # Wait for systemd (not boot.sh) to be PID 1 and for the boot to end.
        while True:
            try:
                exe = os.readlink("/proc/%d/exe" % self.pid)
            except OSError:
                exe = ""
            if exe.endswith("/systemd"):
                r = self.run(["systemctl", "is-system-running", "--wait"],
                             check=False, timeout=max(1, deadline - time.monotonic()))
                state = r.stdout.strip()
                if state in ("running", "degraded"):
                    return state
            if self.proc.poll() is not None:
                raise RuntimeError("container exited during boot:\n" + self.console_log())
            if time.monotonic() > deadline:
                raise RuntimeError("boot did not finish in %ds:\n%s" % (timeout, self.console_log()))
            time.sleep(0.1)

    def stop(self):
        for h in self.helpers:
            if h.poll() is None:
                h.kill()
            h.wait()
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)       # ends the whole pid namespace
            except ProcessLookupError:
                pass
        if self.proc is not None:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.console.close()
        if self.cgroup:
            self._remove_cgroup(self.cgroup)
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def _remove_cgroup(self, path, timeout=10):
        deadline = time.monotonic() + timeout
        for dirpath, dirnames, _ in sorted(os.walk(path), key=lambda w: -w[0].count("/")):
            while True:
                try:
                    os.rmdir(dirpath)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        self.log("warning: could not remove cgroup " + dirpath)
                        break
                    time.sleep(0.05)

    def console_log(self):
        try:
            with open(os.path.join(self.run_dir, "console.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    # --- driving it -------------------------------------------------------

    def nsenter(self):
        return ["nsenter", "-t", str(self.pid), "-a", "-r", "-w"]

    def run(self, argv, check=True, timeout=60, input=None):
        """A command inside the container, as root, in its namespaces."""
        r = subprocess.run(self.nsenter() + ["env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                             "LANG=C.UTF-8"] + list(argv),
                           capture_output=True, text=True, timeout=timeout, input=input)
        if check and r.returncode != 0:
            raise AssertionError("in container: %s: exit %d\n%s%s" % (
                " ".join(argv), r.returncode, r.stdout, r.stderr))
        return r

    def sh(self, script, **kw):
        return self.run(["sh", "-c", script], **kw)

    def systemctl(self, *args, **kw):
        return self.run(["systemctl", "--no-pager"] + list(args), **kw)

    def path(self, p):
        """Host path of a file inside the container's root (the overlay).

        The overlay is mounted only in the container's mount namespace;
        /proc/PID/root reaches it from the host."""
        return "/proc/%d/root/%s" % (self.pid, p.lstrip("/"))

    def host_helper(self, argv, log_name):
        """A host program inside the container's network and pid namespaces."""
        out = open(os.path.join(self.run_dir, log_name), "wb")
        p = subprocess.Popen(["nsenter", "-t", str(self.pid), "--net", "--pid", "--"] + list(argv),
                             stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        self.helpers.append(p)
        return p

    def host_in_netns(self, argv, **kw):
        return subprocess.run(["nsenter", "-t", str(self.pid), "--net", "--"] + list(argv), **kw)
