#!/usr/bin/python3
"""pochtar dns check against a real DNS server (dnsmasq) in a private
network namespace: a correct zone passes every check; then each record is
removed or broken in turn, and the failure must be reported with the
record that fixes it."""
import base64
import os
import subprocess
import sys
import tempfile

import netns
from pochtar import binary, skip, write_config

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "cli-dns-check", "suites": ["cli"], "timeout": 60}

POCHTAR = binary("pochtar")
for tool in ("dnsmasq", "openssl", "ip"):
    if not any(os.access(os.path.join(d, tool), os.X_OK)
               for d in os.environ.get("PATH", "").split(":") + ["/usr/sbin", "/sbin"]):
        skip(tool + " not installed")

netns.enter()
os.environ["PATH"] += ":/usr/sbin:/sbin"

IP = "203.0.113.7"
REV = "7.113.0.203.in-addr.arpa"
work = tempfile.mkdtemp(prefix="pochtar-dns-")


def genkey(name, kind="rsa"):
    path = os.path.join(work, name + ".private")
    if kind == "rsa":
        subprocess.run(["openssl", "genrsa", "-out", path, "2048"], check=True, capture_output=True)
    else:
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", path], check=True,
                       capture_output=True)
    der = subprocess.run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    if kind == "ed25519":
        der = der[-32:]          # RFC 8463 §4: the raw key, the tail of the SPKI
    return path, base64.b64encode(der).decode()


KEY, P = genkey("mail")
OTHER_KEY, OTHER_P = genkey("other")
ED_KEY, ED_P = genkey("ed", "ed25519")

keytable = os.path.join(work, "keytable")
with open(keytable, "w") as f:
    f.write("# OpenDKIM key table\n")
    f.write("ed._domainkey.example.com example.com:ed:%s\n" % ED_KEY)
    f.write("x._domainkey.example.net example.net:x:/nonexistent\n")
    f.write("any %:pct:" + ED_KEY + "\n")       # OpenDKIM: "%" is the From: domain


def config(domain="example.com", helo="mail.example.com", with_keytable=True):
    text = "[spool]\ndir = %s\n[sign]\ndomain = %s\nselector = mail\nkey = %s\n" % (work, domain, KEY)
    if with_keytable:
        text += "key_table = %s\n" % keytable
    if helo:
        text += "[deliver]\nhelo_name = %s\n" % helo
    return write_config(work, text)


def chunks(s, n=255):
    return [s[i:i + n] for i in range(0, len(s), n)]


def good_zone():
    return {
        "mx": [("example.com", "mx.example.com", 10)],
        "a": [("mx.example.com", "203.0.113.25"), ("mail.example.com", IP),
              ("example.com", "203.0.113.80")],
        "txt": {
            "example.com": [["v=spf1 mx include:_spf.example.net -all"]],
            "_spf.example.net": [["v=spf1 ip4:203.0.113.0/28 ~all"]],
            "mail._domainkey.example.com": [["v=DKIM1; k=rsa; "] + chunks("p=" + P)],
            "ed._domainkey.example.com": [["v=DKIM1; k=ed25519; p=" + ED_P]],
            "pct._domainkey.example.com": [["v=DKIM1; k=ed25519; p=" + ED_P]],
            "_dmarc.example.com": [["v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"]],
            "_mta-sts.example.com": [["v=STSv1; id=20260101T000000"]],
            "_smtp._tls.example.com": [["v=TLSRPTv1; rua=mailto:tlsrpt@example.com"]],
        },
        "ptr": [(IP, "mail.example.com")],
    }


def run(zone, cfg=None, args=()):
    dns = netns.Dnsmasq(local=("test", "example.org", "example.com", "example.net",
                               "113.0.203.in-addr.arpa"))
    for m in zone["mx"]:
        dns.mx(*m)
    for name, addr in zone["a"]:
        # an A record alone: dnsmasq's --host-record would add a PTR too
        dns.args.append("--dns-rr=%s,1,%s" % (name, "".join("%02x" % int(b) for b in addr.split("."))))
    for name, records in zone["txt"].items():
        for strings in records:
            dns.txt(name, *strings)
    for p in zone["ptr"]:
        dns.ptr(*p)
    for name, rrtype, rdata in zone.get("raw", ()):
        dns.args.append("--dns-rr=%s,%d,%s" % (name, rrtype, rdata))
    dns.start()
    try:
        proc = subprocess.run([POCHTAR, "dns", "check", "example.com", "--ip", IP,
                               "--config", cfg or config()] + list(args),
                              capture_output=True, text=True, timeout=30)
    finally:
        dns.stop()
    return proc


def lines(out, mark, check):
    return [l for l in out.splitlines() if l.split()[:2] == [mark, check]]


def fixes(out):
    return [l.split("fix:", 1)[1].strip() for l in out.splitlines() if l.strip().startswith("fix:")]


failures = []


def expect_fail(what, zone, check, fix_parts, cfg=None, also=()):
    proc = run(zone, cfg)
    out = proc.stdout
    ok = proc.returncode == 1 and lines(out, "FAIL", check) and \
        any(all(p in f for p in fix_parts) for f in fixes(out))
    # only the broken check fails
    others = [l for l in out.splitlines() if l.startswith("FAIL") and l.split()[1] not in (check,) + tuple(also)]
    if not ok or others:
        failures.append(what)
        print("---- %s: expected FAIL %s with fix %r, exit 1; got %d:\n%s%s" % (
            what, check, fix_parts, proc.returncode, out, proc.stderr))
    else:
        print("ok: %s" % what)
    return out


# 1. the correct zone: every check ok, exit 0
proc = run(good_zone())
print(proc.stdout, proc.stderr)
assert proc.returncode == 0, proc.returncode
for check in ("mx", "spf", "dkim", "dmarc", "alignment", "ptr", "helo", "mta-sts", "tls-rpt"):
    assert lines(proc.stdout, "ok", check), check
assert "FAIL" not in proc.stdout
assert "p= matches %s (rsa, 2048 bits, 3 strings" % KEY in proc.stdout, proc.stdout
assert "ed._domainkey.example.com: p= matches %s (ed25519" % ED_KEY in proc.stdout
assert "pct._domainkey.example.com: p= matches %s (ed25519" % ED_KEY in proc.stdout
assert "matched \"include:_spf.example.net\"" in proc.stdout

# 2. SPF missing
z = good_zone()
del z["txt"]["example.com"]
expect_fail("spf missing", z, "spf", ['example.com. IN TXT "v=spf1 ip4:203.0.113.7 ~all"'])

# 3. SPF present but not covering the IP: the fix keeps the record's terms
z = good_zone()
z["txt"]["example.com"] = [["v=spf1 ip4:198.51.100.1 -all"]]
expect_fail("spf not covering", z, "spf", ['example.com. IN TXT "v=spf1 ip4:203.0.113.7 ip4:198.51.100.1 -all"'])

# 4. SPF with too many lookups (RFC 7208 §4.6.4): permerror
z = good_zone()
z["txt"]["example.com"] = [["v=spf1 " + " ".join("a:h%d.example.com" % i for i in range(11)) + " mx -all"]]
out = expect_fail("spf over 10 lookups", z, "spf", ['"v=spf1 ip4:203.0.113.7 a:h0.example.com'])
assert "permerror" in out

# 5. two SPF records
z = good_zone()
z["txt"]["example.com"] = [["v=spf1 ip4:203.0.113.7 -all"], ["v=spf1 mx -all"]]
expect_fail("spf twice", z, "spf", ["delete all but one"])

# 6. DKIM record missing: the fix is the whole record, split in <=255-byte strings
z = good_zone()
del z["txt"]["mail._domainkey.example.com"]
out = expect_fail("dkim missing", z, "dkim", ['mail._domainkey.example.com. IN TXT ( "v=DKIM1; k=rsa; " "p='])
fix = [f for f in fixes(out) if f.startswith("mail._domainkey")][0]
strings = fix.split("(", 1)[1].rsplit(")", 1)[0].strip()[1:-1].split('" "')
assert all(len(s) <= 255 for s in strings), strings
assert "".join(strings) == "v=DKIM1; k=rsa; p=" + P, strings

# 7. DKIM record of another key
z = good_zone()
z["txt"]["mail._domainkey.example.com"] = [["v=DKIM1; k=rsa; "] + chunks("p=" + OTHER_P)]
out = expect_fail("dkim other key", z, "dkim", ['mail._domainkey.example.com. IN TXT ( "v=DKIM1; k=rsa; "', P[:200]])
assert "different key" in out

# 8. DKIM split wrong: the zone file's quotes pasted into the value
z = good_zone()
z["txt"]["mail._domainkey.example.com"] = [['v=DKIM1; k=rsa; " "p=' + P[:200], P[200:]]]
out = expect_fail("dkim split wrong", z, "dkim", ['mail._domainkey.example.com. IN TXT ( "v=DKIM1; k=rsa; "'])
assert "split wrong" in out

# 9. DKIM with a truncated key (a string lost when it was split)
z = good_zone()
z["txt"]["mail._domainkey.example.com"] = [["v=DKIM1; k=rsa; ", "p=" + P[:253]]]
expect_fail("dkim truncated", z, "dkim", ['"p=' + P[:200]])

# 10. DMARC missing
z = good_zone()
del z["txt"]["_dmarc.example.com"]
expect_fail("dmarc missing", z, "dmarc",
            ['_dmarc.example.com. IN TXT "v=DMARC1; p=none; rua=mailto:postmaster@example.com"'])

# 11. DMARC malformed (no p=)
z = good_zone()
z["txt"]["_dmarc.example.com"] = [["v=DMARC1; rua=mailto:dmarc@example.com"]]
expect_fail("dmarc without p=", z, "dmarc", ['_dmarc.example.com. IN TXT "v=DMARC1; p=none;'])

# 12. DKIM d= not aligned with the From domain: signing as example.org
z = good_zone()
z["txt"]["mail._domainkey.example.org"] = [["v=DKIM1; k=rsa; "] + chunks("p=" + P)]
out = expect_fail("alignment", z, "alignment", ["domain = example.com"], cfg=config(domain="example.org", with_keytable=False))

# 13. no PTR
z = good_zone()
z["ptr"] = []
expect_fail("ptr missing", z, "ptr", ["%s. IN PTR mail.example.com." % REV])

# 14. PTR without forward confirmation
z = good_zone()
z["ptr"] = [(IP, "host7.example.com")]
out = expect_fail("ptr not confirmed", z, "ptr", ["host7.example.com. IN A " + IP], also=("helo",))
assert "set helo_name = host7.example.com" in out

# 15. HELO name is not the PTR name
z = good_zone()
out = expect_fail("helo mismatch", z, "helo", ["helo_name = mail.example.com", "IN PTR smtp.example.com."],
                  cfg=config(helo="smtp.example.com"))

# 16. no MX and no address for the domain
z = good_zone()
z["mx"] = []
z["a"] = [a for a in z["a"] if a[0] != "example.com"]
expect_fail("mx missing", z, "mx", ["example.com. IN MX 10 mail.example.com."])

# 17. optional records absent: reported as info, not failures
z = good_zone()
del z["txt"]["_mta-sts.example.com"]
del z["txt"]["_smtp._tls.example.com"]
proc = run(z)
assert proc.returncode == 0, proc.stdout
assert lines(proc.stdout, "info", "mta-sts") and lines(proc.stdout, "info", "tls-rpt"), proc.stdout

# 18. the simple form with two keys: [sign] selector and key are lists paired by position
cfg = write_config(work, "[spool]\ndir = %s\n[sign]\ndomain = example.com\nselector = mail, ed\n"
                   "key = %s, %s\n[deliver]\nhelo_name = mail.example.com\n" % (work, KEY, ED_KEY))
proc = run(good_zone(), cfg)
assert proc.returncode == 0, proc.stdout
assert "mail._domainkey.example.com: p= matches %s (rsa" % KEY in proc.stdout, proc.stdout
assert "ed._domainkey.example.com: p= matches %s (ed25519" % ED_KEY in proc.stdout, proc.stdout

# 19. --help
proc = subprocess.run([POCHTAR, "dns", "--help"], capture_output=True, text=True)
assert proc.returncode == 0 and "--selector" in proc.stdout

# 20. an MX record whose exchange runs past its RDATA: "\3mx1" without its
# end, which the next record's owner (a pointer to example.com) would
# complete as mx1.example.com. The answer is malformed, as deliver reads
# it; the check must not report an MX the zone does not hold. (dnsmasq
# answers its --dns-rr records last given first.)
z = good_zone()
z["mx"] = []
z["raw"] = [("example.com", 15, "0014" "036d7832" "076578616d706c65" "03636f6d" "00"),
            ("example.com", 15, "000a" "036d7831")]
z["a"] += [("mx1.example.com", "203.0.113.25"), ("mx2.example.com", "203.0.113.26")]
proc = run(z)
assert proc.returncode == 1, proc.stdout
assert [l for l in lines(proc.stdout, "FAIL", "mx") if "malformed DNS answer" in l], proc.stdout
assert not lines(proc.stdout, "ok", "mx"), proc.stdout

subprocess.run(["rm", "-rf", work])
if failures:
    print("FAILED: " + ", ".join(failures))
    sys.exit(1)
print("all dns checks behaved")
