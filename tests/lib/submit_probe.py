#!/usr/bin/python3
"""An app server's side of submission, for tests that run it in another
network namespace (netns.Peer): one scenario a call, its result as JSON on
stdout.

    submit_probe.py SCENARIO '{"host": "203.0.113.1", ...}'

Scenarios: send (smtplib: STARTTLS or implicit TLS, AUTH, one message),
raw (a scripted conversation over a socket, TLS when asked), resume (two
implicit-TLS connections, the second with the first's session), load
(threads that keep a session each and send until told to stop)."""
import json
import os
import smtplib
import socket
import ssl
import sys
import threading
import time


def context(a):
    ctx = ssl.create_default_context(cafile=a["ca"])
    # smtplib checks the name against the address it connected to; the
    # chain is still verified (s_client and swaks check the name)
    ctx.check_hostname = False
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if a.get("tls_max"):
        ctx.maximum_version = getattr(ssl.TLSVersion, a["tls_max"])
    return ctx


def peer_serial(sock):
    der = sock.getpeercert(binary_form=True)
    return der.hex()[-64:] if der else None


def connect(a, ctx):
    if a.get("implicit"):
        c = smtplib.SMTP_SSL(a["host"], a["port"], local_hostname="web1.example.com", timeout=30, context=ctx)
    else:
        c = smtplib.SMTP(a["host"], a["port"], local_hostname="web1.example.com", timeout=30)
    return c


def message(a, n=0):
    return ("From: %s\r\nTo: %s\r\nSubject: %s %d\r\nMessage-ID: <%d.%f@web1.example.com>\r\n\r\nhello %d\r\n" % (
        a.get("header_from", a["sender"]), ", ".join(a["rcpts"]), a.get("subject", "test"), n, n, time.time(),
        n)).encode()


def scenario_send(a):
    ctx = context(a)
    out = {"ok": False}
    c = connect(a, ctx)
    try:
        c.ehlo()
        out["features_before"] = sorted(c.esmtp_features)
        if not a.get("implicit") and not a.get("no_starttls"):
            c.starttls(context=ctx)
            c.ehlo()
        out["features_after"] = sorted(c.esmtp_features)
        if c.sock and isinstance(c.sock, ssl.SSLSocket):
            out["tls"] = [c.sock.version(), c.sock.cipher()[0]]
            out["cert"] = peer_serial(c.sock)
        if a.get("user") is not None:
            t = time.monotonic()
            try:
                if a.get("mech"):
                    c.user, c.password = a["user"], a["password"]
                    code, resp = c.auth(a["mech"], getattr(c, "auth_" + a["mech"].lower()), initial_response_ok=True)
                else:
                    code, resp = c.login(a["user"], a["password"])
                out["auth"] = [code, resp.decode()]
            except smtplib.SMTPException as e:
                out["auth"] = [getattr(e, "smtp_code", -1), str(getattr(e, "smtp_error", e))]
                out["auth_seconds"] = time.monotonic() - t
                return out
            out["auth_seconds"] = time.monotonic() - t
        for n in range(a.get("count", 1)):
            try:
                refused = c.sendmail(a["sender"], a["rcpts"], message(a, n))
                out["refused"] = refused
                out["ok"] = True
            except smtplib.SMTPException as e:
                out["ok"] = False
                out["error"] = [getattr(e, "smtp_code", None), str(e)]
                break
        c.quit()
    except (OSError, smtplib.SMTPException) as e:
        out["error"] = [getattr(e, "smtp_code", None), str(e)]
    return out


def read_reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            return lines
        lines.append(line.decode().rstrip("\r\n"))
        if len(line) < 4 or line[3:4] != b"-":
            return lines


def scenario_raw(a):
    """ops: ["send", text] | ["read"] (one reply) | ["tls"] (handshake now)"""
    ctx = context(a)
    s = socket.create_connection((a["host"], a["port"]), timeout=30)
    f = s.makefile("rb")
    replies = []
    try:
        for op in a["ops"]:
            if op[0] == "send":
                s.sendall(op[1].encode())
            elif op[0] == "read":
                replies.append(read_reply(f))
            elif op[0] == "tls":
                s = ctx.wrap_socket(s, server_hostname=a.get("name", "mail.example.com"))
                f = s.makefile("rb")
                replies.append(["TLS " + s.version()])
    except (OSError, ssl.SSLError) as e:
        replies.append(["error: %s" % e])
    s.close()
    return {"replies": replies}


def scenario_resume(a):
    ctx = context(a)
    out = []
    session = None
    for _ in range(a.get("connections", 2)):
        raw = socket.create_connection((a["host"], a["port"]), timeout=30)
        s = ctx.wrap_socket(raw, server_hostname=a.get("name", "mail.example.com"), session=session)
        f = s.makefile("rb")
        greeting = read_reply(f)
        s.sendall(b"QUIT\r\n")
        read_reply(f)          # the 221, after which TLS 1.3 tickets have arrived
        out.append({"greeting": greeting, "reused": s.session_reused, "version": s.version()})
        session = s.session
        s.close()
    return {"connections": out}


def scenario_load(a):
    """Each thread keeps a session and sends until the file a["stop"]
    exists; then reports what it sent, what failed and the certificates
    it saw (a new connection per a["per_connection"] messages)."""
    ctx = context(a)
    results = []
    lock = threading.Lock()

    def worker(k):
        sent, failed, certs, n = 0, [], set(), 0
        while not os.path.exists(a["stop"]):
            try:
                c = connect(a, ctx)
                c.ehlo()
                c.starttls(context=ctx)
                c.ehlo()
                certs.add(peer_serial(c.sock))
                c.login(a["user"], a["password"])
                for _ in range(a.get("per_connection", 20)):
                    if os.path.exists(a["stop"]):
                        break
                    c.sendmail(a["sender"], a["rcpts"], message(a, k * 1000000 + n))
                    n += 1
                    sent += 1
                c.quit()
            except (OSError, smtplib.SMTPException) as e:
                failed.append(str(e))
                time.sleep(0.2)
        with lock:
            results.append({"sent": sent, "failed": failed, "certs": sorted(c for c in certs if c)})

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(a.get("threads", 4))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"threads": results}


if __name__ == "__main__":
    args = json.loads(sys.argv[2])
    print(json.dumps(globals()["scenario_" + sys.argv[1]](args)))
