"""Helpers for pochtar-sign's integration tests: keys, a DNS function
serving their public keys to python3-dkim, and the signer run over a
private spool. Public keys are derived here with python3-cryptography,
independently of pochtar's own code."""
import base64
import os
import subprocess

import pochtar

try:
    import dkim  # noqa: F401
    from cryptography.hazmat.primitives import serialization
except ImportError as e:
    pochtar.skip("python3-dkim / python3-cryptography missing: %s" % e)

SIGN = os.environ.get("POCHTAR_SIGN")
CLI = os.environ.get("POCHTAR")
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sign-corpus")
CANONS = ("simple/simple", "simple/relaxed", "relaxed/simple", "relaxed/relaxed")


def need_binaries():
    if not SIGN or not os.access(SIGN, os.X_OK):
        pochtar.skip("POCHTAR_SIGN not set")


def make_key(directory, name, kind):
    path = os.path.join(directory, name + ".private")
    if kind == "rsa":
        subprocess.run(["openssl", "genrsa", "-traditional", "-out", path, "2048"],
                       check=True, stderr=subprocess.DEVNULL)
    else:
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", path], check=True)
    return path


def public_record(path):
    key = serialization.load_pem_private_key(open(path, "rb").read(), None).public_key()
    try:
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        kind = "ed25519"
    except ValueError:
        raw = key.public_bytes(serialization.Encoding.DER,
                               serialization.PublicFormat.SubjectPublicKeyInfo)
        kind = "rsa"
    return ("v=DKIM1; k=%s; p=%s" % (kind, base64.b64encode(raw).decode())).encode()


def new_published_key(directory, selector, kind="rsa", domain="example.com"):
    """A new key in directory and a Dns publishing its public key under
    selector for domain: (key path, Dns)."""
    key = make_key(directory, selector, kind)
    dns = Dns()
    dns.add(selector, domain, public_record(key))
    return key, dns


class Dns:
    """dnsfunc for dkim.verify: TXT records by name."""

    def __init__(self):
        self.records = {}

    def add(self, selector, domain, record):
        self.records["%s._domainkey.%s." % (selector, domain)] = record

    def __call__(self, name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        return self.records.get(name if name.endswith(".") else name + ".")


def corpus():
    """(name, message bytes) of every corpus file, plus a generated 5 MB body."""
    out = []
    for name in sorted(os.listdir(CORPUS)):
        if name.endswith(".eml"):
            with open(os.path.join(CORPUS, name), "rb") as f:
                out.append((name, f.read()))
    line = b"The quick brown fox jumps over the lazy dog, 0123456789 \t times.  \r\n"
    big = (b"From: Joe <joe@example.com>\r\nTo: ann@example.net\r\nSubject: 5 MB\r\n\r\n"
           + line * (5 * 1024 * 1024 // len(line) + 1))
    out.append(("generated-5mb", big))
    return out


def signer_config(spool, sign_section, extra=""):
    return pochtar.write_config(spool.root, "[spool]\ndir = %s\n[sign]\n%s\n%s" % (
        spool.root, sign_section, extra))


def run_signer(spool, config, messages, timeout=30, env=None):
    """Injects messages into incoming/, runs pochtar-sign until all are
    handed on, returns ({qid: (envelope, message)}, daemon output)."""
    ids = [spool.inject("incoming", "joe@example.com", ["ann@example.net"], m) for m in messages]
    d = pochtar.Daemon([SIGN, "--config", config], env=env)
    try:
        pochtar.wait_for(lambda: not spool.ids("incoming") and
                         len(spool.ids("signed")) + len(spool.ids("quarantine")) >= len(ids),
                         timeout=timeout, what="signer to hand on %d messages" % len(ids))
    finally:
        rc = d.stop()
    out = d.output()
    assert rc == 0, "pochtar-sign exited %r:\n%s" % (rc, out)
    return {qid: spool.read("signed", qid) for qid in ids if qid in spool.ids("signed")}, ids, out


def header_value(message, name):
    head = message.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    fields = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and fields:
            fields[-1] += "\r\n" + line
        else:
            fields.append(line)
    return [f.split(":", 1)[1] for f in fields if f.split(":", 1)[0].lower() == name.lower()]


def tag(sig_value, name):
    for part in sig_value.replace("\r\n", "").replace("\t", "").replace(" ", "").split(";"):
        k, _, v = part.partition("=")
        if k == name:
            return v
    return None


def verifies(message, idx, dns):
    """python3-dkim's verdict on signature idx; a raised ValidationError is a failure."""
    import dkim
    try:
        return bool(dkim.DKIM(message).verify(idx=idx, dnsfunc=dns))
    except dkim.ValidationError:
        return False
