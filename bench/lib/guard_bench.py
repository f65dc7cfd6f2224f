"""The guard's cost: the same small response with the guard off and on, for a
request carrying a bound, unrevoked session cookie, while the store grows.

One frontend per (MPM, store). Levels are measured from the smallest fill
to the largest: level 0 is an empty store; before the first non-empty level
the revocations are posted to the receiver (HS256 logout tokens, each a
distinct sid: one revocation and one remembered jti each), then bindings
are added (through the fill vhost) up to each level. At every level the
off/on pairs are measured interleaved (off, on, off, on, ...) for the direct
file and for the proxied one, so slow drift of a shared machine hits both
sides alike.
"""
import hashlib
import hmac
import json
import re
import secrets
import time

import bulk_tokens
import harness
import pipeline
import procstat
import servers
import wrk

PATHS = {
    "direct": ("/off/small.txt", "/on/small.txt"),
    "proxy": ("/proxy-off/small.txt", "/proxy-on/small.txt"),
}


class BenchFailure(RuntimeError):
    pass


def _expect(resp, status, what):
    if resp.status_code != status:
        raise BenchFailure("%s: expected %d, got %d" % (what, status, resp.status_code))


def revocation_tokens(count):
    """HS256 logout tokens for `count` distinct sids (cheap to sign)."""
    return bulk_tokens.make_tokens("HS256", count, servers.ISSUER, servers.CLIENT_ID,
                                   secret=servers.HMAC_SECRET, prefix="rev")


def _logout_token_for_sid(sid):
    """An HS256 logout token for one sid (the wiring check's probe)."""
    now = int(time.time())
    b64 = bulk_tokens._b64u
    h = b64(b'{"alg":"HS256","typ":"logout+jwt"}')
    c = b64(json.dumps({"iss": servers.ISSUER, "aud": servers.CLIENT_ID, "iat": now,
                        "exp": now + 600, "jti": "probe-" + secrets.token_hex(8), "sid": sid,
                        "events": {bulk_tokens.LOGOUT_EVENT: {}}}).encode())
    si = h + b"." + c
    sig = hmac.new(servers.HMAC_SECRET.encode(), si, hashlib.sha256).digest()
    return (si + b"." + b64(sig)).decode()


def check_wiring(h):
    """Proves, before any number is taken, that the fill vhost binds, that
    a revocation of a bound session is enforced on both guarded paths, and
    returns a fresh bound, unrevoked cookie for the measurements."""
    s = harness.client()
    fill = "http://127.0.0.1:%d/fill/small.txt" % h.fill_port
    probe = "%s=probe-%s" % (servers.COOKIE, secrets.token_hex(8))
    live = "%s=live-%s" % (servers.COOKIE, secrets.token_hex(8))
    for c in (probe, live):
        r = s.get(fill, headers={"Cookie": c}, timeout=10)
        _expect(r, 200, "fill request")
        if servers.BIND_HEADER in r.headers:
            raise BenchFailure("the binding header reached the client: the guard did not see it")
        _expect(s.get(h.url("/check/small.txt"), headers={"Cookie": c}, timeout=10), 200,
                "a filled cookie must be bound (BCLUnboundSession deny location)")
    _expect(s.get(h.url("/check/small.txt"), headers={"Cookie": servers.COOKIE + "=never-bound"},
                  timeout=10), 401, "an unbound cookie at the BCLUnboundSession deny location")
    r = harness.post_token(s, h.url("/bcl-hs256"), _logout_token_for_sid(probe))
    _expect(r, 200, "logout of the probe session")
    for path in ("/on/small.txt", "/proxy-on/small.txt"):
        _expect(s.get(h.url(path), headers={"Cookie": probe}, timeout=10), 401,
                "the revoked probe session at %s" % path)
        _expect(s.get(h.url(path), headers={"Cookie": live}, timeout=10), 200,
                "the live session at %s" % path)
    for path in ("/off/small.txt", "/proxy-off/small.txt"):
        _expect(s.get(h.url(path), headers={"Cookie": live}, timeout=10), 200, path)
    return live


def fill_bindings(h, first, last):
    """Bindings for cookies fill-FIRST .. fill-(LAST-1)."""
    if last <= first:
        return {"count": 0, "seconds": 0.0}
    statuses, secs = pipeline.run(
        h.fill_port,
        lambda i: pipeline.get_request("/fill/small.txt", "%s=fill-%d" % (servers.COOKIE, first + i)),
        last - first)
    bad = {k: v for k, v in statuses.items() if k != 200}
    if bad:
        raise BenchFailure("filling bindings %d..%d: answers other than 200: %s (see %s)"
                           % (first, last, bad, h.error_log))
    return {"count": last - first, "seconds": secs}


def post_revocations(h, tokens):
    if not tokens:
        return {"count": 0, "seconds": 0.0}
    statuses, secs = pipeline.run(
        h.port, lambda i: pipeline.post_form("/bcl-hs256", bulk_tokens.form_body(tokens[i])),
        len(tokens))
    bad = {k: v for k, v in statuses.items() if k != 200}
    if bad:
        raise BenchFailure("posting %d revocations: answers other than 200: %s (see %s)"
                           % (len(tokens), bad, h.error_log))
    return {"count": len(tokens), "seconds": secs}


def _mean(xs):
    return sum(xs) / len(xs) if xs else 0.0


def summarize(runs):
    """One side (off or on) over its repetitions."""
    reqs = sum(r["requests"] for r in runs)
    cpu = sum(r.get("httpd_cpu_s", 0.0) for r in runs)
    return {
        "rps": _mean([r["rps"] for r in runs]),
        "rps_each": [round(r["rps"], 1) for r in runs],
        "p50_us": _mean([r["p50_us"] for r in runs]),
        "p99_us": _mean([r["p99_us"] for r in runs]),
        "p99_each": [r["p99_us"] for r in runs],
        "cpu_each": [round(r.get("cpu_us_per_req", 0.0), 2) for r in runs],
        "cpu_us_per_req": cpu / reqs * 1e6 if reqs else 0.0,
        "requests": reqs,
        "non_2xx": sum(r["err_status"] for r in runs),
        "socket_errors": sum(r["errors"] for r in runs),
        "cpu_notes": [r["cpu_note"] for r in runs if r.get("cpu_note")],
    }


def store_round_trips(h):
    """The module's count of exchanges with memcache/redis (one request and
    its answer each: a round trip), from its status handler; None when the
    store is not a network store."""
    r = harness.client().get(h.url("/bcl-status"), timeout=10)
    _expect(r, 200, "the status handler")
    m = re.search(r"^bcl_store_net_operations_total (\d+)$", r.text, re.M)
    return int(m.group(1)) if m else None


def measure_level(h, cookie, cfg, store=None, workdir=None):
    """Off/on pairs for each path at the current fill."""
    out = {}
    header = ["Cookie: " + cookie]
    for kind, (off_path, on_path) in PATHS.items():
        # a short warm-up of both paths (connections, caches, pages)
        for p in (off_path, on_path):
            wrk.run(h.url(p), cfg.warmup, cfg.connections, headers=header, workdir=workdir)
        runs = {"off": [], "on": []}
        store_cmds, trips = [], []
        for _ in range(cfg.reps):
            for side, p in (("off", off_path), ("on", on_path)):
                c0 = store.commands() if store is not None and side == "on" else None
                t0 = store_round_trips(h) if store is not None and side == "on" else None
                runs[side].append(wrk.run(h.url(p), cfg.duration, cfg.connections, headers=header,
                                          httpd_pid=h.proc.pid, workdir=workdir))
                if c0 is not None:
                    c1 = store.commands()
                    if c1 is not None:
                        store_cmds.append((c1 - c0 - store.sample_overhead, runs[side][-1]["requests"]))
                if t0 is not None:
                    t1 = store_round_trips(h)
                    trips.append((t1 - t0, runs[side][-1]["requests"]))
        off, on = summarize(runs["off"]), summarize(runs["on"])
        row = {"off": off, "on": on,
               "rps_ratio": on["rps"] / off["rps"] if off["rps"] else 0.0,
               "cpu_added_us": on["cpu_us_per_req"] - off["cpu_us_per_req"],
               "p50_added_us": on["p50_us"] - off["p50_us"],
               "p99_added_us": on["p99_us"] - off["p99_us"]}
        if store_cmds:
            cmds = sum(c for c, _ in store_cmds)
            reqs = sum(r for _, r in store_cmds)
            row["store_cmds_per_req"] = cmds / reqs if reqs else None
        if trips:
            reqs = sum(r for _, r in trips)
            row["round_trips_per_req"] = sum(t for t, _ in trips) / reqs if reqs else None
        out[kind] = row
    return out


def shm_bytes_from_log(h):
    """(capacity, bytes) from the BCL0400 'store created' line, if any."""
    m = re.search(r"BCL0400: shared-memory store created: capacity (\d+) records, (\d+) bytes",
                  h.log_text())
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def run_guard(mpm, store, cfg, backend_port, jwks_text, rev_tokens, log):
    """All levels for one MPM and one store. Returns a result dict; when the
    module refuses the store line, {'refused': output}."""
    fills = sorted(set(cfg.fills))
    capacity = max(fills) + 2 * len(rev_tokens) + 10000
    h, rc, out = servers.new_frontend(mpm, store.line(capacity), backend_port, jwks_text, cfg.mutex)
    result = {"mpm": mpm, "store": store.kind, "store_line": store.line(capacity),
              "capacity": capacity, "levels": []}
    if rc != 0:
        h.cleanup()
        result["refused"] = out.strip()
        return result
    try:
        h.start()
        result["shm_capacity"], result["shm_bytes"] = shm_bytes_from_log(h)
        cookie = check_wiring(h)
        log("  %s/%s: wiring checked (fill binds, revocations enforced)" % (mpm, store.kind))
        bound, revoked = 0, 0
        for level in fills:
            step = {}
            if level > 0 and revoked == 0 and rev_tokens:
                step["revocations"] = post_revocations(h, rev_tokens)
                revoked = len(rev_tokens)
                log("  %s/%s: %d revocations posted in %.1fs" % (mpm, store.kind, revoked,
                                                                step["revocations"]["seconds"]))
            step["bindings"] = fill_bindings(h, bound, level)
            if step["bindings"]["count"]:
                log("  %s/%s: %d bindings added in %.1fs" % (mpm, store.kind, step["bindings"]["count"],
                                                            step["bindings"]["seconds"]))
            bound = max(bound, level)
            # the measured cookie must still be bound and live
            _expect(harness.client().get(h.url("/check/small.txt"), headers={"Cookie": cookie},
                                         timeout=10), 200, "the measured cookie at level %d" % level)
            mem = procstat.memory(h.proc.pid)
            t0 = time.time()
            rows = measure_level(h, cookie, cfg, store=store if store.kind != "shm" else None,
                                 workdir=h.dir)
            result["levels"].append({"bindings": bound, "revocations": revoked, "fill": step,
                                     "memory": mem, "paths": rows})
            log("  %s/%s: level %d bindings + %d revocations measured in %.0fs: direct %.0f/%.0f req/s, "
                "proxy %.0f/%.0f req/s (off/on)"
                % (mpm, store.kind, bound, revoked, time.time() - t0,
                   rows["direct"]["off"]["rps"], rows["direct"]["on"]["rps"],
                   rows["proxy"]["off"]["rps"], rows["proxy"]["on"]["rps"]))
        result["store_log_warnings"] = [l for l in h.log_text().splitlines()
                                        if "BCL0104" in l or "BCL0401" in l][:5]
    finally:
        h.cleanup()
    return result
