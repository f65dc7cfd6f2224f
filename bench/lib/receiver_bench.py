"""The receiver's throughput: logout POSTs per second with distinct valid
tokens, against httpd answering the same POSTs with mod_reflector (a
trivial POST handler) in the same run.

Each row runs on a freshly started frontend (empty store), so the same set
of pre-generated tokens serves every row: every request of a row is a token
the store has not seen. For the receiver rows, a 1-second calibration run
on the last tenth of the tokens (it doubles as the warm-up) sets the row's
length so that the other tokens cannot run out at that rate; if they still
do, the token script starts again from its first token and the report says
how many rounds were replays.
"""
import os
import time

import bulk_tokens
import servers
import wrk

ALGS = ("RS256", "ES256", "HS256")


def make_token_files(workdir, count, rsa_key, ec_key, log):
    files = {}
    for alg in ALGS:
        t0 = time.time()
        toks = bulk_tokens.make_tokens(alg, count, servers.ISSUER, servers.CLIENT_ID,
                                       key={"RS256": rsa_key, "ES256": ec_key}.get(alg),
                                       secret=servers.HMAC_SECRET, prefix=alg.lower())
        files[alg] = bulk_tokens.write_bodies(os.path.join(workdir, "tokens-%s.txt" % alg), toks)
        log("  %d %s tokens signed in %.1fs" % (count, alg, time.time() - t0))
    return files


def _one(mpm, backend_port, jwks_text, path, body_file, count, duration, conns, mutex,
         calibrate=False, threads=2):
    """One row on a fresh frontend. With `calibrate`, a 1-second run on the
    last tenth of the tokens measures the rate first (and warms the server
    up); the measured run then uses the other tokens, for as long as they
    last at that rate (at most `duration` seconds)."""
    h, rc, out = servers.new_frontend(mpm, "BCLStore shm capacity=%d" % (2 * count + 1000),
                                      backend_port, jwks_text, mutex)
    if rc != 0:
        h.cleanup()
        raise RuntimeError("frontend config refused: %s" % out)
    try:
        h.start()
        nthreads = max(1, min(threads, conns))
        last = count
        if calibrate:
            first_cal = count - max(count // 10, nthreads)
            cal = wrk.run(h.url(path), 1, conns, script="post_bodies",
                          args=(body_file, first_cal, count, nthreads, path), threads=nthreads,
                          workdir=h.dir)
            last = first_cal
            duration = max(1, min(duration, round(0.6 * last / max(cal["rps"], 1.0))))
        mark = h.log_mark()
        res = wrk.run(h.url(path), duration, conns, script="post_bodies",
                      args=(body_file, 0, last, nthreads, path), threads=nthreads,
                      httpd_pid=h.proc.pid, workdir=h.dir)
        text = h.log_since(mark)
        res["accepted_logged"] = text.count("BCL0100")
        res["refused_logged"] = text.count("BCL0101") + text.count("BCL0102")
        res["duration_s"] = duration
        res["tokens"] = last
        return res
    finally:
        h.cleanup()


def run_receiver(mpm, cfg, backend_port, jwks_text, token_files, log):
    rows = []
    for conns in cfg.receiver_conns:
        triv = _one(mpm, backend_port, jwks_text, "/reflect", token_files["RS256"],
                    cfg.receiver_tokens, cfg.receiver_duration, conns, cfg.mutex)
        triv["alg"] = "trivial POST (mod_reflector)"
        rows.append(triv)
        log("  receiver %s c=%d: trivial POST %.0f/s" % (mpm, conns, triv["rps"]))
        for alg in ALGS:
            r = _one(mpm, backend_port, jwks_text, "/bcl-%s" % alg.lower(), token_files[alg],
                     cfg.receiver_tokens, cfg.receiver_duration, conns, cfg.mutex, calibrate=True)
            r["alg"] = alg
            r["vs_trivial"] = r["ok_rps"] / triv["rps"] if triv["rps"] else 0.0
            r["cpu_us_per_logout"] = (r["httpd_cpu_s"] / r["ok"] * 1e6) if r["ok"] else None
            rows.append(r)
            log("  receiver %s c=%d: %s %.0f/s (%d s, %d replay rounds)"
                % (mpm, conns, alg, r["ok_rps"], r["duration_s"], r["replays"]))
    return rows
