#!/usr/bin/python3
"""The README's first command: tools/dev-run starts the whole chain, says
how to send a test mail, and a mail sent as it says lands, DKIM-signed,
in the capture maildir it names. Ctrl-C (SIGINT) stops every stage."""
import os
import signal
import smtplib
import subprocess
import tempfile
import time

import pochtar
import signlib

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "dev-run", "suites": ["chain"], "timeout": 180, "parallel": False}

top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
work = tempfile.mkdtemp(prefix="pochtar-devrun-")
port = pochtar.free_port()
env = dict(os.environ, POCHTAR_DEV_DIR=work, POCHTAR_DEV_PORT=str(port))
env.pop("JOURNAL_STREAM", None)
log = open(os.path.join(work, "dev-run.log"), "w+b")
proc = subprocess.Popen([os.path.join(top, "tools", "dev-run")], cwd=top, env=env,
                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def output():
    log.flush()
    with open(log.name, "rb") as f:
        return f.read().decode("utf-8", "replace")


try:
    pochtar.wait_for(lambda: "pochtar is running in development mode" in output(), timeout=120,
                     what="dev-run to start the chain")
    text = output()
    assert "swaks --server 127.0.0.1:%d" % port in text, text
    capture = os.path.join(work, "capture", "new")
    assert capture + "/" in text, "it names the capture maildir"

    conn = smtplib.SMTP("127.0.0.1", port)
    conn.sendmail("info@example.com", ["you@example.org"],
                  "From: info@example.com\r\nTo: you@example.org\r\nSubject: dev\r\n\r\nhello\r\n")
    conn.quit()
    files = pochtar.wait_for(lambda: os.path.isdir(capture) and os.listdir(capture), what="captured mail")
    with open(os.path.join(capture, files[0]), "rb") as f:
        data = f.read()
    dns = signlib.Dns()
    dns.add("mail", "example.com", signlib.public_record(os.path.join(work, "dkim", "mail.private")))
    assert signlib.verifies(data, 0, dns), "captured mail is not DKIM-signed with the generated key"
    with open(os.path.join(work, "dkim", "mail.txt")) as f:
        assert "v=DKIM1" in f.read(), "the DNS record to publish is written"
finally:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    time.sleep(0.2)
    left = subprocess.run(["pgrep", "-f", "--config " + work], capture_output=True, text=True).stdout
    print(output())
    subprocess.run(["rm", "-rf", work])
assert proc.returncode == 0, "dev-run exit status %s" % proc.returncode
assert not left.strip(), "stages still running after Ctrl-C: " + left
print("dev-run ok")
