"""Running wrk (Debian's wrk 4.1) and reading its results.

Every run uses a Lua script from bench/lua/ with bench/lua/report.lua
appended, which prints one line `BENCHJSON {...}`: totals, error counts,
latency percentiles in microseconds. The httpd's CPU time is sampled from
/proc just before and just after wrk runs.
"""
import json
import os
import subprocess
import tempfile

from procstat import CpuSample, cpu_between

LUA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lua")
WRK = os.environ.get("WRK", "wrk")


class WrkError(RuntimeError):
    pass


def version():
    p = subprocess.run([WRK, "-v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return p.stdout.decode(errors="replace").splitlines()[0].strip()


def _script(name, workdir):
    path = os.path.join(workdir, "%s-with-report.lua" % name)
    if not os.path.exists(path):
        with open(path, "w") as out:
            # "a+b": a.lua, then b.lua (e.g. "static+pace"), then report.lua
            for part in [n + ".lua" for n in name.split("+")] + ["report.lua"]:
                with open(os.path.join(LUA_DIR, part)) as f:
                    out.write(f.read())
                    out.write("\n")
    return path


def run(url, duration, connections, script="static", args=(), headers=(),
        threads=2, httpd_pid=None, workdir=None, timeout_extra=60):
    """Runs wrk; returns a dict with req/s, latency, errors and, when
    `httpd_pid` is given, the httpd CPU seconds over the run."""
    workdir = workdir or tempfile.gettempdir()
    threads = max(1, min(threads, connections))
    cmd = [WRK, "-t", str(threads), "-c", str(connections), "-d", "%ss" % duration,
           "--latency", "--timeout", "10s", "-s", _script(script, workdir)]
    for h in headers:
        cmd += ["-H", h]
    cmd.append(url)
    if args:
        cmd += ["--"] + [str(a) for a in args]
    before = CpuSample(httpd_pid) if httpd_pid else None
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=float(duration) + timeout_extra)
    after = CpuSample(httpd_pid) if httpd_pid else None
    text = p.stdout.decode(errors="replace")
    line = next((l for l in text.splitlines() if l.startswith("BENCHJSON ")), None)
    if p.returncode != 0 or line is None:
        raise WrkError("wrk failed (exit %d): %s\n%s" % (p.returncode, " ".join(cmd), text[-3000:]))
    res = json.loads(line[len("BENCHJSON "):])
    secs = res["duration_us"] / 1e6
    errors = sum(res[k] for k in ("err_connect", "err_read", "err_write", "err_timeout"))
    res["ok"] = res["requests"] - res["err_status"]
    res["errors"] = errors
    res["rps"] = res["requests"] / secs if secs > 0 else 0.0
    res["ok_rps"] = res["ok"] / secs if secs > 0 else 0.0
    res["connections"] = connections
    res["threads"] = threads
    res["url"] = url
    if before is not None:
        cpu, note = cpu_between(before, after)
        res["httpd_cpu_s"] = cpu
        res["cpu_us_per_req"] = cpu / res["requests"] * 1e6 if res["requests"] else 0.0
        res["cpu_note"] = note
    return res
