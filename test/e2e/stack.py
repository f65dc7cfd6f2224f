"""The end-to-end stack: a real OP (node-oidc-provider), one small app per
client (demo_app.py), and httpd with mod_backchannel_logout in front, all on
127.0.0.1. Used by the e2e tests, the demo (tools/demo.py) and the browser
test.

    stack = Stack([ClientSpec("app1"), ClientSpec("app2", alg="ES256")])
    stack.start()
    ua = UserAgent()
    ua.login(stack.app_url("app1"), "alice")
    ...
    stack.stop()

The order of start matters: httpd's port is chosen first (the OP needs it
for redirect and back-channel URIs), then the OP starts and writes its JWKS,
then the apps (they need the OP's issuer), then httpd (it needs the apps'
ports and the OP's keys).
"""
import html
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "test", "integration"))

import harness  # noqa: E402
import keys  # noqa: E402

OP_DIR = os.path.join(HERE, "op")
APP = os.path.join(HERE, "demo_app.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
NODE_MIN = (20, 12)  # oidc-provider 9 uses crypto.hash (Node.js 20.12+)
# Where tools/install-deps.sh puts Node.js and npm from the npm registry
# when the machine's node is missing or older than NODE_MIN (Debian 12: 18).
LOCAL_NODE_BIN = os.path.join(REPO, ".cache", "node", "bin")


def node_version(node):
    """(major, minor) of `node`, or None when it does not run."""
    try:
        p = subprocess.run([node, "-p", "process.versions.node"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=30)
        return tuple(int(x) for x in p.stdout.decode().strip().split(".")[:2])
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def find_node():
    """(node, npm): $NODE/$NPM when set; else the node on PATH when it is
    recent enough and has npm; else the one in .cache/node/bin. When none
    fits, the first that exists (check_node_version() then says why)."""
    if os.environ.get("NODE"):
        node = os.environ["NODE"]
        return node, os.environ.get("NPM") or os.path.join(os.path.dirname(node), "npm")
    system = (shutil.which("node"), shutil.which("npm"))
    local = (os.path.join(LOCAL_NODE_BIN, "node"), os.path.join(LOCAL_NODE_BIN, "npm"))
    for node, npm in (system, local):
        if node and npm and os.path.exists(npm) and (node_version(node) or (0,)) >= NODE_MIN:
            return node, npm
    for node, npm in (system, local):
        if node and os.path.exists(node):
            return node, npm or "/usr/bin/npm"
    return "/usr/bin/node", "/usr/bin/npm"


NODE, NPM = find_node()


def node_env(env=None):
    """The environment for npm, the OP and the browser walk: NODE's directory
    first on PATH, so whatever they start (npm's scripts, `node`) is NODE."""
    env = dict(os.environ if env is None else env)
    env["PATH"] = os.path.dirname(os.path.abspath(NODE)) + os.pathsep + env.get("PATH", os.defpath)
    return env

# Two switches:
#
# USE_PROVIDER_METADATA: True configures each receiver with
#   `BCLProviderMetadataURL <issuer>/.well-known/openid-configuration`: the
#   module discovers the issuer and fetches the keys itself. False configures
#   `BCLIssuer` and `BCLJWKSFile` (the JWKS the OP launcher writes at start).
# STATUS_PAGE: True adds `<Location /bcl-status>` with `SetHandler
#   backchannel-logout-status` and links it from the demo app's pages.
#
# The environment can override both (BCL_E2E_METADATA=1, BCL_E2E_STATUS=0).
#
# Discovery is off by default: the test OP serves plain http on loopback,
# and a jwks_uri taken from a fetched discovery document must be https://
# (the module never follows an OP's documents to plain http), so with
# BCL_E2E_METADATA=1 against this OP every logout is answered 503. The
# integration tests cover discovery against an https key server.
USE_PROVIDER_METADATA = False
STATUS_PAGE = True
STATUS_PATH = "/bcl-status"


def _env_flag(name, default):
    v = os.environ.get(name)
    return default if v is None or v == "" else v not in ("0", "no", "false", "off")


def use_provider_metadata():
    return _env_flag("BCL_E2E_METADATA", USE_PROVIDER_METADATA)


def status_page_enabled():
    return _env_flag("BCL_E2E_STATUS", STATUS_PAGE)


RECEIVER_PREFIX = "/oidc/backchannel-logout/"
FRONTCHANNEL_PREFIX = "/oidc/frontchannel-logout/"


# -- installing the npm folders ----------------------------------------------
BROWSER_DIR = os.path.join(HERE, "browser")


def ensure_npm_installed(folder, package, say=None, env=None):
    """Runs `npm ci` in `folder` when node_modules lacks `package` or is
    older than package-lock.json. Raises (never skips) when node or npm
    are missing or npm fails."""
    say = say or (lambda m: None)
    for tool in (NODE, NPM):
        if not (tool and os.path.exists(tool)):
            raise AssertionError("node/npm not found (%s): run tools/install-deps.sh "
                                 "(it fetches Node.js from the npm registry when needed)" % tool)
    check_node_version()
    lock = os.path.join(folder, "package-lock.json")
    marker = os.path.join(folder, "node_modules", ".package-lock.json")
    pkg = os.path.join(folder, "node_modules", package, "package.json")
    if os.path.exists(pkg) and os.path.exists(marker) and \
            os.path.getmtime(marker) >= os.path.getmtime(lock):
        return
    say("npm ci in %s" % folder)
    p = subprocess.run([NPM, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, timeout=600, env=node_env(env))
    if p.returncode != 0:
        raise AssertionError("npm ci failed in %s:\n%s" % (folder, p.stdout.decode(errors="replace")))


def check_node_version():
    p = subprocess.run([NODE, "-p", "process.versions.node"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    text = p.stdout.decode(errors="replace").strip()
    try:
        have = tuple(int(x) for x in text.split(".")[:2])
    except ValueError:
        raise AssertionError("cannot run %s: %s" % (NODE, text))
    if have < NODE_MIN:
        raise AssertionError("Node.js %s is too old: node-oidc-provider 9 needs %d.%d or later "
                             "(Debian 12 ships 18; tools/install-deps.sh then fetches one from the "
                             "npm registry into .cache/node)" % (text, NODE_MIN[0], NODE_MIN[1]))


def ensure_op_installed(say=None):
    """node-oidc-provider in test/e2e/op."""
    ensure_npm_installed(OP_DIR, "oidc-provider", say)


def ensure_browser_installed(say=None):
    """playwright-core in test/e2e/browser; it drives Debian's Chromium, so
    its own browser download is switched off."""
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
    ensure_npm_installed(BROWSER_DIR, "playwright-core", say, env=env)


# -- child processes --------------------------------------------------------
class Proc:
    """A child process in its own session whose stdout+stderr go to a file
    and to a list of lines; started() waits for a line matching `ready`."""

    def __init__(self, name, cmd, logfile, cwd=None, env=None):
        self.name = name
        self.cmd = cmd
        self.logfile = logfile
        self.cwd = cwd
        self.env = env
        self.proc = None
        self.lines = []
        self._cond = threading.Condition()

    def start(self, ready, timeout=60):
        self.spawn()
        return self.wait_ready(ready, timeout)

    def spawn(self):
        log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        threading.Thread(target=self._pump, args=(log,), daemon=True).start()
        return self

    def wait_ready(self, ready, timeout=60):
        """Waits for an output line matching `ready`; returns the match."""
        rx = re.compile(ready)
        deadline = time.time() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    m = rx.search(line)
                    if m:
                        return m
                if self.proc.poll() is not None and not self._pumping:
                    raise RuntimeError("%s exited with %s at start:\n%s"
                                       % (self.name, self.proc.returncode, self.text()[-4000:]))
                left = deadline - time.time()
                if left <= 0:
                    self.stop()
                    raise RuntimeError("%s did not print %r within %ss:\n%s"
                                       % (self.name, ready, timeout, self.text()[-4000:]))
                self._cond.wait(min(left, 0.2))

    _pumping = True

    def _pump(self, log):
        with log:
            for raw in iter(self.proc.stdout.readline, b""):
                log.write(raw)
                log.flush()
                with self._cond:
                    self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                    self._cond.notify_all()
        with self._cond:
            self._pumping = False
            self._cond.notify_all()

    def text(self):
        with self._cond:
            return "\n".join(self.lines)

    def mark(self):
        with self._cond:
            return len(self.lines)

    def wait_line(self, *needles, since=0, timeout=10.0):
        """Waits for an output line (after line number `since`) containing
        every needle; returns it. AssertionError with the output otherwise."""
        deadline = time.time() + timeout
        with self._cond:
            while True:
                for line in self.lines[since:]:
                    if all(n in line for n in needles):
                        return line
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError("%s printed no line with %r; output since mark:\n%s"
                                         % (self.name, needles, "\n".join(self.lines[since:])[-4000:]))
                self._cond.wait(min(left, 0.2))

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


class OP(Proc):
    """node test/e2e/op/op.js with a JSON config of clients."""

    def __init__(self, workdir, clients_metadata):
        self.dir = workdir
        self.jwks_path = os.path.join(workdir, "op.jwks.json")
        self.config_path = os.path.join(workdir, "op.json")
        with open(self.config_path, "w") as f:
            json.dump({"port": 0, "jwks_out": self.jwks_path, "clients": clients_metadata}, f, indent=2)
        super().__init__("OP (node-oidc-provider)", [NODE, os.path.join(OP_DIR, "op.js"), self.config_path],
                         os.path.join(workdir, "op.out"), cwd=OP_DIR, env=node_env())
        self.issuer = None
        self.port = None

    def start(self, timeout=60):
        m = super().start(r"^ready issuer=(\S+) port=(\d+)", timeout=timeout)
        self.issuer, self.port = m.group(1), int(m.group(2))
        return self

    @property
    def metadata_url(self):
        return self.issuer + "/.well-known/openid-configuration"


class AppProc(Proc):
    """One demo_app.py process."""

    def __init__(self, workdir, name, args):
        super().__init__("app %s" % name, [PYTHON, APP] + args,
                         os.path.join(workdir, "app-%s.out" % name))
        self.port = None

    def start(self, timeout=60):
        self.spawn()
        return self.wait_port(timeout)

    def wait_port(self, timeout=60):
        self.port = int(self.wait_ready(r"^PORT (\d+)", timeout=timeout).group(1))
        return self


# -- clients ----------------------------------------------------------------
class ClientSpec:
    """One OP client = one app behind httpd at /<client_id>/ with its own
    cookie, and one receiver location for its back-channel logouts.

    alg               the client's id_token_signed_response_alg (RS256,
                      ES256, HS256): the logout tokens are signed the same way
    session_required  backchannel_logout_session_required (sid in the tokens,
                      and `BCLRequireSid On` unless require_sid says otherwise)
    encrypted         ID and logout tokens encrypted to the app's RSA key
                      (RSA-OAEP, A128CBC-HS256); `BCLRequireEncryption On`
    on_revoked        the guard's BCLOnRevoked for this app
    mode              "oidc" (the app signs users in itself, binds with a
                      response header) or "companion" (mod_auth_openidc in
                      front, `BCLBindFrom env`)
    """

    def __init__(self, client_id, alg="RS256", session_required=True, encrypted=False,
                 on_revoked="deny 401", require_sid=None, cookie=None, title=None,
                 mode="oidc"):
        self.client_id = client_id
        self.alg = alg
        self.session_required = session_required
        self.require_sid = session_required if require_sid is None else require_sid
        self.encrypted = encrypted
        self.on_revoked = on_revoked
        self.mode = mode
        self.secret = secrets.token_urlsafe(48)
        self.prefix = "/%s/" % client_id
        self.cookie = cookie or re.sub(r"[^A-Za-z0-9]", "", client_id).upper() + "SESSION"
        self.title = title or "App %s" % client_id
        self.receiver_path = RECEIVER_PREFIX + client_id
        self.frontchannel_path = FRONTCHANNEL_PREFIX + client_id
        self.enc_key = keys.new_key("rsa", "%s-enc" % client_id) if encrypted else None
        self.dec_key_path = None

    def redirect_uri(self, base):
        if self.mode == "companion":
            return base + self.prefix + "redirect_uri"
        return base + self.prefix + "callback"

    def op_metadata(self, base):
        """The client as oidc-provider registers it; `base` is httpd's URL."""
        m = {
            "client_id": self.client_id,
            "client_secret": self.secret,
            "client_name": self.title,
            "redirect_uris": [self.redirect_uri(base)],
            "post_logout_redirect_uris": [base + self.prefix, base + self.prefix + "signed-out"],
            "response_types": ["code"],
            "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "client_secret_basic",
            "id_token_signed_response_alg": self.alg,
            "backchannel_logout_uri": base + self.receiver_path,
            "backchannel_logout_session_required": self.session_required,
        }
        if self.encrypted:
            m["id_token_encrypted_response_alg"] = "RSA-OAEP"
            m["id_token_encrypted_response_enc"] = "A128CBC-HS256"
            m["jwks"] = {"keys": [self.enc_key.public_jwk(use="enc", alg="RSA-OAEP")]}
        return m

    def receiver_block(self, op):
        lines = ['<Location "%s">' % self.receiver_path,
                 "    SetHandler backchannel-logout",
                 "    Require all granted"]
        if use_provider_metadata():
            lines.append('    BCLProviderMetadataURL "%s"' % op.metadata_url)
        else:
            lines.append('    BCLIssuer "%s"' % op.issuer)
            lines.append('    BCLJWKSFile "%s"' % op.jwks_path)
        lines.append("    BCLClientID %s" % self.client_id)
        lines.append("    BCLSigningAlg %s" % self.alg)
        if self.alg.startswith("HS"):
            lines.append('    BCLClientSecret "%s"' % self.secret)
        if self.encrypted:
            lines.append('    BCLDecryptionKey "%s"' % self.dec_key_path)
            lines.append("    BCLRequireEncryption On")
        if self.require_sid:
            lines.append("    BCLRequireSid On")
        lines.append("</Location>")
        return "\n".join(lines) + "\n"

    def frontchannel_block(self, op):
        """`SetHandler frontchannel-logout` for this app's cookie: the URL an
        OP's logout page loads in an iframe (docs/frontchannel.md)."""
        return "\n".join(['<Location "%s">' % self.frontchannel_path,
                          "    SetHandler frontchannel-logout",
                          "    Require all granted",
                          '    BCLIssuer "%s"' % op.issuer,
                          "    BCLSessionCookie %s" % self.cookie,
                          "</Location>"]) + "\n"

    def guard_block(self, app_port):
        lines = ['ProxyPass "%s" "http://127.0.0.1:%d/"' % (self.prefix, app_port),
                 'ProxyPassReverse "%s" "http://127.0.0.1:%d/"' % (self.prefix, app_port),
                 '<Location "%s">' % self.prefix]
        if self.mode == "companion":
            lines += ["    AuthType openid-connect",
                      "    Require valid-user",
                      "    BCLSessionCookie %s mod_auth_openidc_session" % self.cookie,
                      "    BCLBindFrom env"]
        else:
            lines += ["    BCLSessionCookie %s" % self.cookie,
                      "    BCLBindFrom response-header BCL-Session"]
        lines.append("    BCLOnRevoked %s" % self.on_revoked)
        lines.append("</Location>")
        return "\n".join(lines) + "\n"


def companion_block(spec, op, base):
    """mod_auth_openidc's server-wide configuration for one companion client."""
    return "\n".join([
        'OIDCProviderMetadataURL "%s"' % op.metadata_url,
        "OIDCClientID %s" % spec.client_id,
        'OIDCClientSecret "%s"' % spec.secret,
        'OIDCRedirectURI "%s"' % spec.redirect_uri(base),
        'OIDCCryptoPassphrase "%s"' % secrets.token_urlsafe(32),
        'OIDCScope "openid profile"',
        "OIDCProviderTokenEndpointAuth client_secret_basic",
        "OIDCIDTokenSignedResponseAlg %s" % spec.alg,
        "OIDCPassClaimsAs both",
        "OIDCSessionType server-cache",
        # the OP is plain http on loopback in the tests
        "OIDCSSLValidateServer Off",
        "OIDCCookieSameSite On",
    ]) + "\n"


# -- the stack --------------------------------------------------------------
class Stack:
    def __init__(self, clients, mpm="event", loglevel="warn backchannel_logout:info",
                 extra_conf="", say=None, frontchannel=False):
        """frontchannel: also a front-channel logout location for each app
        that signs users in itself (ClientSpec.frontchannel_path)."""
        self.clients = {c.client_id: c for c in clients}
        companions = [c for c in clients if c.mode == "companion"]
        if len(companions) > 1:
            raise ValueError("one companion (mod_auth_openidc) client per stack")
        self.companion = companions[0] if companions else None
        modules = ["authz_core", "authz_user", "authz_host", "proxy", "proxy_http"]
        if self.companion:
            modules += ["authn_core", "auth_openidc"]
        self.httpd = harness.Httpd(mpm=mpm, modules=modules, loglevel=loglevel)
        self.dir = self.httpd.dir
        self.base = self.httpd.url("").rstrip("/")
        self.extra_conf = extra_conf
        self.frontchannel = frontchannel
        self.say = say or (lambda m: None)
        self.op = None
        self.apps = {}

    def app_url(self, client_id, path=""):
        return self.base + self.clients[client_id].prefix + path

    @property
    def status_url(self):
        return self.base + STATUS_PATH if status_page_enabled() else ""

    def start(self):
        try:
            self._start()
        except BaseException:
            self.cleanup()  # the exception carries the output; BCL_KEEP_TMP=1 keeps the files
            raise
        return self

    def _start(self):
        ensure_op_installed(self.say)
        harness.require_module()
        for c in self.clients.values():
            if c.encrypted:
                c.dec_key_path = keys.write_file(os.path.join(self.dir, "%s-dec.pem" % c.client_id),
                                                 c.enc_key.private_pem())
        self.op = OP(self.dir, [c.op_metadata(self.base) for c in self.clients.values()]).start()
        self.say("OP (node-oidc-provider) on %s" % self.op.issuer)
        for c in self.clients.values():
            args = ["--mode", c.mode, "--public-url", self.base + c.prefix, "--cookie", c.cookie,
                    "--title", c.title]
            if c.mode == "oidc":
                args += ["--issuer", self.op.issuer, "--client-id", c.client_id,
                         "--client-secret=" + c.secret, "--alg", c.alg]  # it may begin with "-"
                if c.encrypted:
                    args += ["--decryption-key", c.dec_key_path]
            else:
                args += ["--logout-url", "%s/session/end?%s" % (self.op.issuer, urllib.parse.urlencode(
                    {"client_id": c.client_id, "post_logout_redirect_uri": self.base + c.prefix}))]
            if self.status_url:
                args += ["--status-url", self.status_url]
            self.apps[c.client_id] = AppProc(self.dir, c.client_id, args).spawn()
        for app in self.apps.values():  # started together, awaited in turn
            app.wait_port()
        self.httpd.configure(self.config())
        self.httpd.start(timeout=60)
        self.say("httpd with mod_backchannel_logout on %s" % self.base)

    def config(self):
        parts = ["BCLStore shm capacity=10000\n"]
        if self.companion:
            parts.append(companion_block(self.companion, self.op, self.base))
        for c in self.clients.values():
            parts.append(c.receiver_block(self.op))
            parts.append(c.guard_block(self.apps[c.client_id].port))
            if self.frontchannel and c.mode == "oidc":
                parts.append(c.frontchannel_block(self.op))
        if status_page_enabled():
            parts.append('<Location "%s">\n    SetHandler backchannel-logout-status\n'
                         "    Require ip 127.0.0.1\n</Location>\n" % STATUS_PATH)
        parts.append(self.extra_conf)
        return "\n".join(parts)

    def stop(self):
        self.httpd.stop()
        for a in self.apps.values():
            a.stop()
        if self.op is not None:
            self.op.stop()

    def cleanup(self):
        self.stop()
        self.httpd.cleanup()

    def diagnostics(self):
        out = [self.httpd.diagnostics()]
        if self.op is not None:
            out.append("--- OP output\n" + self.op.text()[-4000:])
        for name, a in self.apps.items():
            out.append("--- app %s output\n%s" % (name, a.text()[-2000:]))
        return "\n".join(out)


# -- a scripted browser -----------------------------------------------------
_FORM_RX = re.compile(r'<form\b[^>]*\baction="([^"]*)"', re.I)
_INPUT_RX = re.compile(r'<input\b[^>]*>', re.I)
_ATTR_RX = re.compile(r'(\w+)="([^"]*)"')


def parse_form(text):
    """(action, {hidden name: value}) of the first form of an HTML page."""
    m = _FORM_RX.search(text)
    if not m:
        return None, {}
    fields = {}
    for tag in _INPUT_RX.findall(text):
        attrs = {k.lower(): html.unescape(v) for k, v in _ATTR_RX.findall(tag)}
        if attrs.get("type", "").lower() == "hidden" and "name" in attrs:
            fields[attrs["name"]] = attrs.get("value", "")
    return html.unescape(m.group(1)), fields


def find_link(text, element_id):
    m = re.search(r'<a id="%s" href="([^"]*)"' % re.escape(element_id), text)
    return html.unescape(m.group(1)) if m else None


class UserAgent:
    """A cookie-keeping HTTP client that walks the OP's development login
    and logout pages the way a user's browser does. Each request is printed
    through `say` (the demo's --walk) and kept in `trace`."""

    def __init__(self, say=None):
        self.s = harness.client()
        self.say = say or (lambda m: None)
        self.trace = []

    def request(self, method, url, **kw):
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 15)
        r = self.s.request(method, url, **kw)
        loc = r.headers.get("Location", "")
        self.trace.append((method, url, r.status_code, loc))
        self.say("  %s %s -> %d%s" % (method, _short(url), r.status_code,
                                      (" Location: " + _short(loc)) if loc else ""))
        return r

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def follow(self, r, limit=20):
        """Follows redirects from response `r`; returns the last response."""
        for _ in range(limit):
            if r.status_code not in (301, 302, 303, 307, 308):
                return r
            r = self.get(urllib.parse.urljoin(r.url, r.headers["Location"]))
        raise AssertionError("too many redirects: %s" % self.trace[-limit:])

    def login(self, app_url, user, password="any-password", start=None):
        """From the app's /login (or `start`, a page that sends the browser
        to the OP) through the OP's login and consent pages back to the app;
        returns the app page that follows."""
        r = self.follow(self.get(start or (app_url + "login")))
        for _ in range(4):
            action, fields = parse_form(r.text) if r.status_code == 200 else (None, {})
            prompt = fields.get("prompt")
            if prompt == "login":
                data = {"prompt": "login", "login": user, "password": password}
            elif prompt == "consent":
                data = {"prompt": "consent"}
            else:
                return r
            r = self.follow(self.request("POST", urllib.parse.urljoin(r.url, action), data=data))
        return r

    def logout_at_op(self, end_session_url):
        """The OP's end_session page, then "Yes, sign me out" (logout=yes).
        Returns the OP's answer (a redirect to post_logout_redirect_uri), not
        followed: the OP has sent its back-channel logouts by then."""
        r = self.follow(self.get(end_session_url))
        assert r.status_code == 200, "end_session page: %d %s" % (r.status_code, r.text[:300])
        action, fields = parse_form(r.text)
        assert action and "xsrf" in fields, "no logout form on the OP's page:\n" + r.text[:1000]
        fields["logout"] = "yes"
        return self.request("POST", urllib.parse.urljoin(r.url, action), data=fields)

    def cookie(self, name):
        return self.s.cookies.get(name)


def _short(url, n=110):
    return url if len(url) <= n else url[:n - 3] + "..."


def expired_cookies(response):
    """Names of the cookies a response expires (Max-Age=0 or a past Expires)."""
    names = []
    for value in response.raw.headers.getlist("Set-Cookie"):
        name = value.split("=", 1)[0].strip()
        low = value.lower()
        if "max-age=0" in low.replace(" ", "") or "expires=thu, 01 jan 1970" in low:
            names.append(name)
    return names
