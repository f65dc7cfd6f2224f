#!/usr/bin/python3
"""Checks that a benchmark run produced a report with numbers in it: the CI
smoke stage runs this after `bash bench/run.sh --smoke`. It never checks a
speed: only that every section is there and its tables hold measured,
non-zero figures.

    /usr/bin/python3 bench/check_report.py [REPORT.md]   (default: the newest in bench/results)
"""
import glob
import os
import re
import sys

SECTIONS = ["## Machine", "## Versions", "## Method", "## Targets",
            "## Guard overhead, `BCLStore shm`", "## How the guard's cost grows with the store",
            "## Instructions per request (callgrind)", "## Receiver throughput", "## Memory", "## Notes"]
NUMBER = re.compile(r"^[+-]?[\d,]+(\.\d+)?%?$")


def table_rows(text, section):
    """Rows (lists of cells) of the tables under `section` (up to the next ## heading)."""
    start = text.index(section)
    end = text.find("\n## ", start + len(section))
    body = text[start:end if end >= 0 else len(text)]
    rows = []
    for line in body.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def numeric_column(rows, name):
    head = rows[0]
    i = head.index(name)
    values = []
    for r in rows[1:]:
        if i < len(r) and r[i] and NUMBER.match(r[i]) and r[i] != head[i]:
            values.append(float(r[i].replace(",", "").rstrip("%")))
    return values


def check(path):
    problems = []
    with open(path) as f:
        text = f.read()
    for s in SECTIONS:
        if s not in text:
            problems.append("missing section %r" % s)
    if problems:
        return problems
    guard = table_rows(text, "## Guard overhead, `BCLStore shm`")
    if len(guard) < 2:
        problems.append("the guard table has no rows")
    else:
        for col in ("req/s off", "req/s on", "CPU/req off (us)", "CPU/req on (us)"):
            vals = numeric_column(guard, col)
            if not vals or any(v <= 0 for v in vals):
                problems.append("guard column %r has no positive numbers: %r" % (col, vals))
    rec = table_rows(text, "## Receiver throughput")
    if len(rec) < 2:
        problems.append("the receiver table has no rows")
    else:
        vals = numeric_column(rec, "requests/s")
        if len(vals) < 4 or any(v <= 0 for v in vals):
            problems.append("receiver requests/s are not all positive numbers: %r" % vals)
        handlers = {r[1] for r in rec[1:] if len(r) > 1}
        for h in ("RS256", "ES256", "HS256", "trivial POST (mod_reflector)"):
            if h not in handlers:
                problems.append("no receiver row for %s" % h)
    if not re.search(r"\d+(\.\d+)? bytes per record of capacity", text):
        problems.append("the memory section has no bytes per record")
    targets = table_rows(text, "## Targets")
    if len(targets) < 6:
        problems.append("the targets table has %d rows, expected at least 5" % (len(targets) - 1))
    for kind in ("memcache", "redis"):
        sec = "## Guard overhead, `BCLStore %s`" % kind
        if sec in text:
            body = text[text.index(sec):]
            body = body[:body.find("\n## ", 4)]
            if "not measured: this build has no %s store" % kind not in body:
                rows = table_rows(text, sec)
                if len(rows) < 2 or not numeric_column(rows, "req/s on"):
                    problems.append("the %s section has neither numbers nor 'not measured'" % kind)
    return problems


def main(argv):
    if len(argv) > 1:
        path = argv[1]
    else:
        here = os.path.dirname(os.path.abspath(__file__))
        found = sorted(glob.glob(os.path.join(here, "results", "*.md")), key=os.path.getmtime)
        if not found:
            print("check_report: no report in bench/results", file=sys.stderr)
            return 1
        path = found[-1]
    if not os.path.isfile(path):
        print("check_report: %s does not exist" % path, file=sys.stderr)
        return 1
    problems = check(path)
    for p in problems:
        print("check_report: %s: %s" % (path, p), file=sys.stderr)
    if not problems:
        print("check_report: %s: every section present, numbers measured" % path)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
