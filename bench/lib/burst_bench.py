"""`--burst`: the guard's latency while a burst of back-channel logouts
arrives, with `BCLStore shm` and with `BCLStore shm file=` (the durable
store: a journal, fdatasync'ed before the OP gets 200, outside the store's
lock by group commit; issue 13 item 7).

One run = one fresh frontend (event MPM by default, empty store):

- the wiring check of the guard benchmark (a filled cookie is bound, a
  revoked one refused) gives the measured cookie;
- guard load: wrk, GET /on/small.txt with that cookie (bound, not revoked:
  the guard looks it up and lets it through), C connections, each pausing
  P ms before each request (bench/lua/pace.lua), for D seconds: a steady
  rate, not a flood, so the latency is the guard's path and its lock, not
  a queue for the CPU;
- with a burst: a second wrk, started 1 s before the guard's and ending
  1 s after it, POSTs distinct valid RS256 logout tokens (each a new sid,
  sub and jti; never a replay) to /bcl-rs256, B connections, each pausing
  Q ms between logouts; every answer must be 200;
- the status page before and after gives the logouts accepted and the
  journal's fdatasync calls (`bcl_journal_syncs_total`: the logouts' and
  the 5-second maintenance's).

Four kinds of run, {shm, shm file=} x {no burst, burst}, one after the
other, the whole set repeated R times: drift of a shared machine hits
every kind alike; the spread over the R repeats is reported. The journal
is on the file system of the system temp dir (the report says which).
"""
import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time

import bulk_tokens
import guard_bench
import harness
import machine
import scrape_bench
import servers
import wrk

KINDS = (("shm", False), ("shm", True), ("shm file=", False), ("shm file=", True))
_METRIC = re.compile(r"^(bcl_[a-z_]+) (\d+)$", re.M)


def status_counters(h):
    r = harness.client().get(h.url("/bcl-status"), timeout=30)
    if r.status_code != 200:
        raise RuntimeError("burst: status page answered %d" % r.status_code)
    return {k: int(v) for k, v in _METRIC.findall(r.text)}


def _httpd_tids(parent):
    """Every thread of httpd: the parent's and its children's."""
    pids = [parent]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == parent:
                        pids.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    tids = []
    for pid in pids:
        try:
            tids += [int(t) for t in os.listdir("/proc/%d/task" % pid)]
        except OSError:
            pass
    return tids


_TRACE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()(.*)$")


def parse_lock_trace(path):
    """From `strace -f -ttt -T -e trace=fcntl,fdatasync,fsync` of every
    httpd thread: the fdatasync/fsync calls, those that began while their
    thread held an fcntl lock (the store's `Mutex file:` lock: F_SETLKW
    F_WRLCK returned 0, F_UNLCK not yet called), and how long the lock was
    held: every hold, and the holds during which a sync ran (a guarded
    request waiting for the lock waits that long)."""
    held, pending = {}, {}
    res = {"syncs": {}, "syncs_under_lock": {}, "locks": 0}
    sync_s, holds, sync_holds = [], [], []
    with open(path, errors="replace") as f:
        for line in f:
            m = _TRACE.match(line)
            if not m:
                continue
            tid, ts = int(m.group(1)), float(m.group(2))
            resumed, call, rest = m.group(3), m.group(4), m.group(5)
            name = resumed or call
            tm = re.search(r"<(\d+\.\d+)>\s*$", rest)
            done = "unfinished" not in rest
            if name in ("fdatasync", "fsync"):
                if call:
                    res["syncs"][name] = res["syncs"].get(name, 0) + 1
                    if tid in held:
                        res["syncs_under_lock"][name] = res["syncs_under_lock"].get(name, 0) + 1
                        held[tid][1] = True
                if tm and done:
                    sync_s.append(float(tm.group(1)))
            elif name == "fcntl":
                if call and ("F_SETLKW" in rest or "F_SETLK," in rest):
                    pending[tid] = "F_UNLCK" not in rest
                if tid in pending and done:
                    lock = pending.pop(tid)
                    if re.search(r"\)\s+=\s+0\b", rest):
                        if lock:
                            # held from the call's return
                            held[tid] = [ts + (float(tm.group(1)) if tm and call else 0.0), False]
                            res["locks"] += 1
                        elif tid in held:
                            since, synced = held.pop(tid)
                            holds.append(ts - since)
                            if synced:
                                sync_holds.append(ts - since)
    sync_s.sort()
    holds.sort()
    res["sync_ms_p50"] = sync_s[len(sync_s) // 2] * 1e3 if sync_s else None
    res["sync_ms_max"] = sync_s[-1] * 1e3 if sync_s else None
    res["hold_ms_p50"] = holds[len(holds) // 2] * 1e3 if holds else None
    res["hold_ms_p999"] = holds[min(len(holds) - 1, int(len(holds) * 0.999))] * 1e3 if holds else None
    res["hold_ms_max"] = holds[-1] * 1e3 if holds else None
    res["holds_over_1ms"] = sum(1 for h in holds if h > 0.001)
    res["sync_hold_ms"] = [round(h * 1e3, 2) for h in sorted(sync_holds)]
    return res


def _attach_strace(h, trace):
    argv = ["strace", "-f", "-qq", "-ttt", "-T", "-e", "trace=fcntl,fdatasync,fsync", "-o", trace]
    for t in _httpd_tids(h.proc.pid):
        argv += ["-p", str(t)]
    tracer = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)   # attached to every thread
    return tracer


def compaction_holds(cfg, backend_port, jwks_text, workdir, log):
    """--burst-compaction N: a durable store filled with N bindings while
    strace watches every httpd thread; the journal is compacted as it grows
    (each time it reaches 4 times its size after the last compaction), and
    each compaction's fsyncs run inside a hold of the store's lock: their
    lengths, with the live records each compaction wrote (BCL0703)."""
    n = cfg.burst_compaction
    jdir = scrape_bench.journal_dir("bcl-bench-compact-")
    line = "BCLStore shm capacity=%d file=%s" % (n + 10000, os.path.join(jdir, "journal"))
    h, rc, out = servers.new_frontend(cfg.burst_mpm, line, backend_port, jwks_text)
    if rc != 0:
        h.cleanup()
        raise RuntimeError("burst: frontend config refused: %s" % out)
    trace = os.path.join(workdir, "compaction-strace.txt")
    try:
        h.start()
        tracer = _attach_strace(h, trace)
        before = status_counters(h)
        load = machine.loadavg()
        mark = h.log_mark()
        t0 = time.time()
        guard_bench.fill_bindings(h, 0, n)
        time.sleep(6)   # the maintenance after the last binding
        secs = time.time() - t0
        after = status_counters(h)
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=60)
        compacted = [int(x) for x in re.findall(r"BCL0703: journal \S+ compacted: (\d+) live records",
                                                h.log_since(mark))]
    finally:
        h.cleanup()
        shutil.rmtree(jdir, ignore_errors=True)
    tr = parse_lock_trace(trace)
    if cfg.counts_keep:
        os.makedirs(cfg.counts_keep, exist_ok=True)
        shutil.copy(trace, cfg.counts_keep)
    res = {"bindings": n, "seconds": secs, "loadavg": load, "trace": tr, "compacted_records": compacted,
           "compactions": after.get("bcl_journal_compactions_total", 0)
           - before.get("bcl_journal_compactions_total", 0)}
    log("  compaction: %d bindings under strace in %.0fs: %d compactions (live records %s), holds with a "
        "sync inside %s ms; syncs under the lock: %s" % (n, secs, res["compactions"], compacted,
                                                        tr["sync_hold_ms"], _calls(tr["syncs_under_lock"])))
    return res


def _one(cfg, store, burst, backend_port, jwks_text, body_file, ntokens, trace=None):
    jdir = scrape_bench.journal_dir("bcl-bench-burst-") if store == "shm file=" else None
    line = "BCLStore shm capacity=%d" % (2 * ntokens + 10000)
    if jdir:
        line += " file=%s" % os.path.join(jdir, "journal")
    h, rc, out = servers.new_frontend(cfg.burst_mpm, line, backend_port, jwks_text)
    if rc != 0:
        h.cleanup()
        raise RuntimeError("burst: frontend config refused: %s" % out)
    res = {"store": store, "burst": burst, "store_line": line}
    try:
        h.start()
        cookie = guard_bench.check_wiring(h)
        tracer = _attach_strace(h, trace) if trace else None
        before = status_counters(h)
        res["loadavg"] = machine.loadavg()
        logouts, errors = {}, []

        def post():
            try:
                logouts.update(wrk.run(h.url("/bcl-rs256"), cfg.burst_duration + 2, cfg.burst_logout_conns,
                                       script="post_bodies+pace",
                                       args=(body_file, 0, ntokens, 1, "/bcl-rs256", cfg.burst_logout_pace),
                                       threads=1, workdir=h.dir))
            except Exception as e:  # reported below
                errors.append(str(e))
        t = None
        if burst:
            t = threading.Thread(target=post)
            t.start()
            time.sleep(1)
        guard = wrk.run(h.url("/on/small.txt"), cfg.burst_duration, cfg.burst_guard_conns,
                        script="static+pace", args=(cfg.burst_guard_pace,), headers=["Cookie: " + cookie],
                        threads=1, workdir=h.dir)
        if t is not None:
            t.join()
        if errors:
            raise RuntimeError("burst: the logouts' wrk: %s" % errors[0])
        after = status_counters(h)
        if tracer is not None:
            tracer.send_signal(signal.SIGINT)   # detaches; httpd runs on
            tracer.wait(timeout=60)
        if guard["err_status"] or guard["errors"]:
            raise RuntimeError("burst: guarded GETs: %d non-2xx, %d socket errors"
                               % (guard["err_status"], guard["errors"]))
        res["guard"] = {k: guard[k] for k in ("requests", "rps", "p50_us", "p90_us", "p99_us", "p999_us",
                                               "max_us", "mean_us")}
        delta = {k: after.get(k, 0) - before.get(k, 0) for k in
                 ("bcl_tokens_accepted_total", "bcl_journal_syncs_total", "bcl_journal_appends_total",
                  "bcl_tokens_replayed_total", "bcl_journal_compactions_total")}
        res["counters"] = delta
        if burst:
            if logouts["err_status"] or logouts["errors"] or logouts["replays"]:
                raise RuntimeError("burst: logouts: %d non-200, %d socket errors, %d replay rounds "
                                   "(raise --burst-tokens)" % (logouts["err_status"], logouts["errors"],
                                                               logouts["replays"]))
            # wrk stops at its deadline with up to one request per
            # connection sent and not yet answered: httpd may still accept it
            extra = delta["bcl_tokens_accepted_total"] - logouts["requests"]
            if not 0 <= extra <= cfg.burst_logout_conns or delta["bcl_tokens_replayed_total"]:
                raise RuntimeError("burst: %d logouts answered, %d accepted, %d replays"
                                   % (logouts["requests"], delta["bcl_tokens_accepted_total"],
                                      delta["bcl_tokens_replayed_total"]))
            res["logouts"] = {k: logouts[k] for k in ("requests", "rps", "p50_us", "p90_us", "p99_us",
                                                      "p999_us", "max_us", "mean_us")}
    finally:
        h.cleanup()
        if jdir:
            shutil.rmtree(jdir, ignore_errors=True)
    return res


def run(cfg, backend_port, jwks_text, workdir, log, rsa_key):
    # the most a burst can post (no connection waits for an answer): every
    # token must be new, or the receiver's replay path would be measured
    most = int(cfg.burst_logout_conns * 1000.0 / cfg.burst_logout_pace * (cfg.burst_duration + 2)) + 1
    if cfg.burst_tokens < most:
        raise RuntimeError("--burst-tokens %d: a burst can post up to %d logouts (%d connections, a %s ms "
                           "pause, %d s): sign at least that many"
                           % (cfg.burst_tokens, most, cfg.burst_logout_conns, cfg.burst_logout_pace,
                              cfg.burst_duration + 2))
    t0 = time.time()
    toks = bulk_tokens.make_tokens("RS256", cfg.burst_tokens, servers.ISSUER, servers.CLIENT_ID,
                                   key=rsa_key, prefix="burst-%s" % secrets.token_hex(4))
    body_file = bulk_tokens.write_bodies(os.path.join(workdir, "burst-tokens.txt"), toks)
    log("  burst: %d RS256 tokens signed in %.1fs" % (len(toks), time.time() - t0))
    jdir = scrape_bench.journal_dir("bcl-bench-burst-")
    fs = scrape_bench.fs_type(jdir)
    shutil.rmtree(jdir, ignore_errors=True)
    res = {"mpm": cfg.burst_mpm, "duration": cfg.burst_duration, "reps": cfg.burst_reps,
           "guard_conns": cfg.burst_guard_conns, "guard_pace_ms": cfg.burst_guard_pace,
           "logout_conns": cfg.burst_logout_conns, "logout_pace_ms": cfg.burst_logout_pace,
           "tokens": len(toks), "journal_fs": fs, "runs": []}
    for rep in range(cfg.burst_reps):
        for store, burst in KINDS:
            r = _one(cfg, store, burst, backend_port, jwks_text, body_file, len(toks))
            r["rep"] = rep
            res["runs"].append(r)
            g = r["guard"]
            msg = "  burst %d/%d: %s, %s: guard p50/p99/p99.9 %d/%d/%d us (%.0f req/s)" % (
                rep + 1, cfg.burst_reps, store, "burst" if burst else "no burst",
                g["p50_us"], g["p99_us"], g["p999_us"], g["rps"])
            if burst:
                lo = r["logouts"]
                msg += "; %d logouts (%.0f/s) p50/p99 %d/%d us, %d fdatasync" % (
                    lo["requests"], lo["rps"], lo["p50_us"], lo["p99_us"],
                    r["counters"]["bcl_journal_syncs_total"])
            log(msg + "; load %s" % r["loadavg"])
    if cfg.burst_compaction:
        res["compaction"] = compaction_holds(cfg, backend_port, jwks_text, workdir, log)
    if cfg.burst_trace:
        trace = os.path.join(workdir, "burst-strace.txt")
        r = _one(cfg, "shm file=", True, backend_port, jwks_text, body_file, len(toks), trace=trace)
        r["trace"] = parse_lock_trace(trace)
        # the trace must hold the syncs the journal counted (strace attached
        # to every thread), or "none under the lock" would mean nothing
        if r["trace"]["syncs"].get("fdatasync", 0) < r["counters"]["bcl_journal_syncs_total"] or not r["trace"]["locks"]:
            raise RuntimeError("burst: strace saw %s and %d lock holds; the journal counted %d fdatasync"
                               % (_calls(r["trace"]["syncs"]), r["trace"]["locks"],
                                  r["counters"]["bcl_journal_syncs_total"]))
        if cfg.counts_keep:
            os.makedirs(cfg.counts_keep, exist_ok=True)
            shutil.copy(trace, cfg.counts_keep)
        res["traced"] = r
        log("  burst under strace (shm file=): %s" % _trace_text(r))
    return res


def _calls(d):
    return ", ".join("%d %s" % (v, k) for k, v in sorted(d.items())) or "none"


def _trace_text(t):
    tr = t["trace"]
    return ("%d logouts accepted, %d `bcl_journal_syncs_total`, %d `bcl_journal_compactions_total`; traced: %s; **made while the thread "
            "held the store's lock: %s**; %d lock holds, median %.3f ms, 99.9th percentile %.2f ms, "
            "longest %.2f ms, %d over 1 ms; the holds with a sync inside: %s ms; an fdatasync took "
            "%.2f ms (median), %.2f ms at most"
            % (t["counters"]["bcl_tokens_accepted_total"], t["counters"]["bcl_journal_syncs_total"],
               t["counters"].get("bcl_journal_compactions_total", 0), _calls(tr["syncs"]), _calls(tr["syncs_under_lock"]), tr["locks"], tr["hold_ms_p50"] or 0,
               tr["hold_ms_p999"] or 0, tr["hold_ms_max"] or 0, tr["holds_over_1ms"],
               ", ".join("%.2f" % x for x in tr["sync_hold_ms"]) or "none",
               tr["sync_ms_p50"] or 0, tr["sync_ms_max"] or 0))


def _med(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2.0


def _cell(xs, fmt="{:,.0f}"):
    """median (min to max) over the repeats"""
    if len(xs) == 1:
        return fmt.format(xs[0])
    return "%s (%s to %s)" % (fmt.format(_med(xs)), fmt.format(min(xs)), fmt.format(max(xs)))


def table(res):
    lines = ["| store | logout burst | guard p50 (us) | guard p99 (us) | guard p99.9 (us) | guard req/s "
             "| logouts/s | logout p50 (us) | logout p99 (us) | logout p99.9 (us) "
             "| fdatasync per run | logouts per fdatasync | load average (1 min) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for store, burst in KINDS:
        rs = [r for r in res["runs"] if r["store"] == store and r["burst"] == burst]
        if not rs:
            continue
        g = [r["guard"] for r in rs]
        cells = ["`BCLStore %s`" % store, "yes" if burst else "no",
                 _cell([x["p50_us"] for x in g]), _cell([x["p99_us"] for x in g]),
                 _cell([x["p999_us"] for x in g]), _cell([x["rps"] for x in g])]
        if burst:
            lo = [r["logouts"] for r in rs]
            cells += [_cell([x["rps"] for x in lo]), _cell([x["p50_us"] for x in lo]),
                      _cell([x["p99_us"] for x in lo]), _cell([x["p999_us"] for x in lo])]
        else:
            cells += ["", "", "", ""]
        syncs = [r["counters"]["bcl_journal_syncs_total"] for r in rs]
        if store == "shm file=":
            cells.append(_cell(syncs))
            if burst:
                cells.append(_cell([r["counters"]["bcl_tokens_accepted_total"]
                                    / float(max(1, r["counters"]["bcl_journal_syncs_total"]))
                                    for r in rs], "{:,.1f}"))
            else:
                cells.append("")
        else:
            cells += ["", ""]
        loads = [float(r["loadavg"].split()[0]) for r in rs]
        cells.append("%.1f to %.1f" % (min(loads), max(loads)))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "Each cell: median of %d runs (min to max). Guard: wrk, `GET /on/small.txt` with a bound, "
        "unrevoked cookie, %d connections each pausing %s ms between requests, %d s per run. Burst: "
        "distinct RS256 logouts to `/bcl-rs256`, %d connections each pausing %s ms, from 1 s before to "
        "1 s after the guard's run, every answer 200. %s MPM, a fresh httpd per run. fdatasync: the "
        "journal's `bcl_journal_syncs_total` over the run (the logouts' and the 5-second maintenance's); "
        "logouts per fdatasync: `bcl_tokens_accepted_total` over the run / that. "
        "Journal on %s."
        % (res["reps"], res["guard_conns"], res["guard_pace_ms"], res["duration"], res["logout_conns"],
           res["logout_pace_ms"], res["mpm"], res["journal_fs"]))
    t = res.get("traced")
    if t:
        lines.append("")
        lines.append("Under strace (one more `shm file=` run with the burst, every httpd thread traced for "
                     "`fcntl`, `fdatasync`, `fsync` with `-ttt -T`; its latencies are not reported): "
                     + _trace_text(t) + ".")
    c = res.get("compaction")
    if c:
        lines.append("")
        lines.append(
            "Compaction (`--burst-compaction %d`: a `shm file=` store filled with %d bindings under the same "
            "strace, in %.0f s, load %s): %d compactions, writing %s live records; the store's lock "
            "holds with a sync inside lasted %s ms; syncs made under the lock: %s."
            % (c["bindings"], c["bindings"], c["seconds"], c["loadavg"], c["compactions"],
               ", ".join("{:,}".format(x) for x in c["compacted_records"]) or "no",
               ", ".join("%.2f" % x for x in c["trace"]["sync_hold_ms"]) or "none",
               _calls(c["trace"]["syncs_under_lock"])))
    return "\n".join(lines)
