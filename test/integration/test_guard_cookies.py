"""The guard reads cookies as generously as any mainstream backend
(docs/guard.md, "How backends read cookies"; issue 12 item 1).

After a logout, a second client sends the revoked session's cookie in every
spelling that some backend (PHP, Werkzeug/Flask, Python http.cookies, Node's
cookie package, Rack, ASP.NET) reads as the same cookie and the same value.
Each is refused: 401, the expiring Set-Cookie, the backend never saw the
request, and the log tag (BCL0210 for a suspicious spelling, BCL0200 for a
revoked one). `BCLSuspiciousCookie allow` lets an unusual value the app
really sets through, and still refuses it once its session is logged out.

    /usr/bin/python3 -m pytest -q test/integration/test_guard_cookies.py
"""
import random
import uuid

import pytest

import harness
import promtext
import guard_env as ge
import keys
from guard_env import COOKIE, TAG_REVOKED, uid

TAG_SUSPICIOUS = "BCL0210"
TAG_ODD_ALLOWED = "BCL0211"
PHP_NAME = "ci_session"
STATUS = "/bcl-status"

LOCATIONS = {
    "/app/": ([], COOKIE),
    "/strict/": (["BCLUnboundSession deny"], COOKIE),
    "/pass/": (["BCLOnRevoked pass"], COOKIE),
    "/relax/": (["BCLSuspiciousCookie allow", "BCLUnboundSession deny"], COOKIE),
    "/php/": ([], PHP_NAME),
    # mod_headers edits the Cookie header in a LAST fixup, like the guard's
    "/hdr-edit/": (['RequestHeader edit Cookie "(^|; )legacy=" "$1%s="' % COOKIE], COOKIE),
    "/hdr-add/": (['RequestHeader add Cookie "expr=%s=%%{req:X-Session}"' % COOKIE], COOKIE),
}


def location(path, port, extra, cookie):
    lines = ['<Location "%s">' % path,
             "    BCLSessionCookie %s" % cookie,
             "    BCLBindFrom response-header BCL-Session"]
    lines += ["    " + e for e in extra]
    lines += ["    ProxyPass http://127.0.0.1:%d/" % port, "</Location>", ""]
    return "\n".join(lines)


@pytest.fixture(scope="module", params=ge.MPMS)
def guard(request, backend, op_keys):
    h = harness.Httpd(mpm=request.param, modules=ge.MODULES, loglevel=ge.LOGLEVEL)
    jwks = keys.write_jwks(h.path("jwks.json"), op_keys.jwks())
    # loaded after mod_backchannel_logout (as Debian's mods-enabled order
    # does): its fixup must still run before the guard's
    body = "LoadModule headers_module %s/mod_headers.so\n" % harness.MODULES_DIR
    body += ge.receiver_location(jwks)
    # security.md "Limits": a route around every <Location> (a server-level
    # RewriteRule [P]) is guarded by a <Proxy> section for the backend's URL
    body += "\n".join([
        "LoadModule rewrite_module %s/mod_rewrite.so" % harness.MODULES_DIR,
        "RewriteEngine on",
        "RewriteRule ^/rw/(.*) http://127.0.0.1:%d/via-rw/$1 [P]" % backend.port,
        '<Proxy "http://127.0.0.1:%d/via-rw/*">' % backend.port,
        "    BCLSessionCookie %s" % COOKIE,
        "    BCLBindFrom response-header BCL-Session",
        "</Proxy>", ""])
    for path, (extra, cookie) in LOCATIONS.items():
        body += location(path, backend.port, extra, cookie)
    body += "<Location %s>\n    SetHandler backchannel-logout-status\n</Location>\n" % STATUS
    h.configure(body)
    rc, out = h.configtest()
    assert rc == 0, out
    h.start()
    try:
        yield ge.Guard(h, backend, op_keys)
        ge.assert_no_crash(h)
    finally:
        h.cleanup()


def login(guard, loc="/app/", **params):
    """Logs in; returns (sid, the cookie value exactly as the app set it)."""
    sid = uid("sid")
    params["sid"] = sid
    r, _ = guard.get(loc, "login", params=params)
    assert r.status_code == 200, (r.status_code, r.text)
    ge.assert_no_bind_header(r)
    name = params.get("name", COOKIE)
    mine = [ge.cookie_attrs(c) for c in ge.set_cookies(r)]
    mine = [m for m in mine if m[0] == name]
    assert len(mine) == 1, ge.set_cookies(r)
    return sid, mine[0][1]


def refused(guard, loc, header, tag, status=401, cookie=None):
    """A fresh client sends `header` as its whole Cookie header: refused at
    the edge, the backend never saw it, the log says `tag`."""
    mark = guard.h.log_mark()
    r, t = guard.get(loc, cookie=header, session=ge.browser())
    assert r.status_code == status, "%r: expected %d, got %d: %s" % (header, status, r.status_code, r.text[:200])
    if status != 400:
        assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
    assert guard.backend.seen(t) == [], "the backend received %r" % header
    if tag:
        try:
            needles = (tag, "cookie %s " % cookie) if cookie and tag == TAG_SUSPICIOUS else (tag,)
            line = guard.h.wait_log(*needles, since=mark)
            # values are never logged
            assert header.split("=")[-1] not in line, line
        except AssertionError as e:
            raise AssertionError("%r: %s" % (header, e)) from None
    return r


def works(guard, loc, header):
    r, t = guard.get(loc, cookie=header, session=ge.browser())
    assert r.status_code == 200, "%r: expected 200, got %d: %s" % (header, r.status_code, r.text[:200])
    seen = guard.backend.seen(t)
    assert len(seen) == 1 and seen[0]["cookie"] == header, seen
    return r


def octal(s):
    return "".join("\\%03o" % ord(c) for c in s)


def spellings(name, v):
    """(Cookie header, expected tag) pairs: each reaches some backend as
    cookie `name` with value `v`. Every header starts with an unrelated
    cookie (a client library refuses a header starting with whitespace)."""
    n = name
    out = [
        # the cookie as the browser had it, and quoted (RFC 6265)
        ("a=1; %s=%s" % (n, v), TAG_REVOKED),
        # a decoy first, the real one later: several differing copies
        ("a=1; %s=decoy-%s; %s=%s" % (n, uuid.uuid4().hex[:6], n, v), TAG_SUSPICIOUS),
        # names: case (ASP.NET Core), whitespace (Werkzeug, Python, Node)
        ("a=1; %s=%s" % (n.swapcase(), v), TAG_SUSPICIOUS),
        ("a=1; %s=%s" % (n[0].swapcase() + n[1:], v), TAG_SUSPICIOUS),
        ("a=1;\xa0%s\x85=%s" % (n, v), TAG_SUSPICIOUS),
        ("a=1; \xc2\xa0%s\xe3\x80\x80=%s" % (n, v), TAG_SUSPICIOUS),
        # names: percent-encoded (PHP before 8.0.24, Rack before 2.1.4), PHP arrays
        ("a=1; %%%02X%s=%s" % (ord(n[0]), n[1:], v), TAG_SUSPICIOUS),
        ("a=1; %s[x]=%s" % (n, v), TAG_SUSPICIOUS),
        # values: quotes, backslash and octal escapes (Python, Werkzeug)
        ('a=1; %s="%s"' % (n, v), TAG_REVOKED),
        ('a=1; %s="\\%s"' % (n, "\\".join(v)), TAG_SUSPICIOUS),
        ('a=1; %s="%s%s"' % (n, octal(v[:3]), v[3:]), TAG_SUSPICIOUS),
        # Node cookie 0.x drops the first and the last byte after a quote
        ('a=1; %s="%sX' % (n, v), TAG_SUSPICIOUS),
        # percent-encoding (PHP, Node cookie, Rack, ASP.NET)
        ("a=1; %s=%%%02X%s" % (n, ord(v[0]), v[1:]), TAG_SUSPICIOUS),
        ('a=1; %s="%%%02x%s"' % (n, ord(v[0]), v[1:]), TAG_SUSPICIOUS),
        # whitespace a backend trims around the value
        ("a=1; %s=%s\xa0" % (n, v), TAG_SUSPICIOUS),
        # Python http.cookies: a cookie after whitespace inside a value
        ("a=1 %s=%s" % (n, v), TAG_SUSPICIOUS),
        # httpd joins header lines with ", "
        ("a=1, %s=%s" % (n, v), TAG_REVOKED),
    ]
    if "." not in n and "_" in n:
        # PHP: '.', ' ' and an unclosed '[' in a name become '_'
        i = n.index("_")
        for c in (".", " ", "["):
            out.append(("a=1; %s%s%s=%s" % (n[:i], c, n[i + 1:], v), TAG_SUSPICIOUS))
    return out


class TestEverySpellingIsRefused:
    def test_live_session_in_its_own_spelling_works(self, guard):
        _, v = login(guard)
        works(guard, "/strict/", "a=1; %s=%s" % (COOKIE, v))
        # and a suspicious spelling of a live session is refused all the same
        refused(guard, "/strict/", "a=1; %s=%s" % (COOKIE.lower(), v), TAG_SUSPICIOUS)

    def test_after_logout_every_spelling_is_refused(self, guard):
        sid, v = login(guard)
        guard.logout(sid=sid)
        for header, tag in spellings(COOKIE, v):
            r = refused(guard, "/app/", header, tag, cookie=COOKIE)
            ge.assert_expiring(r)

    def test_php_name_mangling(self, guard):
        sid, v = login(guard, "/php/", name=PHP_NAME)
        works(guard, "/php/", "a=1; %s=%s" % (PHP_NAME, v))
        guard.logout(sid=sid)
        for header, tag in spellings(PHP_NAME, v):
            refused(guard, "/php/", header, tag, cookie=PHP_NAME)

    def test_control_bytes_never_reach_the_backend(self, guard):
        """VT and FF around a name: httpd itself may refuse such a header
        (400); either way the backend never sees it."""
        sid, v = login(guard)
        guard.logout(sid=sid)
        for header in ("a=1; \x0b%s\x0c=%s" % (COOKIE, v), "a=1; %s=%s\x0b" % (COOKIE, v),
                       "a=1; \x1f%s=%s" % (COOKIE, v)):
            r, t = guard.get("/app/", cookie=header, session=ge.browser())
            assert r.status_code in (400, 401), (header, r.status_code)
            assert guard.backend.seen(t) == [], header


class TestOneBindingForEverySpelling:
    def test_express_session_spellings_share_a_binding(self, guard):
        """express-session sets connect.sid=s%3A...; cookie-parser decodes
        it, so s:... is the same session: both are bound, both die."""
        raw = "s%3A" + uuid.uuid4().hex + ".sig" + str(random.randint(0, 9999))
        sid, v = login(guard, "/app/", value=raw)
        assert v == raw
        decoded = raw.replace("%3A", ":")
        works(guard, "/strict/", "%s=%s" % (COOKIE, raw))
        works(guard, "/strict/", "%s=%s" % (COOKIE, decoded))
        guard.logout(sid=sid)
        refused(guard, "/app/", "a=1; %s=%s" % (COOKIE, raw), TAG_REVOKED)
        refused(guard, "/app/", "a=1; %s=%s" % (COOKIE, decoded), TAG_REVOKED)
        refused(guard, "/app/", 'a=1; %s="%s"' % (COOKIE, decoded), TAG_REVOKED)

    def test_plus_and_percent_2b(self, guard):
        """PHP's setcookie sends '+' as %2B; Node reads a raw '+' as '+'."""
        raw = "a%2B" + uuid.uuid4().hex
        sid, _ = login(guard, "/app/", value=raw)
        works(guard, "/strict/", "%s=%s" % (COOKIE, raw.replace("%2B", "+")))
        guard.logout(sid=sid)
        refused(guard, "/app/", "a=1; %s=%s" % (COOKIE, raw.replace("%2B", "+")), TAG_REVOKED)


    def test_value_with_a_comma(self, guard):
        """Backends split pairs at ';' only: APPSESSION=abc,def is the session
        abc,def (PHP with session.sid_bits_per_character 6 makes such ids),
        not the cookie abc that httpd's ", " joining suggests. Python's
        http.cookies reads "X=1,y APPSESSION=abc,def" as that session too."""
        raw = "%s,%s" % (uuid.uuid4().hex[:12], uuid.uuid4().hex)
        sid, v = login(guard, "/app/", value=raw)
        assert v == raw
        works(guard, "/strict/", "a=1; %s=%s; b=2" % (COOKIE, raw))
        # a bound value does not vouch for a longer one that PHP reads (an
        # unknown session) under BCLUnboundSession deny
        _, mine = login(guard, "/app/")
        refused(guard, "/strict/", "%s=%s,%s" % (COOKIE, mine, uuid.uuid4().hex), ge.TAG_UNBOUND)
        guard.logout(sid=sid)
        refused(guard, "/app/", "b=2; %s=%s" % (COOKIE, raw), TAG_REVOKED)
        refused(guard, "/app/", "%s=%s" % (COOKIE, raw), TAG_REVOKED)
        refused(guard, "/app/", "X=1,y %s=%s" % (COOKIE, raw), TAG_SUSPICIOUS, cookie=COOKIE)
        # values that share what precedes the ',' ("v1,<token>") are other
        # sessions: one logout ends no other, bound or unbound
        prefix = "v" + uuid.uuid4().hex[:6]
        sid1, v1 = login(guard, "/app/", value="%s,%s" % (prefix, uuid.uuid4().hex))
        sid2, v2 = login(guard, "/app/", value="%s,%s" % (prefix, uuid.uuid4().hex))
        guard.logout(sid=sid1)
        refused(guard, "/app/", "%s=%s" % (COOKIE, v1), TAG_REVOKED)
        works(guard, "/strict/", "%s=%s" % (COOKIE, v2))
        works(guard, "/app/", "%s=%s" % (COOKIE, prefix))
        # PHP's session cookie carries it as %2C; the raw ',' is PHP's same id
        raw = "%s,%s" % (uuid.uuid4().hex[:12], uuid.uuid4().hex)
        sid, v = login(guard, "/app/", value=raw.replace(",", "%2C"))
        guard.logout(sid=sid)
        refused(guard, "/app/", "a=1; %s=%s" % (COOKIE, raw), TAG_REVOKED)


class TestWhatTheBackendReceives:
    """The guard checks the Cookie header as the backend receives it: after
    mod_headers' RequestHeader, and every entry of it (a module may add a
    second one, which the backend receives as a second line)."""

    def test_cookie_renamed_by_request_header(self, guard):
        sid, v = login(guard)
        guard.logout(sid=sid)
        refused(guard, "/hdr-edit/", "a=1; legacy=%s" % v, TAG_REVOKED)

    def test_cookie_added_by_request_header(self, guard):
        sid, v = login(guard)
        r, t = guard.get("/hdr-add/", cookie="a=1", headers={"X-Session": v}, session=ge.browser())
        assert r.status_code == 200 and guard.backend.seen(t), (r.status_code, r.text[:200])
        guard.logout(sid=sid)
        mark = guard.h.log_mark()
        r, t = guard.get("/hdr-add/", cookie="a=1", headers={"X-Session": v}, session=ge.browser())
        assert r.status_code == 401, (r.status_code, r.text[:200])
        assert guard.backend.seen(t) == []
        guard.h.wait_log(TAG_REVOKED, since=mark)


def test_proxy_section_guards_a_rewrite_route(guard):
    """A server-level RewriteRule [P] passes by every <Location>; the guard
    in a <Proxy> section for the backend's URL still applies."""
    sid, v = login(guard)
    works(guard, "/rw/", "a=1; %s=%s" % (COOKIE, v))
    guard.logout(sid=sid)
    refused(guard, "/rw/", "a=1; %s=%s" % (COOKIE, v), TAG_REVOKED)


class TestSuspiciousCookieDirective:
    def odd_value(self):
        # what Python's SimpleCookie sends for a value with ';' in it
        return '"%s\\073%s"' % (uuid.uuid4().hex[:8], uuid.uuid4().hex)

    def test_odd_value_the_app_sets_is_refused_by_default(self, guard):
        _, v = login(guard, "/app/", value=self.odd_value())
        refused(guard, "/app/", "a=1; %s=%s" % (COOKIE, v), TAG_SUSPICIOUS)

    def test_allow_lets_it_through_and_still_refuses_after_logout(self, guard):
        sid, v = login(guard, "/relax/", value=self.odd_value())
        mark = guard.h.log_mark()
        works(guard, "/relax/", "a=1; %s=%s" % (COOKIE, v))
        guard.h.wait_log(TAG_ODD_ALLOWED, since=mark)
        guard.logout(sid=sid)
        refused(guard, "/relax/", "a=1; %s=%s" % (COOKIE, v), TAG_REVOKED)
        # another escaping of the same bytes (Python decodes both alike)
        other = v.replace("\\073", "\\;")
        refused(guard, "/relax/", "a=1; %s=%s" % (COOKIE, other), TAG_REVOKED)
        # the decoded value is one a backend resolves it to as well
        refused(guard, "/relax/", "a=1; %s=%s" % (COOKIE, v.replace("\\073", "%3B")), TAG_REVOKED)

    def test_pass_mode_strips_every_spelling(self, guard):
        sid, v = login(guard)
        header = "a=1; %s=%s; %s=%s; %%41PPSESSION=%s; x=1 %s=%s; b=2" % (
            COOKIE, v, COOKIE.lower(), v, v, COOKIE, v)
        mark = guard.h.log_mark()
        r, t = guard.get("/pass/", cookie=header, session=ge.browser())
        assert r.status_code == 200, r.status_code
        seen = guard.backend.seen(t)
        assert len(seen) == 1 and seen[0]["cookie"] == "a=1; b=2", seen
        guard.h.wait_log(TAG_SUSPICIOUS, since=mark)
        ge.assert_expiring(r)
        names = {ge.cookie_attrs(c)[0] for c in ge.set_cookies(r)}
        assert COOKIE.lower() in names, names     # the spelling carried is expired too
        guard.logout(sid=sid)


def refused_counter(guard, reason, action):
    r = harness.client().get(guard.h.url(STATUS), timeout=10)
    assert r.status_code == 200, r.status_code
    fams = promtext.parse(r.text)
    return promtext.value(fams, "bcl_sessions_refused_total", reason=reason, action=action)


def test_suspicious_refusals_are_counted(guard):
    _, v = login(guard)
    deny0 = refused_counter(guard, "suspicious", "deny")
    pass0 = refused_counter(guard, "suspicious", "pass")
    revoked0 = refused_counter(guard, "revoked", "deny")
    refused(guard, "/app/", "a=1; %s=%s" % (COOKIE.lower(), v), TAG_SUSPICIOUS)
    r, _ = guard.get("/pass/", cookie="a=1; %s=\"%s" % (COOKIE, v), session=ge.browser())
    assert r.status_code == 200
    assert refused_counter(guard, "suspicious", "deny") == deny0 + 1
    assert refused_counter(guard, "suspicious", "pass") == pass0 + 1
    assert refused_counter(guard, "revoked", "deny") == revoked0


def test_directive_syntax():
    h = harness.Httpd(mpm="event", modules=ge.MODULES)
    try:
        h.configure('<Location "/x/">\n    BCLSessionCookie A\n    BCLSuspiciousCookie maybe\n</Location>\n')
        rc, out = h.configtest()
        assert rc != 0
        assert "BCLSuspiciousCookie: use 'deny' or 'allow'" in out, out
    finally:
        h.cleanup()
