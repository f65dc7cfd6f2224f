#!/usr/bin/python3
"""mod_backchannel_logout benchmarks: guard overhead, receiver throughput,
memory, growth. Run through bench/run.sh (which checks the build); see
docs/BENCHMARKS.md for the method.

    /usr/bin/python3 bench/bench.py [--smoke] [options]

Writes bench/results/<timestamp>[-smoke].md and .json; a full run also
copies the report into docs/BENCHMARKS.md (--no-docs keeps it out).
"""
import argparse
import datetime
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(1, os.path.join(os.path.dirname(HERE), "test", "integration"))

import callgrind_bench  # noqa: E402
import burst_bench  # noqa: E402
import counts  # noqa: E402
import guard_bench  # noqa: E402
import harness  # noqa: E402
import keys  # noqa: E402
import machine  # noqa: E402
import receiver_bench  # noqa: E402
import report  # noqa: E402
import scrape_bench  # noqa: E402
import servers  # noqa: E402
import stores  # noqa: E402
import wrk  # noqa: E402

REPO = os.path.dirname(HERE)

FULL = dict(duration=4, warmup=1, reps=2, connections=16,
            fills="0,10000,100000,1000000", revocations=100000,
            mpms="prefork,event", stores="shm,memcache,redis", net_fills="0,100000",
            receiver_mpm="event", receiver_conns="2,16", receiver_duration=5,
            receiver_tokens=50000, openssl_seconds=3, mutex="", callgrind_requests="500,2500")
SMOKE = dict(duration=1, warmup=1, reps=1, connections=8,
             fills="0,2000", revocations=200,
             mpms="event", stores="shm,memcache,redis", net_fills="0,200",
             receiver_mpm="event", receiver_conns="16", receiver_duration=1,
             receiver_tokens=1500, openssl_seconds=1, mutex="", callgrind_requests="20,120")


def ints(text):
    return [int(x) for x in str(text).split(",") if x.strip()]


def words(text):
    return [x.strip() for x in str(text).split(",") if x.strip()]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smoke", action="store_true",
                   help="tiny fills and 1-second runs: checks the scripts work (CI), numbers mean little")
    p.add_argument("--duration", type=float, help="seconds per guard measurement (full: 4)")
    p.add_argument("--warmup", type=float, help="seconds of warm-up per path and level (full: 1)")
    p.add_argument("--reps", type=int, help="off/on pairs per path and level (full: 2)")
    p.add_argument("--connections", type=int, help="wrk connections for the guard (full: 16)")
    p.add_argument("--fills", help="binding counts to measure at, comma-separated (full: 0,10000,100000,1000000)")
    p.add_argument("--revocations", type=int, help="revocations added before the first non-empty level (full: 100000)")
    p.add_argument("--mpms", help="MPMs for the guard (full: prefork,event)")
    p.add_argument("--stores", help="stores for the guard: shm, memcache, redis (full: all three; "
                                    "memcache and redis run with the event MPM at --net-fills)")
    p.add_argument("--net-fills", help="binding counts for the memcache/redis rows (full: 0,100000)")
    p.add_argument("--receiver-mpm", help="MPM for the receiver rows (full: event)")
    p.add_argument("--receiver-conns", help="wrk connections for the receiver rows (full: 2,16)")
    p.add_argument("--receiver-duration", type=int, help="seconds per receiver row, at most (full: 5)")
    p.add_argument("--receiver-tokens", type=int, help="distinct tokens per algorithm (full: 50000)")
    p.add_argument("--openssl-seconds", type=int, help="openssl speed -seconds (full: 3)")
    p.add_argument("--mutex", help="mechanism for the store's lock (`Mutex MECH bcl-store`: file, "
                                   "pthread, sysvsem, ...); default: the harness's `Mutex file:DIR default`, "
                                   "like Debian's apache2.conf")
    p.add_argument("--callgrind-requests", help="N1,N2: requests per callgrind run; the cost per "
                                                "request is the difference / (N2-N1) (full: 500,2500)")
    p.add_argument("--counts", action="store_true",
                   help="only the deterministic counts: instructions (callgrind) and system calls "
                        "(strace) per request for static, guard (header, env), trivial POST and "
                        "receiver; prints the table (about a minute, for CI)")
    p.add_argument("--counts-requests", default="10,20,120",
                   help="W,N1,N2 for --counts: warm-up requests, then per request = "
                        "(count over N2 - count over N1) / (N2-N1) (default 10,20,120)")
    p.add_argument("--counts-fill", type=int, default=0, metavar="N",
                   help="with --counts: N other bindings in the store (filled through an ordinary "
                        "httpd into a journal the counted httpd replays; 1000000 takes a few minutes)")
    p.add_argument("--counts-keep", metavar="DIR",
                   help="with --counts, --scrape or --burst: keep callgrind's dumps and strace's traces in DIR "
                        "(callgrind_annotate them for a profile)")
    p.add_argument("--scrape", action="store_true",
                   help="only the status scrape's cost at 10 and 1,000,000 records: instructions "
                        "(callgrind) and system calls (strace) per scrape, and time per scrape (wrk), "
                        "Prometheus and JSON (a few minutes; not in CI)")
    p.add_argument("--scrape-max", type=int, default=1000000,
                   help="with --scrape: the largest store measured, in bindings (default 1000000)")
    p.add_argument("--scrape-reps", type=int, default=3,
                   help="with --scrape: wall-clock runs per format and level (default 3)")
    p.add_argument("--scrape-duration", type=int, default=3,
                   help="with --scrape: seconds per wall-clock run (default 3)")
    p.add_argument("--burst", action="store_true",
                   help="only the guard's latency (p50/p99/p99.9) during a burst of RS256 logouts, "
                        "BCLStore shm and shm file= (journal on disk), with the logouts' latency and "
                        "fdatasync count (a few minutes; not in CI)")
    p.add_argument("--burst-mpm", default="event", help="with --burst: the MPM (default event)")
    p.add_argument("--burst-duration", type=int, default=5,
                   help="with --burst: seconds of guard load per run (default 5); the burst lasts 2 s more")
    p.add_argument("--burst-reps", type=int, default=3, help="with --burst: repeats of the four runs (default 3)")
    p.add_argument("--burst-guard-conns", type=int, default=8,
                   help="with --burst: wrk connections for the guarded GETs (default 8)")
    p.add_argument("--burst-guard-pace", type=float, default=2,
                   help="with --burst: ms each guard connection pauses between requests (default 2)")
    p.add_argument("--burst-logout-conns", type=int, default=4,
                   help="with --burst: wrk connections posting logouts (default 4)")
    p.add_argument("--burst-logout-pace", type=float, default=2,
                   help="with --burst: ms each logout connection pauses between logouts (default 2)")
    p.add_argument("--burst-tokens", type=int, default=15000,
                   help="with --burst: distinct RS256 tokens signed (default 15000; a run never replays one)")
    p.add_argument("--burst-trace", action=argparse.BooleanOptionalAction, default=True,
                   help="with --burst: one more shm file= burst run with every httpd thread under "
                        "strace, counting fdatasync calls made while an fcntl lock is held (default on)")
    p.add_argument("--burst-compaction", type=int, default=0, metavar="N",
                   help="with --burst: also fill a shm file= store with N bindings under strace and "
                        "report how long each journal compaction holds the store's lock (default 0: not run)")
    p.add_argument("--skip", default="", help="phases to leave out: guard, callgrind, receiver, openssl")
    p.add_argument("--render", metavar="JSON",
                   help="measure nothing: write the Markdown report of an earlier run's JSON again "
                        "(next to it), and docs/BENCHMARKS.md unless --no-docs or a smoke run")
    p.add_argument("--out", default=os.path.join(HERE, "results"), help="directory for the reports")
    p.add_argument("--no-docs", action="store_true", help="do not copy the report to docs/BENCHMARKS.md")
    a = p.parse_args(argv)
    base = SMOKE if a.smoke else FULL
    for k, v in base.items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    a.fills = ints(a.fills)
    a.net_fills = ints(a.net_fills)
    a.mpms = words(a.mpms)
    a.stores = words(a.stores)
    a.receiver_conns = ints(a.receiver_conns)
    a.skip = set(words(a.skip))
    a.callgrind_requests = ints(a.callgrind_requests)
    a.counts_requests = ints(a.counts_requests)
    if len(a.counts_requests) != 3 or a.counts_requests[2] <= a.counts_requests[1]:
        p.error("--counts-requests takes W,N1,N2 with N2 > N1")
    if len(a.callgrind_requests) != 2 or a.callgrind_requests[1] <= a.callgrind_requests[0]:
        p.error("--callgrind-requests takes N1,N2 with N2 > N1")
    for s in a.stores:
        if s not in stores.KINDS:
            p.error("unknown store %r (known: %s)" % (s, ", ".join(stores.KINDS)))
    return a


def write_report(data, json_path, update_docs, log=print):
    md_path = os.path.splitext(json_path)[0] + ".md"
    text = report.render(data)
    with open(md_path, "w") as f:
        f.write(text)
    log("report: %s" % os.path.relpath(md_path, REPO))
    if update_docs and data.get("mode") != "smoke":
        docs = os.path.join(REPO, "docs", "BENCHMARKS.md")
        try:
            with open(docs) as f:
                old_page = f.read()
        except OSError:
            old_page = ""
        with open(docs, "w") as f:
            f.write(report.docs_page(text, os.path.relpath(md_path, REPO), old_page))
        log("copied into docs/BENCHMARKS.md")
    return md_path


def main_counts(cfg):
    """--counts: the deterministic table, printed; writes
    bench/results/<stamp>-counts.md and .json too."""
    started = time.time()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")

    def log(msg):
        print("[%5.0fs] %s" % (time.time() - started, msg), flush=True)

    harness.require_module()
    missing = counts.available()
    if missing:
        print("bench.py --counts: missing: %s (bash tools/install-deps.sh installs them)" % missing,
              file=sys.stderr)
        return 2
    os.makedirs(cfg.out, exist_ok=True)
    rsa_key = keys.new_key("rsa", "bench-rsa")
    jwks_text = json.dumps(keys.jwks_doc([rsa_key]))
    workdir = harness.make_tmpdir("bcl-bench-counts-")
    try:
        w, n1, n2 = cfg.counts_requests
        log("counts: httpd -X under callgrind and under strace, %d/%d/%d requests per row" % (w, n1, n2))
        res = counts.run(rsa_key, jwks_text, workdir, w, n1, n2, log, keep=cfg.counts_keep,
                         fill=cfg.counts_fill)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    res["stamp"] = stamp
    res["machine"] = machine.machine()
    res["machine"]["loadavg_at_end"] = machine.loadavg()
    res["versions"] = machine.versions(REPO, harness.APACHE2, "")
    text = counts.table(res)
    base = os.path.join(cfg.out, stamp + "-counts")
    with open(base + ".json", "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    with open(base + ".md", "w") as f:
        f.write("Counts run %s (module %s), %.0f seconds.\n\n%s\n"
                % (stamp, res["versions"].get("module", "?"), time.time() - started, text))
    print(text)
    log("done; %s.md" % os.path.relpath(base, REPO))
    return 0


def main_ops(cfg, name, runner, table):
    """--scrape / --burst: one operations measurement, printed; writes
    bench/results/<stamp>-NAME.md and .json. docs/BENCHMARKS.md's section
    "Operations" is written by hand from them."""
    started = time.time()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")

    def log(msg):
        print("[%5.0fs] %s" % (time.time() - started, msg), flush=True)

    harness.require_module()
    os.makedirs(cfg.out, exist_ok=True)
    rsa_key = keys.new_key("rsa", "bench-rsa")
    jwks_text = json.dumps(keys.jwks_doc([rsa_key]))
    load0 = machine.loadavg()
    log("%s: load average %s" % (name, load0))
    backend = servers.start_backend()
    workdir = harness.make_tmpdir("bcl-bench-%s-" % name)
    try:
        res = runner(cfg, backend.port, jwks_text, workdir, log, rsa_key)
    finally:
        backend.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    res["stamp"] = stamp
    res["machine"] = machine.machine()
    res["machine"]["loadavg_at_start"] = load0
    res["machine"]["loadavg_at_end"] = machine.loadavg()
    res["versions"] = machine.versions(REPO, harness.APACHE2, wrk.version())
    text = table(res)
    base = os.path.join(cfg.out, "%s-%s" % (stamp, name))
    with open(base + ".json", "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    with open(base + ".md", "w") as f:
        f.write("%s run %s (module %s), %.0f seconds; load average %s at the start, %s at the end; "
                "%s cores of %s.\n\n%s\n" % (name, stamp, res["versions"].get("module", "?"),
                                              time.time() - started, load0,
                                              res["machine"]["loadavg_at_end"],
                                              res["machine"]["cores"], res["machine"]["cpu"], text))
    print(text)
    log("done; %s.md" % os.path.relpath(base, REPO))
    return 0


def main(argv):
    cfg = parse_args(argv)
    if cfg.counts:
        return main_counts(cfg)
    if cfg.scrape:
        return main_ops(cfg, "scrape",
                        lambda c, port, jwks, wd, log, key: scrape_bench.run(c, port, jwks, wd, log),
                        scrape_bench.table)
    if cfg.burst:
        return main_ops(cfg, "burst", burst_bench.run, burst_bench.table)
    if cfg.render:
        with open(cfg.render) as f:
            data = json.load(f)
        print(write_report(data, cfg.render, not cfg.no_docs))
        return 0
    started = time.time()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")

    def log(msg):
        print("[%5.0fs] %s" % (time.time() - started, msg), flush=True)

    harness.require_module()
    os.makedirs(cfg.out, exist_ok=True)
    data = {
        "stamp": stamp,
        "mode": "smoke" if cfg.smoke else "full",
        "config": {k: (sorted(v) if isinstance(v, set) else v) for k, v in vars(cfg).items()},
        "machine": machine.machine(),
        "versions": machine.versions(REPO, harness.APACHE2, wrk.version()),
        "guard": [], "receiver": [], "store_versions": {}, "notes": [],
    }
    log("machine: %s, %s cores, load %s" % (data["machine"]["cpu"], data["machine"]["cores"],
                                             data["machine"]["loadavg_at_start"]))

    rsa_key = keys.new_key("rsa", "bench-rsa")
    ec_key = keys.new_key("p256", "bench-ec")
    jwks_text = json.dumps(keys.jwks_doc([rsa_key, ec_key]))
    backend = servers.start_backend()
    workdir = harness.make_tmpdir("bcl-bench-run-")
    try:
        if "guard" not in cfg.skip:
            rev_tokens = guard_bench.revocation_tokens(cfg.revocations)
            for kind in cfg.stores:
                store = stores.KINDS[kind]()
                mpms = cfg.mpms if kind == "shm" else ["event"]
                scfg = cfg if kind == "shm" else argparse.Namespace(**dict(vars(cfg), fills=cfg.net_fills))
                for mpm in mpms:
                    log("guard: %s MPM, store %s" % (mpm, kind))
                    try:
                        if kind != "shm":
                            data["store_versions"][kind] = store.version()
                            store.start()
                        res = guard_bench.run_guard(mpm, store, scfg, backend.port, jwks_text,
                                                    rev_tokens, log)
                    finally:
                        store.stop()
                    if "refused" in res:
                        log("  not measured: this build has no %s store (%s)" % (kind, res["refused"][-200:]))
                    data["guard"].append(res)
                    if "refused" in res:
                        break
        if "callgrind" not in cfg.skip:
            if callgrind_bench.available():
                log("callgrind: instructions per request, guard off and on")
                data["callgrind"] = callgrind_bench.run(backend.port, jwks_text, workdir,
                                                        cfg.callgrind_requests[0],
                                                        cfg.callgrind_requests[1], log)
            else:
                data["callgrind"] = {"missing": "valgrind (with callgrind_annotate) is not installed"}
        if "receiver" not in cfg.skip:
            log("receiver: signing tokens")
            files = receiver_bench.make_token_files(workdir, cfg.receiver_tokens, rsa_key, ec_key, log)
            data["receiver"] = receiver_bench.run_receiver(cfg.receiver_mpm, cfg, backend.port,
                                                           jwks_text, files, log)
        if "openssl" not in cfg.skip:
            log("openssl speed")
            data["openssl_speed"] = machine.openssl_speed(cfg.openssl_seconds)
    finally:
        backend.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)

    data["elapsed_s"] = time.time() - started
    data["machine"]["loadavg_at_end"] = machine.loadavg()
    name = stamp + ("-smoke" if cfg.smoke else "")
    json_path = os.path.join(cfg.out, name + ".json")
    with open(json_path, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    md_path = write_report(data, json_path, not cfg.smoke and not cfg.no_docs, log)
    print(md_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
