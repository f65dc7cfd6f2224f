"""Front-channel logout (issue 15, items 1 and 3): `SetHandler
frontchannel-logout`, docs/frontchannel.md.

One httpd per MPM (prefork, event) with a durable store (`BCLStore shm
file=`), the guard at /app/ in front of guard_app.py (bindings from its
`BCL-Session` header), the back-channel receiver at /bcl, the front-channel
handler at /fc (BCLIssuer, BCLSessionCookie APPSESSION, as the contract's
example: no BCLBindFrom there) and the status handler. Asserted: what the
browser (iframe) gets back, what the guard does afterwards with the same
cookies from another client, the status counters by channel, the error
log's tags, and that revocations survive a full restart.

    /usr/bin/python3 -m pytest -q test/integration/test_frontchannel.py
"""
import http.client
import http.cookiejar
import os
import uuid

import pytest
import requests

import fleet
import guard_app
import guard_env
import harness
import keys
import promtext
import tokens
from conftest import CLIENT_ID, ISSUER
from tokens import REMOVE

MPMS = ["prefork", "event"]
COOKIE = guard_app.COOKIE
FC = "/fc"
FC_BIND = "/fc-bind"
STATUS = "/bcl-status"

TAG_SID = "BCL0800"
TAG_COOKIE = "BCL0801"
TAG_NOTHING = "BCL0802"
TAG_REFUSED = "BCL0803"
TAG_GUARD_REVOKED = "BCL0200"


class RawResponse:
    """What http.client got, with the few attributes the tests read."""

    def __init__(self, resp, body):
        self.status_code = resp.status
        self.headers = requests.structures.CaseInsensitiveDict(resp.getheaders())
        self.set_cookies = resp.msg.get_all("Set-Cookie") or []
        self.content = body
        self.text = body.decode(errors="replace")


def raw_request(port, method, target, headers):
    """The request target exactly as written (requests would requote it)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(method, target, headers=headers)
        resp = conn.getresponse()
        return RawResponse(resp, resp.read())
    finally:
        conn.close()




def child_user():
    import pwd
    try:
        pw = pwd.getpwnam("www-data")
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return os.getuid(), os.getgid()


def _config(app_port, jwks, store):
    return "\n".join([
        store,
        "<Location /bcl>",
        "    SetHandler backchannel-logout",
        '    BCLIssuer "%s"' % ISSUER,
        "    BCLClientID %s" % CLIENT_ID,
        '    BCLJWKSFile "%s"' % jwks,
        "</Location>",
        "<Location /app/>",
        "    BCLSessionCookie %s" % COOKIE,
        "    BCLBindFrom response-header %s" % guard_app.BIND_HEADER,
        "    ProxyPass http://127.0.0.1:%d/" % app_port,
        "</Location>",
        '<Location "%s">' % FC,
        "    SetHandler frontchannel-logout",
        '    BCLIssuer "%s"' % ISSUER,
        "    BCLSessionCookie %s" % COOKIE,
        "</Location>",
        # as it is when BCLBindFrom is set for the whole server: the guard's
        # response filter would be in effect here
        '<Location "%s">' % FC_BIND,
        "    SetHandler frontchannel-logout",
        '    BCLIssuer "%s"' % ISSUER,
        "    BCLSessionCookie %s" % COOKIE,
        "    BCLBindFrom response-header %s" % guard_app.BIND_HEADER,
        "</Location>",
        "<Location %s>" % STATUS,
        "    SetHandler backchannel-logout-status",
        "</Location>",
    ]) + "\n"


class Server:
    def __init__(self, mpm, app, op_keys, store=None):
        self.app = app
        self.op = op_keys
        self.h = harness.Httpd(mpm=mpm, modules=["authz_core", "proxy", "proxy_http"],
                               loglevel="warn backchannel_logout:debug")
        self.state = harness.make_tmpdir("bcl-fc-state-")
        uid, gid = child_user()
        os.chown(self.state, uid, gid)
        os.chmod(self.state, 0o700)
        jwks = keys.write_jwks(self.h.path("jwks.json"), op_keys.jwks())
        if store is None:
            store = "BCLStore shm capacity=2000 file=%s" % os.path.join(self.state, "bcl.journal")
        self.h.configure(_config(app.port, jwks, store))
        rc, out = self.h.configtest()
        assert rc == 0, out
        self.h.start()
        self.s = guard_env.browser()

    def stop(self):
        self.h.stop()

    def login(self, sid=None, sub=None):
        return guard_env.app_login(self.s, self.h, sid, sub)

    def app_status(self, cookie):
        """The status another client gets at the guarded app with `cookie`."""
        other = guard_env.browser()
        r = other.get(self.h.url("/app/whoami"), headers={"Cookie": cookie}, allow_redirects=False,
                      timeout=20)
        return r.status_code

    def fc(self, query="", cookie=None, method="GET", at=FC):
        hdrs = {"Cookie": cookie} if cookie is not None else {}
        return raw_request(self.h.port, method, at + ("?" + query if query else ""), hdrs)

    def back_channel_logout(self, sid):
        c = tokens.claims(ISSUER, CLIENT_ID, sid=sid, sub=REMOVE)
        r = harness.post_token(self.s, self.h.url("/bcl"), tokens.sign(c, "RS256", key=self.op.rsa), timeout=15)
        harness.assert_ok(r)

    def counters(self):
        return promtext.revocations_by_channel(self.s, self.h.url(STATUS))


@pytest.fixture(scope="module", params=MPMS)
def srv(request, app, op_keys):
    s = Server(request.param, app, op_keys)
    try:
        yield s
        text = s.h.log_text()
        for bad in ("exit signal", "Segmentation fault", "AddressSanitizer"):
            assert bad not in text, text[-3000:]
    finally:
        s.stop()
        s.h.cleanup()


def sid():
    return "sid-" + uuid.uuid4().hex


def assert_logged_out_page(r):
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-cache, no-store"
    assert r.headers["Pragma"] == "no-cache"
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<html" in r.text
    expiring = [c for c in r.set_cookies if c.startswith(COOKIE + "=;")]
    assert len(expiring) == 1, r.set_cookies
    assert "Max-Age=0" in expiring[0] and "Path=/" in expiring[0]
    # plain http: no Secure, so no SameSite=None either (browsers refuse it without Secure)
    assert "Secure" not in expiring[0] and "SameSite" not in expiring[0]


# ---------------------------------------------------------------------------
# with sid
# ---------------------------------------------------------------------------

def test_sid_logout_revokes_that_session_only(srv):
    user = "u-" + uuid.uuid4().hex[:8]
    s1, s2 = sid(), sid()
    c1, c2 = srv.login(s1, user), srv.login(s2, user)
    assert srv.app_status(c1) == 200 and srv.app_status(c2) == 200
    before = srv.counters()
    mark = srv.h.log_mark()
    r = srv.fc("iss=%s&sid=%s" % (ISSUER, s1))
    assert_logged_out_page(r)
    assert srv.app_status(c1) == 401
    assert srv.app_status(c2) == 200          # another session of the same user lives
    line = srv.h.wait_log(TAG_SID, since=mark)
    assert s1 in line and ISSUER in line
    after = srv.counters()
    assert after["frontchannel"] - before["frontchannel"] == 1
    assert after["backchannel"] == before["backchannel"] and after["admin"] == before["admin"]


def test_sid_without_iss_uses_the_location_issuer(srv):
    s1 = sid()
    c1 = srv.login(s1)
    mark = srv.h.log_mark()
    r = srv.fc("sid=" + s1)
    assert_logged_out_page(r)
    assert srv.app_status(c1) == 401
    assert "no iss" in srv.h.wait_log(TAG_SID, s1, since=mark)


def test_head_is_served_like_get(srv):
    s1 = sid()
    c1 = srv.login(s1)
    r = srv.fc("sid=" + s1, method="HEAD")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-cache, no-store"
    assert r.content == b""
    assert srv.app_status(c1) == 401


@pytest.mark.parametrize("query", [
    "iss=https://evil.example/&sid={sid}",
    "iss=%s/&sid={sid}" % ISSUER,                   # a trailing slash is another issuer
    "iss={iss}&sid={sid}&sid={sid}",
    "iss={iss}&iss={iss}&sid={sid}",
    "sid={sid}&sid=other",
    "iss={iss}&sid=%zz",
    "iss={iss}&sid=",
])
def test_bad_requests_are_400_and_revoke_nothing(srv, query):
    s1 = sid()
    c1 = srv.login(s1)
    before = srv.counters()
    mark = srv.h.log_mark()
    r = srv.fc(query.format(iss=ISSUER, sid=s1))
    assert r.status_code == 400, r.text
    assert r.headers["Cache-Control"] == "no-cache, no-store"
    assert not r.set_cookies
    srv.h.wait_log(TAG_REFUSED, "status=400", since=mark)
    assert srv.app_status(c1) == 200
    assert srv.counters()["frontchannel"] == before["frontchannel"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_other_methods_are_405(srv, method):
    s1 = sid()
    c1 = srv.login(s1)
    r = srv.fc("sid=" + s1, method=method)
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET, HEAD"
    assert srv.app_status(c1) == 200


# ---------------------------------------------------------------------------
# without sid: the browser's own cookies
# ---------------------------------------------------------------------------

def test_cookie_logout_refuses_a_copy_from_anywhere(srv):
    user = "u-" + uuid.uuid4().hex[:8]
    mine, other = srv.login(sid(), user), srv.login(sid(), user)
    before = srv.counters()
    mark = srv.h.log_mark()
    r = srv.fc("", cookie=mine)                     # the iframe, with the browser's cookie
    assert_logged_out_page(r)
    line = srv.h.wait_log(TAG_COOKIE, since=mark)
    assert mine.split("=", 1)[1] not in srv.h.log_since(mark)   # never the cookie's value
    assert COOKIE in line
    # the same cookie from another client: refused (the binding was kept)
    assert srv.app_status(mine) == 401
    assert srv.app_status(other) == 200
    assert srv.counters()["frontchannel"] - before["frontchannel"] == 1


def test_the_handlers_expiring_cookie_does_not_drop_the_binding(srv):
    """With BCLBindFrom in effect at the handler, its own expiring
    Set-Cookie is not taken for the app expiring its cookie: the binding it
    has just revoked stays, so the copy stays refused."""
    user = "u-" + uuid.uuid4().hex[:8]
    mine, other = srv.login(sid(), user), srv.login(sid(), user)
    mark = srv.h.log_mark()
    assert_logged_out_page(srv.fc("", cookie=mine, at=FC_BIND))
    srv.h.wait_log(TAG_COOKIE, since=mark)
    assert "BCL0204" not in srv.h.log_since(mark)
    assert srv.app_status(mine) == 401
    assert srv.app_status(other) == 200


def test_cookie_logout_with_iss_only(srv):
    mine = srv.login(sid())
    r = srv.fc("iss=" + ISSUER, cookie=mine)
    assert_logged_out_page(r)
    assert srv.app_status(mine) == 401


def test_cookie_bound_by_sub_alone(srv):
    user = "u-" + uuid.uuid4().hex[:8]
    nosid = srv.login(None, user)
    withsid = srv.login(sid(), user)
    assert_logged_out_page(srv.fc("", cookie=nosid))
    assert srv.app_status(nosid) == 401
    assert srv.app_status(withsid) == 200    # a session bound to a sid is not named


def test_no_cookie_no_sid_is_200_and_revokes_nothing(srv):
    before = srv.counters()
    mark = srv.h.log_mark()
    assert_logged_out_page(srv.fc(""))
    srv.h.wait_log(TAG_NOTHING, since=mark)
    # an unknown cookie: the same
    mark = srv.h.log_mark()
    assert_logged_out_page(srv.fc("", cookie="%s=never-bound-%s" % (COOKIE, uuid.uuid4().hex)))
    srv.h.wait_log(TAG_NOTHING, since=mark)
    assert srv.counters()["frontchannel"] == before["frontchannel"]


def test_a_revoked_cookie_does_not_stop_a_sid_logout(srv):
    """The guard does not run at the handler: an iframe from a browser whose
    cookie is revoked still revokes the sid it is given."""
    old = srv.login(sid())
    assert_logged_out_page(srv.fc("", cookie=old))
    assert srv.app_status(old) == 401
    s2 = sid()
    c2 = srv.login(s2)
    assert_logged_out_page(srv.fc("sid=" + s2, cookie=old))
    assert srv.app_status(c2) == 401


def test_back_channel_counts_in_its_own_channel(srv):
    s1 = sid()
    c1 = srv.login(s1)
    before = srv.counters()
    srv.back_channel_logout(s1)
    after = srv.counters()
    assert after["backchannel"] - before["backchannel"] == 1
    assert after["frontchannel"] == before["frontchannel"]
    assert srv.app_status(c1) == 401


# ---------------------------------------------------------------------------
# durability
# ---------------------------------------------------------------------------

def test_revocations_survive_a_full_restart(srv):
    user = "u-" + uuid.uuid4().hex[:8]
    s1 = sid()
    by_sid, by_cookie, alive = srv.login(s1, user), srv.login(sid(), user), srv.login(sid(), user)
    assert_logged_out_page(srv.fc("sid=" + s1))
    assert_logged_out_page(srv.fc("", cookie=by_cookie))
    srv.h.stop()
    mark = srv.h.log_mark()
    srv.h.start()
    srv.h.wait_log("BCL0700", "replayed", since=mark)
    assert srv.app_status(by_sid) == 401
    assert srv.app_status(by_cookie) == 401
    assert srv.app_status(alive) == 200


# ---------------------------------------------------------------------------
# a fleet: two servers sharing memcached or redis
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["memcache", "redis"])
def test_the_fleet_shares_front_channel_logouts(app, op_keys, kind):
    server = fleet.Memcached() if kind == "memcache" else fleet.Redis()
    server.start()
    store = "BCLStore %s %s timeout=2000 prefix=fc:%s:" % (kind, server.address, uuid.uuid4().hex[:8])
    a = b = None
    try:
        a = Server("event", app, op_keys, store)
        b = Server("prefork", app, op_keys, store)
        user = "u-" + uuid.uuid4().hex[:8]
        s1 = sid()
        by_sid, by_cookie, alive = a.login(s1, user), a.login(sid(), user), a.login(sid(), user)
        assert b.app_status(by_sid) == 200 and b.app_status(by_cookie) == 200
        assert_logged_out_page(b.fc("sid=" + s1))             # the iframe reached B
        assert_logged_out_page(b.fc("", cookie=by_cookie))
        by_sub = a.login(None, "u-" + uuid.uuid4().hex[:8])    # bound by sub alone
        assert_logged_out_page(b.fc("", cookie=by_sub))
        for g in (a, b):
            assert g.app_status(by_sid) == 401
            assert g.app_status(by_cookie) == 401
            assert g.app_status(by_sub) == 401
            assert g.app_status(alive) == 200
    finally:
        for g in (a, b):
            if g is not None:
                g.stop()
                g.h.cleanup()
        server.cleanup()


def test_on_https_the_expiring_cookie_is_secure_and_samesite_none():
    """An iframe on the OP's page is a third-party context: only a cookie
    with SameSite=None; Secure may be cleared there."""
    import ssl
    from keyserver import TestCA
    h = harness.Httpd(mpm="event", modules=["authz_core", "socache_shmcb", "ssl"])
    try:
        ca = TestCA(h.dir)
        h.configure("\n".join([
            "SSLEngine on",
            'SSLCertificateFile "%s"' % ca.cert_file,
            'SSLCertificateKeyFile "%s"' % ca.key_file,
            '<Location "%s">' % FC,
            "    SetHandler frontchannel-logout",
            '    BCLIssuer "%s"' % ISSUER,
            "    BCLSessionCookie %s other_cookie" % COOKIE,
            "    BCLCookiePath /app/",
            "</Location>"]) + "\n")
        h.start()
        ctx = ssl.create_default_context(cafile=ca.ca_file)
        conn = http.client.HTTPSConnection("127.0.0.1", h.port, context=ctx, timeout=20)
        try:
            conn.request("GET", FC + "?sid=" + sid())
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200
            cookies = resp.msg.get_all("Set-Cookie") or []
        finally:
            conn.close()
        assert len(cookies) == 2, cookies
        for name, c in zip((COOKIE, "other_cookie"), sorted(cookies)):
            assert c.startswith(name + "=;"), cookies
            attrs = [a.strip() for a in c.split(";")]
            assert "Secure" in attrs and "SameSite=None" in attrs and "Path=/app/" in attrs, c
    finally:
        h.cleanup()


# ---------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------

def test_a_location_without_issuer_is_refused_at_startup():
    h = harness.Httpd(mpm="event")
    try:
        h.configure('<Location /fc>\n    SetHandler frontchannel-logout\n    BCLSessionCookie %s\n</Location>\n'
                    % COOKIE)
        rc, out = h.configtest()
        assert rc != 0
        assert "BCL0192" in out and "frontchannel-logout with no BCLIssuer" in out, out
    finally:
        h.cleanup()
