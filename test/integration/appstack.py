"""Real application backends for the integration tests, each started in its
own process on a free loopback port, and the httpd configuration that puts
the guard in front of them.

    flask = FlaskApp().start()       # Werkzeug's server, apps/flask_app.py
    node = NodeApp().start()         # express + express-session, apps/node/
    fpm = PhpFpm().start()           # php-fpm with its own config, apps/php/app.php
    ...
    for b in (flask, node, fpm): b.stop()

Every backend answers GET <prefix>login?user=U&sid=S&iss=I (starts its own
native session and adds the binding header `BCL-Session`) and GET
<prefix>whoami (JSON {"backend", "user"}: the session's user or
"anonymous"). `locations()` returns the httpd <Location> blocks for them;
`BACKENDS` (in test_guard_apps.py) says which prefix uses which cookie.

Environment: NODE, NPM, PHP_FPM override the binaries.
"""
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
APPS = os.path.join(HERE, "apps")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
NODE = os.environ.get("NODE") or shutil.which("node") or "/usr/bin/node"
NPM = os.environ.get("NPM") or shutil.which("npm") or "/usr/bin/npm"
PHP_FPM = os.environ.get("PHP_FPM") or shutil.which("php-fpm8.2") or "/usr/sbin/php-fpm8.2"


def _wait_port(port, proc, what, timeout=20, log=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s at start%s" % (what, proc.returncode, _tail(log)))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on port %d within %ss%s" % (what, port, timeout, _tail(log)))


def _tail(path):
    if not path:
        return ""
    try:
        with open(path, "rb") as f:
            return ":\n" + f.read()[-3000:].decode(errors="replace")
    except OSError:
        return ""


class _Proc:
    """A child process in its own session, stopped by its PID."""

    name = "backend"
    proc = None
    port = None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.proc = None

    def _start_printing_port(self, argv, cwd=None, timeout=30):
        """Starts a child that prints "PORT <n>" once it listens. Its output
        goes to a log file (a pipe nobody reads would fill up and block it)."""
        self.dir = harness.make_tmpdir("bcl-%s-" % self.name)
        self.log = os.path.join(self.dir, "output.log")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            with open(self.log, "rb") as f:
                for line in f.read().decode(errors="replace").splitlines():
                    if line.startswith("PORT "):
                        self.port = int(line.split()[1])
                        _wait_port(self.port, self.proc, self.name, log=self.log)
                        return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        out = _tail(self.log)
        self.cleanup()
        raise RuntimeError("%s did not start%s" % (self.name, out))

    def cleanup(self):
        self.stop()
        d = getattr(self, "dir", None)
        if d and not os.environ.get("BCL_KEEP_TMP"):
            shutil.rmtree(d, ignore_errors=True)

    def http_target(self):
        return "http://127.0.0.1:%d/" % self.port


class FlaskApp(_Proc):
    """apps/flask_app.py on Werkzeug's threaded server (Debian python3-flask)."""

    name = "flask"

    def start(self):
        return self._start_printing_port([PYTHON, os.path.join(APPS, "flask_app.py")])


def ensure_node_app():
    """`npm ci` in apps/node when its node_modules is missing or older than
    package-lock.json. Raises (never skips) when node/npm are missing."""
    folder = os.path.join(APPS, "node")
    for tool in (NODE, NPM):
        if not (tool and os.path.exists(tool)):
            raise AssertionError("node/npm not found (%s): install nodejs (tools/install-deps.sh)" % tool)
    lock = os.path.join(folder, "package-lock.json")
    marker = os.path.join(folder, "node_modules", ".package-lock.json")
    needed = [os.path.join(folder, "node_modules", p, "package.json")
              for p in ("express", "express-session", "cookie-parser")]
    if all(os.path.exists(p) for p in needed) and os.path.exists(marker) and \
            os.path.getmtime(marker) >= os.path.getmtime(lock):
        return folder
    p = subprocess.run([NPM, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                       timeout=600)
    if p.returncode != 0:
        raise AssertionError("npm ci failed in %s:\n%s" % (folder, p.stdout.decode(errors="replace")))
    return folder


class NodeApp(_Proc):
    """apps/node/app.js: express, express-session (connect.sid), cookie-parser."""

    name = "node"

    def start(self):
        folder = ensure_node_app()
        return self._start_printing_port([NODE, os.path.join(folder, "app.js")], cwd=folder)


def _run_user():
    """(user, group) for php-fpm's workers when running as root, else None."""
    if os.geteuid() != 0:
        return None
    for user in ("www-data", "daemon", "nobody"):
        try:
            pw = pwd.getpwnam(user)
        except KeyError:
            continue
        return pw, grp.getgrgid(pw.pw_gid).gr_name
    return None


class PhpFpm(_Proc):
    """php-fpm with its own config in a temp dir (no php.ini), listening on a
    loopback port; PHP's file sessions in <dir>/sessions. The script is
    copied into the temp dir (readable by the workers' user)."""

    name = "php-fpm"

    def __init__(self):
        self.dir = harness.make_tmpdir("bcl-fpm-")
        self.script = os.path.join(self.dir, "app.php")
        self.sessions = os.path.join(self.dir, "sessions")
        self.log = os.path.join(self.dir, "php-fpm.log")
        self.php_errors = os.path.join(self.dir, "php-errors.log")

    def start(self):
        shutil.copyfile(os.path.join(APPS, "php", "app.php"), self.script)
        os.chmod(self.script, 0o644)
        os.makedirs(self.sessions, exist_ok=True)
        os.chmod(self.sessions, 0o700)
        run = _run_user()
        user_lines = ""
        if run is not None:
            pw, group = run
            os.chown(self.sessions, pw.pw_uid, pw.pw_gid)
            # the error log is written by the workers
            open(self.php_errors, "a").close()
            os.chown(self.php_errors, pw.pw_uid, pw.pw_gid)
            user_lines = "user = %s\ngroup = %s\n" % (pw.pw_name, group)
        self.port = harness.free_port()
        conf = os.path.join(self.dir, "php-fpm.conf")
        with open(conf, "w") as f:
            f.write("[global]\npid = %s\nerror_log = %s\ndaemonize = no\n\n"
                    % (os.path.join(self.dir, "php-fpm.pid"), self.log))
            f.write("[app]\n%slisten = 127.0.0.1:%d\npm = static\npm.max_children = 4\n"
                    "clear_env = yes\ncatch_workers_output = yes\n" % (user_lines, self.port))
            for k, v in (("session.save_path", self.sessions), ("session.use_cookies", "1"),
                         ("session.use_only_cookies", "1"), ("session.use_strict_mode", "0"),
                         ("session.gc_probability", "0"), ("error_log", self.php_errors),
                         ("display_errors", "0"), ("log_errors", "1"),
                         ("opcache.enable", "0")):
                f.write("php_admin_value[%s] = %s\n" % (k, v))
        self.proc = subprocess.Popen([PHP_FPM, "-n", "-F", "-y", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        _wait_port(self.port, self.proc, "php-fpm", log=self.log)
        return self

    def fcgi_target(self):
        return "fcgi://127.0.0.1:%d%s" % (self.port, self.script)

    def cleanup(self):
        self.stop()
        if not os.environ.get("BCL_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)


def proxied_location(prefix, cookie, target, bind="response-header BCL-Session", fcgi=False, extra=()):
    """A guarded <Location prefix> in front of a backend: mod_proxy_http
    (`target` http://host:port/) or mod_proxy_fcgi (`target`
    fcgi://host:port/path/script.php, every path under prefix runs it)."""
    lines = []
    if fcgi:
        lines.append('ProxyPassMatch "^%s" "%s"' % (prefix, target))
    lines += ['<Location "%s">' % prefix, "    BCLSessionCookie %s" % cookie,
              "    BCLBindFrom %s" % bind] + ["    %s" % e for e in extra]
    if not fcgi:
        lines.append("    ProxyPass %s" % target)
    lines.append("</Location>")
    return "\n".join(lines) + "\n"
