#!/usr/bin/python3
"""Mail loops, against the real chain. Run as `test_loops.py CASE`:

mx     receive listens on 127.0.0.1:25 and on the namespace's own address
       203.0.113.60:25, sign signs, deliver runs in mode = mx; the MX of
       one domain is 127.0.0.1, of one 0.0.0.0, of one 203.0.113.60. Each
       message bounces exactly once (5.4.6) to the sender's MX, a
       recording sink; receive takes only the three originals and never
       hears from deliver; nothing is left in the spool.
hops   receive refuses a message with more Received: fields than
       max_hops (default 50; 3 when configured) with 554 5.4.6 at the end
       of DATA, and keeps nothing of it.
relay  mode = relay to a relayhost on loopback stays allowed.
"""
import email
import re
import smtplib
import sys

import pochtar

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "loops", "suites": [], "timeout": 90,
              "cases": {"mx": {"suites": ["chain", "deliver"], "parallel": False},
                        "hops": {"suites": ["receive"]}, "relay": {"suites": ["deliver"]}}}

SELF = "203.0.113.60"           # an address of the namespace itself, where receive listens too
SENDER_MX = "203.0.113.61"      # example.com's MX: the sink that collects the bounces
CLIENT = "127.0.0.2"            # the test's own SMTP connections come from here
LOOPS = {"loop127.example.net": "127.0.0.1", "loop0.example.net": "0.0.0.0", "loopself.example.net": SELF}


def submit(rcpt, subject, port=25):
    c = smtplib.SMTP("127.0.0.1", port, source_address=(CLIENT, 0), timeout=10)
    try:
        c.sendmail("app@example.com", [rcpt], "From: app@example.com\r\nTo: %s\r\nSubject: %s\r\n\r\nhi\r\n"
                   % (rcpt, subject))
    finally:
        c.quit()


def smtp_ready(port=25):
    try:
        smtplib.SMTP("127.0.0.1", port, source_address=(CLIENT, 0), timeout=1).quit()
        return True
    except OSError:
        return False


def delivery_status(msg_bytes):
    """{Final-Recipient: (Status, Diagnostic-Code)} of a bounce's
    message/delivery-status part."""
    m = email.message_from_bytes(msg_bytes)
    if m.get_content_type() != "multipart/report":
        return {}
    out = {}
    for part in m.get_payload():
        if part.get_content_type() == "message/delivery-status":
            for block in part.get_payload()[1:]:
                out[block["Final-Recipient"]] = (block["Status"], block.get("Diagnostic-Code", ""))
    return out


def case_mx():
    import netns
    netns.enter([SELF, SENDER_MX])
    import signlib
    from sink import Recorder, start_sink, tear_down

    bins = pochtar.binaries("receive", "sign", "deliver")
    work, spool = pochtar.new_work_dir("pochtar-loops-")
    dns = netns.Dnsmasq()
    for domain, ip in LOOPS.items():
        dns.mx_at(domain, ip)
    dns.mx_at("example.com", SENDER_MX)
    dns.start()
    sink = Recorder()
    servers = [start_sink(SENDER_MX, sink), dns]
    key, _ = signlib.new_published_key(work, "mail")
    config = pochtar.write_spool_config(work, spool.root, receive="""
listen = 127.0.0.1:25, %s:25
hostname = mail.example.com
allow = 127.0.0.0/8, 203.0.113.0/24
""" % SELF, sign="""
domain = example.com
selector = mail
key = %s
""" % key, deliver="""
mode = mx
helo_name = mail.example.com
retry_min = 1s
retry_max = 2s
connect_timeout = 2s
command_timeout = 5s
data_timeout = 5s
""")
    check = pochtar.Checks()
    daemons = []
    try:
        daemons = [pochtar.Daemon([bins["deliver"], "--config", config]),
                   pochtar.Daemon([bins["sign"], "--config", config]),
                   pochtar.Daemon([bins["receive"], "--config", config], env={"POCHTAR_LOG_LEVEL": "debug"})]
        pochtar.wait_for(smtp_ready, what="receive to listen")
        for domain in LOOPS:
            submit("user@" + domain, "to " + domain)
        try:
            pochtar.wait_for(lambda: len(sink.messages) >= len(LOOPS), timeout=20,
                             what="a bounce for each looping domain")
        except AssertionError as e:
            print(e)
        left = spool.settle(timeout=5)
        receive_log, deliver_log = daemons[2].output(), daemons[0].output()

        bounces = {}
        for mail_from, rcpts, content, *_ in sink.messages:
            check(mail_from in ("", "<>") and rcpts == ["app@example.com"],
                  "a bounce from <> to the sender (%s %s)" % (mail_from, rcpts))
            for final, (status, diag) in delivery_status(content).items():
                bounces.setdefault(final, []).append((status, diag))
        for domain, ip in LOOPS.items():
            got = bounces.get("rfc822; user@" + domain, [])
            check(len(got) == 1, "%s (MX %s): exactly one bounce, got %d" % (domain, ip, len(got)))
            check(got and got[0][0] == "5.4.6" and "loops back to myself" in got[0][1],
                  "%s: Status 5.4.6, mail loops back to myself (%s)" % (domain, got))
            check(re.search(r"MX host mx\.%s\[%s\] is " % (re.escape(domain), re.escape(ip)), deliver_log),
                  "deliver warns naming the MX host and address of %s" % domain)
        check(len(sink.messages) == len(LOOPS), "no other mail at the sender's MX (%d)" % len(sink.messages))

        queued = re.findall(r"client=\[([0-9.]+)\] \(queued\)", receive_log)
        check(queued == [CLIENT] * len(LOOPS),
              "receive queued only the %d originals from the test, got %d: %s"
              % (len(LOOPS), len(queued), sorted(set(queued))))
        connects = re.findall(r"connect from \[([0-9.]+)\]", receive_log)
        check(connects and set(connects) == {CLIENT},
              "every connection receive got came from the test, none from deliver: %s"
              % sorted(set(connects)))
        check(not any(left.values()), "no queue file left behind: %s" % {p: f for p, f in left.items() if f})
    finally:
        tear_down(work, daemons, servers, check.failures)
    check.exit("loops ok")


def case_hops():
    receive = pochtar.binary("receive")

    def message(n, body_lines=0):
        # every case of the name counts; X-Received: and a body line do not
        names = ["Received", "received", "RECEIVED"]
        hops = "".join("%s: from hop%d.example.net by hop%d.example.org; Sat, 28 Nov 2026 00:00:00 +0000\r\n"
                       % (names[i % 3], i, i + 1) for i in range(n))
        return ("%sX-Received: by 10.0.0.1\r\nFrom: app@example.com\r\nSubject: %d hops\r\n\r\n"
                "Received: not a header, a body line\r\n%s" % (hops, n, ("x" * 78 + "\r\n") * body_lines))

    def attempt(port, n, body_lines=0):
        c = smtplib.SMTP("127.0.0.1", port, timeout=10)
        try:
            c.sendmail("app@example.com", ["bob@example.org"], message(n, body_lines))
            return 250, b""
        except smtplib.SMTPDataError as e:
            return e.smtp_code, e.smtp_error
        finally:
            c.quit()

    check = pochtar.Checks()
    for max_hops, ok, refused in ((None, 50, 51), (3, 3, 4)):
        work, spool = pochtar.new_work_dir("pochtar-hops-")
        port = pochtar.free_port()
        config = pochtar.write_spool_config(work, spool.root, receive="listen = 127.0.0.1:%d\nhostname = mail.example.com\n%s"
                                            % (port, "max_hops = %d\n" % max_hops if max_hops else ""))
        d = pochtar.Daemon([receive, "--config", config])
        what = "max_hops %s" % (max_hops or "default")
        try:
            try:
                pochtar.wait_until_smtp_answers(port)
            except AssertionError as e:
                check(False, "%s: receive starts: %s\n%s" % (what, e, d.output()))
                continue
            code, text = attempt(port, ok)
            check(code == 250, "%s: %d Received: fields accepted (%s %s)" % (what, ok, code, text))
            code, text = attempt(port, refused)
            check(code == 554 and text.startswith(b"5.4.6"),
                  "%s: %d Received: fields get 554 5.4.6 (%s %s)" % (what, refused, code, text))
            if max_hops:
                # a body larger than one write to the spool: refused all the same
                code, text = attempt(port, refused, body_lines=8000)
                check(code == 554 and text.startswith(b"5.4.6"),
                      "%s: the same with a 640 KB body (%s %s)" % (what, code, text))
            ids = spool.ids("incoming")
            check(len(ids) == 1, "%s: only the accepted message is queued (%d)" % (what, len(ids)))
            if ids:
                _, queued = spool.read("incoming", ids[0])
                head = queued.split(b"\r\n\r\n")[0]
                check(len(re.findall(rb"^received:", head, re.I | re.M)) == ok + 1,
                      "%s: it holds its %d Received: fields and receive's own" % (what, ok))
            check(not spool.tmp_files("incoming"), "%s: nothing of the refused one in incoming/tmp" % what)
            d.stop()
            log = d.output()
            check(len(re.findall(r"too many hops", log)) == (2 if max_hops else 1) and
                  re.search(r"reject: from \[127\.0\.0\.1\]: too many hops, %d Received: fields" % refused, log),
                  "%s: each refusal is logged once, with the client" % what)
        finally:
            d.stop()
            pochtar.remove_work_dir(work)
    check.exit("hops ok")


def case_relay():
    import netns
    netns.enter()
    from sink import Recorder, start_sink, tear_down

    deliver = pochtar.binary("deliver")
    work, spool = pochtar.new_work_dir("pochtar-loops-relay-")
    dns = netns.Dnsmasq()
    dns.a("relay.example.net", "127.0.0.1")     # a local test server, named
    dns.start()
    sink = Recorder()
    servers = [start_sink("127.0.0.1", sink, port=2525), dns]
    config = pochtar.write_spool_config(work, spool.root, deliver="""
mode = relay
relayhost = [relay.example.net]:2525
helo_name = mail.example.com
retry_min = 1h
""")
    check = pochtar.Checks()
    d = None
    try:
        spool.inject("signed", "app@example.com", ["bob@example.org"], b"Subject: relay\r\n\r\nhi\r\n")
        d = pochtar.Daemon([deliver, "--config", config])
        try:
            pochtar.wait_for(lambda: sink.messages, what="the message at the relay on 127.0.0.1")
        except AssertionError as e:
            print(e)
        check(sink.rcpts() == ["bob@example.org"], "relayhost on loopback: delivered (%s)" % sink.rcpts())
        check("not delivering there" not in d.output(), "no loop warning for an explicit relayhost")
    finally:
        tear_down(work, [d], servers, check.failures)
    check.exit("relay ok")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    CASES[sys.argv[1]]()
