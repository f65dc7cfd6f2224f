"""The receiver's throughput: logout POSTs per second with distinct valid
tokens, against httpd answering the same POSTs with mod_reflector (a
trivial POST handler) in the same run.

Each row runs on a freshly started frontend (empty store), so the same set
of pre-generated tokens serves every row without a single replay: every
request of a row is a token the store has not seen. The run length of a
row is capped so that the tokens cannot run out even at the trivial-POST
rate (the receiver does strictly more work per request); if they still do,
the token script starts again from its first token and the report says
how many rounds were replays.
"""
import os

import bulk_tokens
import servers
import wrk

ALGS = ("RS256", "ES256", "HS256")


def make_token_files(workdir, count, rsa_key, ec_key, log):
    files = {}
    for alg in ALGS:
        import time
        t0 = time.time()
        toks = bulk_tokens.make_tokens(alg, count, servers.ISSUER, servers.CLIENT_ID,
                                       key={"RS256": rsa_key, "ES256": ec_key}.get(alg),
                                       secret=servers.HMAC_SECRET, prefix=alg.lower())
        files[alg] = bulk_tokens.write_bodies(os.path.join(workdir, "tokens-%s.txt" % alg), toks)
        log("  %d %s tokens signed in %.1fs" % (count, alg, time.time() - t0))
    return files


def _one(mpm, backend_port, jwks_text, path, body_file, count, duration, conns, mutex, threads=2):
    h, rc, out = servers.new_frontend(mpm, "BCLStore shm capacity=%d" % (2 * count + 1000),
                                      backend_port, jwks_text, mutex)
    if rc != 0:
        h.cleanup()
        raise RuntimeError("frontend config refused: %s" % out)
    try:
        h.start()
        nthreads = max(1, min(threads, conns))
        res = wrk.run(h.url(path), duration, conns, script="post_bodies",
                      args=(body_file, 0, count, nthreads, path), threads=nthreads,
                      httpd_pid=h.proc.pid, workdir=h.dir)
        res["accepted_logged"] = h.log_text().count("BCL0100")
        res["refused_logged"] = h.log_text().count("BCL0101") + h.log_text().count("BCL0102")
        res["duration_s"] = duration
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
        # never more requests than tokens, even at the trivial-POST rate
        cap = 0.8 * cfg.receiver_tokens / max(triv["rps"], 1.0)
        duration = max(1, min(cfg.receiver_duration, int(cap)))
        for alg in ALGS:
            r = _one(mpm, backend_port, jwks_text, "/bcl-%s" % alg.lower(), token_files[alg],
                     cfg.receiver_tokens, duration, conns, cfg.mutex)
            r["alg"] = alg
            r["vs_trivial"] = r["ok_rps"] / triv["rps"] if triv["rps"] else 0.0
            r["cpu_us_per_logout"] = (r["httpd_cpu_s"] / r["ok"] * 1e6) if r["ok"] else None
            rows.append(r)
            log("  receiver %s c=%d: %s %.0f/s (%d s, %d replay rounds)"
                % (mpm, conns, alg, r["ok_rps"], duration, r["replays"]))
    return rows
