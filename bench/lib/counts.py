"""Deterministic counts per request: user-space instructions (valgrind's
callgrind) and system calls (strace), for the guard and the receiver, as
differences against the same request without the module's work.

One httpd process (`apache2 -X`, prefork, as www-data) serves one keep-alive
connection, one request at a time. Each measured request kind ("row") is
sent as: a marker, W warm-up requests, a marker, N1 requests, a marker, N2
requests, a marker. The marker is `GET /bcl-mark-K` (no such file: a 404).
Under callgrind, `--dump-before=ap_send_error_response` writes a dump at each
marker, so each dump holds the cost since the previous marker; under strace
the marker's path appears in the trace. The cost per request of a row is
(segment of N2 - segment of N1) / (N2 - N1): whatever a segment does once
(the markers' own work) cancels out, and so do start-up and first use
(in the warm-up segment). Both runs execute side by side, each on a fresh
httpd (empty store), with the same requests. Only the thread that serves
the connection is counted (callgrind --separate-threads, strace's thread
ids): the module's maintenance watchdog thread (a sweep every minute, a
store lock every 5 s) would otherwise land in whichever segment its timer
hits, adding ~1,000 instructions per request to one row at random.

Rows (and the row each is compared with):
  static          GET /off/small.txt with a cookie, no guard
  guard header    GET /on/small.txt, the cookie bound (BCLBindFrom
                  response-header)                          vs static
  static env      GET /env-off/small.txt: SetEnv OIDC_CLAIM_iss/sid/sub, no guard
  guard env       GET /env-on/small.txt: the same SetEnv lines, BCLSessionCookie
                  + BCLBindFrom env (identity from the environment, as with
                  mod_auth_openidc in front)               vs static env
  guard env, BCLIssuer  GET /env-iss/small.txt: the same with BCLIssuer
                  naming the environment's issuer            vs static env
  trivial POST    POST /reflect (SetHandler reflector), an RS256 logout form
  receiver RS256  POST /bcl-rs256, distinct valid tokens    vs trivial POST
"""
import glob
import os
import re
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter

import bulk_tokens
import harness
import pipeline
import servers

MARK = "/bcl-mark-"
PAUSE = 0.003  # seconds between a response and the next request
# callgrind dumps before this httpd function: only the marker's 404 calls it
DUMP_FN = "ap_send_error_response"
ENV_ID = ('    SetEnv OIDC_CLAIM_iss "%s"\n    SetEnv OIDC_CLAIM_sid counts-sid\n'
          '    SetEnv OIDC_CLAIM_sub counts-sub\n' % servers.ISSUER)

ROWS = (
    # name, method, path, baseline row
    ("static", "GET", "/off/small.txt", None),
    ("guard header", "GET", "/on/small.txt", "static"),
    ("static env", "GET", "/env-off/small.txt", None),
    ("guard env", "GET", "/env-on/small.txt", "static env"),
    ("guard env, BCLIssuer", "GET", "/env-iss/small.txt", "static env"),
    ("trivial POST", "POST", "/reflect", None),
    ("receiver RS256", "POST", "/bcl-rs256", "trivial POST"),
)


def available():
    """None when both tools are here, else what is missing."""
    import shutil
    missing = [t for t in ("valgrind", "strace") if shutil.which(t) is None]
    return ", ".join(missing) or None


def _frontend(jwks_text, fill=None):
    """`fill`: (journal with the bindings, capacity), or None: an empty store."""
    h = servers.BenchHttpd("prefork", servers.FRONTEND_MODULES + ("env",))
    h.fill_port = harness.free_port()
    h.write_small("off", "on", "fill", "check", "env-off", "env-on", "env-iss")
    jwks = h.write("jwks.json", jwks_text)
    store = "BCLStore shm capacity=10000"
    if fill is not None:
        # a copy in h.dir: handed to www-data with it (servers.as_www_data)
        journal = h.path("fill.journal")
        shutil.copyfile(fill[0], journal)
        store = "BCLStore shm capacity=%d file=%s" % (fill[1], journal)
    body = servers.frontend_config(store, harness.free_port(), h.fill_port, jwks)
    body += "<Location /env-off/>\n%s</Location>\n" % ENV_ID
    body += ("<Location /env-on/>\n%s    BCLSessionCookie %s\n    BCLBindFrom env\n</Location>\n"
             % (ENV_ID, servers.COOKIE))
    # the same with the location's issuer named: the issuer's cut-off key is
    # then computed once at startup, not per request
    body += ('<Location /env-iss/>\n%s    BCLSessionCookie %s\n    BCLBindFrom env\n    BCLIssuer "%s"\n'
             '</Location>\n' % (ENV_ID, servers.COOKIE, servers.ISSUER))
    h.configure(body)
    rc, out = h.configtest()
    if rc != 0:
        h.cleanup()
        raise RuntimeError("counts: frontend config refused: %s" % out)
    with open(h.conf_path) as f:
        conf = f.read()
    # one process serves the connection: started as www-data, not switching
    conf = re.sub(r"^(User|Group) .*$", "", conf, flags=re.M) + "\nKeepAliveTimeout 30\n"
    with open(h.conf_path, "w") as f:
        f.write(conf)
    return h


def _requests(cookie, bodies, w, n1, n2):
    """The whole request sequence, with the markers; returns a list of
    (bytes, expected status)."""
    seq = []
    k = 0

    def mark():
        nonlocal k
        seq.append((pipeline.get_request("%s%d" % (MARK, k)), 404))
        k += 1
    tok = 0
    for name, method, path, _ in ROWS:
        mark()
        for n in (w, n1, n2):
            for _ in range(n):
                if method == "GET":
                    seq.append((pipeline.get_request(path, cookie), 200))
                else:
                    seq.append((pipeline.post_form(path, bodies[tok]), 200))
                    tok += 1
            mark()
        tok = 0  # the trivial POST and the receiver get the same bodies
    return seq


def _bind_cookie(port, fill_port):
    """A cookie bound through the fill vhost (the app's binding header),
    proved bound at the BCLUnboundSession deny location."""
    cookie = "%s=counts-%s" % (servers.COOKIE, secrets.token_hex(8))
    for p, path, want in ((fill_port, "/fill/small.txt", 200), (port, "/check/small.txt", 200)):
        st, _ = pipeline.run(p, lambda i: pipeline.get_request(path, cookie), 1, connections=1, batch=1)
        if set(st) != {want}:
            raise RuntimeError("counts: binding the cookie at %s: %s" % (path, dict(st)))
    st, _ = pipeline.run(port, lambda i: pipeline.get_request("/check/small.txt",
                                                                  servers.COOKIE + "=never-bound"),
                         1, connections=1, batch=1)
    if set(st) != {401}:
        raise RuntimeError("counts: an unbound cookie at /check/ answered %s, not 401" % dict(st))
    return cookie


def _send_all(port, seq):
    """One keep-alive connection, one request at a time; checks each status."""
    with socket.create_connection(("127.0.0.1", port), timeout=300) as sock:
        buf = bytearray()
        for i, (req, want) in enumerate(seq):
            sock.sendall(req)
            st = Counter()
            pipeline._read_answers(sock, buf, 1, st)
            if set(st) != {want}:
                raise RuntimeError("counts: request %d (%s) answered %s, expected %d"
                                   % (i, req.split(b"\r\n")[0].decode(), dict(st), want))
            # let httpd find the connection idle (read: EAGAIN, then poll)
            # before the next request, every time: without the pause,
            # whether the next request is already there is a race
            time.sleep(PAUSE)


def _wait_port(proc, port, deadline, what, h):
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("%s: httpd did not start\n%s" % (what, _tail(h)))
            time.sleep(0.2)


def _tail(h):
    parts = []
    for p in (h.path("tool.txt"), h.error_log):
        try:
            with open(p, "rb") as f:
                parts.append("--- %s\n%s" % (p, f.read()[-2000:].decode(errors="replace")))
        except OSError:
            pass
    return "\n".join(parts)


def fill_capacity(n):
    """The store's capacity for a fill of `n` bindings: a load like the
    guard benchmark's at 1M (about 0.63 of the slots)."""
    return n + n // 4 + 10000


def _fill_journal(n, workdir, log):
    """A journal holding `n` binding records (random keys), written
    directly (journal_fill.py); the counted httpd replays it at startup.
    Returns its path."""
    import journal_fill
    t0 = time.time()
    dest = os.path.join(workdir, "fill.journal")
    journal_fill.write(dest, n)
    log("  counts: a journal of %d bindings written in %.0fs" % (n, time.time() - t0))
    return dest


def _run_tool(tool, jwks_text, seq_of, outdir, fill=None):
    """Starts httpd -X under `tool`, sends the sequence, stops it with the
    harness's clean-exit check. Returns the tool's output path(s)."""
    h = _frontend(jwks_text, fill)
    out = os.path.join(outdir, tool)
    if tool == "callgrind":
        wrap = ["valgrind", "--tool=callgrind", "--vgdb=no", "--callgrind-out-file=" + out,
                "--dump-before=" + DUMP_FN, "--separate-threads=yes"]
    else:
        wrap = ["strace", "-f", "-qq", "-s", "40", "-o", out]
    argv = wrap + [harness.APACHE2, "-X", "-f", h.conf_path]
    with open(h.conf_path) as f:
        conf = f.read()
    argv = servers.as_www_data(h, conf, outdir) + argv
    with open(h.path("tool.txt"), "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    ran = False
    try:
        # a filled store is replayed from its journal first (slow under callgrind)
        deadline = time.time() + (180 if fill is None else 900)
        for port in (h.port, h.fill_port):
            _wait_port(proc, port, deadline, tool, h)
        try:
            cookie = _bind_cookie(h.port, h.fill_port)
            _send_all(h.port, seq_of(cookie))
        except Exception as e:
            raise RuntimeError("%s run: %s\n%s" % (tool, e, _tail(h)))
        ran = True
    finally:
        try:
            servers.stop_under_tool(h, proc, tool, ran)
            if fill is not None and ran:
                _check_replayed(h, fill[2])
        finally:
            h.cleanup()
    return out


def _check_replayed(h, n):
    """The store really held the fill: the journal's replay line (BCL0xxx
    "journal ... replayed: F frames, R records restored")."""
    m = re.search(r"(\d+) records restored", h.log_text())
    if m is None or int(m.group(1)) < n:
        raise RuntimeError("counts: the fill journal was not replayed (%s records restored, %d written)"
                           % (m.group(1) if m else "no", n))


def _callgrind_segments(out):
    """Total instructions of each dump of the main thread (which serves the
    connection under `httpd -X`), in order (dump k: since marker k-1)."""
    files = [f for f in glob.glob(out + ".*") if re.search(r"\.\d+-01$", f)]
    files.sort(key=lambda f: int(f.rsplit(".", 1)[1].split("-")[0]))
    segs = []
    for f in files:
        with open(f) as fh:
            text = fh.read()
        m = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        segs.append((int(m.group(1)) if m else 0, f))
    return segs


_SYSCALL = re.compile(r"^\d+\s+(?:<\.\.\. )?([a-z_0-9]+)\(")


def _strace_segments(out):
    """Counter of system calls between consecutive markers (index k: from
    marker k to marker k+1), of the thread that reads the markers."""
    segs = []
    cur = None
    want = 0
    tid = None
    with open(out, errors="replace") as f:
        for line in f:
            # a read another thread's call interrupted is written as
            # "read(12, <unfinished ...>" then "<... read resumed>DATA":
            # the marker is in the second line, the call counted at the first
            resumed = "resumed>" in line
            if ("%s%d " % (MARK, want)) in line and re.match(r"^\S+\s+(?:<\.\.\. )?(?:read|recvfrom)\b", line):
                if cur is not None:
                    segs.append(cur)
                cur = Counter()
                want += 1
                tid = line.split(None, 1)[0]
                if resumed and segs:
                    # its start line went to the segment before: move it here
                    segs[-1][line.split()[2]] -= 1
                    cur[line.split()[2]] += 1
            if resumed:
                continue  # counted at its start
            m = _SYSCALL.match(line)
            if m and cur is not None and line.split(None, 1)[0] == tid:
                cur[m.group(1)] += 1
    return segs


def run(rsa_key, jwks_text, workdir, w, n1, n2, log, keep=None, fill=0):
    outdir = keep or os.path.join(workdir, "counts")
    os.makedirs(outdir, exist_ok=True)
    os.chmod(outdir, 0o777)
    t0 = time.time()
    toks = bulk_tokens.make_tokens("RS256", w + n1 + n2, servers.ISSUER, servers.CLIENT_ID,
                                   key=rsa_key, prefix="counts-%s" % secrets.token_hex(4))
    bodies = [bulk_tokens.form_body(t) for t in toks]
    log("  counts: %d RS256 tokens signed in %.1fs" % (len(toks), time.time() - t0))

    def seq_of(cookie):
        return _requests(cookie, bodies, w, n1, n2)

    results, errors = {}, []
    filled = None
    if fill > 0:
        filled = (_fill_journal(fill, workdir, log), fill_capacity(fill), fill)

    def job(tool):
        try:
            results[tool] = _run_tool(tool, jwks_text, seq_of, outdir, filled)
        except Exception as e:  # reported below
            errors.append("%s: %s" % (tool, e))
    threads = [threading.Thread(target=job, args=(t,)) for t in ("callgrind", "strace")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError("; ".join(errors))
    marks = 4 * len(ROWS)
    # one dump per marker (plus any earlier 401/404, e.g. the binding
    # check's): the last `marks` numbered dumps are the markers'; dump k
    # holds the cost from marker k-1 to marker k
    cg = _callgrind_segments(results["callgrind"])[-marks:]
    # strace segment k: from marker k to marker k+1
    st = _strace_segments(results["strace"])
    if len(cg) != marks or len(st) != marks - 1:
        raise RuntimeError("counts: %d callgrind dumps and %d strace segments, expected %d and %d"
                           % (len(cg), len(st), marks, marks - 1))
    rows = {}
    for i, (name, method, path, base) in enumerate(ROWS):
        # the row's markers: 4i (its first), then one after each of W, N1, N2
        first = 4 * i
        ir1 = cg[first + 2][0]   # from the row's 2nd marker to its 3rd: N1 requests
        ir2 = cg[first + 3][0]   # from its 3rd to its 4th: N2 requests
        sc1, sc2 = st[first + 1], st[first + 2]
        per_call = {k: (sc2[k] - sc1[k]) / float(n2 - n1) for k in set(sc1) | set(sc2)}
        rows[name] = {
            "method": method, "path": path, "baseline": base,
            "instructions": (ir2 - ir1) / float(n2 - n1),
            "syscalls": sum(per_call.values()),
            "by_syscall": {k: v for k, v in per_call.items() if abs(v) >= 0.005},
            "callgrind_dump": cg[first + 3][1],
        }
    for name, r in rows.items():
        if r["baseline"]:
            b = rows[r["baseline"]]
            r["added_instructions"] = r["instructions"] - b["instructions"]
            r["added_syscalls"] = r["syscalls"] - b["syscalls"]
            r["added_by_syscall"] = {k: r["by_syscall"].get(k, 0.0) - b["by_syscall"].get(k, 0.0)
                                     for k in set(r["by_syscall"]) | set(b["by_syscall"])}
    for name, r in rows.items():
        for k in ("instructions", "syscalls"):
            if not isinstance(r[k], float) or r[k] != r[k] or r[k] <= 0:
                raise RuntimeError("counts: row %s: %s is not a positive number: %r" % (name, k, r[k]))
    return {"w": w, "n1": n1, "n2": n2, "rows": rows, "seconds": time.time() - t0, "bindings": fill,
            "capacity": fill_capacity(fill) if fill else 10000}


def _fmt_calls(d):
    items = sorted(((k, v) for k, v in d.items() if abs(v) >= 0.005), key=lambda kv: (-abs(kv[1]), kv[0]))
    return ", ".join("%s %+.2f" % (k, v) if v < 0 else "%s %.2f" % (k, v) for k, v in items) or "none"


def table(res):
    """The Markdown table of one run."""
    lines = ["| request | instructions/request | system calls/request | which system calls "
             "| vs | instructions added | system calls added | which added |",
             "|---|---|---|---|---|---|---|---|"]
    for name, method, path, base in ROWS:
        r = res["rows"][name]
        cells = ["%s (`%s %s`)" % (name, method, path), "{:,.0f}".format(r["instructions"]),
                 "%.2f" % r["syscalls"], _fmt_calls(r["by_syscall"])]
        if base:
            cells += [base, "{:+,.0f}".format(r["added_instructions"]), "%+.2f" % r["added_syscalls"],
                      _fmt_calls(r["added_by_syscall"])]
        else:
            cells += ["", "", "", ""]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Per request: (count over %d requests - count over %d) / %d, on one keep-alive "
                 "connection, one request at a time, after %d warm-up requests; "
                 "`apache2 -X` under callgrind and, side by side, under strace; store: shm, "
                 "capacity %s, %s other bindings."
                 % (res["n2"], res["n1"], res["n2"] - res["n1"], res["w"],
                    "{:,}".format(res.get("capacity", 10000)), "{:,}".format(res.get("bindings", 0))))
    return "\n".join(lines)
