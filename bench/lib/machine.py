"""What the report says about the machine and the software versions."""
import os
import platform
import re
import subprocess


def _run(argv):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        return p.stdout.decode(errors="replace")
    except (OSError, subprocess.TimeoutExpired) as e:
        return "unavailable (%s)" % e


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_mb():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def machine():
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "memory_mb": memory_mb(),
        "loadavg_at_start": loadavg(),
        "os": _os_name(),
    }


def _os_name():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def _dpkg_version(pkg):
    out = _run(["dpkg-query", "-W", "-f", "${Version}", pkg])
    return out.strip() if out and "no packages" not in out and "unavailable" not in out else None


def versions(repo, apache2, wrk_version):
    httpd = _run([apache2, "-v"])
    m = re.search(r"Server version:\s*(.+)", httpd)
    rev = _run(["git", "-C", repo, "rev-parse", "--short=12", "HEAD"]).strip()
    dirty = _run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"]).strip()
    return {
        "httpd": m.group(1).strip() if m else httpd.strip(),
        "openssl": _run(["openssl", "version"]).strip(),
        "cjose": _dpkg_version("libcjose0") or "unknown",
        "jansson": _dpkg_version("libjansson4") or "unknown",
        "wrk": wrk_version,
        "module": rev + (" (with uncommitted changes)" if dirty else ""),
        "python": platform.python_version(),
    }


def openssl_speed(seconds):
    """{'rsa2048': {'sign': /s, 'verify': /s}, 'ecdsap256': {...}} from
    `openssl speed -seconds N rsa2048 ecdsap256` (one process)."""
    out = _run(["openssl", "speed", "-seconds", str(seconds), "rsa2048", "ecdsap256"])
    res = {"command": "openssl speed -seconds %s rsa2048 ecdsap256" % seconds}
    m = re.search(r"^rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", out, re.M)
    if m:
        res["rsa2048"] = {"sign": float(m.group(1)), "verify": float(m.group(2))}
    m = re.search(r"^\s*256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", out, re.M)
    if m:
        res["ecdsap256"] = {"sign": float(m.group(1)), "verify": float(m.group(2))}
    if "rsa2048" not in res:
        res["error"] = out[-1000:]
    return res
