#!/usr/bin/python3
"""Client parameters are data, never syntax (issue 13, finding 1), through
the real chain: receive, sign and deliver (mode = mx) on one spool, the
recipients' MX and the sender's MX both WireSinks (sink.py) that
keep every command line exactly as it arrived.

First the findings as reproduced: an ORCPT whose address type decodes to
CR LF RSET CR LF MAIL FROM made the remote server see a second
transaction, and an ENVID with CR LF put a header line into the bounce.
Both must now be refused by receive with 501 5.5.4, and no command the
sinks see may hold anything a client chose but the values themselves.

Then a property over many generated MAIL and RCPT parameter lines, checked
against a model of the RFC grammars written here independently of the C
code: receive takes exactly what the model takes (250, else 501, 555 or
552 as the model says); for each message taken, the MAIL and RCPT lines
on the wire are exactly the model's (values re-encoded in the shortest
xtext), and for each message refused by the remote the sender's report
holds exactly the report's fields, with Original-Envelope-Id and
Original-Recipient equal to the values the client gave."""
import email
import email.policy
import os
import random
import re
import socket

import netns

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "params-wire", "suites": ["chain", "receive", "deliver"], "timeout": 180,
              "parallel": False}

netns.enter(["203.0.113.30", "203.0.113.31"])

import pochtar  # noqa: E402
import signlib  # noqa: E402
from sink import WireSink, tear_down  # noqa: E402

BIN = pochtar.binaries("receive", "sign", "deliver")
SEED = int(os.environ.get("POCHTAR_TEST_SEED", "13"))
ROUNDS = 300
MAX_SIZE = 10240000

# ---- the model: RFC 1870, 6152, 6531, 3461, 4954, from the RFCs' text ----


def xtext_decode(v):
    out, i = bytearray(), 0
    while i < len(v):
        c = v[i]
        if c == 0x2B:
            h = v[i + 1:i + 3]
            if len(h) != 2 or not re.fullmatch(rb"[0-9A-F]{2}", h):
                return None
            out.append(int(h, 16))
            i += 3
        elif 33 <= c <= 126 and c != 0x3D:
            out.append(c)
            i += 1
        else:
            return None
    return bytes(out)


def xtext_min(b):
    return b"".join(bytes([c]) if 33 <= c <= 126 and c not in (0x2B, 0x3D) else b"+%02X" % c for c in b)


def printable(b):
    return all(0x20 <= c <= 0x7E for c in b)


def printable_utf8(b):
    try:
        s = b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(not (ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F) for ch in s)


def split_params(text):
    """RFC 5321 esmtp-param list; None for a syntax error."""
    params = []
    for word in text.split(b" "):
        if not word:
            continue
        m = re.fullmatch(rb"([A-Za-z0-9][A-Za-z0-9-]*)(?:=([^\x00-\x20=\x7f]+))?", word)
        if not m:
            return None
        params.append((m.group(1), m.group(2)))
    return params


AUTH_VALUES = {b"<>": True, b"+3C+3E": True, b"app@example.com": True, b"a+2Bb@example.com": True,
               b"x+0D+0Ay": False, b"noatsign": False, b"+4": False}
NOTIFY_NAMES = (b"NEVER", b"SUCCESS", b"FAILURE", b"DELAY")


def model_mail(text):
    """(code, values) the way receive must answer MAIL with these parameters."""
    params = split_params(text)
    if params is None:
        return 501, None
    seen, out = set(), {}
    for k, v in params:
        key = k.upper()
        if key not in (b"SIZE", b"BODY", b"SMTPUTF8", b"RET", b"ENVID", b"AUTH"):
            return 555, None
        if key in seen:
            return 501, None
        seen.add(key)
        if key == b"SMTPUTF8":
            if v is not None:
                return 501, None
            continue
        if v is None:
            return 501, None
        if key == b"SIZE":
            if not re.fullmatch(rb"[0-9]{1,20}", v) or int(v) >= 2 ** 64:
                return 501, None
            out["size"] = int(v)
        elif key == b"BODY":
            if v.upper() not in (b"7BIT", b"8BITMIME"):
                return 501, None
            out["body"] = v.upper()
        elif key == b"RET":
            if v.upper() not in (b"FULL", b"HDRS"):
                return 501, None
            out["ret"] = v.upper()
        elif key == b"ENVID":
            d = xtext_decode(v)
            if len(v) > 100 or d is None or not d or not printable(d):
                return 501, None
            out["envid"] = d
        elif key == b"AUTH":
            if not AUTH_VALUES[v]:
                return 501, None
    if out.get("size", 0) > MAX_SIZE:
        return 552, None
    return 250, out


def model_rcpt(text):
    params = split_params(text)
    if params is None:
        return 501, None
    seen, out = set(), {}
    for k, v in params:
        key = k.upper()
        if key not in (b"NOTIFY", b"ORCPT"):
            return 555, None
        if key in seen:
            return 501, None
        seen.add(key)
        if v is None:
            return 501, None
        if key == b"NOTIFY":
            names = v.upper().split(b",")
            if any(n not in NOTIFY_NAMES for n in names) or len(set(names)) != len(names) or \
                    (b"NEVER" in names and len(names) > 1):
                return 501, None
            out["notify"] = [n for n in NOTIFY_NAMES if n in names]
        else:
            m = re.match(rb"([A-Za-z0-9-]{1,32});", v)
            d = xtext_decode(v)
            if not m or len(v) > 500 or d is None:
                return 501, None
            kind, addr = m.group(1), d[len(m.group(1)) + 1:]
            ok = printable_utf8(addr) if kind.lower() == b"utf-8" else printable(addr)
            if not addr or not ok or b"\0" in addr:
                return 501, None
            out["orcpt"] = (kind, addr)
    return 250, out


def wire_mail(values, size):
    line = b"MAIL FROM:<app@example.com> SIZE=%d" % size
    if values.get("body") == b"8BITMIME":
        line += b" BODY=8BITMIME"
    if "ret" in values:
        line += b" RET=" + values["ret"]
    if "envid" in values:
        line += b" ENVID=" + xtext_min(values["envid"])
    return line


def wire_rcpt(values, rcpt):
    line = b"RCPT TO:<%s>" % rcpt
    if "notify" in values:
        line += b" NOTIFY=" + b",".join(values["notify"])
    if "orcpt" in values:
        kind, addr = values["orcpt"]
        line += b" ORCPT=" + kind + b";" + xtext_min(addr)
    return line


# ---- the generator ----

PIECES = [b"a", b"Q", b"bob@example.org", b"rfc822", b"utf-8", b";", b"+0D", b"+0A", b"+0D+0A", b"+00",
          b"+09", b"+7F", b"+20", b"+2B", b"+3D", b"+3B", b"+C3+A9", b"+D0+BF", b"+C2+85", b"+4", b"+4a",
          b"+", b"=", b"RSET", b"MAIL+20FROM:<e@x.org>", b"-", b"\x80", b"\x01", b"FULL", b"HDRS", b"7BIT",
          b"8BITMIME", b"NEVER", b"SUCCESS", b"FAILURE", b"DELAY", b",", b"123", b"99999999999999999999"]
VALID = {
    b"SIZE": [b"0", b"1234", b"10240000", b"18446744073709551615"],
    b"BODY": [b"7BIT", b"8BITMIME", b"8bitmime"],
    b"RET": [b"FULL", b"HDRS", b"hdrs"],
    b"ENVID": [b"QQ314159", b"a+20b", b"+2B+3D", b"x+7E"],
    b"NOTIFY": [b"NEVER", b"SUCCESS,FAILURE", b"delay", b"FAILURE,DELAY,SUCCESS", b"FAILURE"],
    b"ORCPT": [b"rfc822;bob@example.org", b"RFC822;b+2Bx@example.org", b"utf-8;+D0+BF@example.org",
               b"x400;c+3Dus+3Ba+3Dx"],
}


def gen_params(rng, keys):
    words = []
    for _ in range(rng.randrange(4)):
        key = rng.choice(keys)
        if key == b"SMTPUTF8" and rng.randrange(4):
            words.append(key)
            continue
        if rng.randrange(8) == 0:
            words.append(key)
            continue
        if key == b"AUTH":
            v = rng.choice(sorted(AUTH_VALUES))
        elif key in VALID and rng.randrange(6):
            v = rng.choice(VALID[key])
        else:
            v = b"".join(rng.choice(PIECES) for _ in range(1 + rng.randrange(5)))
        words.append(key + b"=" + v)
    return b" ".join(words)


def gen_xtext(rng, n):
    """Random printable US-ASCII as a client may encode it: "+", "=" and
    SP must be escaped, any other character may be (upper-case hex)."""
    out = b""
    for _ in range(n):
        c = rng.randrange(0x20, 0x7F)
        if c in (0x20, 0x2B, 0x3D) or rng.randrange(5) == 0:
            out += b"+%02X" % c
        else:
            out += bytes([c])
    return out


# ---- an SMTP client that sends bytes as given ----


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10 * pochtar.TIMEOUT_SCALE)
        self.f = self.sock.makefile("rb")
        self.reply()
        self.cmd(b"EHLO client.example.com")

    def reply(self):
        lines = []
        while True:
            line = self.f.readline()
            assert line, "receive closed the connection"
            lines.append(line)
            if line[3:4] != b"-":
                return int(line[:3]), b"".join(lines)

    def cmd(self, line):
        self.sock.sendall(line + b"\r\n")
        return self.reply()

    def close(self):
        try:
            self.cmd(b"QUIT")
        except (OSError, AssertionError):
            pass
        self.sock.close()


def send(port, mail_params, rcpt, rcpt_params, subject):
    """One transaction: (MAIL code, RCPT code or None, DATA code or None)."""
    c = Client(port)
    try:
        code, _ = c.cmd(b"MAIL FROM:<app@example.com>" + (b" " + mail_params if mail_params else b""))
        if code != 250:
            return code, None, None
        rcode, _ = c.cmd(b"RCPT TO:<%s>" % rcpt + (b" " + rcpt_params if rcpt_params else b""))
        if rcode != 250:
            return code, rcode, None
        dcode, _ = c.cmd(b"DATA")
        assert dcode == 354, dcode
        dcode, _ = c.cmd(b"From: app@example.com\r\nTo: <%s>\r\nSubject: %s\r\n\r\nhello\r\n." % (rcpt, subject))
        return code, rcode, dcode
    finally:
        c.close()


def report_fields(message):
    """The report's header (parsed) and its delivery-status part's fields
    as raw bytes [(name, value)], the value exactly as after ": " (a
    parser would strip the spaces an ENVID may start or end with)."""
    msg = email.message_from_bytes(message, policy=email.policy.compat32)
    boundary = msg.get_param("boundary")
    if not boundary:
        return msg, None
    parts = message.split(b"\r\n--" + boundary.encode())
    for part in parts:
        head, _, body = part.partition(b"\r\n\r\n")
        if b"Content-Type: message/delivery-status" in head:
            fields = []
            for line in body.split(b"\r\n"):
                if line:
                    name, sep, value = line.partition(b": ")
                    fields.append((name.decode(), value if sep else None))
            return msg, fields
    return msg, None


work, spool = pochtar.new_work_dir("pochtar-params-wire-")
check = pochtar.Checks()
dns = netns.Dnsmasq()
dns.mx_at("example.org", "203.0.113.30")
dns.mx_at("example.com", "203.0.113.31")
dns.start()
rcpt_sink = WireSink("203.0.113.30", refuse=["reject@example.org"])
bounce_sink = WireSink("203.0.113.31")
key, _ = signlib.new_published_key(work, "mail")
port = pochtar.free_port()
config = pochtar.write_chain_config(work, spool.root, port, key, deliver="""
mode = mx
helo_name = mail.example.com
retry_min = 1h
connect_timeout = 5s
""")
daemons = []
try:
    daemons = [pochtar.Daemon([BIN[s], "--config", config]) for s in ("deliver", "sign", "receive")]
    pochtar.wait_until_smtp_answers(port)

    # ---- the findings as reproduced on main ----
    evil_orcpt = b"ORCPT=rfc822+0D+0ARSET+0D+0AMAIL+20FROM:<evil@example.net>;x@y"
    codes = send(port, b"", b"bob@example.org", evil_orcpt, b"finding-1-orcpt")
    check(codes[1] == 501, "an ORCPT whose address type decodes to CR LF RSET ... is refused (%s)" % (codes,))
    codes = send(port, b"ENVID=x+0D+0AX-Injected:+20yes", b"reject@example.org", b"", b"finding-1-envid")
    check(codes[0] == 501, "an ENVID with CR LF is refused (%s)" % (codes,))

    # ---- the property ----
    rng = random.Random(SEED)
    expected, bounces, agree = {}, {}, 0
    for n in range(ROUNDS):
        refuse = n % 4 == 0
        if refuse:
            # valid ENVID and ORCPT of every shape, to see them in the report
            mp = gen_params(rng, [b"SIZE", b"BODY", b"RET", b"AUTH"])
            mp = (mp + b" " if mp else b"") + b"ENVID=" + gen_xtext(rng, 1 + rng.randrange(25))
            rp = b"ORCPT=" + rng.choice([b"rfc822", b"RFC822", b"x400", b"unknown"]) + b";" + \
                gen_xtext(rng, 1 + rng.randrange(60))
            if rng.randrange(3) == 0:
                rp += b" NOTIFY=" + rng.choice(VALID[b"NOTIFY"])
        else:
            mp = gen_params(rng, [b"SIZE", b"BODY", b"SMTPUTF8", b"RET", b"ENVID", b"AUTH", b"X-FOO"])
            rp = gen_params(rng, [b"NOTIFY", b"ORCPT", b"SIZE"])
        rcpt = b"reject@example.org" if refuse else b"bob@example.org"
        subject = b"param-test-%d" % n
        want_mail, mvals = model_mail(mp)
        want_rcpt, rvals = model_rcpt(rp) if want_mail == 250 else (None, None)
        got = send(port, mp, rcpt, rp, subject)
        ok = got[0] == want_mail and (want_mail != 250 or got[1] == want_rcpt)
        agree += ok
        if not ok:
            check(False, "receive answers %r %r as the grammar says: %s, model %s %s" % (mp, rp, got, want_mail,
                                                                                       want_rcpt))
            continue
        if want_mail == 250 and want_rcpt == 250:
            check(got[2] == 250, "message %d accepted after DATA" % n)
            if refuse:
                notify = rvals.get("notify")
                if notify is None or b"FAILURE" in notify:
                    bounces[subject] = (mvals, rvals)
            else:
                expected[subject] = (mvals, rvals)
    print("%d of %d parameter lines answered as the model says; %d delivered, %d bounced" %
          (agree, ROUNDS, len(expected), len(bounces)))
    check(agree == ROUNDS, "receive agrees with the model on every line")
    with_values = [s for s, (m, r) in bounces.items() if "envid" in m and "orcpt" in r]
    check(len(expected) >= 30 and len(with_values) >= 20,
          "the generator reaches delivered mail and reports with ENVID and ORCPT (%d)" % len(with_values))

    def delivered():
        with rcpt_sink.lock:
            return len(rcpt_sink.transactions) >= len(expected)

    def reported():
        with bounce_sink.lock:
            return len(bounce_sink.transactions) >= len(bounces)
    pochtar.wait_for(delivered, timeout=60, what="every accepted message at the recipients' MX")
    pochtar.wait_for(reported, timeout=60, what="every bounce at the sender's MX")

    # the wire, message by message
    seen = set()
    for t in rcpt_sink.transactions:
        m = re.search(rb"\r\nSubject: (param-test-\d+)\r\n", t["data"])
        if not m or m.group(1) not in expected:
            check(False, "an unexpected transaction at the MX: %r" % (t["lines"],))
            continue
        subject = m.group(1)
        seen.add(subject)
        mvals, rvals = expected[subject]
        want = [wire_mail(mvals, len(t["data"])), wire_rcpt(rvals, b"bob@example.org"), b"DATA"]
        if t["lines"] != want:
            check(False, "%s: wire %r, model %r" % (subject.decode(), t["lines"], want))
    check(seen == set(expected), "each accepted message reached the MX once (%d)" % len(seen))

    # the reports
    got_reports = set()
    for t in bounce_sink.transactions:
        msg, fields = report_fields(t["data"])
        check(t["lines"][0].startswith(b"MAIL FROM:<> SIZE=%d" % len(t["data"])), "a report comes from <>")
        m = re.search(rb"Subject: (param-test-\d+|finding-1-envid)", t["data"])
        names = [k for k, _ in fields or []]
        check(fields is not None and set(names) <= {
                  "Reporting-MTA", "X-Pochtar-Queue-ID", "Original-Envelope-Id", "Arrival-Date", "Final-Recipient",
                  "Original-Recipient", "Action", "Status", "Remote-MTA", "Diagnostic-Code"} and
              names.count("Final-Recipient") == 1,
              "%s: the report's fields are RFC 3464's (%s)" % (m.group(1).decode() if m else "?", names))
        if fields is None or not m or m.group(1) not in bounces:
            check(False, "an unexpected message at the sender's MX: %r" % t["data"][:300])
            continue
        subject = m.group(1)
        got_reports.add(subject)
        mvals, rvals = bounces[subject]
        envid = [v for k, v in fields if k == "Original-Envelope-Id"]
        want = [mvals["envid"]] if "envid" in mvals else []
        check(envid == want, "%s: Original-Envelope-Id %r, given %r" % (subject.decode(), envid, want))
        orcpt = [v for k, v in fields if k == "Original-Recipient"]
        want = []
        if "orcpt" in rvals and printable(rvals["orcpt"][1]):
            want = [rvals["orcpt"][0] + b";" + rvals["orcpt"][1]]
        check(orcpt == want, "%s: Original-Recipient %r, given %r" % (subject.decode(), orcpt, want))
        check([k for k in msg.keys() if k != "DKIM-Signature"] ==
              ["Date", "From", "To", "Subject", "Message-ID", "Auto-Submitted", "MIME-Version", "Content-Type"],
              "%s: the report's header is its own (%s)" % (subject.decode(), msg.keys()))
    check(got_reports == set(bounces), "each refused message got one report (%d)" % len(got_reports))

    # nothing any client chose became a command
    for sink in (rcpt_sink, bounce_sink):
        for line in sink.commands:
            verb = line.split(b" ", 1)[0].upper()
            if verb not in (b"EHLO", b"MAIL", b"RCPT", b"DATA", b"QUIT", b"RSET") or b"evil" in line:
                check(False, "a command the client chose reached the MX: %r" % line)
    check(not spool.ids("quarantine"), "nothing quarantined")
finally:
    tear_down(work, daemons, [rcpt_sink, bounce_sink, dns], failed=bool(check.failures))
check.exit("params wire ok")
