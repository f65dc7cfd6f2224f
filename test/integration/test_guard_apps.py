"""The guard against real app stacks and adversarial cookie spellings
(issue 12, guard integrity).

Backends, started once for this module (appstack.py):
  flask           Werkzeug/Flask (Debian python3-flask), a server-side store
                  keyed by its cookie flask_sid, behind mod_proxy_http
  php-PHPSESSID   PHP's own sessions on php-fpm, behind mod_proxy_fcgi
  php-ci_session  the same with session_name('ci_session') (CodeIgniter's)
  node            express + express-session (signed connect.sid) +
                  cookie-parser (npm), behind mod_proxy_http

For every (backend, spelling): a user logs in through httpd (the app starts
its native session and names it in `BCL-Session`), the canonical cookie is
served as that user (positive control), the spelling is tried (it must be
served as the user when the backend really decodes it, see EXPECTED_LIVE),
the OP logs the session out (a logout token POSTed to /bcl), and then a
second client sends the victim's cookie in that spelling: the backend must
never resolve it to the logged-out user.

Every case runs under both MPMs and both BCLSuspiciousCookie policies: with
`deny` (the default) an odd spelling may be refused at the edge already
before logout (then BCL0210 must say so); with `allow` it reaches the app,
and the guard must still refuse it after logout by mapping it to the
binding.

test_measured_backend_behaviour measures which spellings each backend
really decodes to the session (the table in docs/guard.md).

    /usr/bin/python3 -m pytest -q test/integration/test_guard_apps.py
    /usr/bin/python3 -m pytest -q -rP test/integration/test_guard_apps.py -k measured   # the table
"""
import http.client
import json
import socket
import uuid
from urllib.parse import quote as urlquote, unquote

import pytest

import appstack
import harness
import keys
import tokens
from conftest import CLIENT_ID, ISSUER
from tokens import REMOVE

MODULES = ("authz_core", "proxy", "proxy_http", "proxy_fcgi")
TAG_BOUND = "BCL0202"

# name -> (URL prefix, session cookie, app process)  -- one line per backend
BACKENDS = {
    "flask": ("/flask/", "flask_sid", "flask"),
    "php-PHPSESSID": ("/php/", "PHPSESSID", "php"),
    "php-ci_session": ("/ci/", "ci_session", "php"),
    "node": ("/node/", "connect.sid", "node"),
}


# ---------------------------------------------------------------------------
# spellings of the victim's cookie: (name, value) -> Cookie header lines, or
# None when the spelling does not apply to that cookie. One line per variant.
# ---------------------------------------------------------------------------

def pct(c):
    return "%%%02X" % ord(c)


def decoy():
    return "decoy" + uuid.uuid4().hex[:20]


def _if(cond, lines):
    return lines if cond else None


VARIANTS = {
    # values
    "canonical": lambda n, v: ["%s=%s" % (n, v)],
    "quoted": lambda n, v: ['%s="%s"' % (n, v)],
    "quoted_backslash": lambda n, v: ['%s="\\%s"' % (n, v[0] + "\\".join(v[1:3]) + v[3:])],
    "quoted_octal": lambda n, v: ['%s="\\%03o%s"' % (n, ord(v[0]), v[1:])],
    "pct_value_first": lambda n, v: ["%s=%s%s" % (n, pct(v[0]), v[1:])],
    "pct_value_all": lambda n, v: ["%s=%s" % (n, "".join(pct(c) for c in unquote(v)))],
    "pct_value_decoded": lambda n, v: _if("%" in v, ["%s=%s" % (n, unquote(v))]),
    "space_after_eq": lambda n, v: ["%s= %s" % (n, v)],
    # names: whitespace
    "name_space_before_eq": lambda n, v: ["%s =%s" % (n, v)],
    "name_tab_before_eq": lambda n, v: ["%s\t=%s" % (n, v)],
    "name_vt_lead": lambda n, v: ["other=1;\x0b%s=%s" % (n, v)],
    "name_vt_around": lambda n, v: ["other=1;\x0b%s\x0b=%s" % (n, v)],
    "name_ff_lead": lambda n, v: ["other=1;\x0c%s=%s" % (n, v)],
    "name_nel_lead": lambda n, v: ["other=1;\x85%s=%s" % (n, v)],
    "name_nbsp_lead": lambda n, v: ["other=1;\xa0%s=%s" % (n, v)],
    "name_nbsp_around": lambda n, v: ["other=1;\xa0%s\xa0=%s" % (n, v)],
    "name_u3000_utf8_lead": lambda n, v: [("other=1;\u3000%s=%s" % (n, v)).encode()],
    "name_nbsp_utf8_lead": lambda n, v: [("other=1;\xa0%s=%s" % (n, v)).encode()],
    # names: encodings and case
    "name_pct_first": lambda n, v: ["%s%s=%s" % (pct(n[0]), n[1:], v)],
    "name_lower": lambda n, v: _if(n.lower() != n, ["%s=%s" % (n.lower(), v)]),
    "name_upper": lambda n, v: _if(n.upper() != n, ["%s=%s" % (n.upper(), v)]),
    # names: PHP turns '.', ' ', '[' (and '+', %2E after decoding) into '_'
    "php_name_dot": lambda n, v: _if("_" in n, ["%s=%s" % (n.replace("_", ".", 1), v)]),
    "php_name_space": lambda n, v: _if("_" in n, ["%s=%s" % (n.replace("_", " ", 1), v)]),
    "php_name_bracket": lambda n, v: _if("_" in n, ["%s=%s" % (n.replace("_", "[", 1), v)]),
    "php_name_plus": lambda n, v: _if("_" in n, ["%s=%s" % (n.replace("_", "+", 1), v)]),
    "php_name_pct_dot": lambda n, v: _if("_" in n, ["%s=%s" % (n.replace("_", "%2E", 1), v)]),
    # duplicate copies
    "decoy_first": lambda n, v: ["%s=%s; %s=%s" % (n, decoy(), n, v)],
    "decoy_second": lambda n, v: ["%s=%s; %s=%s" % (n, v, n, decoy())],
    "pct_name_then_decoy": lambda n, v: ["%s%s=%s; %s=%s" % (pct(n[0]), n[1:], v, n, decoy())],
    "php_dot_then_decoy": lambda n, v: _if("_" in n, ["%s=%s; %s=%s" % (
        n.replace("_", ".", 1), v, n, decoy())]),
    # several Cookie header lines
    "lines_other_first": lambda n, v: ["other=1", "%s=%s" % (n, v)],
    "lines_other_second": lambda n, v: ["%s=%s" % (n, v), "other=1"],
    "lines_decoy_first": lambda n, v: ["%s=%s" % (n, decoy()), "%s=%s" % (n, v)],
}

# Measured (test_measured_backend_behaviour): the spellings each backend
# resolves to the session, besides the canonical one. A backend upgrade that
# changes this fails that test; update docs/guard.md with it.
EXPECTED_LIVE = {
    "flask": {"quoted", "quoted_backslash", "quoted_octal", "space_after_eq",
              "name_space_before_eq", "name_tab_before_eq", "decoy_second"},
    "php-PHPSESSID": {"pct_value_first", "pct_value_all", "decoy_second"},
    "php-ci_session": {"pct_value_first", "pct_value_all", "php_name_dot", "php_name_space",
                       "php_name_bracket", "decoy_second", "php_dot_then_decoy"},
    "node": {"quoted", "pct_value_first", "pct_value_all", "pct_value_decoded", "space_after_eq",
             "name_space_before_eq", "name_tab_before_eq", "decoy_second"},
}

MPMS = ("event", "prefork")
# the guard's policy for odd spellings: "deny" (BCLSuspiciousCookie's
# default: a spelling no browser sends back is refused at the edge, before
# and after logout) and "allow" (the guard checks every form the backends
# decode; the spellings reach the app, so the positive controls prove each
# one is live, and the logout must still catch every one)
POLICIES = ("deny", "allow")


def spelling(variant, backend, value):
    return VARIANTS[variant](BACKENDS[backend][1], value)


def _cases():
    out = []
    for mpm, policy in [(m, p) for p in POLICIES for m in MPMS]:
        for backend in BACKENDS:
            for variant in VARIANTS:
                # the spelling's applicability depends only on the name and on
                # whether the value holds a %XX (node's s%3A...)
                probe = "s%3Aprobe" if backend == "node" else "probe"
                if spelling(variant, backend, probe) is None:
                    continue
                out.append(pytest.param("%s-%s" % (mpm, policy), backend, variant,
                                        id="%s-%s-%s-%s" % (mpm, policy, backend, variant)))
    return out


# ---------------------------------------------------------------------------
# a raw HTTP client: the Cookie lines go out byte for byte
# ---------------------------------------------------------------------------

class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def user(self):
        """The user the backend resolved, or a description of who answered."""
        try:
            doc = json.loads(self.body)
        except ValueError:
            return "(not reached: httpd answered %d)" % self.status
        if isinstance(doc, dict) and "user" in doc:
            return doc["user"]
        return "(not reached: %r)" % self.body[:80]


def _b(line):
    return line if isinstance(line, bytes) else line.encode("latin-1")


def raw_get(port, path, cookie_lines=()):
    req = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n" % port
    for line in cookie_lines:
        req += b"Cookie: " + _b(line) + b"\r\n"
    req += b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(req)
        resp = http.client.HTTPResponse(s)
        resp.begin()
        body = resp.read()
        headers = resp.getheaders()
        status = resp.status
        resp.close()
    return Reply(status, headers, body.decode(errors="replace"))


def show(lines):
    return " + ".join("Cookie: %r" % (_b(l).decode("latin-1"),) for l in lines)


# ---------------------------------------------------------------------------
# fixtures: the apps once per module, one httpd per mpm
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def apps():
    started = {}
    try:
        started["flask"] = appstack.FlaskApp().start()
        started["php"] = appstack.PhpFpm().start()
        started["node"] = appstack.NodeApp().start()
        yield started
    finally:
        for a in started.values():
            a.cleanup()


def _location(backend, apps, policy):
    prefix, cookie, proc = BACKENDS[backend]
    app = apps[proc]
    extra = ("BCLSuspiciousCookie %s" % policy,)
    if proc == "php":
        return appstack.proxied_location(prefix, cookie, app.fcgi_target(), fcgi=True, extra=extra)
    return appstack.proxied_location(prefix, cookie, app.http_target(), extra=extra)


class Stack:
    def __init__(self, h, op_keys, policy):
        self.h = h
        self.op = op_keys
        self.policy = policy

    def get(self, backend, what, cookie_lines=()):
        return raw_get(self.h.port, BACKENDS[backend][0] + what, cookie_lines)

    def login(self, backend):
        """Logs a fresh user in; returns (user, sid, cookie value as set,
        whether the module logged a binding)."""
        user, sid = "u-" + uuid.uuid4().hex[:10], "sid-" + uuid.uuid4().hex
        mark = self.h.log_mark()
        r = self.get(backend, "login?user=%s&sid=%s&iss=%s" % (user, sid, urlquote(ISSUER, safe="")))
        assert r.status == 200 and r.user == user, \
            "[%s] login failed: HTTP %d %s" % (backend, r.status, r.body[:300])
        assert not r.header_all("BCL-Session"), "[%s] the binding header reached the client" % backend
        name = BACKENDS[backend][1]
        values = [c.split(";")[0].split("=", 1)[1] for c in r.header_all("Set-Cookie")
                  if c.split("=", 1)[0].strip() == name]
        assert len(values) == 1 and values[0], \
            "[%s] expected one Set-Cookie for %s, got %r" % (backend, name, r.header_all("Set-Cookie"))
        bound = TAG_BOUND in self.h.log_since(mark)
        return user, sid, values[0], bound

    def logout(self, sid):
        c = tokens.claims(ISSUER, CLIENT_ID, sid=sid, sub=REMOVE)
        tok = tokens.sign(c, "RS256", key=self.op.rsa)
        r = harness.post_token(harness.client(), self.h.url("/bcl"), tok, timeout=15)
        harness.assert_ok(r)


@pytest.fixture(scope="module")
def stack(request, apps, op_keys):
    mpm, policy = request.param.split("-")
    h = harness.Httpd(mpm=mpm, modules=MODULES, loglevel="warn backchannel_logout:debug")
    jwks = keys.write_jwks(h.path("jwks.json"), op_keys.jwks())
    body = [
        # let odd bytes (VT, FF in a cookie name) reach the module and the
        # apps instead of httpd's own 400: the guard must hold either way
        "HttpProtocolOptions Unsafe",
        "<Location /bcl>", "    SetHandler backchannel-logout",
        '    BCLIssuer "%s"' % ISSUER, "    BCLClientID %s" % CLIENT_ID,
        '    BCLJWKSFile "%s"' % jwks, "</Location>", ""]
    conf = "\n".join(body) + "".join(_location(b, apps, policy) for b in BACKENDS)
    h.configure(conf)
    rc, out = h.configtest()
    if rc != 0:
        h.cleanup()
        raise AssertionError("configtest failed:\n%s\n%s" % (out, conf))
    try:
        h.start()
        yield Stack(h, op_keys, policy)
        text = h.log_text()
        for bad in ("exit signal", "Segmentation fault", "AddressSanitizer"):
            assert bad not in text, "httpd error log reports %r:\n%s" % (bad, text[-3000:])
    finally:
        h.cleanup()


# ---------------------------------------------------------------------------
# the adversarial matrix
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("stack,backend,variant", _cases(), indirect=["stack"], scope="module")
def test_logged_out_session_never_served(stack, backend, variant):
    where = "[backend=%s variant=%s mpm=%s BCLSuspiciousCookie=%s]" % (backend, variant, stack.h.mpm,
                                                                        stack.policy)
    user, sid, value, bound = stack.login(backend)
    lines = spelling(variant, backend, value)

    # positive control: the canonical cookie is the user's session
    r = stack.get(backend, "whoami", spelling("canonical", backend, value))
    assert r.status == 200 and r.user == user, \
        "%s positive control: the canonical cookie was not served as %r before logout " \
        "(backend resolved %r, HTTP %d)" % (where, user, r.user, r.status)
    # a spelling the backend decodes is live: before logout it is the session
    mark = stack.h.log_mark()
    before = stack.get(backend, "whoami", lines)
    if stack.policy == "deny" and before.status == 401:
        # refused at the edge as a form no browser sends back
        assert "BCL0210" in stack.h.log_since(mark), \
            "%s %s refused before logout without the suspicious-cookie tag" % (where, show(lines))
    elif variant in EXPECTED_LIVE[backend]:
        assert before.status == 200 and before.user == user, \
            "%s the backend is known to decode this spelling but did not resolve %s to %r " \
            "before logout (resolved %r, HTTP %d)" % (where, show(lines), user, before.user,
                                                      before.status)

    stack.logout(sid)

    # a second client with the victim's cookie in this spelling
    after = stack.get(backend, "whoami", lines)
    assert after.user != user, \
        "%s after the OP logged out sid %s, a second client sending %s was served as the " \
        "logged-out user: backend resolved %r, HTTP %d (the spelling was %s before logout; " \
        "binding logged at login: %s)" % (
            where, sid, show(lines), after.user, after.status,
            "live" if before.user == user else "not live (resolved %r)" % before.user,
            "yes" if bound else "NO")
    if variant == "canonical":
        assert after.status == 401, \
            "%s the canonical cookie of a logged-out session was not refused at the edge " \
            "(expected 401, got HTTP %d, backend resolved %r)" % (where, after.status, after.user)
    assert after.status in (200, 400, 401), \
        "%s unexpected HTTP %d after logout (backend resolved %r)" % (where, after.status, after.user)


# ---------------------------------------------------------------------------
# a session id with ',' (PHP's session.sid_bits_per_character 6)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["event-deny"], indirect=True)
def test_php_session_id_with_a_comma(stack):
    """PHP sends such an id as %2C; it reads a raw ',' as the same id (pairs
    split at ';' only), which the guard once cut at the ','."""
    for _ in range(40):
        user, sid = "u-" + uuid.uuid4().hex[:10], "sid-" + uuid.uuid4().hex
        r = stack.get("php-PHPSESSID", "login?bits=6&user=%s&sid=%s&iss=%s" % (
            user, sid, urlquote(ISSUER, safe="")))
        assert r.status == 200 and r.user == user, (r.status, r.body[:300])
        value = [c.split(";")[0].split("=", 1)[1] for c in r.header_all("Set-Cookie")
                 if c.startswith("PHPSESSID=")][0]
        if "%2C" in value:
            break
    else:
        raise AssertionError("PHP made no session id with ',' in 40 logins (sid_bits_per_character 6)")
    lines = ["PHPSESSID=%s" % unquote(value)]
    before = stack.get("php-PHPSESSID", "whoami", lines)
    assert before.status == 200 and before.user == user, \
        "PHP does not read %s as the session %r (got %r, HTTP %d)" % (show(lines), user, before.user, before.status)
    stack.logout(sid)
    for spelled in (lines, ["PHPSESSID=%s" % value]):
        after = stack.get("php-PHPSESSID", "whoami", spelled)
        assert after.status == 401 and after.user != user, \
            "after logout %s was served as %r (HTTP %d)" % (show(spelled), after.user, after.status)


# ---------------------------------------------------------------------------
# the measured table: which spellings each backend really decodes
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["event-allow"], indirect=True)
def test_measured_backend_behaviour(stack):
    measured, statuses = {}, {}
    for backend in BACKENDS:
        user, sid, value, bound = stack.login(backend)
        live = set()
        for variant in VARIANTS:
            lines = spelling(variant, backend, value)
            if lines is None or variant == "canonical":
                continue
            r = stack.get(backend, "whoami", lines)
            if r.status == 200 and r.user == user:
                live.add(variant)
            elif r.status != 200:
                statuses[(backend, variant)] = r.status
        r = stack.get(backend, "whoami", spelling("canonical", backend, value))
        assert r.user == user, "[%s] the canonical cookie is not the session: %r" % (backend, r.user)
        measured[backend] = live
    rows = ["| spelling | " + " | ".join(BACKENDS) + " |",
            "|---|" + "---|" * len(BACKENDS)]
    for variant in VARIANTS:
        if variant == "canonical":
            continue
        cells = []
        for backend in BACKENDS:
            if spelling(variant, backend, "s%3Aprobe" if backend == "node" else "probe") is None:
                cells.append("n/a")
            else:
                st = statuses.get((backend, variant))
                cells.append("**decoded**" if variant in measured[backend]
                             else "no (HTTP %d)" % st if st else "no")
        rows.append("| `%s` | %s |" % (variant, " | ".join(cells)))
    print("\nmeasured backend behaviour (spellings resolved to the live session):\n" + "\n".join(rows))
    diff = {b: {"measured_not_expected": sorted(measured[b] - EXPECTED_LIVE[b]),
                "expected_not_measured": sorted(EXPECTED_LIVE[b] - measured[b])}
            for b in BACKENDS if measured[b] != EXPECTED_LIVE[b]}
    assert not diff, "the backends decode other spellings than EXPECTED_LIVE says: %r" % diff
