# SPDX-License-Identifier: MIT
"""Starting and stopping the benchmark's processes: waiting for a port,
stopping a child politely and then not."""
import socket
import subprocess
import time


def wait_port(host, port, proc, timeout=10, banner=True):
    """Until host:port accepts (and, for SMTP, sends its greeting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process listening on %s:%d exited" % (host, port))
        try:
            with socket.create_connection((host, port), timeout=1) as s:
                if banner:
                    s.recv(512)
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing answers on %s:%d" % (host, port))


def stop(proc, timeout=10):
    """SIGTERM, then SIGKILL if it has not exited after `timeout` s."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
