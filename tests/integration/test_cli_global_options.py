#!/usr/bin/python3
"""Global options go before the verb too, as with git and systemctl:
`pochtar --config X queue`, `pochtar --config=X --json queue`,
`POCHTAR_CONFIG=X pochtar queue` all read X and print what
`pochtar queue --config X` prints; `pochtar --version` and `--help`
answer (exit 0); an unknown option before the verb, or --config without
a path, is a usage error (64); a configuration named by --config or
$POCHTAR_CONFIG that does not exist is exit 78 naming it."""
import json
import os
import subprocess

from pochtar import Checks, Spool, binary, remove_work_dir, write_spool_config

# how meson runs this test (tests/integration/discover.py)
MESON_TEST = {"name": "cli-global-options", "suites": ["cli"], "timeout": 60}

POCHTAR = binary("pochtar")
check = Checks()
spool = Spool()
conf = write_spool_config(spool.root, spool.root)


def run(*args, env=None):
    e = dict(os.environ)
    e.pop("POCHTAR_CONFIG", None)
    e.update(env or {})
    return subprocess.run([POCHTAR] + list(args), capture_output=True, text=True, timeout=20, env=e)


try:
    qid = spool.inject("incoming", "info@example.com", ["bob@example.org"], b"Subject: x\r\n\r\nhi\r\n")
    after = run("queue", "--config", conf)
    check(after.returncode == 0 and qid in after.stdout, "queue --config X lists the message (%s)" % after.stderr)
    for args in (["--config", conf, "queue"], ["--config=" + conf, "queue"]):
        r = run(*args)
        check(r.returncode == 0 and r.stdout == after.stdout, "%s prints the same" % " ".join(args[:-1])[:20])
    r = run("queue", env={"POCHTAR_CONFIG": conf})
    check(r.returncode == 0 and r.stdout == after.stdout, "POCHTAR_CONFIG=X pochtar queue prints the same")
    r = run("--json", "--config", conf, "queue")
    ids = [m["id"] for m in json.loads(r.stdout)["messages"]] if r.returncode == 0 else []
    check(ids == [qid], "--json --config X queue: the JSON listing (%s)" % r.stderr)
    r = run("queue", "--config", conf, env={"POCHTAR_CONFIG": "/nonexistent/pochtar.conf"})
    check(r.returncode == 0 and r.stdout == after.stdout, "--config wins over POCHTAR_CONFIG")

    r = run("queue", env={"POCHTAR_CONFIG": "/nonexistent/pochtar.conf"})
    check(r.returncode == 78 and "/nonexistent/pochtar.conf" in r.stderr,
          "a missing $POCHTAR_CONFIG: 78, named (%d %s)" % (r.returncode, r.stderr))
    r = run("--config", "/nonexistent/pochtar.conf", "queue")
    check(r.returncode == 78 and "/nonexistent/pochtar.conf" in r.stderr, "a missing --config before the verb: 78")

    r = run("--version")
    check(r.returncode == 0 and r.stdout.startswith("pochtar "), "--version: exit 0 (%d)" % r.returncode)
    r = run("--help")
    check(r.returncode == 0 and "--config" in r.stdout and "queue" in r.stdout, "--help: exit 0, lists options")
    r = run("--bogus", "queue", "--config", conf)
    check(r.returncode == 64 and "--bogus" in r.stderr, "an unknown option before the verb: 64")
    r = run("--config")
    check(r.returncode == 64, "--config without a path: 64")
    r = run("--config", conf)
    check(r.returncode == 64, "options without a command: 64")
finally:
    remove_work_dir(spool.root)

check.exit()
