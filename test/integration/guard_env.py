"""The guard's test scaffolding, shared by every suite that runs guarded
locations in front of guard_app.py (test_guard.py, test_status.py,
test_fleet.py, test_durable.py, test_store_rules.py, test_guard_cookies.py,
test_group_commit.py): the backend, the httpd configuration builders, the
client-side helpers and the Guard driver. The `backend` fixture (one
guard_app.py per test module) is in conftest.py.

What the guard does is in docs/guard.md; the log tags are in docs/receiver.md's
tag table.
"""
import email.utils
import os
import http.cookiejar
import threading
import time
import uuid

import backends
import guard_app
import harness
import keys
import tokens
from conftest import CLIENT_ID, ISSUER
from tokens import REMOVE

MPMS = ["prefork", "event"]
COOKIE = guard_app.COOKIE
BIND_HEADER = guard_app.BIND_HEADER
REDIRECT_URL = "https://portal.example.test/signed-out?why=logout"

TAG_REPLAY = "BCL0105"
TAG_STORE_FAILED = "BCL0104"
TAG_REVOKED = "BCL0200"
TAG_UNBOUND = "BCL0201"
TAG_BOUND = "BCL0202"
TAG_BAD_HEADER = "BCL0203"
TAG_DROPPED = "BCL0204"

MODULES = ("authz_core", "proxy", "proxy_http", "env", "setenvif")
LOGLEVEL = "warn backchannel_logout:debug"


# ---------------------------------------------------------------------------
# the backend
# ---------------------------------------------------------------------------

# guard_app.py in its own process (backends.py, shared with the other guard suites)
Backend = backends.GuardApp


# ---------------------------------------------------------------------------
# httpd configuration
# ---------------------------------------------------------------------------

def receiver_location(jwks):
    return "\n".join([
        "<Location /bcl>",
        "    SetHandler backchannel-logout",
        '    BCLIssuer "%s"' % ISSUER,
        "    BCLClientID %s" % CLIENT_ID,
        '    BCLJWKSFile "%s"' % jwks,
        "</Location>", ""])


def guarded_location(path, backend_port, extra=(), bind="response-header BCL-Session"):
    lines = ['<Location "%s">' % path,
             "    BCLSessionCookie %s" % COOKIE]
    if bind:
        lines.append("    BCLBindFrom %s" % bind)
    lines.extend("    " + l for l in extra)
    lines.append("    ProxyPass http://127.0.0.1:%d/" % backend_port)
    lines.append("</Location>")
    return "\n".join(lines) + "\n"


# the identity of an env-bound session comes from test request headers
ENV_FROM_HEADERS = [
    'SetEnv OIDC_CLAIM_iss "%s"' % ISSUER,
    'SetEnvIf X-Test-Sid "^(.+)$" OIDC_CLAIM_sid=$1',
    'SetEnvIf X-Test-Sub "^(.+)$" OIDC_CLAIM_sub=$1',
    'SetEnvIf X-Test-Iat "^(.+)$" OIDC_CLAIM_iat=$1',
]
ENV_CUSTOM_NAMES = [
    'SetEnvIf X-Test-Iss "^(.+)$" MY_ISS=$1',
    'SetEnvIf X-Test-Sid "^(.+)$" MY_SID=$1',
    'SetEnvIf X-Test-Sub "^(.+)$" MY_SUB=$1',
    'SetEnvIf X-Test-Iat "^(.+)$" MY_IAT=$1',
]

# path -> (extra directives, BCLBindFrom argument)
LOCATIONS = {
    "/app/": ([], "response-header BCL-Session"),
    "/pass/": (["BCLOnRevoked pass"], "response-header BCL-Session"),
    "/deny403/": (["BCLOnRevoked deny 403"], "response-header BCL-Session"),
    "/redir/": (['BCLOnRevoked redirect "%s"' % REDIRECT_URL], "response-header BCL-Session"),
    "/strict/": (["BCLUnboundSession deny"], "response-header BCL-Session"),
    "/cpath/": (["BCLCookiePath /cpath/", "BCLCookieDomain example.test"],
                "response-header BCL-Session"),
    "/env/": (ENV_FROM_HEADERS, "env"),
    "/envnames/": (ENV_CUSTOM_NAMES, "env iss=MY_ISS sid=MY_SID sub=MY_SUB iat=MY_IAT"),
}


def start_guard_httpd(mpm, backend, op_keys, globals_="", locations=None):
    h = harness.Httpd(mpm=mpm, modules=MODULES, loglevel=LOGLEVEL)
    jwks = keys.write_jwks(h.path("jwks.json"), op_keys.jwks())
    body = globals_ + "\n" + receiver_location(jwks)
    for path, (extra, bind) in (locations or LOCATIONS).items():
        body += guarded_location(path, backend.port, extra, bind)
    h.configure(body)
    rc, out = h.configtest()
    if rc != 0:
        h.cleanup()
        raise AssertionError("configtest failed:\n%s\n%s" % (out, body))
    try:
        h.start()
    except Exception:
        h.cleanup()
        raise
    return h


# ---------------------------------------------------------------------------
# the client side
# ---------------------------------------------------------------------------

class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Cookies are sent by hand (a Cookie header): the jar never keeps any."""

    def set_ok(self, cookie, request):
        return False


def browser():
    s = harness.client()
    s.cookies.set_policy(_NoCookies())
    return s


def set_cookies(r):
    """The raw Set-Cookie header lines of a response."""
    return list(r.raw.headers.getlist("Set-Cookie"))


def cookie_attrs(line):
    """'N=V; A=B; C' -> (N, V, {'a': 'B', 'c': ''})."""
    parts = [p.strip() for p in line.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip()
    return name.strip(), value.strip(), attrs


def new_session_value(r):
    """The APPSESSION value a response sets (asserts exactly one, unexpired)."""
    mine = [cookie_attrs(c) for c in set_cookies(r)]
    mine = [m for m in mine if m[0] == COOKIE]
    assert len(mine) == 1, "expected one Set-Cookie for %s, got %r" % (COOKIE, set_cookies(r))
    name, value, attrs = mine[0]
    assert value and attrs.get("max-age") != "0", mine[0]
    return value


def assert_expiring(r, path="/", domain=None):
    """The response expires APPSESSION: empty value, Max-Age=0, Expires in
    the past, Path (and Domain) as configured; and it is not cacheable."""
    mine = [c for c in set_cookies(r) if cookie_attrs(c)[0] == COOKIE]
    assert len(mine) == 1, "expected one expiring Set-Cookie for %s, got %r (status %d)" % (
        COOKIE, set_cookies(r), r.status_code)
    name, value, attrs = cookie_attrs(mine[0])
    assert value == "", mine[0]
    assert attrs.get("max-age") == "0", mine[0]
    assert "expires" in attrs, mine[0]
    when = email.utils.parsedate_to_datetime(attrs["expires"])
    assert when.timestamp() < time.time() - 86400, mine[0]
    assert attrs.get("path") == path, mine[0]
    if domain is None:
        assert "domain" not in attrs, mine[0]
    else:
        assert attrs.get("domain") == domain, mine[0]
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers


def assert_no_bind_header(r):
    for k in r.headers:
        assert k.lower() != BIND_HEADER.lower(), "the binding header reached the client: %r" % r.headers


class Guard:
    """One running httpd with the guarded locations, the backend, and the OP."""

    def __init__(self, httpd, backend, op_keys):
        self.h = httpd
        self.backend = backend
        self.op = op_keys
        self._tls = threading.local()

    @property
    def s(self):
        if not hasattr(self._tls, "s"):
            self._tls.s = browser()
        return self._tls.s

    # -- requests through httpd -------------------------------------------
    def get(self, loc, what="whoami", cookie=None, headers=None, params=None, session=None):
        """GET <loc><what>?...&t=TAG; returns (response, TAG). `cookie` is an
        APPSESSION value or a whole Cookie header (when it contains '=')."""
        tag = uuid.uuid4().hex
        p = dict(params or {})
        p["t"] = tag
        hdrs = dict(headers or {})
        if cookie is not None:
            hdrs["Cookie"] = cookie if "=" in cookie else "%s=%s" % (COOKIE, cookie)
        r = (session or self.s).get(self.h.url(loc + what), params=p, headers=hdrs,
                                    allow_redirects=False, timeout=15)
        return r, tag

    def login(self, loc="/app/", sid=None, sub=None, iss=None, cookie=None):
        """Logs in at the app; returns the new APPSESSION value."""
        params = {}
        for k, v in (("sid", sid), ("sub", sub), ("iss", iss)):
            if v is not None:
                params[k] = v
        r, _ = self.get(loc, "login", cookie=cookie, params=params)
        assert r.status_code == 200, (r.status_code, r.text)
        assert_no_bind_header(r)
        return new_session_value(r)

    def works(self, loc, cookie, headers=None):
        """The session is let through: 200 and the backend got the cookie."""
        r, tag = self.get(loc, cookie=cookie, headers=headers)
        assert r.status_code == 200, "expected 200 for a live session, got %d: %s" % (
            r.status_code, r.text[:300])
        seen = self.backend.seen(tag)
        assert len(seen) == 1, seen
        assert seen[0]["cookie"] is not None and cookie in seen[0]["cookie"], seen
        assert r.json()["cookie"] == seen[0]["cookie"]
        return r

    def refused(self, loc, cookie, status=401, tag=TAG_REVOKED, headers=None,
                path="/", domain=None):
        """The session is refused at the edge: `status`, the cookie expired,
        the backend never saw the request, and a log line with `tag`."""
        mark = self.h.log_mark()
        r, t = self.get(loc, cookie=cookie, headers=headers)
        assert r.status_code == status, "expected %d for a refused session, got %d: %s" % (
            status, r.status_code, r.text[:300])
        assert_expiring(r, path=path, domain=domain)
        assert self.backend.seen(t) == [], "the backend received a refused request"
        self.h.wait_log(tag, since=mark)
        return r

    # -- logouts -------------------------------------------------------------
    def token(self, sid=None, sub=None, **overrides):
        """A signed logout token naming sid and/or sub (None: left out)."""
        c = tokens.claims(ISSUER, CLIENT_ID,
                          sid=sid if sid is not None else REMOVE,
                          sub=sub if sub is not None else REMOVE, **overrides)
        return tokens.sign(c, "RS256", key=self.op.rsa), c

    def post(self, token, session=None):
        return harness.post_token(session or self.s, self.h.url("/bcl"), token, timeout=15)

    def logout(self, sid=None, sub=None, **overrides):
        tok, c = self.token(sid=sid, sub=sub, **overrides)
        r = self.post(tok)
        harness.assert_ok(r)
        return tok, c


def assert_no_crash(h):
    """No child died on a signal, and no AddressSanitizer/assertion report."""
    text = h.log_text()
    for bad in ("exit signal", "Segmentation fault", "AddressSanitizer", "Assertion"):
        assert bad not in text, "httpd error log reports %r:\n%s" % (bad, text[-3000:])


def children_of(pid):
    """The PIDs whose parent is `pid` (from /proc)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(entry))
    return kids


def uid(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def env_headers(sid=None, sub=None, iat=None, iss=None):
    """The X-Test-* request headers that ENV_FROM_HEADERS (and
    ENV_CUSTOM_NAMES) turn into the session's identity."""
    h = {}
    for k, v in (("X-Test-Sid", sid), ("X-Test-Sub", sub), ("X-Test-Iat", iat), ("X-Test-Iss", iss)):
        if v is not None:
            h[k] = str(v)
    return h


def app_login(session, h, sid=None, sub=None, iss=None):
    """Signs in at guard_app.py's /app/login through httpd `h` (a new user
    unless `sub` is given); returns "COOKIE=value" for the one session
    cookie the app set."""
    params = {"sub": sub or "u-" + uuid.uuid4().hex[:8]}
    if sid is not None:
        params["sid"] = sid
    if iss is not None:
        params["iss"] = iss
    r = session.get(h.url("/app/login"), params=params, timeout=20)
    assert r.status_code == 200, r.text
    values = [c.split(";")[0].split("=", 1)[1] for c in r.raw.headers.getlist("Set-Cookie")
              if c.startswith(COOKIE + "=")]
    assert len(values) == 1 and values[0], r.raw.headers.getlist("Set-Cookie")
    return "%s=%s" % (COOKIE, values[0])
