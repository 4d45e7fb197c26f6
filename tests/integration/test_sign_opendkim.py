#!/usr/bin/python3
"""pochtar-sign against Debian's OpenDKIM, the signer it replaces:
- for the same key, body and canonicalization both produce the same bh=
  (OpenDKIM run in its test mode, `opendkim -t FILE`, which signs mail
  from the local host exactly as the milter would);
- the article's KeyTable and SigningTable, and a key made by
  opendkim-genkey, work unchanged, and python3-dkim verifies the result
  against the TXT record opendkim-genkey wrote;
- OpenDKIM in verify mode (keys from TestPublicKeys) accepts every
  signature pochtar makes, and rejects a tampered copy;
- `pochtar dkim record` prints the same public key as that record."""
import os
import re
import shutil
import subprocess
import tempfile

import signlib
import pochtar

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "sign-opendkim", "suites": ["sign"], "timeout": 120}

signlib.need_binaries()
for tool in ("opendkim", "opendkim-genkey"):
    if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
        pochtar.skip(tool + " not installed")

work = tempfile.mkdtemp(prefix="pochtar-opendkim-")
try:
    subprocess.run(["/usr/sbin/opendkim-genkey", "-D", work, "-d", "example.com", "-s", "mail"], check=True)
    key = os.path.join(work, "mail.private")
    # The article's tables, as written there, with only the key's directory changed.
    with open(os.path.join(work, "keytable"), "w") as f:
        f.write("mail._domainkey.example.com example.com:mail:%s\n" % key)
    with open(os.path.join(work, "signingtable"), "w") as f:
        f.write("example.com    mail._domainkey.example.com\n")
    txt = open(os.path.join(work, "mail.txt")).read()
    record = "".join(re.findall(r'"([^"]*)"', txt)).encode()
    dns = signlib.Dns()
    dns.add("mail", "example.com", record)
    with open(os.path.join(work, "pubkeys"), "w") as f:
        f.write("mail._domainkey.example.com %s\n" % record.decode())
    verify_conf = os.path.join(work, "verify.conf")
    with open(verify_conf, "w") as f:
        f.write("Mode v\nTestPublicKeys %s/pubkeys\nSyslog no\n" % work)

    def opendkim_verifies(message):
        path = os.path.join(work, "signed")
        with open(path, "wb") as f:
            # the final CRLF opendkim -t insists on changes no body hash (see below)
            f.write(message if message.endswith(b"\r\n") else message + b"\r\n")
        res = subprocess.run(["/usr/sbin/opendkim", "-x", verify_conf, "-t", path],
                             capture_output=True, timeout=60)
        text = (res.stdout + res.stderr).decode("utf-8", "replace")
        assert "verification (s=mail" in text, (text, message[:200])
        return "succeeded" in text

    def odd_header_space(message):
        head = message.split(b"\r\n\r\n", 1)[0]
        return bool(re.search(rb"(^|\r\n)[^ \t:]+:(?! [^ \t])", head))

    corpus = signlib.corpus()
    compared = skipped = 0
    for canon in signlib.CANONS:
        spool = pochtar.Spool()
        try:
            config = signlib.signer_config(
                spool, "key_table = file:%s/keytable\nsigning_table = file:%s/signingtable\n"
                "canonicalization = %s\n" % (work, work, canon))
            signed, ids, out = signlib.run_signer(spool, config, [m for _, m in corpus])
            conf = os.path.join(work, "opendkim.conf")
            with open(conf, "w") as f:
                f.write("Mode s\nCanonicalization %s\nKeyTable file:%s/keytable\n"
                        "SigningTable file:%s/signingtable\nRequireSafeKeys false\nSyslog no\n"
                        % (canon, work, work))
            for (name, original), qid in zip(corpus, ids):
                msg = signed[qid][1]
                ours = signlib.header_value(msg, "DKIM-Signature")
                assert len(ours) == 1, ours
                assert signlib.verifies(msg, 0, dns), "%s %s: does not verify with opendkim-genkey's record" % (name, canon)
                path = os.path.join(work, "message")
                with open(path, "wb") as f:
                    # opendkim -t refuses a body without its final CRLF (an
                    # MTA always supplies one); both canonicalizations add
                    # it anyway (RFC 6376 §3.4.3-4), so bh= must not change.
                    f.write(original if original.endswith(b"\r\n") else original + b"\r\n")
                res = subprocess.run(["/usr/sbin/opendkim", "-x", conf, "-t", path],
                                     capture_output=True, timeout=60)
                theirs = re.search(rb"bh=([A-Za-z0-9+/=]+);", res.stdout)
                assert theirs, "opendkim did not sign %s: %r %r" % (name, res.stdout[:300], res.stderr[:300])
                assert signlib.tag(ours[0], "bh") == theirs.group(1).decode(), \
                    "%s %s: bh= differs: pochtar %s, opendkim %s" % (name, canon, signlib.tag(ours[0], "bh"),
                                                                     theirs.group(1).decode())
                compared += 1
                # OpenDKIM gets header values as a milter does, with the white
                # space after the colon removed and one space put back, so
                # under simple header canonicalization it cannot verify a
                # field like "Subject:\tx" (python3-dkim, on the raw bytes,
                # does: test_sign_corpus.py). Those messages are left out here.
                if canon.startswith("simple/") and odd_header_space(original):
                    skipped += 1
                    continue
                assert opendkim_verifies(msg), "%s %s: OpenDKIM rejects pochtar's signature" % (name, canon)
                head, _, body = msg.partition(b"\r\n\r\n")
                assert not opendkim_verifies(head + b"\r\n\r\n" + body + b"tampered\r\n"), (name, canon)
        finally:
            spool.cleanup()

    if signlib.CLI:
        res = subprocess.run([signlib.CLI, "dkim", "record", "--domain", "example.com", "--selector", "mail",
                              "--key", key], capture_output=True, check=True)
        ours = "".join(re.findall(r'"([^"]*)"', res.stdout.decode()))
        p_ours = re.search(r"p=([A-Za-z0-9+/=]+)", ours).group(1)
        p_theirs = re.search(r"p=([A-Za-z0-9+/=]+)", record.decode()).group(1)
        assert p_ours == p_theirs, (p_ours, p_theirs)
    assert skipped <= 2 * len(signlib.CANONS), skipped
    print("bh= identical to OpenDKIM's for %d message/canonicalization pairs; OpenDKIM verified all but %d"
          % (compared, skipped))
finally:
    shutil.rmtree(work, ignore_errors=True)
