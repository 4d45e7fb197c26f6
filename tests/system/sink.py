# SPDX-License-Identifier: MIT
"""The recipients' MX for the system test: an SMTP sink (aiosmtpd).

Usage: sink.py ADDRESS PORT DIR [CERT KEY]. Every accepted message is
written to DIR/N.eml (via a temporary name, so a reader never sees half a
file) with the envelope and "tls" or "plain" in DIR/N.env; the 250 comes
after the file exists. With CERT and KEY it offers STARTTLS.
"""
import itertools
import os
import ssl
import sys
import threading

from aiosmtpd.controller import Controller


class Store:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        base = os.path.join(self.directory, "%06d" % n)
        with open(base + ".env", "w") as f:
            f.write("%s\n%s\n%s\n" % (envelope.mail_from, " ".join(envelope.rcpt_tos),
                                       "tls" if session.ssl else "plain"))
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".tmp", base + ".eml")
        return "250 2.0.0 Ok: stored as %d" % n


def main():
    address, port, directory = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(directory, exist_ok=True)
    tls = None
    if len(sys.argv) > 5:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(sys.argv[4], sys.argv[5])
    # decode_data=False and original_content: the bytes exactly as sent,
    # so the DKIM signature is checked over what deliver transmitted.
    controller = Controller(Store(directory), hostname=address, port=port,
                            decode_data=False, server_hostname="mx.other.org",
                            data_size_limit=0, tls_context=tls)
    controller.start()
    print("sink listening on %s:%d" % (address, port), flush=True)
    try:
        threading.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
