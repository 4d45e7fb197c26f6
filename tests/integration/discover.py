# SPDX-License-Identifier: MIT
"""Finds the integration tests, so that no list in meson.build can forget one.

Every tests/integration/test_*.py says how meson runs it in a dict at its
top (read here with ast, never imported: a test does things when loaded):

    MESON_TEST = {"name": "test-deliver", "suites": ["deliver"], "timeout": 90,
                  "parallel": False, "valgrind": True}

name      the meson test's name; for a file with case_* functions, the
          prefix of one test per case: NAME-CASE runs `test_x.py CASE`
suites    besides "integration": the service it tests (receive, sign,
          deliver, cli), "chain" when it runs all stages, "threads" when
          its daemons run threads (tools/run-tests runs those under TSan)
timeout   seconds
parallel  False when it must run alone (default True)
valgrind  also run as NAME-valgrind with every daemon under valgrind
cases     {"case": {"suites": [...], "parallel": bool}}: what one case
          adds to the file's suites, or how it runs

    discover.py DIR                 one line per test, for meson.build:
                                    NAME FILE CASE|- SUITE,... TIMEOUT 0|1 0|1
    discover.py DIR --check LINES   fails when DIR no longer gives LINES,
                                    the listing meson was configured with
"""
import ast
import os
import re
import sys

KEYS = {"name": str, "suites": list, "timeout": int, "parallel": bool, "valgrind": bool, "cases": dict}
CASE_KEYS = {"suites": list, "parallel": bool}
WORD_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class Bad(Exception):
    pass


def _check_keys(where, d, keys):
    for k, v in d.items():
        if k not in keys:
            raise Bad("%s: unknown key %r (known: %s)" % (where, k, ", ".join(keys)))
        if not isinstance(v, keys[k]):
            raise Bad("%s: %s must be a %s" % (where, k, keys[k].__name__))
    for s in d.get("suites", []):
        if not isinstance(s, str) or not WORD_RE.match(s):
            raise Bad("%s: suite %r is not a lower-case word" % (where, s))


def read(path):
    """(MESON_TEST dict, [case names]) of one test file."""
    tree = ast.parse(open(path, "rb").read(), path)
    meta, cases = None, []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("case_"):
            cases.append(node.name[5:])
        elif isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["MESON_TEST"]:
            meta = ast.literal_eval(node.value)
    if not isinstance(meta, dict):
        raise Bad("%s: no MESON_TEST dict (see tests/integration/discover.py)" % path)
    _check_keys(path, meta, KEYS)
    for k in ("name", "suites", "timeout"):
        if k not in meta:
            raise Bad("%s: MESON_TEST has no %s" % (path, k))
    if not WORD_RE.match(meta["name"]):
        raise Bad("%s: name %r is not a lower-case word" % (path, meta["name"]))
    for case, over in meta.get("cases", {}).items():
        if case not in cases:
            raise Bad("%s: MESON_TEST names case %r, which has no case_%s()" % (path, case, case))
        _check_keys("%s: case %s" % (path, case), over, CASE_KEYS)
    return meta, cases


def listing(directory):
    lines, names = [], set()
    for file in sorted(f for f in os.listdir(directory) if re.match(r"^test_\w+\.py$", f)):
        meta, cases = read(os.path.join(directory, file))
        for case in cases or [None]:
            over = meta.get("cases", {}).get(case, {})
            name = meta["name"] + ("-" + case.replace("_", "-") if case else "")
            if name in names:
                raise Bad("%s: a second test named %s" % (file, name))
            names.add(name)
            suites = ["integration"] + [s for s in meta["suites"] + over.get("suites", []) if s != "integration"]
            parallel = over.get("parallel", meta.get("parallel", True))
            lines.append("%s %s %s %s %d %d %d" % (name, file, case or "-", ",".join(dict.fromkeys(suites)),
                                                   meta["timeout"], parallel, meta.get("valgrind", False)))
    return lines


def main(argv):
    try:
        found = listing(argv[1])
    except (Bad, SyntaxError, ValueError) as e:
        print("discover.py: %s" % e, file=sys.stderr)
        return 1
    if argv[2:3] == ["--check"]:
        configured = argv[3].split("\n")
        if found == configured:
            print("%d integration tests, as configured" % len(found))
            return 0
        for line in configured:
            if line not in found:
                print("configured, no longer found: " + line)
        for line in found:
            if line not in configured:
                print("found, not configured: " + line)
        print("FAIL: tests/integration changed since meson configured this build; "
              "run `meson setup --reconfigure BUILD_DIR`")
        return 1
    print("\n".join(found))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
