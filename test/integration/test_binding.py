"""Guard integrity (issue 12, items 2-4): bindings cannot be steered by a
request; every way httpd hands the app's headers back binds; subrequests
into a guarded location are checked.

One httpd per MPM (prefork, event) with:
  /app/  /strict/          guard_app.py (Python) behind mod_proxy_http,
  /pass/ /apperr/          default, `BCLUnboundSession deny`,
  /strictdoc/              `BCLOnRevoked pass`, `ProxyErrorOverride On`,
                           deny with an ErrorDocument outside the guard
  /php/  /phps/            a PHP app with PHP's own sessions (PHPSESSID)
                           under Debian's php-fpm, behind mod_proxy_fcgi
  /phperr/ /phperrdoc/     the same with ProxyErrorOverride (httpd's error
                           page; an ErrorDocument outside the guard)
  /cgi/  /cgis/ /cgipass/  a Python CGI script (mod_cgi / mod_cgid)
  /scgi/ /uwsgi/           the same script behind mod_proxy_scgi and
                           mod_proxy_uwsgi
  /pub/                    unguarded mod_include pages that include
                           /app/, /strict/ and /pass/ content (include virtual)
  /rw/check                mod_rewrite: a `-U` look-up into /app/
  /app-allow/ /strict-allow/ /php-allow/ /phps-allow/ /cgi-allow/ /cgis-allow/
                           /app/, /strict/, /php/, /phps/, /cgi/, /cgis/
                           with `BCLSuspiciousCookie allow`
and the receiver at /bcl. Asserted: status codes, Set-Cookie, what each app
received (its own request log), and the error log's tags.

A request that carries several copies of a session cookie with different
values is refused at the edge by default (`BCLSuspiciousCookie deny`,
BCL0210); the binding rules are the second line, for locations that set
`BCLSuspiciousCookie allow`. Every duplicate-copy sequence runs in both
worlds (parameter `suspicious`): with `deny` the request is refused, the
backend never sees it and no binding changes; with `allow` the app answers
and the binding rules decide. Either way the stolen copy stays bound and
dies with the victim's logout.

    /usr/bin/python3 -m pytest -q test/integration/test_binding.py
"""
import email.utils
import os
import time
import uuid

import pytest

import backends
import guard_app
import guard_env
import harness
import keys
import tokens
from conftest import CLIENT_ID, ISSUER
from tokens import REMOVE

MPMS = ["prefork", "event"]
APPSESSION = guard_app.COOKIE
PHPSESSID = backends.PhpFpm.COOKIE
CGISESSION = backends.CgiApp.COOKIE
BIND_HEADER = backends.BIND_HEADER

TAG_REVOKED = "BCL0200"
TAG_SUSPICIOUS = "BCL0210"
TAG_UNBOUND = "BCL0201"
TAG_BOUND = "BCL0202"
TAG_DROPPED = "BCL0204"
TAG_REBIND_REFUSED = "BCL0220"
TAG_AMBIGUOUS = "BCL0221"
TAG_WITHHELD = "BCL0222"

LOGLEVEL = "warn backchannel_logout:debug"
STRICT = "BCLUnboundSession deny"
ALLOW = "BCLSuspiciousCookie allow"
SUSPICIOUS = ["deny", "allow"]


def at(loc, suspicious):
    """The location `loc` under `BCLSuspiciousCookie <suspicious>`:
    /app/ itself for the default (deny), /app-allow/ for allow."""
    return loc if suspicious == "deny" else loc[:-1] + "-allow/"


# ---------------------------------------------------------------------------
# the server
# ---------------------------------------------------------------------------

def _guard(cookie, extra=()):
    return ["BCLSessionCookie %s" % cookie, "BCLBindFrom response-header %s" % BIND_HEADER] + list(extra)


def _config(h, app, php, cgi, gateways, jwks):
    parts = ["TypesConfig /etc/mime.types",
             "<Location /bcl>",
             "    SetHandler backchannel-logout",
             '    BCLIssuer "%s"' % ISSUER,
             "    BCLClientID %s" % CLIENT_ID,
             '    BCLJWKSFile "%s"' % jwks,
             "</Location>"]
    for loc, extra in (("/app/", []), ("/strict/", [STRICT]), ("/pass/", ["BCLOnRevoked pass"]),
                       ("/apperr/", ["ProxyErrorOverride On"]),
                       ("/strictdoc/", [STRICT, "ErrorDocument 401 /pub/denied.html"]),
                       ("/app-allow/", [ALLOW]), ("/strict-allow/", [STRICT, ALLOW])):
        parts.append('<Location "%s">' % loc)
        parts.extend("    " + l for l in _guard(APPSESSION, extra))
        parts.append("    ProxyPass http://127.0.0.1:%d/" % app.port)
        parts.append("</Location>")
    parts.append(php.httpd_config("/php/", _guard(PHPSESSID)))
    parts.append(php.httpd_config("/phps/", _guard(PHPSESSID, [STRICT])))
    parts.append(php.httpd_config("/php-allow/", _guard(PHPSESSID, [ALLOW])))
    parts.append(php.httpd_config("/phps-allow/", _guard(PHPSESSID, [STRICT, ALLOW])))
    parts.append(php.httpd_config("/phperr/", _guard(PHPSESSID, ["ProxyErrorOverride On"])))
    parts.append(php.httpd_config("/phperrdoc/", _guard(PHPSESSID, [
        "ProxyErrorOverride On", "ErrorDocument 403 /pub/denied.html"])))
    parts.append(cgi.httpd_config("/cgi/", _guard(CGISESSION)))
    parts.append(cgi.httpd_config("/cgis/", _guard(CGISESSION, [STRICT])))
    parts.append(cgi.httpd_config("/cgi-allow/", _guard(CGISESSION, [ALLOW])))
    parts.append(cgi.httpd_config("/cgis-allow/", _guard(CGISESSION, [STRICT, ALLOW])))
    parts.append(cgi.httpd_config("/cgipass/", _guard(CGISESSION, ["BCLOnRevoked pass"])))
    for gw in gateways:
        parts.append(gw.httpd_config("/%s/" % gw.protocol, _guard(CGISESSION)))
    # an unguarded page that includes guarded content
    pub = h.path("htdocs", "pub")
    os.makedirs(pub, exist_ok=True)
    os.chmod(pub, 0o755)
    h.write("htdocs/pub/page.shtml",
            'BEFORE[<!--#include virtual="/app/whoami?t=$QUERY_STRING" -->]AFTER\n')
    h.write("htdocs/pub/strict.shtml",
            'BEFORE[<!--#include virtual="/strict/whoami?t=$QUERY_STRING" -->]AFTER\n')
    h.write("htdocs/pub/pass.shtml",
            'BEFORE[<!--#include virtual="/pass/whoami?t=$QUERY_STRING" -->]AFTER\n')
    h.write("htdocs/pub/denied.html", "DENIED-PAGE\n")
    h.write("htdocs/pub/yes.html", "LOOKUP-YES\n")
    h.write("htdocs/pub/no.html", "LOOKUP-NO\n")
    parts += ['<Directory "%s">' % pub,
              "    Options +Includes",
              "    AddOutputFilter INCLUDES .shtml",
              "</Directory>",
              # a look-up subrequest into the guard decides what is served
              "RewriteEngine On",
              "RewriteCond %{REQUEST_URI} ^/rw/check$",
              "RewriteCond /app/whoami -U",
              "RewriteRule ^ /pub/yes.html [PT,L]",
              "RewriteRule ^/rw/check$ /pub/no.html [PT,L]"]
    return "\n".join(parts) + "\n"


class Server:
    def __init__(self, mpm, app, op_keys):
        self.app = app
        self.op = op_keys
        modules = ["authz_core", "mime", "include", "rewrite", "proxy", "proxy_http"]
        for m in backends.PhpFpm.modules + backends.CgiApp.modules(mpm) + ("proxy_scgi", "proxy_uwsgi"):
            if m not in modules:
                modules.append(m)
        self.h = harness.Httpd(mpm=mpm, modules=modules, loglevel=LOGLEVEL)
        self.php = backends.PhpFpm(self.h.dir)
        self.cgi = backends.CgiApp(self.h.dir)
        self.scgi = backends.ScgiApp(self.cgi)
        self.uwsgi = backends.ScgiApp(self.cgi, protocol="uwsgi")
        jwks = keys.write_jwks(self.h.path("jwks.json"), op_keys.jwks())
        self.h.configure(_config(self.h, app, self.php, self.cgi, (self.scgi, self.uwsgi), jwks))
        rc, out = self.h.configtest()
        assert rc == 0, out
        self.php.start()
        try:
            self.h.start()
        except Exception:
            self.php.stop()
            self.scgi.stop()
            self.uwsgi.stop()
            self.uwsgi.stop()
            raise
        self.s = guard_env.browser()

    def stop(self):
        try:
            self.h.stop()
        finally:
            self.php.stop()
            self.scgi.stop()
            self.uwsgi.stop()

    # -- requests ----------------------------------------------------------
    def get(self, path, cookie=None, params=None):
        """GET path?params&t=TAG with `cookie` as the whole Cookie header;
        returns (response, TAG)."""
        tag = uuid.uuid4().hex
        p = dict(params or {})
        p["t"] = tag
        hdrs = {"Cookie": cookie} if cookie is not None else {}
        r = self.s.get(self.h.url(path), params=p, headers=hdrs, allow_redirects=False, timeout=20)
        return r, tag

    def logout(self, sid=None, sub=None):
        c = tokens.claims(ISSUER, CLIENT_ID, sid=sid if sid is not None else REMOVE,
                          sub=sub if sub is not None else REMOVE)
        r = harness.post_token(self.s, self.h.url("/bcl"), tokens.sign(c, "RS256", key=self.op.rsa),
                               timeout=15)
        harness.assert_ok(r)

    def assert_no_crash(self):
        text = self.h.log_text()
        for bad in ("exit signal", "Segmentation fault", "AddressSanitizer", "Assertion"):
            assert bad not in text, "httpd error log reports %r:\n%s" % (bad, text[-3000:])




@pytest.fixture(scope="module", params=MPMS)
def srv(request, app, op_keys):
    s = Server(request.param, app, op_keys)
    try:
        yield s
        s.assert_no_crash()
    finally:
        s.stop()
        s.h.cleanup()


# ---------------------------------------------------------------------------
# helpers on responses
# ---------------------------------------------------------------------------



def new_value(r, name):
    """The one live value a response sets for cookie `name`."""
    mine = [guard_env.cookie_attrs(c) for c in guard_env.set_cookies(r)]
    mine = [m for m in mine if m[0] == name and m[1] and m[2].get("max-age") != "0"
            and not m[2].get("expires", "").endswith("1970 00:00:01 GMT")]
    assert len(mine) == 1, "expected one live Set-Cookie for %s, got %r" % (name, guard_env.set_cookies(r))
    return mine[0][1]


def assert_no_bind_header(r):
    for k in r.headers:
        assert k.lower() != BIND_HEADER.lower(), "the binding header reached the client: %r" % r.headers


def assert_expiring(r, name):
    mine = [guard_env.cookie_attrs(c) for c in guard_env.set_cookies(r) if guard_env.cookie_attrs(c)[0] == name]
    assert len(mine) == 1, "expected one expiring Set-Cookie for %s, got %r" % (name, guard_env.set_cookies(r))
    _, value, attrs = mine[0]
    assert value == "" and attrs.get("max-age") == "0", mine[0]
    assert email.utils.parsedate_to_datetime(attrs["expires"]).timestamp() < time.time() - 86400
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers


def uid(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


# the python app: what it received for a tag
def app_seen(srv, tag):
    return srv.app.seen(tag)


def works(srv, loc, name, value, what="whoami", seen=None):
    """A request with the session cookie reaches the app with it."""
    r, tag = srv.get(loc + what, cookie="%s=%s" % (name, value))
    assert r.status_code == 200, "expected 200 for a live session at %s, got %d: %s" % (
        loc, r.status_code, r.text[:300])
    rows = (seen or (lambda t: app_seen(srv, t)))(tag)
    assert len(rows) == 1 and value in (rows[0]["cookie"] or ""), rows
    return r


def refused(srv, loc, name, value, tag_expected=TAG_REVOKED, what="whoami", seen=None):
    """Refused at the edge (401), the cookie expired, the app never saw it,
    and the error log names the reason."""
    mark = srv.h.log_mark()
    r, tag = srv.get(loc + what, cookie="%s=%s" % (name, value))
    assert r.status_code == 401, "expected 401 at %s, got %d: %s" % (loc, r.status_code, r.text[:300])
    assert_expiring(r, name)
    assert (seen or (lambda t: app_seen(srv, t)))(tag) == [], "the app received a refused request"
    srv.h.wait_log(tag_expected, since=mark)
    return r


def copies_refused(srv, path, header, name, seen, params=None, secrets=()):
    """BCLSuspiciousCookie deny: a request carrying several copies of
    `name` with different values is refused at the edge (401, the name
    expired, BCL0210 naming the cookie and none of the values), the backend
    never receives it, and no binding is made, dropped or re-bound."""
    mark = srv.h.log_mark()
    r, tag = srv.get(path, cookie=header, params=params)
    assert r.status_code == 401, "expected 401 for differing copies at %s, got %d: %s" % (
        path, r.status_code, r.text[:300])
    assert_expiring(r, name)
    assert_no_bind_header(r)
    assert seen(tag) == [], "the backend received a request with differing copies"
    line = srv.h.wait_log(TAG_SUSPICIOUS, name, "several copies", "action=deny", since=mark)
    for v in secrets:
        assert v not in line, line
    log = srv.h.log_since(mark)
    for t in (TAG_BOUND, TAG_DROPPED, TAG_REBIND_REFUSED, TAG_AMBIGUOUS, TAG_WITHHELD):
        assert t not in log, "a refused request changed a binding (%s):\n%s" % (t, log)
    return r


def send_copies(srv, suspicious, path, header, name=APPSESSION, seen=None, params=None, secrets=()):
    """Sends a request whose Cookie header carries several differing copies
    of `name`. Under deny it must be refused (copies_refused) and (None,
    None) is returned; under allow it goes to the app: (response, tag)."""
    seen = seen or (lambda t: app_seen(srv, t))
    if suspicious == "deny":
        copies_refused(srv, path, header, name, seen, params=params, secrets=secrets)
        return None, None
    return srv.get(path, cookie=header, params=params)


# ---------------------------------------------------------------------------
# item 2: a request cannot steer bindings (guard_app.py behind mod_proxy_http)
# ---------------------------------------------------------------------------

def py_login(srv, loc, sid, cookie=None):
    r, _ = srv.get(loc + "login", cookie=cookie, params={"sid": sid})
    assert r.status_code == 200, (r.status_code, r.text)
    assert_no_bind_header(r)
    return new_value(r, APPSESSION)


def decoy_value(srv, loc):
    """A decoy the location lets through: any junk where unbound cookies
    pass, the thief's own bound session under BCLUnboundSession deny."""
    if loc.startswith("/strict"):
        return py_login(srv, loc, uid("thief"))
    return "decoy" + uuid.uuid4().hex


@pytest.mark.parametrize("suspicious", SUSPICIOUS)
def test_unbound_copy_beside_a_bound_one_is_refused_under_deny(srv, suspicious):
    """BCLUnboundSession deny: a cookie the store does not know is refused
    even when a bound one rides along (the app may use the unknown one).
    By default the two differing copies are refused as suspicious
    (BCL0210); with `allow`, as unknown (BCL0201)."""
    loc = at("/strict/", suspicious)
    v = py_login(srv, loc, uid("sid"))
    for header in ("%s=unknown%s; %s=%s" % (APPSESSION, uuid.uuid4().hex, APPSESSION, v),
                   "%s=%s; %s=unknown%s" % (APPSESSION, v, APPSESSION, uuid.uuid4().hex)):
        if suspicious == "deny":
            copies_refused(srv, loc + "whoami", header, APPSESSION, lambda t: app_seen(srv, t),
                           secrets=[v])
            continue
        mark = srv.h.log_mark()
        r, tag = srv.get(loc + "whoami", cookie=header)
        assert r.status_code == 401, (header, r.status_code)
        assert_expiring(r, APPSESSION)
        assert app_seen(srv, tag) == []
        srv.h.wait_log(TAG_UNBOUND, since=mark)
    works(srv, loc, APPSESSION, v)


@pytest.mark.parametrize("suspicious", SUSPICIOUS)
@pytest.mark.parametrize("base", ["/app/", "/strict/"])
class TestStolenCopy:
    """A thief holds a copy of the victim's cookie V. Whatever he sends to
    the app first, V must die with the victim's logout at the OP.
    `base` is the default location or the one with `BCLUnboundSession
    deny`; `suspicious` is BCLSuspiciousCookie (deny: a request with
    differing copies never reaches the app; allow: the binding rules)."""

    @pytest.mark.parametrize("order", ["decoy-first", "decoy-last"])
    def test_app_expiring_a_decoy_does_not_unbind_the_stolen_copy(self, srv, base, suspicious, order):
        loc = at(base, suspicious)
        sid = uid("victim")
        v = py_login(srv, loc, sid)
        decoy = "%s=%s" % (APPSESSION, decoy_value(srv, loc))
        stolen = "%s=%s" % (APPSESSION, v)
        header = "; ".join([decoy, stolen] if order == "decoy-first" else [stolen, decoy])
        mark = srv.h.log_mark()
        r, tag = send_copies(srv, suspicious, loc + "logout-local", header, secrets=[v])
        if r is not None:
            assert r.status_code == 200
            assert len(app_seen(srv, tag)) == 1
            # the app's own expiry reaches the client, but drops no binding
            assert [c for c in guard_env.set_cookies(r) if guard_env.cookie_attrs(c)[0] == APPSESSION], guard_env.set_cookies(r)
            srv.h.wait_log(TAG_AMBIGUOUS, since=mark)
        assert TAG_DROPPED not in srv.h.log_since(mark)
        works(srv, "/strict/", APPSESSION, v)        # still bound
        srv.logout(sid=sid)
        refused(srv, loc, APPSESSION, v, TAG_REVOKED)
        refused(srv, "/app/", APPSESSION, v, TAG_REVOKED)

    @pytest.mark.parametrize("decoy", ["empty", "same"])
    def test_copies_that_do_not_differ_pass_but_drop_nothing(self, srv, base, suspicious, decoy):
        """An empty copy or the same value twice is not suspicious: even by
        default the request reaches the app, and the binding rules keep V
        bound (two copies: the app's expiry drops nothing)."""
        loc = at(base, suspicious)
        sid = uid("victim")
        v = py_login(srv, loc, sid)
        other = "%s=" % APPSESSION if decoy == "empty" else "%s=%s" % (APPSESSION, v)
        mark = srv.h.log_mark()
        r, tag = srv.get(loc + "logout-local", cookie="%s; %s=%s" % (other, APPSESSION, v))
        assert r.status_code == 200, (r.status_code, r.text[:300])
        assert len(app_seen(srv, tag)) == 1
        srv.h.wait_log(TAG_AMBIGUOUS, since=mark)
        log = srv.h.log_since(mark)
        assert TAG_DROPPED not in log and TAG_SUSPICIOUS not in log, log
        works(srv, "/strict/", APPSESSION, v)        # still bound
        srv.logout(sid=sid)
        refused(srv, loc, APPSESSION, v, TAG_REVOKED)

    def test_expiry_of_the_only_copy_still_drops_its_binding(self, srv, base, suspicious):
        loc = at(base, suspicious)
        sid = uid("solo")
        v = py_login(srv, loc, sid)
        mark = srv.h.log_mark()
        r, _ = srv.get(loc + "logout-local", cookie="%s=%s" % (APPSESSION, v))
        assert r.status_code == 200
        srv.h.wait_log(TAG_DROPPED, since=mark)
        refused(srv, "/strict/", APPSESSION, v, TAG_UNBOUND)

    def test_binding_header_cannot_rebind_the_stolen_copy(self, srv, base, suspicious):
        """The thief sends V alone to a page that names his own session
        without setting a cookie: V is not re-bound to him."""
        loc = at(base, suspicious)
        sid, thief = uid("victim"), uid("thief")
        v = py_login(srv, loc, sid)
        mark = srv.h.log_mark()
        r, _ = srv.get(loc + "bind", cookie="%s=%s" % (APPSESSION, v), params={"sid": thief})
        assert r.status_code == 200
        assert_no_bind_header(r)
        line = srv.h.wait_log(TAG_REBIND_REFUSED, since=mark)
        assert "[backchannel_logout:warn]" in line and v not in line, line
        srv.logout(sid=thief)                      # his logout does not touch V
        works(srv, loc, APPSESSION, v)
        srv.logout(sid=sid)                        # the victim's does
        refused(srv, loc, APPSESSION, v, TAG_REVOKED)

    def test_binding_header_with_two_copies_binds_nothing(self, srv, base, suspicious):
        """The thief sends his own session and the stolen one to a page
        that names his session without setting a cookie."""
        loc = at(base, suspicious)
        sid, thief = uid("victim"), uid("thief")
        v = py_login(srv, loc, sid)
        t = py_login(srv, loc, thief)
        mark = srv.h.log_mark()
        r, _ = send_copies(srv, suspicious, loc + "bind", "%s=%s; %s=%s" % (APPSESSION, t, APPSESSION, v),
                           params={"sid": thief}, secrets=[t, v])
        if r is not None:
            assert r.status_code == 200
            assert_no_bind_header(r)
            srv.h.wait_log(TAG_AMBIGUOUS, since=mark)
        srv.logout(sid=thief)
        refused(srv, loc, APPSESSION, t, TAG_REVOKED)
        works(srv, loc, APPSESSION, v)
        works(srv, "/strict/", APPSESSION, v)      # still bound
        srv.logout(sid=sid)
        refused(srv, loc, APPSESSION, v, TAG_REVOKED)

    def test_login_beside_a_stolen_copy_binds_only_the_new_value(self, srv, base, suspicious):
        loc = at(base, suspicious)
        sid, thief = uid("victim"), uid("thief")
        v = py_login(srv, loc, sid)
        header = "%s=%s; %s=%s" % (APPSESSION, decoy_value(srv, loc), APPSESSION, v)
        if suspicious == "deny":
            # the login never happens: the thief gets no session from it
            copies_refused(srv, loc + "login", header, APPSESSION, lambda t: app_seen(srv, t),
                           params={"sid": thief}, secrets=[v])
            works(srv, "/strict/", APPSESSION, v)  # still bound
            srv.logout(sid=thief)                  # his logout does not touch V
            works(srv, loc, APPSESSION, v)
            srv.logout(sid=sid)
            refused(srv, loc, APPSESSION, v, TAG_REVOKED)
            return
        n = py_login(srv, loc, thief, cookie=header)
        srv.logout(sid=sid)
        refused(srv, loc, APPSESSION, v, TAG_REVOKED)
        works(srv, loc, APPSESSION, n)
        srv.logout(sid=thief)
        refused(srv, loc, APPSESSION, n, TAG_REVOKED)

    def test_rotation_beside_another_session_is_withheld(self, srv, base, suspicious):
        """The thief's own live session and the stolen one in one request:
        whichever the app rotates, the fresh value would escape one of the
        two logouts, so it is not handed out."""
        loc = at(base, suspicious)
        sid, thief = uid("victim"), uid("thief")
        v = py_login(srv, loc, sid)
        t = py_login(srv, loc, thief)
        mark = srv.h.log_mark()
        r, tag = send_copies(srv, suspicious, loc + "rotate", "%s=%s; %s=%s" % (APPSESSION, t, APPSESSION, v),
                             secrets=[t, v])
        if r is not None:
            assert r.status_code == 200
            assert len(app_seen(srv, tag)) == 1
            assert [c for c in guard_env.set_cookies(r) if guard_env.cookie_attrs(c)[0] == APPSESSION] == [], guard_env.set_cookies(r)
            srv.h.wait_log(TAG_WITHHELD, since=mark)
        works(srv, "/strict/", APPSESSION, v)      # still bound
        srv.logout(sid=sid)
        refused(srv, loc, APPSESSION, v, TAG_REVOKED)
        works(srv, loc, APPSESSION, t)


@pytest.mark.parametrize("what", ["logout-local", "rotate", "bind"])
def test_differing_copies_in_pass_mode_reach_the_app_without_any_copy(srv, what):
    """BCLOnRevoked pass, BCLSuspiciousCookie deny (default): the request
    with a decoy beside the stolen copy is refused as suspicious, the app
    answers it without any copy, and whatever that answer does (expire the
    cookie, set a new one, name the thief's session) leaves V bound."""
    sid, thief = uid("victim"), uid("thief")
    v = py_login(srv, "/pass/", sid)
    mark = srv.h.log_mark()
    r, tag = srv.get("/pass/" + what, params={"sid": thief},
                     cookie="%s=decoy%s; %s=%s; lang=en" % (APPSESSION, uuid.uuid4().hex, APPSESSION, v))
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert_no_bind_header(r)
    seen = app_seen(srv, tag)
    assert len(seen) == 1 and seen[0]["cookie"] == "lang=en", seen
    line = srv.h.wait_log(TAG_SUSPICIOUS, APPSESSION, "several copies", "action=pass", since=mark)
    assert v not in line, line
    log = srv.h.log_since(mark)
    for t in (TAG_BOUND, TAG_DROPPED, TAG_REBIND_REFUSED, TAG_AMBIGUOUS, TAG_WITHHELD):
        assert t not in log, "%s after a refused request:\n%s" % (t, log)
    works(srv, "/strict/", APPSESSION, v)        # still bound, to the victim
    srv.logout(sid=thief)
    works(srv, "/pass/", APPSESSION, v)
    srv.logout(sid=sid)
    refused(srv, "/app/", APPSESSION, v, TAG_REVOKED)


@pytest.mark.parametrize("suspicious", SUSPICIOUS)
def test_rotation_beside_an_unbound_decoy_inherits_the_stolen_session(srv, suspicious):
    """(/app/ only: an unbound decoy is refused under BCLUnboundSession deny.)"""
    loc = at("/app/", suspicious)
    sid = uid("victim")
    v = py_login(srv, loc, sid)
    r, _ = send_copies(srv, suspicious, loc + "rotate",
                       "%s=decoy%s; %s=%s" % (APPSESSION, uuid.uuid4().hex, APPSESSION, v), secrets=[v])
    if r is None:
        works(srv, "/strict/", APPSESSION, v)      # still bound
        srv.logout(sid=sid)
        refused(srv, loc, APPSESSION, v, TAG_REVOKED)
        refused(srv, "/app/", APPSESSION, v, TAG_REVOKED)
        return
    assert r.status_code == 200
    n = new_value(r, APPSESSION)
    works(srv, "/strict/", APPSESSION, n)
    srv.logout(sid=sid)
    refused(srv, "/app/", APPSESSION, n, TAG_REVOKED)
    refused(srv, "/app/", APPSESSION, v, TAG_REVOKED)


# ---------------------------------------------------------------------------
# item 3: PHP under php-fpm (mod_proxy_fcgi) and a CGI script
# ---------------------------------------------------------------------------

def php_get(srv, loc, do, cookie=None, **params):
    params["do"] = do
    return srv.get(loc + "app.php", cookie=cookie, params=params)


def php_login(srv, loc, sid, sub=None, status=200, **params):
    mark = srv.h.log_mark()
    extra = dict(params)
    if sub is not None:
        extra["sub"] = sub
    if status != 200:
        extra["status"] = status
    r, tag = php_get(srv, loc, "login", sid=sid, **extra)
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert_no_bind_header(r)
    value = new_value(r, PHPSESSID)
    srv.h.wait_log(TAG_BOUND, since=mark)
    assert len(srv.php.seen(tag)) == 1
    return value, r


def php_works(srv, loc, value, user):
    r, tag = php_get(srv, loc, "whoami", cookie="%s=%s" % (PHPSESSID, value))
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["user"] == user, r.json()
    assert len(srv.php.seen(tag)) == 1


def php_refused(srv, loc, value, tag_expected=TAG_REVOKED):
    return refused(srv, loc, PHPSESSID, value, tag_expected, what="app.php?do=whoami",
                   seen=srv.php.seen)


@pytest.mark.parametrize("loc", ["/php/", "/phps/"])
class TestPhpFpm:
    def test_login_binds_and_the_op_logout_refuses(self, srv, loc):
        sid, sub = uid("sid"), uid("pam")
        v, _ = php_login(srv, loc, sid, sub)
        php_works(srv, loc, v, sub)
        php_works(srv, "/phps/", v, sub)           # bound, not unknown
        srv.logout(sid=sid)
        php_refused(srv, loc, v)
        php_refused(srv, "/php/", v)

    def test_sub_logout(self, srv, loc):
        sub = uid("quinn")
        v, _ = php_login(srv, loc, uid("sid"), sub)
        srv.logout(sub=sub)
        php_refused(srv, loc, v)
        later, _ = php_login(srv, loc, uid("sid"), sub)
        php_works(srv, loc, later, sub)

    def test_binding_header_on_an_existing_session(self, srv, loc):
        """The app names the session on a response that sets no cookie:
        the request's only PHPSESSID is bound."""
        r, _ = php_get(srv, "/php/", "rotate")           # an anonymous PHP session
        v = new_value(r, PHPSESSID)
        if loc == "/phps/":
            php_refused(srv, loc, v, TAG_UNBOUND)
            return
        sid = uid("sid")
        r, _ = php_get(srv, loc, "bind", cookie="%s=%s" % (PHPSESSID, v), sid=sid)
        assert r.status_code == 200 and guard_env.set_cookies(r) == [], guard_env.set_cookies(r)
        assert_no_bind_header(r)
        php_works(srv, "/phps/", v, None)
        srv.logout(sid=sid)
        php_refused(srv, loc, v)

    def test_local_logout_drops_the_binding(self, srv, loc):
        v, _ = php_login(srv, loc, uid("sid"), uid("rita"))
        mark = srv.h.log_mark()
        r, _ = php_get(srv, loc, "logout-local", cookie="%s=%s" % (PHPSESSID, v))
        assert r.status_code == 200
        srv.h.wait_log(TAG_DROPPED, since=mark)
        php_refused(srv, "/phps/", v, TAG_UNBOUND)

    @pytest.mark.parametrize("suspicious", SUSPICIOUS)
    def test_decoy_first_then_logout_local(self, srv, loc, suspicious):
        """PHP reads the first PHPSESSID: a decoy first makes PHP end (and
        expire) a session that is not the stolen one. By default the
        request never reaches PHP (differing copies, BCL0210)."""
        loc = at(loc, suspicious)
        sid, sub = uid("sid"), uid("sam")
        v, _ = php_login(srv, loc, sid, sub)
        decoy = "%s=%s" % (PHPSESSID, "d" + uuid.uuid4().hex[:25])
        mark = srv.h.log_mark()
        r, tag = send_copies(srv, suspicious, at("/php/", suspicious) + "app.php",
                             "%s; %s=%s" % (decoy, PHPSESSID, v), name=PHPSESSID, seen=srv.php.seen,
                             params={"do": "logout-local"}, secrets=[v])
        if r is not None:
            assert r.status_code == 200 and len(srv.php.seen(tag)) == 1
            srv.h.wait_log(TAG_AMBIGUOUS, since=mark)
        php_works(srv, "/phps/", v, sub)          # PHP kept it, and so did the guard
        srv.logout(sid=sid)
        php_refused(srv, loc, v)

    def test_rebind_by_another_identity_refused(self, srv, loc):
        sid, sub = uid("sid"), uid("tom")
        v, _ = php_login(srv, loc, sid, sub)
        mark = srv.h.log_mark()
        r, _ = php_get(srv, loc, "bind", cookie="%s=%s" % (PHPSESSID, v), sid=uid("thief"))
        assert r.status_code == 200
        srv.h.wait_log(TAG_REBIND_REFUSED, since=mark)
        srv.logout(sid=sid)
        php_refused(srv, loc, v)


class TestPhpErrorResponses:
    def test_error_page_from_httpd_binds(self, srv):
        """ProxyErrorOverride: httpd's own 403 page goes out with the app's
        err_headers_out (its Set-Cookie and the binding header)."""
        sid, sub = uid("sid"), uid("uma")
        v, r = php_login(srv, "/phperr/", sid, sub, status=403)
        assert "Forbidden" in r.text and "new_session" not in r.text, r.text[:300]
        php_works(srv, "/phps/", v, sub)
        srv.logout(sid=sid)
        php_refused(srv, "/php/", v)

    def test_error_document_outside_the_guard_binds(self, srv):
        sid, sub = uid("sid"), uid("vic")
        v, r = php_login(srv, "/phperrdoc/", sid, sub, status=403)
        assert "DENIED-PAGE" in r.text, r.text[:300]
        php_works(srv, "/phps/", v, sub)
        srv.logout(sid=sid)
        php_refused(srv, "/php/", v)


def cgi_get(srv, loc, do, cookie=None, **params):
    params["do"] = do
    return srv.get(loc + "app.cgi", cookie=cookie, params=params)


def cgi_refused(srv, loc, value, tag_expected=TAG_REVOKED):
    return refused(srv, loc, CGISESSION, value, tag_expected, what="app.cgi?do=whoami",
                   seen=srv.cgi.seen)


def cgi_works(srv, loc, value, user):
    r, tag = cgi_get(srv, loc, "whoami", cookie="%s=%s" % (CGISESSION, value))
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["user"] == user, r.json()
    assert len(srv.cgi.seen(tag)) == 1


@pytest.mark.parametrize("loc", ["/cgi/", "/cgis/"])
class TestCgi:
    @pytest.mark.parametrize("status", [200, 403])
    def test_login_binds_and_the_op_logout_refuses(self, srv, loc, status):
        sid, sub = uid("sid"), uid("walt")
        mark = srv.h.log_mark()
        r, tag = cgi_get(srv, loc, "login", sid=sid, sub=sub, status=status)
        assert r.status_code == status, (r.status_code, r.text[:300])
        assert_no_bind_header(r)
        v = new_value(r, CGISESSION)
        srv.h.wait_log(TAG_BOUND, since=mark)
        assert len(srv.cgi.seen(tag)) == 1
        cgi_works(srv, "/cgis/", v, sub)
        srv.logout(sid=sid)
        cgi_refused(srv, loc, v)
        cgi_refused(srv, "/cgi/", v)

    @pytest.mark.parametrize("suspicious", SUSPICIOUS)
    def test_rotation_and_decoy_expiry(self, srv, loc, suspicious):
        loc = at(loc, suspicious)
        sid, sub = uid("sid"), uid("xena")
        r, _ = cgi_get(srv, loc, "login", sid=sid, sub=sub)
        v = new_value(r, CGISESSION)
        r, _ = cgi_get(srv, loc, "rotate", cookie="%s=%s" % (CGISESSION, v))
        assert r.status_code == 200
        n = new_value(r, CGISESSION)
        cgi_works(srv, "/cgis/", n, sub)
        mark = srv.h.log_mark()
        r, tag = send_copies(srv, suspicious, at("/cgi/", suspicious) + "app.cgi",
                             "%s=decoy; %s=%s" % (CGISESSION, CGISESSION, n), name=CGISESSION,
                             seen=srv.cgi.seen, params={"do": "logout-local"}, secrets=[n])
        if r is not None:
            assert r.status_code == 200 and len(srv.cgi.seen(tag)) == 1
            srv.h.wait_log(TAG_AMBIGUOUS, since=mark)
        assert TAG_DROPPED not in srv.h.log_since(mark)
        cgi_works(srv, "/cgis/", n, sub)          # still bound
        srv.logout(sid=sid)
        cgi_refused(srv, loc, n)
        cgi_refused(srv, loc, v)


@pytest.mark.parametrize("status", [200, 403])
@pytest.mark.parametrize("protocol", ["scgi", "uwsgi"])
def test_scgi_and_uwsgi_login_binds_and_the_op_logout_refuses(srv, protocol, status):
    """The same script behind mod_proxy_scgi (its headers land in
    err_headers_out as a CGI's do) and mod_proxy_uwsgi (which parses them
    into headers_out itself)."""
    gw = srv.scgi if protocol == "scgi" else srv.uwsgi
    sid, sub = uid("sid"), uid("zoe")
    mark = srv.h.log_mark()
    r, tag = srv.get("/%s/app.cgi" % protocol, params={"do": "login", "sid": sid, "sub": sub, "status": status})
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert_no_bind_header(r)
    v = new_value(r, CGISESSION)
    srv.h.wait_log(TAG_BOUND, since=mark)
    assert len(gw.seen(tag)) == 1
    cgi_works(srv, "/cgis/", v, sub)
    srv.logout(sid=sid)
    refused(srv, "/%s/" % protocol, CGISESSION, v, TAG_REVOKED, what="app.cgi?do=whoami", seen=gw.seen)


def test_cgi_pass_mode_keeps_the_expiry_when_the_script_sets_another_cookie(srv):
    """util_script replaces err_headers_out's Set-Cookie lines when a CGI
    script sets any cookie: the guard's expiry of the revoked one must still
    go out, beside the script's own cookie."""
    sid = uid("sid")
    r, _ = cgi_get(srv, "/cgipass/", "login", sid=sid, sub=uid("yan"))
    v = new_value(r, CGISESSION)
    srv.logout(sid=sid)
    mark = srv.h.log_mark()
    r, tag = cgi_get(srv, "/cgipass/", "theme", cookie="%s=%s; lang=en" % (CGISESSION, v))
    assert r.status_code == 200
    seen = srv.cgi.seen(tag)
    assert len(seen) == 1 and v not in (seen[0]["cookie"] or "") and "lang=en" in seen[0]["cookie"], seen
    assert_expiring(r, CGISESSION)
    assert [c for c in guard_env.set_cookies(r) if c.startswith("theme=dark")], guard_env.set_cookies(r)
    srv.h.wait_log(TAG_REVOKED, since=mark)
    # the app's own new session in that answer wins over the expiry
    r, _ = cgi_get(srv, "/cgipass/", "login", cookie="%s=%s" % (CGISESSION, v), sid=uid("sid"))
    n = new_value(r, CGISESSION)
    assert n != v
    cgi_refused(srv, "/cgi/", v)


# ---------------------------------------------------------------------------
# item 4: subrequests into a guarded location
# ---------------------------------------------------------------------------

class TestSubrequests:
    def test_include_virtual_of_a_logged_out_session(self, srv):
        sid = uid("sid")
        v = py_login(srv, "/app/", sid)
        r, tag = srv.get("/pub/page.shtml", cookie="%s=%s" % (APPSESSION, v))
        assert r.status_code == 200 and "BEFORE[" in r.text, r.text[:300]
        assert v in r.text                      # the app's JSON, included
        assert len(app_seen(srv, tag)) == 1
        srv.logout(sid=sid)
        mark = srv.h.log_mark()
        r, tag = srv.get("/pub/page.shtml", cookie="%s=%s" % (APPSESSION, v))
        assert r.status_code == 200 and "BEFORE[" in r.text and "]AFTER" in r.text, r.text[:300]
        assert v not in r.text and '"path"' not in r.text, r.text[:300]
        assert app_seen(srv, tag) == [], "the app served a logged-out session through include virtual"
        line = srv.h.wait_log(TAG_REVOKED, "subrequest", since=mark)
        assert v not in line

    def test_include_virtual_of_an_unbound_session_under_deny(self, srv):
        unknown = "never-bound-" + uuid.uuid4().hex
        r, tag = srv.get("/pub/strict.shtml", cookie="%s=%s" % (APPSESSION, unknown))
        assert r.status_code == 200 and unknown not in r.text, r.text[:300]
        assert app_seen(srv, tag) == []

    def test_rewrite_lookup(self, srv):
        sid = uid("sid")
        v = py_login(srv, "/app/", sid)
        r, _ = srv.get("/rw/check", cookie="%s=%s" % (APPSESSION, v))
        assert "LOOKUP-YES" in r.text, r.text[:200]
        srv.logout(sid=sid)
        r, _ = srv.get("/rw/check", cookie="%s=%s" % (APPSESSION, v))
        assert "LOOKUP-NO" in r.text, r.text[:200]

    def test_include_virtual_in_pass_mode_reaches_the_app_anonymously(self, srv):
        sid = uid("sid")
        v = py_login(srv, "/pass/", sid)
        srv.logout(sid=sid)
        mark = srv.h.log_mark()
        r, tag = srv.get("/pub/pass.shtml", cookie="%s=%s; lang=en" % (APPSESSION, v))
        assert r.status_code == 200 and "BEFORE[" in r.text and "]AFTER" in r.text, r.text[:300]
        seen = app_seen(srv, tag)
        assert len(seen) == 1 and v not in (seen[0]["cookie"] or ""), seen
        assert seen[0]["cookie"] == "lang=en", seen
        assert v not in r.text
        srv.h.wait_log(TAG_REVOKED, "subrequest", "action=pass", since=mark)


def test_http_backend_error_page_drops_its_headers_and_binds_nothing(srv):
    """ProxyErrorOverride with an HTTP backend: httpd's error page keeps only
    err_headers_out, so the backend's Set-Cookie never reaches the client;
    nothing is bound, and the binding header does not leak either."""
    mark = srv.h.log_mark()
    r, tag = srv.get("/apperr/login", params={"sid": uid("sid"), "status": "403"})
    assert r.status_code == 403
    assert len(app_seen(srv, tag)) == 1
    assert_no_bind_header(r)
    assert [c for c in guard_env.set_cookies(r) if guard_env.cookie_attrs(c)[0] == APPSESSION] == [], guard_env.set_cookies(r)
    assert TAG_BOUND not in srv.h.log_since(mark)


def test_refusal_with_an_error_document_outside_the_guard(srv):
    """The guard's own refusal shown by an ErrorDocument outside the guarded
    location: one expiring Set-Cookie, the document's body, nothing bound."""
    unknown = "never-bound-" + uuid.uuid4().hex
    mark = srv.h.log_mark()
    r, tag = srv.get("/strictdoc/whoami", cookie="%s=%s" % (APPSESSION, unknown))
    assert r.status_code == 401 and "DENIED-PAGE" in r.text, (r.status_code, r.text[:200])
    assert_expiring(r, APPSESSION)
    assert app_seen(srv, tag) == []
    srv.h.wait_log(TAG_UNBOUND, since=mark)
    assert TAG_BOUND not in srv.h.log_since(mark)
