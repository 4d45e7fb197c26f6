#!/usr/bin/python3
"""Over-signing against DKIM replay (issue 13), checked by three
independent verifiers: python3-dkim, OpenDKIM in verify mode and Perl's
Mail::DKIM, which fetches the key from dnsmasq in a private network
namespace.

With the default configuration pochtar-sign names From, To, Cc, Subject,
Date, Reply-To, Message-ID, MIME-Version, Content-Type and
Content-Transfer-Encoding in h= once more than each occurs. Every verifier
passes the signed messages and fails every copy with one more field of
one of those names put in front, the way a replayed message would get
a new To: or Subject:. A field of another name (X-Mailer) put in front
still verifies: only the over-signed names are protected."""
import os
import re
import subprocess

import netns

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "sign-oversign", "suites": ["sign"], "timeout": 120}

netns.enter()

import pochtar  # noqa: E402
import signlib  # noqa: E402

signlib.need_binaries()
OVERSIGNED = ["From", "To", "Cc", "Subject", "Date", "Reply-To", "Message-ID", "MIME-Version", "Content-Type",
              "Content-Transfer-Encoding"]
# Net::DNS's default resolver also asks ::1, which this namespace does not
# answer, backing off for minutes: name dnsmasq's address alone.
PERL_VERIFY = r'''
use strict;
use Net::DNS;
use Mail::DKIM::Verifier;
Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(nameservers => ["127.0.0.1"], retry => 1, udp_timeout => 5));
local $/;
my $msg = <STDIN>;
my $v = Mail::DKIM::Verifier->new();
$v->PRINT($msg);
$v->CLOSE();
print $v->result, "\n";
'''

work, spool = pochtar.new_work_dir("pochtar-oversign-")
check = pochtar.Checks()
dns_server = netns.Dnsmasq()
try:
    key, dns = signlib.new_published_key(work, "mail")
    record = signlib.public_record(key)
    # a TXT record's strings are at most 255 octets
    dns_server.txt("mail._domainkey.example.com",
                   *[record[i:i + 200].decode() for i in range(0, len(record), 200)])
    dns_server.start()
    with open(os.path.join(work, "pubkeys"), "w") as f:
        f.write("mail._domainkey.example.com %s\n" % record.decode())
    verify_conf = os.path.join(work, "verify.conf")
    with open(verify_conf, "w") as f:
        f.write("Mode v\nTestPublicKeys %s/pubkeys\nSyslog no\n" % work)

    def opendkim(message):
        path = os.path.join(work, "msg")
        with open(path, "wb") as f:
            # opendkim -t wants a final CRLF (an MTA always supplies one);
            # relaxed/relaxed body canonicalization adds it anyway
            f.write(message if message.endswith(b"\r\n") else message + b"\r\n")
        res = subprocess.run(["/usr/sbin/opendkim", "-x", verify_conf, "-t", path], capture_output=True,
                             timeout=60)
        text = (res.stdout + res.stderr).decode("utf-8", "replace")
        return "verification (s=mail" in text and "succeeded" in text

    def mail_dkim(message):
        res = subprocess.run(["perl", "-e", PERL_VERIFY], input=message, capture_output=True, timeout=60)
        return res.stdout.decode().strip() == "pass"

    verifiers = {"python3-dkim": lambda m: signlib.verifies(m, 0, dns), "OpenDKIM": opendkim,
                 "Mail::DKIM": mail_dkim}

    message = (b"From: Joe <joe@example.com>\r\nTo: ann@example.net\r\nCc: bob@example.net\r\n"
               b"Subject: invoice\r\nDate: Sun, 06 Dec 2026 05:00:00 +0000\r\nReply-To: joe@example.com\r\n"
               b"Message-ID: <1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
               b"Content-Transfer-Encoding: 7bit\r\n\r\nPay 10 EUR.\r\n")
    corpus = [("headers", message)] + [c for c in signlib.corpus() if c[0] != "generated-5mb"]
    config = signlib.signer_config(spool, "domain = example.com\nselector = mail\nkey = %s\n" % key)
    signed, ids, _ = signlib.run_signer(spool, config, [m for _, m in corpus])
    check(len(signed) == len(corpus), "every message signed")
    for (name, original), qid in zip(corpus, ids):
        msg = signed[qid][1]
        sig = signlib.header_value(msg, "DKIM-Signature")[0]
        h = signlib.tag(sig, "h").split(":")
        head = original.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        for name_ in OVERSIGNED:
            present = len(re.findall(r"(?im)^%s[ \t]*:" % re.escape(name_), head))
            check(sum(1 for x in h if x.lower() == name_.lower()) == present + 1,
                  "%s: h= names %s once more than its %d" % (name, name_, present))
        for v, verify in verifiers.items():
            check(verify(msg), "%s: %s passes the signed message" % (name, v))
    # the replay: one more field in front of the signed message
    msg = signed[ids[0]][1]
    for name_ in OVERSIGNED:
        replayed = ("%s: replayed\r\n" % name_).encode() + msg
        for v, verify in verifiers.items():
            check(not verify(replayed), "%s fails the message with one more %s:" % (v, name_))
    other = b"X-Mailer: replayed\r\n" + msg
    for v, verify in verifiers.items():
        check(verify(other), "%s still passes one more X-Mailer: (not over-signed)" % v)
finally:
    dns_server.stop()
    pochtar.remove_work_dir(work)
check.exit("oversign ok")
