"""The httpd instances of a benchmark run.

Reuses test/integration/harness.py (own ServerRoot, PidFile, Mutex and
runtime dir in a temp dir, `apache2 -f CONF -DFOREGROUND` in its own
session, stopped by PID) with benchmark tuning: enough workers that no
process or thread is created during a measurement, unlimited keep-alive,
no access log (the same for baseline and guard, so it would only dilute
the ratio).

The frontend (the httpd with the module) serves:

  /off/small.txt         static file, guard off (the baseline; a <Location>
                         with BCLBindFrom env but no BCLSessionCookie)
  /on/small.txt          static file, guard on (BCLSessionCookie + BCLBindFrom)
  /proxy-off/small.txt   via mod_proxy to the backend, guard off
  /proxy-on/small.txt    via mod_proxy to the backend, guard on
  /check/small.txt       guard on with BCLUnboundSession deny: 200 only for a
                         bound cookie (the run checks its cookie is bound)
  /fill/small.txt        on a second port (fill_port, its own vhost): guard
                         on; mod_headers adds the binding header
                         BCL-Session: iss="...", sid="<cookie>", sub="u-<cookie>"
                         so every request carrying a new APPSESSION cookie
                         makes one binding (the way an app binds its session)
  /bcl-rs256, /bcl-es256, /bcl-hs256   receivers (one algorithm each)
  /reflect               SetHandler reflector: the trivial POST baseline

The backend is a second httpd (event MPM, no module) serving small.txt.
"""
import os
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "test", "integration"))

import harness  # noqa: E402

ISSUER = "https://op.bench.test"
CLIENT_ID = "bench-rp"
COOKIE = "APPSESSION"
BIND_HEADER = "BCL-Session"
# 64 octets: long enough for HS256..HS512
HMAC_SECRET = "bench-hmac-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH"
SMALL_BODY = b"hello from the benchmark: a small static response of 128 bytes" + b"." * 65 + b"\n"
assert len(SMALL_BODY) == 128

BENCH_TUNING = {
    # every worker exists before the first measurement and stays
    # (MinSpare low, MaxSpare high: httpd neither starts nor stops any)
    "prefork": ("StartServers 40\nMinSpareServers 1\nMaxSpareServers 80\n"
                "ServerLimit 80\nMaxRequestWorkers 80\nMaxConnectionsPerChild 0\n"),
    "event": ("StartServers 2\nServerLimit 2\nThreadsPerChild 40\n"
              "MinSpareThreads 1\nMaxSpareThreads 80\nMaxRequestWorkers 80\n"
              "MaxConnectionsPerChild 0\n"),
}
for _m in BENCH_TUNING:
    assert _m in harness.MPM_TUNING

FRONTEND_MODULES = ("authz_core", "headers", "proxy", "proxy_http", "reflector")


class BenchHttpd(harness.Httpd):
    """harness.Httpd with benchmark tuning and no access log."""

    def __init__(self, mpm, modules, load_bcl=True, loglevel="warn backchannel_logout:info"):
        super().__init__(mpm=mpm, modules=modules, load_bcl=load_bcl, loglevel=loglevel,
                         tmpdir=harness.make_tmpdir("bcl-bench-"))

    def base_config(self):
        text = super().base_config()
        text = text.replace(harness.MPM_TUNING[self.mpm].rstrip("\n"),
                            BENCH_TUNING[self.mpm].rstrip("\n"))
        lines = [l for l in text.splitlines()
                 if not l.startswith(("LogFormat ", "CustomLog "))]
        lines += ["MaxKeepAliveRequests 0", "KeepAliveTimeout 60"]
        return "\n".join(lines) + "\n"

    def write_small(self, *dirs):
        for d in dirs:
            os.makedirs(self.path("htdocs", d), exist_ok=True)
            os.chmod(self.path("htdocs", d), 0o755)
            self.write(os.path.join("htdocs", d, "small.txt"), SMALL_BODY)


def start_backend(mpm="event"):
    b = BenchHttpd("event", ("authz_core",), load_bcl=False, loglevel="warn")
    b.write_small("")
    b.configure("")
    b.start()
    return b


def _guard(extra=""):
    lines = ["    BCLSessionCookie %s" % COOKIE,
             "    BCLBindFrom response-header %s" % BIND_HEADER]
    lines += ["    " + l for l in extra.strip().splitlines() if l.strip()]
    return "\n".join(lines)


def _receiver(path, algs, extra):
    return "\n".join([
        '<Location "%s">' % path,
        "    SetHandler backchannel-logout",
        '    BCLIssuer "%s"' % ISSUER,
        "    BCLClientID %s" % CLIENT_ID,
        "    BCLSigningAlg %s" % algs,
        extra,
        "</Location>"])


def frontend_config(store_line, backend_port, fill_port, jwks_path, mutex=None):
    # The fill vhost (its own port). The guard's binding filter runs before
    # mod_headers' output filter, so the binding header is set "early"
    # (post_read_request; allowed only at server/vhost level), as an
    # expression over the request's Cookie header (mod_setenvif would run
    # after mod_headers' early hook). The sid of each binding is therefore
    # the whole Cookie header, e.g. "APPSESSION=fill-17". bench.py checks
    # that a fill really binds before it measures anything.
    fill_vhost = "\n".join([
        "Listen 127.0.0.1:%d" % fill_port,
        "<VirtualHost 127.0.0.1:%d>" % fill_port,
        '    Header set %s "expr=iss=\\"%s\\", sid=\\"%%{req:Cookie}\\", sub=\\"u-%%{req:Cookie}\\"" early'
        % (BIND_HEADER, ISSUER),
        "    <Location /fill/>",
        _guard(),
        "    </Location>",
        "</VirtualHost>"])
    parts = [
        store_line,
        # the harness sets "Mutex file:DIR default", as Debian's apache2.conf
        # does; another mechanism for the store's lock is a benchmark option
        ("Mutex %s bcl-store" % mutex) if mutex else "",
        "BCLRevocationLifetime 86400",
        "ProxyPass /proxy-off/ http://127.0.0.1:%d/" % backend_port,
        "ProxyPass /proxy-on/ http://127.0.0.1:%d/" % backend_port,
        # "off" has the same kind of <Location> section (httpd merges its
        # configuration per request) with a binding setting of the module
        # but no BCLSessionCookie: the guard is off, only the guard differs.
        # (`BCLBindFrom env`: response-header without a session cookie is
        # refused at startup, BCL0192, since the app's header would leak.)
        "<Location /off/>\n    BCLBindFrom env\n</Location>",
        "<Location /proxy-off/>\n    BCLBindFrom env\n</Location>",
        "<Location /on/>\n%s\n</Location>" % _guard(),
        "<Location /proxy-on/>\n%s\n</Location>" % _guard(),
        "<Location /check/>\n%s\n</Location>" % _guard("BCLUnboundSession deny"),
        _receiver("/bcl-rs256", "RS256", '    BCLJWKSFile "%s"' % jwks_path),
        _receiver("/bcl-es256", "ES256", '    BCLJWKSFile "%s"' % jwks_path),
        _receiver("/bcl-hs256", "HS256", '    BCLClientSecret "%s"' % HMAC_SECRET),
        "<Location /reflect>\n    SetHandler reflector\n</Location>",
        # the module's own count of store round trips (memcache/redis rows)
        "<Location /bcl-status>\n    SetHandler backchannel-logout-status\n</Location>",
        fill_vhost,
    ]
    return "\n".join(parts) + "\n"


def new_frontend(mpm, store_line, backend_port, jwks_text, mutex=None):
    """A configured (not started) frontend; returns (httpd, configtest rc, output)."""
    h = BenchHttpd(mpm, FRONTEND_MODULES)
    h.fill_port = harness.free_port()
    h.write_small("off", "on", "fill", "check")
    jwks = h.write("jwks.json", jwks_text)
    h.configure(frontend_config(store_line, backend_port, h.fill_port, jwks, mutex))
    rc, out = h.configtest()
    return h, rc, out


def stop_under_tool(h, proc, tool, checked):
    """Stops an httpd that runs under a tool (runuser, valgrind, strace) as
    `proc`: SIGTERM to httpd alone (its PidFile), because runuser and strace
    would die of a signal sent to the whole group and return httpd's own
    status otherwise; SIGKILL to the group after 60 s. With `checked`, the
    same clean-exit check as every harness stop."""
    killed = False
    if proc.poll() is None:
        try:
            with open(h.path("httpd.pid")) as f:
                os.kill(int(f.read().strip()), signal.SIGTERM)
        except (OSError, ValueError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            killed = True
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if checked:
        assert not killed, "httpd under %s did not stop within 60 s of SIGTERM" % tool
        harness.assert_clean_exit(proc.returncode, h.log_text(), "httpd under " + tool)


def as_www_data(h, conf, *dirs):
    """Prepares `h` (config text `conf`) to run wholly as www-data under a
    tool (valgrind, strace), as root would otherwise switch users half way
    and the tool could no longer write its output. The module is then loaded
    by www-data too, and a checkout under /root (mode 0700) is out of its
    reach: the config loads a copy kept in h.dir. Writes the config, hands
    h.dir and `dirs` to www-data, returns the argv prefix. As another user:
    writes the config, returns []."""
    if os.geteuid() == 0:
        module_copy = os.path.join(h.dir, "mod_backchannel_logout.so")
        shutil.copyfile(h.module_path, module_copy)
        line = 'LoadModule backchannel_logout_module "%s"'
        conf = conf.replace(line % h.module_path, line % module_copy)
        if module_copy not in conf:
            raise RuntimeError("no LoadModule line for %s in %s" % (h.module_path, h.conf_path))
    with open(h.conf_path, "w") as f:
        f.write(conf)
    if os.geteuid() != 0:
        return []
    subprocess.run(["chown", "-R", "www-data:www-data", h.dir] + list(dirs), check=True)
    return ["runuser", "-u", "www-data", "--"]
