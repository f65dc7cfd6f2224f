"""Instructions per request, counted by valgrind's callgrind: the guard's
added work as a figure that does not depend on how busy the machine is.

httpd runs as one process (`apache2 -X`, prefork) under callgrind, serves
N1 and then, in a second run, N2 identical requests (guard off or on); the
difference between the two runs divided by N2 - N1 is the steady cost per
request, free of everything done once (start-up, first-use caches). Only
user-space instructions are counted: system calls (the store's fcntl() lock
with the default mutex) show up in the CPU time measurements, not here.
"""
import os
import re
import shutil
import socket
import subprocess
import time

import guard_bench
import pipeline
import servers

# inclusive counts; the response filter's would include the rest of the chain
FUNCS = ("bcl_guard_fixup", "bcl_hkey_cookie")


def available():
    return shutil.which("valgrind") is not None and shutil.which("callgrind_annotate") is not None


def _one(path, count, backend_port, jwks_text, outdir, tag):
    h, rc, out = servers.new_frontend("prefork", "BCLStore shm capacity=10000", backend_port, jwks_text)
    if rc != 0:
        h.cleanup()
        raise RuntimeError("frontend config refused: %s" % out)
    out_file = os.path.join(outdir, "callgrind.%s.out" % tag)
    argv = ["valgrind", "--tool=callgrind", "--vgdb=no", "--callgrind-out-file=" + out_file,
            "/usr/sbin/apache2", "-X", "-f", h.conf_path]
    with open(h.conf_path) as f:
        conf = f.read()
    # one process serves every connection in turn: do not let an idle
    # keep-alive connection hold it
    conf = re.sub(r"^(User|Group) .*$", "", conf, flags=re.M) + "\nKeepAliveTimeout 1\n"
    argv = servers.as_www_data(h, conf, outdir) + argv
    log = open(os.path.join(h.dir, "valgrind.txt"), "wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    ran = False
    log.close()
    try:
        deadline = time.time() + 180
        for port in (h.port, h.fill_port):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.time() > deadline:
                        raise RuntimeError("httpd under callgrind did not start:\n%s"
                                           % _tail(h, "valgrind.txt"))
                    time.sleep(0.2)
        h.proc = proc
        try:
            cookie = guard_bench.check_wiring(h)
        except Exception as e:
            raise RuntimeError("%s\n%s" % (e, _tail(h, "valgrind.txt")))
        statuses, _ = pipeline.run(h.port, lambda i: pipeline.get_request(path, cookie), count,
                                   connections=1, batch=50)
        if set(statuses) != {200}:
            raise RuntimeError("callgrind run %s: answers %s" % (tag, dict(statuses)))
        ran = True
    finally:
        h.proc = None
        try:
            servers.stop_under_tool(h, proc, "callgrind", ran)
        finally:
            h.cleanup()
    return _totals(out_file)


def _tail(h, name):
    parts = []
    for p in (h.path(name), h.error_log):
        try:
            with open(p, "rb") as f:
                parts.append("--- %s\n%s" % (p, f.read()[-2000:].decode(errors="replace")))
        except OSError:
            pass
    return "\n".join(parts)


def _totals(out_file):
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", out_file], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL).stdout.decode(errors="replace")
    res = {}
    m = re.search(r"^\s*([\d,]+) .*PROGRAM TOTALS", text, re.M)
    res["total"] = int(m.group(1).replace(",", "")) if m else None
    for fn in FUNCS:
        m = re.search(r"^\s*([\d,]+) \([^)]*\)\s+\S*:%s[ \n]" % fn, text, re.M)
        res[fn] = int(m.group(1).replace(",", "")) if m else 0
    return res


def run(backend_port, jwks_text, workdir, n1, n2, log):
    """The four callgrind runs (off/on x N1/N2) side by side: under valgrind
    the start-up dominates, and the counts do not depend on timing."""
    import concurrent.futures
    outdir = os.path.join(workdir, "callgrind")
    os.makedirs(outdir, exist_ok=True)
    os.chmod(outdir, 0o777)
    res = {"n1": n1, "n2": n2}
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for side, path in (("off", "/off/small.txt"), ("on", "/on/small.txt")):
            for n in (n1, n2):
                jobs[(side, n)] = pool.submit(_one, path, n, backend_port, jwks_text, outdir,
                                              "%s-%d" % (side, n))
        counts = {k: f.result() for k, f in jobs.items()}
    for side in ("off", "on"):
        a, b = counts[(side, n1)], counts[(side, n2)]
        res[side] = {k: (b[k] - a[k]) / float(n2 - n1) for k in a
                     if a[k] is not None and b[k] is not None}
        log("  callgrind %s: %.0f instructions per request" % (side, res[side].get("total", 0)))
    res["added"] = res["on"]["total"] - res["off"]["total"]
    return res
