"""Real app backends for integration tests, each started in the test's own
temp directory and stopped by its PID.

  GuardApp  guard_app.py (a small Python HTTP app) on a free loopback port
  PhpFpm    Debian's php-fpm8.2 with its own pool on a unix socket, serving
            the PHP app below with PHP's own sessions (PHPSESSID)
  CgiApp    a Python CGI script (for mod_cgi / mod_cgid) with its own
            session files (cookie CGISESSION)
  ScgiApp   that same script behind an SCGI server (for mod_proxy_scgi)
            or a uwsgi one (mod_proxy_uwsgi)

The PHP and CGI apps answer the same actions, chosen by `?do=`:
  login&sid=..&sub=..[&iss=..][&status=N]
      starts a new session (PHP: session_regenerate_id), sets its cookie
      and the binding header  BCL-Session: iss="..", sid="..", sub=".."
      (status N: the answer's status, e.g. 403 for an error page)
  whoami        JSON: the Cookie header received and the session's user
  bind&sid=..   the binding header for the current session, no Set-Cookie
  logout-local  ends the session and expires its cookie
  rotate        a new value for the current session (no binding header)
  theme         (CGI) sets an unrelated cookie, theme=dark
Every answer is JSON and carries `tag` (the `t` parameter), so a test can
find what the app received: `seen(tag)` reads the app's request log.

Use with harness.Httpd: `httpd_config()` gives the directives (and
`modules` the LoadModule names) that route a location to the app.
"""
import json
import os
import pwd
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PHP_FPM = os.environ.get("PHP_FPM", "/usr/sbin/php-fpm8.2")
DEFAULT_ISS = "https://op.example.test/realms/main"
BIND_HEADER = "BCL-Session"


def _run_as():
    """(user, uid, gid) the apps run as: www-data when we are root."""
    if os.geteuid() != 0:
        pw = pwd.getpwuid(os.geteuid())
        return pw.pw_name, pw.pw_uid, pw.pw_gid
    pw = pwd.getpwnam("www-data")
    return pw.pw_name, pw.pw_uid, pw.pw_gid


def _own(path, mode):
    _, uid, gid = _run_as()
    os.chmod(path, mode)
    if os.geteuid() == 0:
        os.chown(path, uid, gid)


def _stop(proc, sig=signal.SIGTERM):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _read_log(path, tag):
    """Rows of a JSON-lines request log whose tag is `tag`."""
    rows = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    row = json.loads(line)
                    if row.get("tag") == tag:
                        rows.append(row)
    except FileNotFoundError:
        pass
    return rows


# ---------------------------------------------------------------------------
# guard_app.py
# ---------------------------------------------------------------------------

class GuardApp:
    """guard_app.py in its own process on a free loopback port."""

    def __init__(self):
        import harness
        script = os.path.join(HERE, "guard_app.py")
        self.proc = subprocess.Popen([sys.executable, script, "0"], stdout=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError("guard_app.py did not start: %r" % line)
        self.port = int(line.split()[1])
        self.session = harness.client()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def seen(self, tag):
        """Every request the app received whose path contains `tag`."""
        r = self.session.get(self.url("/_seen"), params={"tag": tag}, timeout=10)
        r.raise_for_status()
        return r.json()

    def stop(self):
        _stop(self.proc)


# ---------------------------------------------------------------------------
# PHP under php-fpm
# ---------------------------------------------------------------------------

PHP_APP = r"""<?php
// A PHP app with PHP's own sessions, for the guard's tests (backends.py).
$do = $_GET['do'] ?? 'whoami';
$tag = $_GET['t'] ?? '';
$log = __DIR__ . '/requests.log';
file_put_contents($log, json_encode(['tag' => $tag, 'do' => $do,
    'cookie' => $_SERVER['HTTP_COOKIE'] ?? null]) . "\n", FILE_APPEND | LOCK_EX);

function quoted($v) { return '"' . addcslashes($v, "\"\\") . '"'; }
function bind_header() {
    $parts = ['iss=' . quoted($_GET['iss'] ?? '%(iss)s')];
    foreach (['sid', 'sub'] as $k)
        if (isset($_GET[$k])) $parts[] = $k . '=' . quoted($_GET[$k]);
    header('%(header)s: ' . implode(', ', $parts));
}

$out = ['tag' => $tag, 'do' => $do, 'cookie' => $_SERVER['HTTP_COOKIE'] ?? null];
switch ($do) {
case 'login':
    session_start();
    session_regenerate_id(true);
    $_SESSION['user'] = $_GET['sub'] ?? ($_GET['sid'] ?? 'someone');
    bind_header();
    $out['new_session'] = session_id();
    if (isset($_GET['status'])) http_response_code((int)$_GET['status']);
    break;
case 'bind':
    session_start();
    bind_header();
    break;
case 'rotate':
    session_start();
    session_regenerate_id(true);
    $out['new_session'] = session_id();
    break;
case 'logout-local':
    session_start();
    $_SESSION = [];
    session_destroy();
    $p = session_get_cookie_params();
    setcookie(session_name(), '', time() - 42000, $p['path']);
    break;
default:
    if (isset($_COOKIE[session_name()])) {
        session_start();
        $out['user'] = $_SESSION['user'] ?? null;
        $out['session'] = session_id();
    }
}
header('Content-Type: application/json');
echo json_encode($out);
"""

FPM_CONF = """[global]
pid = %(dir)s/php-fpm.pid
error_log = %(dir)s/php-fpm.log
daemonize = no

[bcltest]
user = %(user)s
group = %(group)s
listen = %(sock)s
listen.owner = %(user)s
listen.group = %(group)s
listen.mode = 0660
pm = static
pm.max_children = 4
catch_workers_output = yes
clear_env = no
php_admin_value[session.save_path] = %(dir)s/sessions
php_admin_value[session.use_strict_mode] = 1
php_admin_value[session.use_only_cookies] = 1
php_admin_value[session.cookie_httponly] = 1
php_admin_value[error_log] = %(dir)s/php-errors.log
php_admin_flag[log_errors] = on
php_admin_flag[display_errors] = off
"""


class PhpFpm:
    """php-fpm8.2 in the foreground with one pool on a unix socket in `dir`
    (which must be readable by www-data: harness.make_tmpdir makes it so).
    The PHP app is `dir`/php/app.php; httpd reaches it with
    `SetHandler "proxy:unix:SOCK|fcgi://localhost"` (Debian's own way)."""

    COOKIE = "PHPSESSID"

    def __init__(self, directory, iss=DEFAULT_ISS, header=BIND_HEADER):
        self.dir = os.path.join(directory, "fpm")
        self.docroot = os.path.join(directory, "php")
        self.sock = os.path.join(self.dir, "fpm.sock")
        self.conf = os.path.join(self.dir, "php-fpm.conf")
        self.log = os.path.join(self.docroot, "requests.log")
        user, uid, gid = _run_as()
        group = "www-data" if os.geteuid() == 0 else user
        for d in (self.dir, self.docroot):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        os.makedirs(os.path.join(self.dir, "sessions"), exist_ok=True)
        _own(os.path.join(self.dir, "sessions"), 0o700)
        with open(os.path.join(self.docroot, "app.php"), "w") as f:
            f.write(PHP_APP % {"iss": iss, "header": header})
        os.chmod(os.path.join(self.docroot, "app.php"), 0o644)
        with open(self.log, "w"):
            pass
        _own(self.log, 0o644)
        with open(self.conf, "w") as f:
            f.write(FPM_CONF % {"dir": self.dir, "user": user, "group": group, "sock": self.sock})
        self.proc = None

    def start(self, timeout=15):
        if not os.path.isfile(PHP_FPM):
            raise AssertionError("php-fpm not installed: %s (Debian package php8.2-fpm)" % PHP_FPM)
        out = open(os.path.join(self.dir, "stdout.txt"), "wb")
        cmd = [PHP_FPM, "-F", "-y", self.conf]
        if os.geteuid() == 0:
            cmd.append("-R")     # the master runs as root; the pool as www-data
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        deadline = time.time() + timeout
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.time() > deadline:
                text = self.diagnostics()
                self.stop()
                raise RuntimeError("php-fpm did not start:\n%s" % text)
            time.sleep(0.05)
        return self

    def httpd_config(self, location, extra=()):
        """A guarded <Location> (under an Alias to the PHP docroot) whose
        .php files go to this php-fpm through mod_proxy_fcgi."""
        lines = ['Alias "%s" "%s/"' % (location, self.docroot),
                 '<Directory "%s">' % self.docroot,
                 "    Require all granted",
                 '    <FilesMatch "\\.php$">',
                 '        SetHandler "proxy:unix:%s|fcgi://localhost"' % self.sock,
                 "    </FilesMatch>",
                 "</Directory>",
                 '<Location "%s">' % location]
        lines.extend("    " + l for l in extra)
        lines.append("</Location>")
        return "\n".join(lines) + "\n"

    modules = ("alias", "proxy", "proxy_fcgi")

    def seen(self, tag):
        return _read_log(self.log, tag)

    def diagnostics(self):
        parts = []
        for name in ("stdout.txt", "php-fpm.log"):
            try:
                with open(os.path.join(self.dir, name), "rb") as f:
                    parts.append("--- %s\n%s" % (name, f.read()[-3000:].decode(errors="replace")))
            except FileNotFoundError:
                pass
        return "\n".join(parts)

    def stop(self):
        _stop(self.proc, signal.SIGQUIT)
        self.proc = None


# ---------------------------------------------------------------------------
# a CGI script
# ---------------------------------------------------------------------------

CGI_APP = r'''#!/usr/bin/python3
"""A CGI app with its own session files, for the guard's tests (backends.py)."""
import json, os, secrets, sys
from urllib.parse import parse_qs

HERE = os.path.dirname(os.path.abspath(__file__))
SESSIONS = os.path.join(HERE, "sessions")
COOKIE = "CGISESSION"
q = {k: v[0] for k, v in parse_qs(os.environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
raw = os.environ.get("HTTP_COOKIE")
do, tag = q.get("do", "whoami"), q.get("t", "")
with open(os.path.join(HERE, "requests.log"), "a") as f:
    f.write(json.dumps({"tag": tag, "do": do, "cookie": raw}) + "\n")

def first_value():
    # like PHP and Werkzeug: the first copy wins
    for part in (raw or "").replace(",", ";").split(";"):
        k, _, v = part.strip().partition("=")
        if k == COOKIE:
            return v
    return None

def quoted(v):
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'

def bind_header():
    parts = ["iss=" + quoted(q.get("iss", "%(iss)s"))]
    parts += ["%%s=%%s" %% (k, quoted(q[k])) for k in ("sid", "sub") if k in q]
    return "%(header)s: " + ", ".join(parts)

def session_file(v):
    return os.path.join(SESSIONS, v) if v and v.isalnum() else None

headers, out = [], {"tag": tag, "do": do, "cookie": raw}
current = first_value()
if do in ("login", "rotate"):
    user = q.get("sub", q.get("sid", "someone"))
    if do == "rotate":
        path = session_file(current)
        user = open(path).read() if path and os.path.exists(path) else None
        if path and os.path.exists(path):
            os.unlink(path)
    value = secrets.token_hex(16)
    if user is not None:
        with open(os.path.join(SESSIONS, value), "w") as f:
            f.write(user)
    headers.append("Set-Cookie: %%s=%%s; Path=/; HttpOnly" %% (COOKIE, value))
    if do == "login":
        headers.append(bind_header())
    out["new_session"] = value
elif do == "bind":
    headers.append(bind_header())
elif do == "theme":
    headers.append("Set-Cookie: theme=dark; Path=/")
elif do == "logout-local":
    path = session_file(current)
    if path and os.path.exists(path):
        os.unlink(path)
    headers.append("Set-Cookie: %%s=deleted; Max-Age=0; Path=/" %% COOKIE)
else:
    path = session_file(current)
    out["user"] = open(path).read() if path and os.path.exists(path) else None
if "status" in q:
    headers.insert(0, "Status: %%s Test" %% q["status"])
body = json.dumps(out)
sys.stdout.write("Content-Type: application/json\r\n")
for h in headers:
    sys.stdout.write(h + "\r\n")
sys.stdout.write("\r\n" + body)
'''


class CgiApp:
    """A Python CGI script in `dir`/cgi-bin, run by mod_cgi (prefork) or
    mod_cgid (threaded MPMs) as www-data."""

    COOKIE = "CGISESSION"

    def __init__(self, directory, iss=DEFAULT_ISS, header=BIND_HEADER):
        self.dir = os.path.join(directory, "cgi-bin")
        self.log = os.path.join(self.dir, "requests.log")
        os.makedirs(os.path.join(self.dir, "sessions"), exist_ok=True)
        _own(self.dir, 0o755)
        _own(os.path.join(self.dir, "sessions"), 0o755)
        script = os.path.join(self.dir, "app.cgi")
        with open(script, "w") as f:
            f.write(CGI_APP % {"iss": iss, "header": header})
        os.chmod(script, 0o755)
        with open(self.log, "w"):
            pass
        _own(self.log, 0o644)

    @staticmethod
    def modules(mpm):
        return ("alias", "cgi" if mpm == "prefork" else "cgid")

    def httpd_config(self, location, extra=()):
        lines = ['ScriptAlias "%s" "%s/"' % (location, self.dir),
                 '<Directory "%s">' % self.dir,
                 "    Require all granted",
                 "</Directory>",
                 '<Location "%s">' % location]
        lines.extend("    " + l for l in extra)
        lines.append("</Location>")
        return "\n".join(lines) + "\n"

    def seen(self, tag):
        return _read_log(self.log, tag)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------
# the CGI script behind SCGI
# ---------------------------------------------------------------------------

def _read_netstring(rfile):
    n = b""
    while True:
        c = rfile.read(1)
        if not c:
            raise ValueError("SCGI: connection closed in the netstring length")
        if c == b":":
            break
        n += c
    data = rfile.read(int(n))
    if rfile.read(1) != b",":
        raise ValueError("SCGI: netstring without its comma")
    return data


class _ScgiHandler(socketserver.StreamRequestHandler):
    def handle(self):
        fields = _read_netstring(self.rfile).split(b"\0")
        env = {fields[i].decode("latin-1"): fields[i + 1].decode("latin-1")
               for i in range(0, len(fields) - 1, 2)}
        body = self.rfile.read(int(env.get("CONTENT_LENGTH") or 0))
        run = subprocess.run([sys.executable, self.server.script], input=body, env=env,
                             stdout=subprocess.PIPE, timeout=20)
        self.wfile.write(run.stdout)


class _UwsgiHandler(socketserver.StreamRequestHandler):
    """uwsgi: a 4-byte header (modifier1, little-endian size, modifier2),
    then (u16 length, key, u16 length, value) pairs; the answer is an HTTP
    status line and the script's headers."""

    def handle(self):
        head = self.rfile.read(4)
        size = head[1] | (head[2] << 8)
        data = self.rfile.read(size)
        env, i = {}, 0
        while i < len(data):
            n = data[i] | (data[i + 1] << 8)
            key = data[i + 2:i + 2 + n].decode("latin-1")
            i += 2 + n
            n = data[i] | (data[i + 1] << 8)
            env[key] = data[i + 2:i + 2 + n].decode("latin-1")
            i += 2 + n
        body = self.rfile.read(int(env.get("CONTENT_LENGTH") or 0))
        run = subprocess.run([sys.executable, self.server.script], input=body, env=env,
                             stdout=subprocess.PIPE, timeout=20)
        status = "200 OK"
        for line in run.stdout.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
            if line.lower().startswith(b"status:"):
                status = line.split(b":", 1)[1].strip().decode("latin-1")
        self.wfile.write(b"HTTP/1.1 " + status.encode() + b"\r\n" + run.stdout)


class _ScgiServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class ScgiApp:
    """CgiApp's script run for each request of an SCGI server on a free
    loopback port (a thread of the test process): the script's headers come
    back to httpd through mod_proxy_scgi. With protocol="uwsgi", the same
    behind mod_proxy_uwsgi."""

    def __init__(self, cgi, protocol="scgi"):
        self.cgi = cgi
        self.protocol = protocol
        self.modules = ("proxy", "proxy_" + protocol)
        handler = _ScgiHandler if protocol == "scgi" else _UwsgiHandler
        self.server = _ScgiServer(("127.0.0.1", 0), handler)
        self.server.script = os.path.join(cgi.dir, "app.cgi")
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def httpd_config(self, location, extra=()):
        lines = ['<Location "%s">' % location]
        lines.extend("    " + l for l in extra)
        lines.append("    ProxyPass %s://127.0.0.1:%d/" % (self.protocol, self.port))
        lines.append("</Location>")
        return "\n".join(lines) + "\n"

    def seen(self, tag):
        return self.cgi.seen(tag)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
