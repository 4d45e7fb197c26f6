#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The benchmark's remote MX when smtp-sink cannot do the job: STARTTLS
(tls10) and per-message arrival times (latency).

aiosmtpd on one asyncio loop. For every message it prints one line to
stdout, "<CLOCK_MONOTONIC seconds> <Message-ID> tls|plain" (and "0 - session"
for each connection), written just before the
250 to the final dot goes out, so the harness can count arrivals and match
them to submission times taken on the same clock. With --dump DIR it also
keeps each message (used once per system to check the DKIM signature).
"""
import argparse
import asyncio
import logging
import os
import re
import ssl
import sys
import time

from aiosmtpd.smtp import SMTP

MSGID_RE = re.compile(rb"^Message-I[dD]:[ \t]*(<[^>\r\n]*>)", re.M | re.I)


class Handler:
    def __init__(self, dump):
        self.dump = dump
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        m = MSGID_RE.search(data[:16384])
        self.count += 1
        if self.dump:
            with open(os.path.join(self.dump, "%06d.eml" % self.count), "wb") as f:
                f.write(data)
        msgid = m.group(1).decode("ascii", "replace").replace(" ", "") if m else "-"
        sys.stdout.write("%.6f %s %s\n" % (time.monotonic(), msgid,
                                           "tls" if session.ssl is not None else "plain"))
        sys.stdout.flush()
        return "250 2.0.0 Ok: queued"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="203.0.113.25:25")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--dump")
    args = ap.parse_args()
    logging.getLogger("mail.log").setLevel(logging.ERROR)

    ctx = None
    if args.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
    handler = Handler(args.dump)
    host, port = args.listen.rsplit(":", 1)

    def session():
        sys.stdout.write("0 - session\n")
        sys.stdout.flush()
        return SMTP(handler, hostname="mx.example.org", tls_context=ctx,
                    data_size_limit=64 << 20, ident="bench-sink")

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(
        session,
        host=host, port=int(port), backlog=1024, reuse_address=True))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
