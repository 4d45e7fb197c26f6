#!/usr/bin/python3
"""Every message of tests/sign-corpus (and a 5 MB one) is signed by the real
pochtar-sign in all four canonicalizations with an RSA-2048 and an Ed25519
key, and python3-dkim verifies both signatures; a tampered copy of each
(body, and a signed header) must fail."""
import tempfile

import signlib
import pochtar

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "sign-corpus", "suites": ["sign", "threads"], "timeout": 120}

signlib.need_binaries()
keydir = tempfile.mkdtemp(prefix="pochtar-keys-")
rsa = signlib.make_key(keydir, "rsa", "rsa")
ed = signlib.make_key(keydir, "ed", "ed25519")
dns = signlib.Dns()
dns.add("rsa", "example.com", signlib.public_record(rsa))
dns.add("ed", "example.com", signlib.public_record(ed))
corpus = signlib.corpus()
failures = []
checked = 0

for canon in signlib.CANONS:
    spool = pochtar.Spool()
    try:
        config = signlib.signer_config(spool, "domain = example.com\nselector = rsa, ed\nkey = %s, %s\n"
                                       "canonicalization = %s\n%s" % (rsa, ed, canon,
                                       "expire = 7d\n" if canon == "relaxed/relaxed" else ""))
        signed, ids, out = signlib.run_signer(spool, config, [m for _, m in corpus])
        for (name, original), qid in zip(corpus, ids):
            env, msg = signed[qid]
            sigs = signlib.header_value(msg, "DKIM-Signature")
            assert len(sigs) == 2, (name, canon, sigs)
            assert msg.endswith(original), "%s: message changed beyond the new header fields" % name
            algs = sorted(signlib.tag(s, "a") for s in sigs)
            assert algs == ["ed25519-sha256", "rsa-sha256"], algs
            assert all(signlib.tag(s, "c") == canon for s in sigs)
            assert all(signlib.tag(s, "l") is None for s in sigs), "l= must not be used"
            for s in sigs:
                x = signlib.tag(s, "x")
                assert (int(x) - int(signlib.tag(s, "t")) == 7 * 86400) if canon == "relaxed/relaxed" else x is None
            # From is over-signed: h= names it once more than it occurs.
            assert all(signlib.tag(s, "h").lower().split(":").count("from") == 2 for s in sigs)
            for line in msg.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
                if line.startswith(b"DKIM-Signature") or line.startswith(b"\t"):
                    assert len(line.expandtabs(8)) <= 78, line
            for idx in range(2):
                if not signlib.verifies(msg, idx, dns):
                    failures.append("%s %s sig %d: does not verify" % (name, canon, idx))
                checked += 1
            head, _, body = msg.partition(b"\r\n\r\n")
            tampered_body = head + b"\r\n\r\n" + body + b"tampered\r\n"
            tampered_head = head.replace(b"To: ", b"To: mallory@example.org, ", 1) + b"\r\n\r\n" + body
            added_from = b"From: mallory@example.org\r\n" + msg
            for what, t in (("body", tampered_body), ("To:", tampered_head), ("added From:", added_from)):
                for idx in range(2):
                    if signlib.verifies(t, idx, dns):
                        failures.append("%s %s sig %d: verifies after tampering with %s" % (name, canon, idx, what))
        assert out.count(": signed: ") == len(corpus), out
    finally:
        spool.cleanup()

pochtar.subprocess.run(["rm", "-rf", keydir])
if failures:
    raise SystemExit("\n".join(failures))
print("%d signatures verified, %d messages x 4 canonicalizations, tampered copies fail" % (checked, len(corpus)))
