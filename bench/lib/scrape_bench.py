"""`--scrape`: what one status scrape costs, with 10 records in the store
and with 1,000,000 (issue 13 item 5: "a scrape costs the same at 10
records and at 10 million").

Levels (records, capacity): 10 records at the default capacity (100,000),
10 records at capacity 1,010,000, 1,000,000 bindings at capacity 1,010,000.
A scan of the table would cost with the capacity (every slot is visited)
and with the records (every live one is classified); the three levels
separate the two.

For each level:

1. Fill, natively: a frontend (event MPM, `BCLStore shm capacity=C
   file=J`) gets N bindings through the fill vhost (the app's binding
   header; pipelined, every answer checked to be 200), and the status page
   must then say `bcl_store_records{kind="binding"} N`.
2. Wall clock, on that httpd: wrk, one connection, one thread, scrapes
   `GET /bcl-status` (Prometheus text) and `GET /bcl-status?format=json`
   for D seconds each, alternating, R times; time per scrape (mean and
   percentiles) and httpd CPU per scrape (schedstat). The load average is
   recorded before each run: on a shared machine it moves the times.
3. Counts: the httpd is stopped; its journal J now holds the N bindings.
   `apache2 -X` (one process) starts under callgrind and, on a copy of
   the journal, another under strace; each replays the journal into a
   fresh table at start (the status page checks that N bindings are
   there), then answers, on one keep-alive connection, a marker, W
   scrapes, a marker, N1 scrapes, a marker, N2 scrapes, a marker, for
   each format (the method of `--counts`, bench/lib/counts.py): per scrape
   = (count of the N2 segment - count of the N1 segment) / (N2 - N1).

The journals live in a directory under the system temp dir: on this
project's machines an ext4 file system on the root disk, not a tmpfs (the
report says which).
"""
import os
import re
import secrets
import shutil
import subprocess
import threading
import time
from collections import Counter

import counts
import guard_bench
import harness
import machine
import pipeline
import servers
import wrk

FORMATS = (("prometheus", "/bcl-status"), ("json", "/bcl-status?format=json"))
LEVELS = ((10, 100000), (10, 1010000), (1000000, 1010000))
_RECORDS = re.compile(r'^bcl_store_records\{kind="binding"\} (\d+)$', re.M)


def fs_type(path):
    """'ext4 on /dev/vda' for the file system holding `path` (df -T)."""
    try:
        out = subprocess.run(["df", "-T", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             timeout=20).stdout.decode().splitlines()
        dev, kind = out[1].split()[:2]
        return "%s on %s" % (kind, dev)
    except (OSError, IndexError, ValueError, subprocess.TimeoutExpired):
        return "unknown"


def journal_dir(prefix):
    """A directory for a journal, owned by www-data (mode 0700) when we
    are root: httpd's children append to the file and compact it there."""
    d = harness.make_tmpdir(prefix)
    os.chmod(d, 0o700)
    if os.geteuid() == 0:
        subprocess.run(["chown", "www-data:www-data", d], check=True)
    return d


def status_bindings(port, path="/bcl-status"):
    # Connection: close: an `apache2 -X` serves one connection at a time
    st = harness.client().get("http://127.0.0.1:%d%s" % (port, path), timeout=120,
                              headers={"Connection": "close"})
    if st.status_code != 200:
        raise RuntimeError("status page answered %d" % st.status_code)
    m = _RECORDS.search(st.text)
    return int(m.group(1)) if m else None


def _fill_and_time(records, capacity, backend_port, jwks_text, jfile, cfg, log):
    store_line = "BCLStore shm capacity=%d file=%s" % (capacity, jfile)
    h, rc, out = servers.new_frontend("event", store_line, backend_port, jwks_text)
    if rc != 0:
        h.cleanup()
        raise RuntimeError("scrape: frontend config refused: %s" % out)
    res = {"records": records, "capacity": capacity, "store_line": store_line, "wall": []}
    try:
        h.start()
        t0 = time.time()
        fill = guard_bench.fill_bindings(h, 0, records)
        res["fill_seconds"] = fill["seconds"]
        log("  scrape: %d bindings filled in %.1fs" % (records, time.time() - t0))
        got = status_bindings(h.port)
        if got != records:
            raise RuntimeError("scrape: the status page says %r bindings, %d were made" % (got, records))
        for _ in range(cfg.scrape_reps):
            for fmt, path in FORMATS:
                load = machine.loadavg()
                r = wrk.run(h.url(path), cfg.scrape_duration, 1, threads=1, httpd_pid=h.proc.pid,
                            workdir=h.dir)
                if r["err_status"] or r["errors"] or not r["requests"]:
                    raise RuntimeError("scrape: wrk on %s: %d non-2xx, %d socket errors"
                                       % (path, r["err_status"], r["errors"]))
                res["wall"].append({"format": fmt, "loadavg": load, "requests": r["requests"],
                                    "mean_us": r["mean_us"], "p50_us": r["p50_us"],
                                    "p99_us": r["p99_us"], "rps": r["rps"],
                                    "cpu_us_per_scrape": r.get("cpu_us_per_req")})
                log("  scrape: %d records, %s: %.0f us/scrape (mean), %.0f us CPU, load %s"
                    % (records, fmt, r["mean_us"], r.get("cpu_us_per_req") or 0, load))
        res["journal_bytes"] = os.path.getsize(jfile)
    finally:
        h.cleanup()
    return res


def _requests(w, n1, n2):
    seq = []
    k = [0]

    def mark():
        seq.append((pipeline.get_request("%s%d" % (counts.MARK, k[0])), 404))
        k[0] += 1
    for _, path in FORMATS:
        mark()
        for n in (w, n1, n2):
            for _ in range(n):
                seq.append((pipeline.get_request(path), 200))
            mark()
    return seq


def _under_tool(tool, records, capacity, backend_port, jwks_text, jfile, seq, outdir):
    """apache2 -X under `tool` with the filled journal; checks the replayed
    count on the status page, sends `seq`, stops it (clean-exit check)."""
    store_line = "BCLStore shm capacity=%d file=%s" % (capacity, jfile)
    h, rc, out = servers.new_frontend("prefork", store_line, backend_port, jwks_text)
    if rc != 0:
        h.cleanup()
        raise RuntimeError("scrape: %s config refused: %s" % (tool, out))
    with open(h.conf_path) as f:
        conf = f.read()
    conf = re.sub(r"^(User|Group) .*$", "", conf, flags=re.M) + "\nKeepAliveTimeout 300\n"
    out = os.path.join(outdir, "%s-%d-%d" % (tool, records, capacity))
    if tool == "callgrind":
        wrap = ["valgrind", "--tool=callgrind", "--vgdb=no", "--callgrind-out-file=" + out,
                "--dump-before=" + counts.DUMP_FN]
    else:
        wrap = ["strace", "-f", "-qq", "-s", "40", "-o", out]
    argv = servers.as_www_data(h, conf, outdir, os.path.dirname(jfile)) + wrap + [
        harness.APACHE2, "-X", "-f", h.conf_path]
    with open(h.path("tool.txt"), "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    ran = False
    try:
        counts._wait_port(proc, h.port, time.time() + 900, tool, h)
        got = status_bindings(h.port)
        if got != records:
            raise RuntimeError("scrape under %s: %r bindings after the replay, expected %d\n%s"
                               % (tool, got, records, counts._tail(h)))
        counts._send_all(h.port, seq)
        ran = True
    finally:
        try:
            servers.stop_under_tool(h, proc, tool, ran)
        finally:
            h.cleanup()
    return out


_READ = re.compile(r"^\d+\s+(?:read|recvfrom)\(|^\d+\s+<\.\.\. (?:read|recvfrom) resumed>")


def _strace_segments(out):
    """As counts._strace_segments, and a marker read that strace split
    (`read(... <unfinished ...>`, then `<... read resumed>` with the data,
    when another process of httpd made a call in between) is found too."""
    segs, cur, want = [], None, 0
    with open(out, errors="replace") as f:
        for line in f:
            if ("%s%d " % (counts.MARK, want)) in line and _READ.match(line):
                if cur is not None:
                    segs.append(cur)
                cur = Counter()
                want += 1
            if "resumed>" in line:
                continue  # counted at its start
            m = counts._SYSCALL.match(line)
            if m and cur is not None:
                cur[m.group(1)] += 1
    return segs


def _per_scrape(cg_out, st_out, w, n1, n2):
    marks = 4 * len(FORMATS)
    cg = counts._callgrind_segments(cg_out)[-marks:]
    st = _strace_segments(st_out)
    if len(cg) != marks or len(st) != marks - 1:
        raise RuntimeError("scrape: %d callgrind dumps and %d strace segments, expected %d and %d"
                           % (len(cg), len(st), marks, marks - 1))
    rows = {}
    for i, (fmt, path) in enumerate(FORMATS):
        first = 4 * i
        sc1, sc2 = st[first + 1], st[first + 2]
        per_call = {k: (sc2[k] - sc1[k]) / float(n2 - n1) for k in set(sc1) | set(sc2)}
        rows[fmt] = {"path": path,
                     "instructions": (cg[first + 3][0] - cg[first + 2][0]) / float(n2 - n1),
                     "syscalls": sum(per_call.values()),
                     "by_syscall": {k: v for k, v in per_call.items() if abs(v) >= 0.005}}
        if rows[fmt]["instructions"] <= 0:
            raise RuntimeError("scrape: %s: instructions per scrape not positive" % fmt)
    return rows


def run(cfg, backend_port, jwks_text, workdir, log):
    missing = counts.available()
    if missing:
        raise RuntimeError("--scrape needs %s" % missing)
    w, n1, n2 = cfg.counts_requests
    outdir = os.path.join(workdir, "scrape")
    os.makedirs(outdir, exist_ok=True)
    os.chmod(outdir, 0o777)
    levels = [(r, c) for r, c in LEVELS if r <= cfg.scrape_max]
    if cfg.scrape_max not in [r for r, _ in levels]:
        levels.append((cfg.scrape_max, cfg.scrape_max + 10000))
    result = {"w": w, "n1": n1, "n2": n2, "levels": [], "reps": cfg.scrape_reps,
              "duration": cfg.scrape_duration}
    seq = _requests(w, n1, n2)
    for records, capacity in levels:
        jdir = journal_dir("bcl-bench-scrape-")
        try:
            jfile = os.path.join(jdir, "journal")
            result["journal_fs"] = fs_type(jdir)
            lvl = _fill_and_time(records, capacity, backend_port, jwks_text, jfile, cfg, log)
            # the strace run replays a copy: two httpds never share a journal
            jdir2 = journal_dir("bcl-bench-scrape-")
            shutil.copyfile(jfile, os.path.join(jdir2, "journal"))
            if os.geteuid() == 0:
                subprocess.run(["chown", "-R", "www-data:www-data", jdir, jdir2], check=True)
            outs, errors = {}, []
            t0 = time.time()

            def job(tool, jf):
                try:
                    outs[tool] = _under_tool(tool, records, capacity, backend_port, jwks_text,
                                             jf, seq, outdir)
                except Exception as e:  # reported below
                    errors.append("%s: %s" % (tool, e))
            threads = [threading.Thread(target=job, args=("callgrind", jfile)),
                       threading.Thread(target=job, args=("strace", os.path.join(jdir2, "journal")))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            shutil.rmtree(jdir2, ignore_errors=True)
            if errors:
                raise RuntimeError("; ".join(errors))
            lvl["counts"] = _per_scrape(outs["callgrind"], outs["strace"], w, n1, n2)
            for f in ([] if cfg.counts_keep else os.listdir(outdir)):
                os.unlink(os.path.join(outdir, f))
            log("  scrape: %d records, capacity %d: %s (callgrind + strace in %.0fs)"
                % (records, capacity, ", ".join("%s %.0f instructions, %.2f system calls"
                                                % (k, v["instructions"], v["syscalls"])
                                                for k, v in lvl["counts"].items()),
                   time.time() - t0))
            result["levels"].append(lvl)
        finally:
            shutil.rmtree(jdir, ignore_errors=True)
    return result


def _spread(xs):
    return "%s (%s to %s)" % ("{:,.0f}".format(sorted(xs)[len(xs) // 2]), "{:,.0f}".format(min(xs)),
                              "{:,.0f}".format(max(xs)))


def table(res):
    lines = ["| records | capacity | format | instructions/scrape | system calls/scrape "
             "| time/scrape (wrk p50), us: median of %d runs (min to max) | httpd CPU/scrape, us | load average (1 min) during the runs |"
             % res["reps"],
             "|---|---|---|---|---|---|---|---|"]
    for lvl in res["levels"]:
        for fmt, _ in FORMATS:
            c = lvl["counts"][fmt]
            wall = [x for x in lvl["wall"] if x["format"] == fmt]
            loads = [float(x["loadavg"].split()[0]) for x in wall]
            lines.append("| %s | %s | %s | %s | %.2f | %s | %s | %.1f to %.1f |" % (
                "{:,}".format(lvl["records"]), "{:,}".format(lvl["capacity"]), fmt,
                "{:,.0f}".format(c["instructions"]), c["syscalls"],
                _spread([x["p50_us"] for x in wall]),
                _spread([x["cpu_us_per_scrape"] or 0 for x in wall]), min(loads), max(loads)))
    lines.append("")
    lines.append("Instructions and system calls: per scrape, (count over %d scrapes - count over %d) / %d, "
                 "`apache2 -X` under callgrind and under strace, after %d warm-up scrapes. Time: wrk, one "
                 "connection, %s s per run, the median time per scrape of each run (p50: a scheduling stall of a busy "
                 "machine moves the mean); CPU: httpd's schedstat over the run. "
                 "Journal on %s." % (res["n2"], res["n1"], res["n2"] - res["n1"], res["w"],
                                     res["duration"], res.get("journal_fs", "?")))
    return "\n".join(lines)
