"""Private network + mount namespaces with a real DNS server, for tests.

    netns.enter(["203.0.113.25"])   # re-execs this test inside new namespaces
    dns = netns.Dnsmasq()
    dns.mx("example.org", "mx.example.org", 10)
    dns.a("mx.example.org", "203.0.113.25")
    dns.start()

Inside, `lo` is up and carries the test addresses (this kernel has no
`dummy` links; TEST-NET-3 203.0.113.0/24, never 192.0.2.0/24 which the
machine itself uses), and /etc/resolv.conf is bind-mounted to point at
dnsmasq on 127.0.0.1, so libresolv in the code under test asks it. No
packet can leave: the namespace has no other interface.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

_MARK = "POCHTAR_IN_NETNS"


def enter(addresses=()):
    """Re-exec the running script in fresh net+mount namespaces (needs root)."""
    if os.environ.get(_MARK) != "1":
        if os.geteuid() != 0 or not shutil.which("unshare"):
            print("SKIP: network namespaces need root and unshare(1)")
            raise SystemExit(77)
        env = dict(os.environ, **{_MARK: "1"})
        argv = ["unshare", "--net", "--mount", "--propagation", "private", "--",
                sys.executable] + sys.argv
        os.execvpe("unshare", argv, env)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for a in addresses:
        subprocess.run(["ip", "addr", "add", a + "/32", "dev", "lo"], check=True)
    fd, path = tempfile.mkstemp(prefix="resolv-")
    with os.fdopen(fd, "w") as f:
        f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    os.chmod(path, 0o644)
    subprocess.run(["mount", "--bind", path, "/etc/resolv.conf"], check=True)


def _start_servfail_responder():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))

    def serve():
        while True:
            query, peer = sock.recvfrom(512)
            if len(query) < 12:
                continue
            # same id and question, QR=1, RD/RA, RCODE=2 (SERVFAIL)
            reply = query[:2] + bytes([0x81, 0x82]) + query[4:6] + bytes(6) + query[12:]
            sock.sendto(reply, peer)

    threading.Thread(target=serve, daemon=True).start()
    return sock.getsockname()[1]


class Dnsmasq:
    """dnsmasq answering only from the records given; names under `local`
    domains that have no record get NXDOMAIN."""

    def __init__(self, local=("test", "example.org", "example.com", "example.net")):
        self.args = ["--no-resolv", "--no-hosts", "--no-daemon", "--conf-file=/dev/null",
                     "--listen-address=127.0.0.1", "--bind-interfaces", "--port=53",
                     "--user=root", "--pid-file"]
        self.args += ["--local=/%s/" % d for d in local]
        self.proc = None
        self._servfail_port = 0

    def mx(self, domain, host, pref=10):
        self.args.append("--mx-host=%s,%s,%d" % (domain, host, pref))

    def mx_at(self, domain, ip, pref=10):
        """domain's mail goes to mx.<domain> at ip: the MX and its A record."""
        host = "mx." + domain
        self.mx(domain, host, pref)
        self.a(host, ip)
        return host

    def null_mx(self, domain):
        # RFC 7505: preference 0, exchange "." -- raw RDATA 0000 00
        self.args.append("--dns-rr=%s,15,000000" % domain)

    def a(self, name, ip):
        self.args.append("--host-record=%s,%s" % (name, ip))

    def txt(self, name, *strings):
        self.args.append("--txt-record=%s,%s" % (name, ",".join(strings)))

    def ptr(self, ip, name):
        rev = ".".join(reversed(ip.split("."))) + ".in-addr.arpa"
        self.args.append("--ptr-record=%s,%s" % (rev, name))

    def servfail(self, domain):
        """Queries for domain are forwarded to a responder that answers
        SERVFAIL (rcode 2), which dnsmasq passes on."""
        if not self._servfail_port:
            self._servfail_port = _start_servfail_responder()
        self.args.append("--server=/%s/127.0.0.1#%d" % (domain, self._servfail_port))

    def start(self):
        self.proc = subprocess.Popen(["dnsmasq"] + self.args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dnsmasq failed: " + self.proc.stderr.read().decode())
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                # a minimal query for "." type NS; any answer means it is up
                s.settimeout(0.2)
                try:
                    # header (id 0x1234, RD, one question), name ".", type NS, class IN
                    s.sendto(bytes.fromhex("123401000001000000000000" "00" "0002" "0001"),
                             ("127.0.0.1", 53))
                    s.recv(512)
                    return self
                except OSError:
                    time.sleep(0.05)
        raise RuntimeError("dnsmasq did not answer")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)


class Peer:
    """A second network namespace joined to this one by a veth pair: another
    host on the network, such as an app server that submits mail. Its
    programs run with `ip netns exec`; the namespace (and the veth with
    it) goes away in stop(), and with this test's own namespace anyway.

        app = netns.Peer().start()     # here 203.0.113.1, there 203.0.113.2
        app.run(["swaks", "--server", "203.0.113.1:587", ...])
    """

    def __init__(self, name="app", here="203.0.113.1", there="203.0.113.2"):
        self.name, self.here, self.there = name, here, there

    def start(self):
        def ip(*args):
            subprocess.run(["ip"] + list(args), check=True)
        ip("netns", "add", self.name)
        ip("link", "add", "to-" + self.name, "type", "veth", "peer", "name", "eth0", "netns", self.name)
        ip("addr", "add", self.here + "/24", "dev", "to-" + self.name)
        ip("link", "set", "to-" + self.name, "up")
        ip("-n", self.name, "link", "set", "lo", "up")
        ip("-n", self.name, "addr", "add", self.there + "/24", "dev", "eth0")
        ip("-n", self.name, "link", "set", "eth0", "up")
        return self

    def argv(self, argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def run(self, argv, **kwargs):
        """subprocess.run() of argv inside the peer; output captured as text."""
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        kwargs.setdefault("timeout", 60)
        return subprocess.run(self.argv(argv), **kwargs)

    def popen(self, argv, **kwargs):
        return subprocess.Popen(self.argv(argv), **kwargs)

    def stop(self):
        subprocess.run(["ip", "netns", "del", self.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
