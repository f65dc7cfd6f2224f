"""Administrative revocation (issue 15, items 2-5): `SetHandler
backchannel-logout-admin` and `BCLAdminTokenFile`, PRODUCT.md section 6.

One httpd (event MPM) with a durable store (`BCLStore shm file=`), the guard
at /app/ in front of guard_app.py (bindings from its `BCL-Session` header),
the admin handler at /admin (Require all granted: the handler's own
credential check is all there is), at /admin-ip (Require ip 10.0.0.0/8) and
at /admin-basic (mod_auth_basic with an htpasswd file this test writes),
and the status handler. Asserted: the answers an operator (or an attacker)
gets, what the guard does afterwards with the sessions' cookies, the audit
lines, the status counters by channel, durability across a full restart,
and, with two httpds sharing memcached or redis, that a revocation at one
is enforced at the other.

    /usr/bin/python3 -m pytest -q test/integration/test_admin.py
"""
import base64
import hashlib
import json
import os
import time
import uuid

import pytest

import backends
import fleet
import guard_app
import guard_env
import harness
import promtext
from conftest import ISSUER

COOKIE = guard_app.COOKIE
STATUS = "/bcl-status"
TOKEN = "tok-" + uuid.uuid4().hex          # 36 characters
OTHER_TOKEN = "tok-" + uuid.uuid4().hex
ENV_ISS = "https://op-env-%s.example.test/" % uuid.uuid4().hex[:8]   # the /envapp/ location's BCLIssuer
BASIC_USER, BASIC_PASSWORD = "alice-admin", "pw-" + uuid.uuid4().hex[:12]

TAG_REVOKED = "BCL0820"
TAG_QUERY = "BCL0821"
TAG_REFUSED = "BCL0822"
TAG_UNAUTH = "BCL0823"




def _admin_location(path, extra=()):
    return "\n".join(['<Location "%s">' % path,
                      "    SetHandler backchannel-logout-admin",
                      '    BCLIssuer "%s"' % ISSUER] + ["    " + e for e in extra] + ["</Location>"])


def _config(app_port, store, token_file, htpasswd):
    return "\n".join([
        store,
        "<Location /app/>",
        "    BCLSessionCookie %s" % COOKIE,
        "    BCLBindFrom response-header %s" % guard_app.BIND_HEADER,
        "    ProxyPass http://127.0.0.1:%d/" % app_port,
        "</Location>",
        # an auth module's identity (BCLBindFrom env), here from test headers
        "<Location /envapp/>",
        "    BCLSessionCookie ENVSESSION",
        "    BCLBindFrom env",
        '    BCLIssuer "%s"' % ENV_ISS,
        '    SetEnvIf X-Test-Iss "(.+)" OIDC_CLAIM_iss=$1',
        '    SetEnvIf X-Test-Sid "(.+)" OIDC_CLAIM_sid=$1',
        '    SetEnvIf X-Test-Iat "(.+)" OIDC_CLAIM_iat=$1',
        "    ProxyPass http://127.0.0.1:%d/" % app_port,
        "</Location>",
        _admin_location("/admin", ['BCLAdminTokenFile "%s"' % token_file, "Require all granted"]),
        _admin_location("/admin-ip", ['BCLAdminTokenFile "%s"' % token_file, "Require ip 10.0.0.0/8"]),
        _admin_location("/admin-basic", ["AuthType Basic", 'AuthName "bcl admin"',
                                         'AuthUserFile "%s"' % htpasswd, "Require valid-user"]),
        "<Location %s>" % STATUS,
        "    SetHandler backchannel-logout-status",
        "</Location>",
    ]) + "\n"


class Server:
    def __init__(self, mpm, app, store=None):
        self.h = harness.Httpd(mpm=mpm, modules=["authz_core", "authz_host", "authz_user", "authn_core",
                                                 "authn_file", "auth_basic", "setenvif", "proxy", "proxy_http"],
                               loglevel="warn backchannel_logout:info")
        state = harness.make_tmpdir("bcl-admin-state-")
        backends._own(state, 0o700)
        # readable by root only (httpd reads it before it drops privileges)
        tokens = self.h.write("admin.tokens", "# incident response\n\n  %s  \n%s\n" % (OTHER_TOKEN, TOKEN), 0o600)
        sha = base64.b64encode(hashlib.sha1(BASIC_PASSWORD.encode()).digest()).decode()
        htpasswd = self.h.write("htpasswd", "%s:{SHA}%s\n" % (BASIC_USER, sha), 0o644)
        if store is None:
            store = "BCLStore shm capacity=2000 file=%s" % os.path.join(state, "bcl.journal")
        self.h.configure(_config(app.port, store, tokens, htpasswd))
        rc, out = self.h.configtest()
        assert rc == 0, out
        self.h.start()
        self.s = guard_env.browser()

    def stop(self):
        self.h.stop()

    def login(self, sid=None, sub=None, iss=None):
        return guard_env.app_login(self.s, self.h, sid, sub, iss)

    def app_status(self, cookie):
        """The status another client gets at the guarded app with `cookie`."""
        r = self.s.get(self.h.url("/app/whoami"), headers={"Cookie": cookie}, allow_redirects=False, timeout=20)
        return r.status_code

    def post(self, body, token=TOKEN, path="/admin", content_type="application/json", headers=None):
        hdrs = {"Content-Type": content_type}
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        hdrs.update(headers or {})
        if not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        return self.s.post(self.h.url(path), data=body, headers=hdrs, timeout=20)

    def get(self, params, token=TOKEN, path="/admin"):
        hdrs = {"Authorization": "Bearer " + token} if token else {}
        return self.s.get(self.h.url(path), params=params, headers=hdrs, timeout=20)

    def counters(self):
        return promtext.revocations_by_channel(self.s, self.h.url(STATUS))


@pytest.fixture(scope="module")
def srv(app):
    s = Server("event", app)
    try:
        yield s
        text = s.h.log_text()
        for bad in ("exit signal", "Segmentation fault", "AddressSanitizer"):
            assert bad not in text, text[-3000:]
        assert TOKEN not in text and OTHER_TOKEN not in text and BASIC_PASSWORD not in text
    finally:
        s.stop()
        s.h.cleanup()


def uid(prefix):
    return prefix + uuid.uuid4().hex[:10]


def assert_json(r, status):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    assert r.headers["Cache-Control"] == "no-store"
    return r.json()


# ---------------------------------------------------------------------------
# credentials
# ---------------------------------------------------------------------------

def test_no_credential_is_401_even_with_require_all_granted(srv):
    user = uid("u-")
    c = srv.login(uid("s-"), user)
    mark = srv.h.log_mark()
    for r in (srv.post({"sub": user}, token=None), srv.get({"sub": user}, token=None)):
        body = assert_json(r, 401)
        assert r.headers["WWW-Authenticate"].startswith("Bearer"), r.headers
        assert "credential" in body["error"]
    assert srv.app_status(c) == 200
    assert "127.0.0.1" in srv.h.wait_log(TAG_UNAUTH, since=mark)


def test_a_wrong_bearer_or_another_scheme_is_401(srv):
    user = uid("u-")
    c = srv.login(uid("s-"), user)
    wrong = "tok-" + uuid.uuid4().hex
    mark = srv.h.log_mark()
    r = srv.post({"sub": user}, token=wrong)
    assert_json(r, 401)
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    assert_json(srv.post({"sub": user}, token=TOKEN[:-1]), 401)           # a prefix of a real token
    assert_json(srv.post({"sub": user}, token=None,
                         headers={"Authorization": "Basic " + base64.b64encode(b"x:" + TOKEN.encode()).decode()}),
                401)
    assert srv.app_status(c) == 200
    srv.h.wait_log(TAG_UNAUTH, "not in BCLAdminTokenFile", since=mark)
    assert wrong not in srv.h.log_since(mark)


def test_require_still_applies_on_top_of_a_valid_bearer(srv):
    user = uid("u-")
    c = srv.login(uid("s-"), user)
    r = srv.post({"sub": user}, path="/admin-ip")
    assert r.status_code == 403, r.text
    assert srv.app_status(c) == 200


def test_a_basic_authenticated_user_is_a_credential_and_is_named_in_the_log(srv):
    user = uid("u-")
    c = srv.login(uid("s-"), user)
    # no password: httpd's own 401 (Basic), the handler is not reached
    r = srv.post({"sub": user}, token=None, path="/admin-basic")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
    mark = srv.h.log_mark()
    r = srv.s.post(srv.h.url("/admin-basic"), data=json.dumps({"sub": user}),
                   headers={"Content-Type": "application/json"}, auth=(BASIC_USER, BASIC_PASSWORD), timeout=20)
    assert assert_json(r, 200)["revoked"] == "sub"
    assert srv.app_status(c) == 401
    line = srv.h.wait_log(TAG_REVOKED, user, since=mark)
    assert "user %s" % BASIC_USER in line and "127.0.0.1" in line


# ---------------------------------------------------------------------------
# what each revocation ends, and what it leaves alive
# ---------------------------------------------------------------------------

def test_sub_revokes_every_session_of_that_user_and_nothing_else(srv):
    user, other = uid("u-"), uid("u-")
    c1, c2, c3 = srv.login(uid("s-"), user), srv.login(None, user), srv.login(uid("s-"), other)
    before = srv.counters()
    mark = srv.h.log_mark()
    body = assert_json(srv.post({"sub": user}), 200)
    assert body["revoked"] == "sub" and body["sub"] == user and body["iss"] == ISSUER and body["since"]
    assert srv.app_status(c1) == 401 and srv.app_status(c2) == 401
    assert srv.app_status(c3) == 200                      # another user's session lives
    assert srv.app_status(srv.login(uid("s-"), user)) == 200  # a session begun afterwards lives
    line = srv.h.wait_log(TAG_REVOKED, "sub=" + user, since=mark)
    assert "bearer token" in line and "line 4" in line and "127.0.0.1" in line and ISSUER in line
    after = srv.counters()
    assert after["admin"] - before["admin"] == 1
    assert after["backchannel"] == before["backchannel"] and after["frontchannel"] == before["frontchannel"]


def test_sid_revokes_that_session_only(srv):
    user, s1 = uid("u-"), uid("s-")
    c1, c2 = srv.login(s1, user), srv.login(uid("s-"), user)
    mark = srv.h.log_mark()
    body = assert_json(srv.post({"sid": s1, "iss": ISSUER}), 200)
    assert body["revoked"] == "sid" and body["sid"] == s1
    assert srv.app_status(c1) == 401
    assert srv.app_status(c2) == 200                      # the same user's other session lives
    srv.h.wait_log(TAG_REVOKED, "sid=" + s1, since=mark)


def test_all_revokes_every_session_of_that_issuer_only(srv):
    iss = "https://op-%s.example.test/" % uuid.uuid4().hex[:8]
    a, b = srv.login(uid("s-"), None, iss), srv.login(None, None, iss)
    elsewhere = srv.login(uid("s-"))                      # the location's issuer
    mark = srv.h.log_mark()
    body = assert_json(srv.post({"all": True, "iss": iss}), 200)
    assert body["revoked"] == "all" and body["iss"] == iss
    assert srv.app_status(a) == 401 and srv.app_status(b) == 401
    assert srv.app_status(elsewhere) == 200               # another issuer's session lives
    assert srv.app_status(srv.login(uid("s-"), None, iss)) == 200   # begun afterwards
    line = srv.h.wait_log(TAG_REVOKED, "all iss=" + iss, since=mark)
    assert "every session of that issuer" in line


def test_all_ends_env_sessions_begun_before_it(srv):
    """BCLBindFrom env: the issuer and the start (iat) come from the
    environment on every request."""
    now = int(time.time())

    def status(iss, iat):
        r = srv.s.get(srv.h.url("/envapp/whoami"), timeout=20, allow_redirects=False,
                      headers={"Cookie": "ENVSESSION=x", "X-Test-Iss": iss, "X-Test-Sid": uid("s-"),
                               "X-Test-Iat": str(iat)})
        return r.status_code

    other = "https://op-%s.example.test/" % uuid.uuid4().hex[:8]
    assert status(ENV_ISS, now - 30) == 200 and status(other, now - 30) == 200
    assert_json(srv.post({"all": True, "iss": ENV_ISS}), 200)
    assert_json(srv.post({"all": True, "iss": other + "x"}), 200)   # a near-namesake
    assert status(ENV_ISS, now - 30) == 401
    assert status(ENV_ISS, now + 30) == 200      # began afterwards
    assert status(other, now - 30) == 200        # another issuer


def test_get_answers_whether_and_since_when(srv):
    user, s1 = uid("u-"), uid("s-")
    body = assert_json(srv.get({"sub": user}), 200)
    assert body["revoked"] is False and body["since"] is None and body["sub"] == user
    assert_json(srv.post({"sub": user}), 200)
    assert_json(srv.post({"sid": s1}), 200)
    body = assert_json(srv.get({"sub": user}), 200)
    assert body["revoked"] is True and body["since"].endswith("Z") and body["iss"] == ISSUER
    assert assert_json(srv.get({"sid": s1}), 200)["revoked"] is True
    assert assert_json(srv.get({"sid": s1, "iss": "https://elsewhere.test/"}), 200)["revoked"] is False
    for bad in ({}, {"sub": user, "sid": s1}, {"who": "x"}, {"sub": ""}):
        assert "error" in assert_json(srv.get(bad), 400)


# ---------------------------------------------------------------------------
# refused requests
# ---------------------------------------------------------------------------

def test_form_and_text_bodies_are_refused(srv):
    """A cross-site HTML form can send these three types, never JSON."""
    user = uid("u-")
    c = srv.login(uid("s-"), user)
    mark = srv.h.log_mark()
    for ctype, body in (("application/x-www-form-urlencoded", "sub=" + user),
                        ("text/plain", json.dumps({"sub": user})),
                        ("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="sub"'
                                                          '\r\n\r\n%s\r\n--x--\r\n' % user)):
        assert "application/json" in assert_json(srv.post(body, content_type=ctype), 415)["error"]
    assert srv.app_status(c) == 200
    srv.h.wait_log(TAG_REFUSED, "415", since=mark)
    r = srv.s.put(srv.h.url("/admin"), data="{}", headers={"Authorization": "Bearer " + TOKEN}, timeout=20)
    assert_json(r, 405)
    assert "POST" in r.headers["Allow"]


@pytest.mark.parametrize("body,problem", [
    ("not json", "not valid JSON"),
    ("[]", "JSON object"),
    ('{"sub": 1}', '"sub" must be a string'),
    ('{"sub": "a", "sid": "b"}', "exactly one"),
    ('{"sub": "a", "sub": "b"}', "not valid JSON"),      # duplicate member
    ('{"all": false}', '"all" must be true'),
    ('{"all": "yes"}', '"all" must be true'),
    ('{"sub": "a", "who": "b"}', 'unknown member "who"'),
    ('{"iss": "https://op/"}', "names nothing"),
    ('{"sub": ""}', "1 to"),
    ('{"sub": "%s"}' % ("x" * 9000), "larger than"),
])
def test_bad_bodies_are_400_with_a_json_body_naming_the_problem(srv, body, problem):
    r = srv.post(body)
    assert problem in assert_json(r, 400)["error"]


# ---------------------------------------------------------------------------
# durability
# ---------------------------------------------------------------------------

def test_admin_revocations_survive_a_full_restart(srv):
    user, s1 = uid("u-"), uid("s-")
    iss = "https://op-%s.example.test/" % uuid.uuid4().hex[:8]
    by_sub, by_sid, by_all = srv.login(uid("s-"), user), srv.login(s1), srv.login(uid("s-"), None, iss)
    alive = srv.login(uid("s-"))
    for body in ({"sub": user}, {"sid": s1}, {"all": True, "iss": iss}):
        assert_json(srv.post(body), 200)
    srv.h.stop()
    mark = srv.h.log_mark()
    srv.h.start()
    srv.h.wait_log("BCL0700", "replayed", since=mark)
    assert srv.app_status(by_sub) == 401
    assert srv.app_status(by_sid) == 401
    assert srv.app_status(by_all) == 401
    assert srv.app_status(alive) == 200
    assert assert_json(srv.get({"sub": user}), 200)["revoked"] is True
    assert srv.app_status(srv.login(uid("s-"), None, iss)) == 200


# ---------------------------------------------------------------------------
# a fleet: two servers sharing memcached or redis
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["memcache", "redis"])
def test_an_admin_revocation_at_one_server_is_enforced_at_another(app, kind):
    server = fleet.Memcached() if kind == "memcache" else fleet.Redis()
    server.start()
    store = "BCLStore %s %s timeout=2000 prefix=adm:%s:" % (kind, server.address, uuid.uuid4().hex[:8])
    a = b = None
    try:
        a = Server("event", app, store)
        b = Server("prefork", app, store)
        user, s1 = uid("u-"), uid("s-")
        iss = "https://op-%s.example.test/" % uuid.uuid4().hex[:8]
        by_sub, by_sid, by_all = b.login(uid("s-"), user), b.login(s1), b.login(None, None, iss)
        alive = b.login(uid("s-"))
        for body in ({"sub": user}, {"sid": s1}, {"all": True, "iss": iss}):
            assert_json(a.post(body), 200)
        for g in (a, b):
            assert g.app_status(by_sub) == 401
            assert g.app_status(by_sid) == 401
            assert g.app_status(by_all) == 401
            assert g.app_status(alive) == 200
        assert assert_json(b.get({"sub": user}), 200)["revoked"] is True
        assert a.app_status(b.login(None, None, iss)) == 200     # begun afterwards
        # the store cannot take it: 503, never 200
        server.kill()
        assert "nothing was revoked" in assert_json(a.post({"sub": uid("u-")}), 503)["error"]
        assert_json(a.get({"sub": user}), 503)
    finally:
        for g in (a, b):
            if g is not None:
                g.stop()
                g.h.cleanup()
        server.cleanup()


# ---------------------------------------------------------------------------
# the token file is checked at startup (apache2 -t: no server started)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("content,mode,problem", [
    (TOKEN + "\n", 0o644, "readable or writable by every user"),
    (TOKEN + "\n", 0o602, "readable or writable by every user"),
    ("# only a comment\n\n", 0o600, "no token"),
    ("# ok\n%s\nshort-token\n" % TOKEN, 0o600, "line 3: a token has 16 to 512 characters"),
    ("%s %s\n" % (TOKEN, OTHER_TOKEN), 0o600, "line 1: a token is visible ASCII without spaces"),
    (None, 0, "cannot read"),
])
def test_a_bad_token_file_stops_httpd_naming_file_and_line(content, mode, problem):
    h = harness.Httpd(mpm="event")
    try:
        path = h.path("admin.tokens")
        if content is not None:
            h.write("admin.tokens", content, mode)
        h.configure(_admin_location("/admin", ['BCLAdminTokenFile "%s"' % path]) + "\n")
        rc, out = h.configtest()
        assert rc != 0, out
        assert "BCLAdminTokenFile" in out and path in out and problem in out, out
        assert TOKEN not in out
    finally:
        h.cleanup()


@pytest.mark.parametrize("extra,warned", [
    ([], True),
    (["AuthType Basic", 'AuthName "bcl-admin"'], False),
    (['BCLAdminTokenFile "{tokens}"'], False),
])
def test_an_admin_section_with_no_credential_source_is_reported_at_startup(extra, warned):
    h = harness.Httpd(mpm="event", modules=["authz_core", "authn_core", "auth_basic"])
    try:
        tokens = h.write("admin.tokens", TOKEN + "\n", 0o600)
        h.configure(_admin_location("/admin", [e.format(tokens=tokens) for e in extra]) + "\n")
        rc, out = h.configtest()
        assert rc == 0, out   # a warning, not a refusal: every request would be 401, never open
        line = [x for x in out.splitlines() if "BCL0826" in x]
        if warned:
            assert line and h.conf_path in line[0] and "answered 401" in line[0], out
        else:
            assert not line, out
    finally:
        h.cleanup()
