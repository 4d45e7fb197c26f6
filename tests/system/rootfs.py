# SPDX-License-Identifier: MIT
"""The Debian 12 root the system test boots, built once and cached.

debootstrap is slow (a minute or more) and needs Debian's mirror, so the
root is built once per package list into a cache outside the source tree
and reused: each run mounts a throw-away overlay over it (boot.sh), so the
cached root itself is never written. The mirror is the one this machine's
apt uses, so nothing else is contacted.
"""
import fcntl
import glob
import hashlib
import os
import re
import shutil
import subprocess

CACHE = os.environ.get("POCHTAR_SYSTEMTEST_CACHE", "/var/cache/pochtar-systemtest")
SUITE = "bookworm"

# What the container needs: an init, the runtime libraries pochtar's
# binaries link, and python3-dkim so the article's snippet and a verifier
# can run inside. iproute2 is left out: /proc/PID/net/dev answers the
# "which interfaces" question without it.
PACKAGES = [
    "systemd", "dbus", "util-linux",
    "libsystemd0", "libinih1", "libssl3", "libgnutls30", "libgnutls-dane0", "libxxhash0",
    "python3", "python3-dkim",
    # debootstrap does not resolve virtual packages: python3-nacl needs this
    "python3-cffi-backend",
]


def apt_mirror():
    """The Debian mirror this machine's apt uses for bookworm: the first
    `deb URI` line (sources.list) or `URIs:` field (deb822 .sources) of a
    file that names the suite, skipping the security archive."""
    files = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")) \
        + sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))
    for path in files:
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            continue
        if SUITE not in text:
            continue
        for m in re.finditer(r"^(?:deb\s+(?:\[[^\]]*\]\s+)?|URIs:\s*)(\S+)", text, re.M):
            uri = m.group(1)
            if "debian" in uri and "security" not in uri:
                return uri.rstrip("/")
    return "http://deb.debian.org/debian"


def cache_path():
    key = hashlib.sha256((SUITE + "\n" + "\n".join(sorted(PACKAGES))).encode()).hexdigest()[:16]
    return os.path.join(CACHE, "rootfs-" + key)


def ensure(log=print, timeout=900):
    """Returns the cached root, building it first if it does not exist."""
    root = cache_path()
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(root + ".complete"):
            return root
        work = root + ".building"
        shutil.rmtree(work, ignore_errors=True)
        mirror = apt_mirror()
        log("debootstrap %s from %s into %s (once; cached)" % (SUITE, mirror, root))
        subprocess.run(["debootstrap", "--variant=minbase",
                        "--include=" + ",".join(PACKAGES), SUITE, work, mirror],
                       check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Smaller and quicker to clone: apt's caches are not needed.
        shutil.rmtree(os.path.join(work, "var/cache/apt/archives"), ignore_errors=True)
        os.makedirs(os.path.join(work, "var/cache/apt/archives/partial"), exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)
        os.rename(work, root)
        open(root + ".complete", "w").close()
        return root


if __name__ == "__main__":
    print(ensure())
