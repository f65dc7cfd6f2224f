"""Running a real Apache httpd for the integration tests.

`Httpd` writes a self-contained configuration in its own temp directory
(ServerRoot, PidFile, ErrorLog, Mutex, DefaultRuntimeDir all inside it),
starts `/usr/sbin/apache2 -f CONF -DFOREGROUND` in its own session (the
prefork parent signals its whole process group on shutdown), waits until the
port answers, and stops the server by its PID.

Environment:
  BCL_MODULE  the module to load (default: <repo>/.libs/mod_backchannel_logout.so)
  BCL_CHECK   the command-line checker (default: <repo>/tools/bcl-check)
  APACHE2     the httpd binary (default: /usr/sbin/apache2)
  BCL_KEEP_TMP=1 keeps the temp directories (configs, logs) for a post-mortem
  BCL_CORE_DIR=1 has the children dump core in <tmp>/core (with ulimit -c)
"""
import json
import os
import pwd
import grp
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE = os.environ.get("BCL_MODULE", os.path.join(REPO, ".libs", "mod_backchannel_logout.so"))
BCL_CHECK = os.environ.get("BCL_CHECK", os.path.join(REPO, "tools", "bcl-check"))
APACHE2 = os.environ.get("APACHE2", "/usr/sbin/apache2")
MODULES_DIR = "/usr/lib/apache2/modules"

LOG_ACCEPTED = "BCL0100"
LOG_REFUSED_TOKEN = "BCL0101"
LOG_REFUSED_REQUEST = "BCL0102"

FORM = "application/x-www-form-urlencoded"


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_tmpdir(prefix="bcl-it-"):
    """A temp dir that httpd's child user can read (mode 0755)."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    return d


def require_module(path=None):
    """Fails (never skips) when the module has not been built."""
    path = path or MODULE
    if not os.path.isfile(path):
        raise AssertionError(
            "module not built: %s does not exist (build with `autoreconf -fi && "
            "./configure && make`, or set BCL_MODULE)" % path)
    return path


def _run_user():
    """User/Group lines when running as root (children must not run as root)."""
    if os.geteuid() != 0:
        return ""
    for user in ("www-data", "daemon", "nobody"):
        try:
            pw = pwd.getpwnam(user)
        except KeyError:
            continue
        try:
            group = grp.getgrgid(pw.pw_gid).gr_name
        except KeyError:
            group = "#%d" % pw.pw_gid
        return "User %s\nGroup %s\n" % (user, group)
    return ""


MPM_TUNING = {
    "event": ("StartServers 1\nServerLimit 2\nThreadsPerChild 10\n"
              "MinSpareThreads 5\nMaxSpareThreads 20\nMaxRequestWorkers 20\n"),
    "worker": ("StartServers 1\nServerLimit 2\nThreadsPerChild 10\n"
               "MinSpareThreads 5\nMaxSpareThreads 20\nMaxRequestWorkers 20\n"),
    "prefork": ("StartServers 2\nMinSpareServers 1\nMaxSpareServers 4\n"
                "MaxRequestWorkers 10\n"),
}


class Httpd:
    """One httpd instance with its own config, port and temp directory.

        h = Httpd(mpm="event")
        h.configure('<Location /bcl>\\n SetHandler backchannel-logout\\n ...')
        h.start()
        requests.post(h.url("/bcl"), ...)
        h.stop()
    """

    def __init__(self, mpm="event", modules=("authz_core",), load_bcl=True,
                 module_path=None, loglevel="warn backchannel_logout:info",
                 tmpdir=None, port=None):
        if mpm not in MPM_TUNING:
            raise ValueError("mpm must be one of %s" % sorted(MPM_TUNING))
        self.mpm = mpm
        self.modules = list(modules)
        self.load_bcl = load_bcl
        self.module_path = module_path or MODULE
        self.loglevel = loglevel
        self.dir = tmpdir or make_tmpdir()
        self.port = port or free_port()
        self.conf_path = os.path.join(self.dir, "httpd.conf")
        self.error_log = os.path.join(self.dir, "error.log")
        self.access_log = os.path.join(self.dir, "access.log")
        self.stdout_path = os.path.join(self.dir, "stdout.txt")
        self.proc = None
        for sub in ("run", "htdocs"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
            os.chmod(os.path.join(self.dir, sub), 0o755)

    # -- files -----------------------------------------------------------
    def path(self, *names):
        return os.path.join(self.dir, *names)

    def write(self, name, data, mode=0o644):
        """Writes a file into the instance dir (readable by the child user)."""
        p = self.path(name)
        if isinstance(data, str):
            data = data.encode()
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, mode)
        return p

    # -- configuration ---------------------------------------------------
    def base_config(self):
        lines = [
            'ServerRoot "%s"' % self.dir,
            "ServerName 127.0.0.1",
            'PidFile "%s"' % self.path("httpd.pid"),
            'ErrorLog "%s"' % self.error_log,
            'Mutex file:%s default' % self.path("run"),
            'DefaultRuntimeDir "%s"' % self.path("run"),
            'DocumentRoot "%s"' % self.path("htdocs"),
            "Listen 127.0.0.1:%d" % self.port,
            "Timeout 15",
            "KeepAlive On",
            "LoadModule mpm_%s_module %s/mod_mpm_%s.so" % (self.mpm, MODULES_DIR, self.mpm),
        ]
        for m in self.modules:
            lines.append("LoadModule %s_module %s/mod_%s.so" % (m, MODULES_DIR, m))
        if self.load_bcl:
            lines.append('LoadModule backchannel_logout_module "%s"' % self.module_path)
        level = self.loglevel
        if not self.load_bcl:
            level = " ".join(w for w in level.split() if not w.startswith("backchannel_logout:"))
        lines.append("LogLevel %s" % (level or "warn"))
        lines.append(_run_user().rstrip("\n"))
        lines.append(MPM_TUNING[self.mpm].rstrip("\n"))
        if os.environ.get("BCL_CORE_DIR"):
            # post-mortem of a crash: `ulimit -c unlimited` and BCL_CORE_DIR=1
            core = self.path("core")
            os.makedirs(core, exist_ok=True)
            os.chmod(core, 0o1777)
            lines.append('CoreDumpDirectory "%s"' % core)
        lines.append('LogFormat "%h \\"%r\\" %>s %b %D" short')
        lines.append('CustomLog "%s" short' % self.access_log)
        return "\n".join(l for l in lines if l) + "\n"

    def configure(self, body):
        """Writes the config: the base lines plus `body` (directives,
        <Location>, <VirtualHost> sections)."""
        if self.load_bcl:
            require_module(self.module_path)
        with open(self.conf_path, "w") as f:
            f.write(self.base_config())
            f.write("\n")
            f.write(body)
            f.write("\n")
        os.chmod(self.conf_path, 0o644)
        return self.conf_path

    # -- process ---------------------------------------------------------
    def configtest(self):
        """Runs `apache2 -t -f CONF`; returns (rc, stdout+stderr)."""
        p = subprocess.run([APACHE2, "-t", "-f", self.conf_path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=30, start_new_session=True)
        return p.returncode, p.stdout.decode(errors="replace")

    def start(self, timeout=15):
        """Starts httpd and returns once it has answered one HTTP request.

        The parent binds its port before post_config runs, so a listening
        port alone does not prove that the start succeeded: a module that
        refuses the configuration in post_config makes the parent exit
        after the port answered. Only an HTTP answer (children serve after
        post_config) counts, and the parent must still be running then."""
        assert self.proc is None, "already started"
        out = open(self.stdout_path, "wb")
        self.proc = subprocess.Popen(
            [APACHE2, "-f", self.conf_path, "-DFOREGROUND"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        out.close()
        deadline = time.time() + timeout
        session = requests.Session()
        session.trust_env = False
        while time.time() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                self.proc = None
                raise RuntimeError("httpd exited with %d at start:\n%s" % (rc, self.diagnostics()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
            except OSError:
                time.sleep(0.05)
                continue
            # The parent listens before its children are ready (and before
            # post_config): one real request proves both, so the first test
            # does not race the workers either.
            try:
                session.get(self.url("/"), timeout=5, headers={"Connection": "close"})
            except requests.exceptions.ReadTimeout:
                pass      # a child took the request: it is serving
            except requests.RequestException:
                time.sleep(0.05)
                continue
            finally:
                session.close()
            rc = self.proc.poll()
            if rc is not None:
                self.proc = None
                raise RuntimeError("httpd exited with %d at start:\n%s" % (rc, self.diagnostics()))
            return self
        self.stop(check=False)
        raise RuntimeError("httpd did not answer on port %d within %ss:\n%s"
                           % (self.port, timeout, self.diagnostics()))

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=15, check=True):
        """SIGTERM to the httpd parent (by PID), then wait; SIGKILL on timeout.

        Then asserts a clean exit (see assert_clean_exit): the parent exited
        0 and no child died of a signal. `check=False` only for a server
        already known to be broken (the caller reports that instead)."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        killed = False
        if proc.poll() is None:
            close_clients()
            try:
                os.kill(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                killed = True
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        if check:
            assert not killed, "httpd did not stop within %ss of SIGTERM (SIGKILLed):\n%s" % (
                timeout, self.diagnostics())
            assert_clean_exit(proc.returncode, self.log_text(), "httpd on port %d" % self.port,
                              self.diagnostics)

    def cleanup(self):
        try:
            self.stop()
        finally:
            if not os.environ.get("BCL_KEEP_TMP"):
                shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    # -- logs ------------------------------------------------------------
    def log_text(self):
        try:
            with open(self.error_log, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def log_mark(self):
        try:
            return os.path.getsize(self.error_log)
        except FileNotFoundError:
            return 0

    def log_since(self, mark):
        try:
            with open(self.error_log, "rb") as f:
                f.seek(mark)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, *needles, since=0, timeout=3.0):
        """Waits until one log line (after byte offset `since`) contains every
        needle; returns that line. Raises AssertionError with the log tail."""
        deadline = time.time() + timeout
        while True:
            for line in self.log_since(since).splitlines():
                if all(n in line for n in needles):
                    return line
            if time.time() >= deadline:
                raise AssertionError("no error-log line with %r; log since mark:\n%s"
                                     % (needles, self.log_since(since)[-4000:]))
            time.sleep(0.05)

    def diagnostics(self):
        parts = []
        for name in (self.stdout_path, self.error_log):
            try:
                with open(name, "rb") as f:
                    parts.append("--- %s\n%s" % (name, f.read()[-6000:].decode(errors="replace")))
            except FileNotFoundError:
                pass
        return "\n".join(parts)

    # -- HTTP --------------------------------------------------------------
    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)


def assert_clean_exit(returncode, log_text, what="httpd", diagnostics=None):
    """The one check every httpd stop goes through (integration, e2e and
    benchmark servers): the parent exited 0 (a negative code is the signal
    that killed it, -11 = SIGSEGV in a cleanup after the module was
    unloaded) and no child died of a signal (httpd's parent logs "exit
    signal" for each such child)."""
    def more():
        return diagnostics() if diagnostics else log_text[-4000:]
    if returncode != 0:
        how = ("killed by signal %d" % -returncode) if returncode < 0 else "exit code %d" % returncode
        raise AssertionError("%s did not exit cleanly: %s\n%s" % (what, how, more()))
    bad = [l for l in log_text.splitlines() if "exit signal" in l]
    if bad:
        raise AssertionError("%s: a child died of a signal:\n%s\n%s"
                             % (what, "\n".join(bad[:5]), more()))


# Strong references: a session dropped by a test would otherwise close its
# connection whenever the garbage collector runs, which may be during a stop.
_CLIENTS = []


def close_clients():
    """Closes the keep-alive connections of every session client() made.

    Httpd.stop() calls it before SIGTERM: Debian's event MPM (2.4.71) has a
    shutdown race of its own (a child closing, in close_worker_sockets, the
    socket of a keep-alive connection a worker thread has just freed dies
    with SIGSEGV in apr_os_sock_get, about one stop in fifty with idle
    keep-alive connections: the listener hands each open connection to a
    worker for closing while the main thread closes the workers' sockets).
    The clean-exit check is for this module's crashes; a session used again
    after a restart simply reconnects."""
    for s in list(_CLIENTS):
        try:
            s.close()     # a session closed here still works later: it reconnects
        except Exception:
            pass
    time.sleep(0.2)       # httpd retires the closed connections first


def client():
    """A requests session that ignores proxy and CA environment settings."""
    s = requests.Session()
    s.trust_env = False
    _CLIENTS.append(s)
    return s


def post_token(session, url, token, extra=None, content_type=FORM, headers=None,
               timeout=10):
    """POSTs logout_token=TOKEN (form-encoded, plus `extra` params)."""
    data = [("logout_token", token)]
    if extra:
        data.extend(extra.items() if isinstance(extra, dict) else extra)
    body = requests.models.RequestEncodingMixin._encode_params(data)
    hdrs = {"Content-Type": content_type} if content_type else {}
    hdrs.update(headers or {})
    return session.post(url, data=body, headers=hdrs, timeout=timeout)


def post_raw(session, url, body, content_type=FORM, headers=None, timeout=10):
    """POSTs `body` exactly as given (str/bytes or an iterator for chunked)."""
    hdrs = {}
    if content_type is not None:
        hdrs["Content-Type"] = content_type
    hdrs.update(headers or {})
    req = requests.Request("POST", url, data=body, headers=hdrs)
    prep = session.prepare_request(req)
    if content_type is None:
        prep.headers.pop("Content-Type", None)
    return session.send(prep, timeout=timeout)


def assert_ok(r):
    assert r.status_code == 200, "expected 200, got %d: %s" % (r.status_code, r.text)
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers


def assert_error(r, code, status=400, secrets=()):
    """Checks a refusal: status, no-store, JSON error body whose
    error_description starts with `code` + ':' (or one of several codes),
    and that none of `secrets` (token, client secret) is echoed."""
    codes = (code,) if isinstance(code, str) else tuple(code)
    assert r.status_code == status, \
        "expected %d (%s), got %d: %s" % (status, "/".join(codes), r.status_code, r.text)
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip().lower() == "application/json", ctype
    body = json.loads(r.text)
    assert isinstance(body, dict), body
    assert body.get("error") == "invalid_request", body
    desc = body.get("error_description")
    assert isinstance(desc, str), body
    assert any(desc.startswith(c + ":") for c in codes), \
        "expected error_description to start with %s, got %r" % (
            " or ".join(repr(c + ":") for c in codes), desc)
    residue = re.search(r"%[-+ #0-9.]*(?:ll|l|h|z|j)?[diouxXscpf]", desc)
    assert residue is None, "unformatted printf conversion in error_description: %r" % desc
    for s in secrets:
        if s:
            assert s not in r.text, "response echoes a secret/token: %r" % r.text
    return body
