"""The guard and the store against a real httpd (docs/guard.md, docs/store.md).

httpd proxies several guarded locations to a small backend (guard_app.py)
and receives logouts at /bcl; every scenario runs under prefork and event.
What is asserted is what users see: status codes, Set-Cookie and Location
headers, what the backend received, and the error log's tags.

    /usr/bin/python3 -m pytest -q test/integration/test_guard.py
"""
import concurrent.futures
import http.client
import http.cookiejar
import json
import os
import signal
import time
import uuid

import pytest

import guard_app
import harness
from conftest import ISSUER
from guard_env import (BIND_HEADER, COOKIE, ENV_FROM_HEADERS, Guard, LOCATIONS, LOGLEVEL, MODULES,
                       MPMS, REDIRECT_URL, TAG_BAD_HEADER, TAG_BOUND, TAG_DROPPED, TAG_REPLAY,
                       TAG_REVOKED, TAG_STORE_FAILED, TAG_UNBOUND, assert_expiring,
                       assert_no_bind_header, assert_no_crash, browser, children_of, cookie_attrs,
                       env_headers, guarded_location, new_session_value, set_cookies,
                       start_guard_httpd, uid)


@pytest.fixture(scope="module", params=MPMS)
def guard(request, backend, op_keys):
    h = start_guard_httpd(request.param, backend, op_keys)
    try:
        yield Guard(h, backend, op_keys)
        assert_no_crash(h)
    finally:
        h.cleanup()


# ---------------------------------------------------------------------------
# binding by response header
# ---------------------------------------------------------------------------

class TestBinding:
    def test_login_binds_and_header_never_reaches_client(self, guard):
        mark = guard.h.log_mark()
        sid, sub = uid("sid"), uid("alice")
        r, tag = guard.get("/app/", "login", params={"sid": sid, "sub": sub})
        assert r.status_code == 200
        assert_no_bind_header(r)
        cookie = new_session_value(r)
        guard.h.wait_log(TAG_BOUND, since=mark)
        assert guard.backend.seen(tag)[0]["cookie"] is None
        guard.works("/app/", cookie)
        guard.logout(sid=sid, sub=sub)
        guard.refused("/app/", cookie)

    @pytest.mark.parametrize("status", [302, 204])
    def test_login_answered_with_redirect_or_no_content_binds(self, guard, status):
        """The usual login callback sets the cookie and redirects."""
        sid = uid("sid")
        r, _ = guard.get("/app/", "login", params={"sid": sid, "status": str(status)})
        assert r.status_code == status, r.status_code
        assert_no_bind_header(r)
        if status == 302:
            assert r.headers.get("Location", "").endswith("/whoami"), r.headers
        cookie = new_session_value(r)
        guard.works("/strict/", cookie)
        guard.logout(sid=sid)
        guard.refused("/app/", cookie)

    def test_head_login_binds(self, guard):
        sid = uid("sid")
        r = guard.s.head(guard.h.url("/app/login"), params={"sid": sid}, timeout=10)
        assert r.status_code == 200
        assert_no_bind_header(r)
        cookie = new_session_value(r)
        guard.works("/strict/", cookie)
        guard.logout(sid=sid)
        guard.refused("/app/", cookie)

    def test_header_stripped_on_every_kind_of_response(self, guard):
        cookie = guard.login("/app/", sid=uid("sid"))
        for what, params in (("bind", {"sid": uid("sid")}), ("badheader", {"kind": "nocomma"}),
                             ("login", {"sub": uid("u")})):
            r, _ = guard.get("/app/", what, cookie=cookie, params=params)
            assert r.status_code == 200, (what, r.status_code)
            assert_no_bind_header(r)

    def test_header_without_set_cookie_binds_request_cookie(self, guard):
        # a cookie the module knows nothing about...
        r, _ = guard.get("/app/", "login-nohdr")
        assert_no_bind_header(r)
        cookie = new_session_value(r)
        guard.refused("/strict/", cookie, tag=TAG_UNBOUND)
        # ...is bound by a response that names the session but sets no cookie
        sid = uid("sid")
        r, _ = guard.get("/app/", "bind", cookie=cookie, params={"sid": sid})
        assert r.status_code == 200
        assert_no_bind_header(r)
        guard.works("/strict/", cookie)
        guard.logout(sid=sid)
        guard.refused("/app/", cookie)

    def test_identity_values_with_quoted_string_escapes(self, guard):
        sid = 'odd "sid", with\\ escapes; ' + uuid.uuid4().hex
        sub = 'user "q" ' + uuid.uuid4().hex
        cookie = guard.login("/app/", sid=sid, sub=sub)
        guard.works("/strict/", cookie)
        guard.logout(sid=sid, sub=sub)
        guard.refused("/app/", cookie)

    def test_identity_includes_the_issuer(self, guard):
        sid, sub = uid("sid"), uid("mia")
        other = guard.login("/app/", sid=sid, sub=sub, iss="https://other-op.example.test")
        mine = guard.login("/app/", sid=sid, sub=sub)
        guard.logout(sid=sid, sub=sub)
        guard.refused("/app/", mine)
        guard.works("/app/", other)
        guard.logout(sub=sub)
        guard.works("/app/", other)

    def test_sub_only_binding(self, guard):
        sub = uid("bob")
        cookie = guard.login("/app/", sub=sub)
        guard.works("/strict/", cookie)
        guard.logout(sid=uid("other-sid"))   # a sid logout of someone else: not this session
        guard.works("/app/", cookie)
        guard.logout(sub=sub)
        guard.refused("/app/", cookie)
        # a token naming a sid and this sub also ends a session bound by sub
        # alone (issue 12 item 5; test_store_rules.py has the whole matrix)
        sub2 = uid("bob")
        cookie2 = guard.login("/app/", sub=sub2)
        guard.logout(sid=uid("other-sid"), sub=sub2)
        guard.refused("/app/", cookie2)


# ---------------------------------------------------------------------------
# revocation by sid and by sub
# ---------------------------------------------------------------------------

class TestRevocation:
    def test_sid_logout(self, guard):
        sub = uid("alice")
        s1, s2 = uid("sid1"), uid("sid2")
        c1 = guard.login("/app/", sid=s1, sub=sub)
        c2 = guard.login("/app/", sid=s2, sub=sub)
        guard.works("/app/", c1)
        guard.works("/app/", c2)
        tok, claims = guard.logout(sid=s1, sub=sub)
        r = guard.refused("/app/", c1)
        # refused before the app, with another cookie of the client kept out too
        assert tok not in r.text
        # the other session of the same user lives
        guard.works("/app/", c2)
        guard.works("/app/", "theme=dark; %s=%s; lang=en" % (COOKIE, c2))
        # the same cookie stays refused
        guard.refused("/app/", c1)

    def test_sub_logout_kills_sessions_begun_before(self, guard):
        alice, bob = uid("alice"), uid("bob")
        a1 = guard.login("/app/", sid=uid("a1"), sub=alice)
        a2 = guard.login("/app/", sid=uid("a2"), sub=alice)
        a3 = guard.login("/app/", sub=alice)                 # no sid
        b1 = guard.login("/app/", sid=uid("b1"), sub=bob)
        guard.logout(sub=alice)                              # no sid in the token
        for c in (a1, a2, a3):
            guard.refused("/app/", c)
        guard.works("/app/", b1)
        # a session begun after the logout lives
        a4 = guard.login("/app/", sid=uid("a4"), sub=alice)
        guard.works("/app/", a4)
        guard.works("/strict/", a4)
        # a later sub logout (another jti) kills it
        guard.logout(sub=alice)
        guard.refused("/app/", a4)
        a5 = guard.login("/app/", sid=uid("a5"), sub=alice)
        guard.works("/app/", a5)

    def test_stolen_cookie_refused_from_another_client(self, guard):
        sid = uid("sid")
        victim = browser()
        cookie = guard.login("/app/", sid=sid, sub=uid("carol"))
        guard.logout(sid=sid)
        thief = browser()
        for s in (victim, thief):
            mark = guard.h.log_mark()
            r, tag = guard.get("/app/", cookie=cookie, session=s,
                               headers={"User-Agent": "thief/1.0", "X-Forwarded-For": "203.0.113.9"})
            assert r.status_code == 401
            assert_expiring(r)
            assert guard.backend.seen(tag) == []
            guard.h.wait_log(TAG_REVOKED, since=mark)
        # the quoted form of the same value is the same session
        guard.refused("/app/", '%s="%s"' % (COOKIE, cookie))
        # surrounded by other cookies
        guard.refused("/app/", "a=1; %s=%s; b=2" % (COOKIE, cookie))

    def test_revoked_cookie_hidden_behind_a_decoy_of_the_same_name(self, guard):
        """A client that sends the session cookie twice must not get the
        revoked value to the app (many app servers take the last one, or try
        each one)."""
        sid = uid("sid")
        cookie = guard.login("/app/", sid=sid)
        guard.logout(sid=sid)
        for header in ("%s=decoy-%s; %s=%s" % (COOKIE, uid("x"), COOKIE, cookie),
                       "%s=%s; %s=decoy-%s" % (COOKIE, cookie, COOKIE, uid("x"))):
            r, tag = guard.get("/app/", cookie=header)
            got = [s["cookie"] for s in guard.backend.seen(tag)]
            assert not any(cookie in (c or "") for c in got), \
                "the backend received a revoked session cookie (request Cookie: %s): %r (status %d)" % (
                    header, got, r.status_code)

    def test_revoked_cookie_hidden_behind_many_empty_and_junk_copies(self, guard):
        """Empty copies count towards the copies checked: a revoked value
        after them is never let through unchecked."""
        sid = uid("sid")
        cookie = guard.login("/app/", sid=sid)
        guard.logout(sid=sid)
        junk = ["%s=" % COOKIE] + ["%s=junk%d" % (COOKIE, i) for i in range(7)]
        for count in (1, 7, 12):
            header = "; ".join(junk[:count] + ["%s=%s" % (COOKIE, cookie)])
            r, tag = guard.get("/app/", cookie=header)
            got = [s["cookie"] for s in guard.backend.seen(tag)]
            assert r.status_code == 401, (count, r.status_code)
            assert not any(cookie in (c or "") for c in got), (count, got)

    def test_revoked_cookie_in_a_second_cookie_header_line(self, guard):
        """Two Cookie header lines (httpd joins them with ", "): the revoked
        value must not reach the app (e.g. Python's http.cookies reads
        "theme=dark, APPSESSION=X" as APPSESSION=X)."""
        sid = uid("sid")
        cookie = guard.login("/app/", sid=sid)
        guard.logout(sid=sid)
        tag = uuid.uuid4().hex
        conn = http.client.HTTPConnection("127.0.0.1", guard.h.port, timeout=15)
        try:
            conn.putrequest("GET", "/app/whoami?t=" + tag)
            conn.putheader("Cookie", "theme=dark")
            conn.putheader("Cookie", "%s=%s" % (COOKIE, cookie))
            conn.endheaders()
            resp = conn.getresponse()
            status = resp.status
            resp.read()
        finally:
            conn.close()
        got = [s["cookie"] for s in guard.backend.seen(tag)]
        assert not any(cookie in (c or "") for c in got), \
            "the backend received a revoked session cookie sent in a second Cookie line: %r (status %d)" % (
                got, status)

    def test_replayed_token_changes_nothing(self, guard):
        sub = uid("dave")
        old = guard.login("/app/", sid=uid("d1"), sub=sub)
        tok, claims = guard.token(sub=sub)
        mark = guard.h.log_mark()
        harness.assert_ok(guard.post(tok))
        guard.h.wait_log(harness.LOG_ACCEPTED, claims["jti"], since=mark)
        assert TAG_REPLAY not in guard.h.log_since(mark)
        guard.refused("/app/", old)
        new = guard.login("/app/", sid=uid("d2"), sub=sub)
        mark = guard.h.log_mark()
        r = guard.post(tok)
        harness.assert_ok(r)
        guard.h.wait_log(TAG_REPLAY, claims["jti"], since=mark)
        # the replay did not move the sub logout's time past the new session
        guard.works("/app/", new)

    def test_replayed_sid_token(self, guard):
        sid = uid("sid")
        cookie = guard.login("/app/", sid=sid)
        tok, claims = guard.token(sid=sid)
        harness.assert_ok(guard.post(tok))
        mark = guard.h.log_mark()
        harness.assert_ok(guard.post(tok))
        line = guard.h.wait_log(TAG_REPLAY, since=mark)
        assert claims["jti"] in line and ISSUER in line, line
        guard.refused("/app/", cookie)


# ---------------------------------------------------------------------------
# BCLOnRevoked, BCLCookiePath/Domain
# ---------------------------------------------------------------------------

class TestOnRevoked:
    def test_default_is_deny_401(self, guard):
        sid = uid("sid")
        cookie = guard.login("/app/", sid=sid)
        guard.logout(sid=sid)
        guard.refused("/app/", cookie, status=401)

    def test_pass_lets_an_anonymous_request_through(self, guard):
        sid = uid("sid")
        cookie = guard.login("/pass/", sid=sid)
        guard.works("/pass/", cookie)
        guard.logout(sid=sid)
        mark = guard.h.log_mark()
        r, tag = guard.get("/pass/", cookie="theme=dark; %s=%s; lang=en" % (COOKIE, cookie))
        assert r.status_code == 200, r.status_code
        seen = guard.backend.seen(tag)
        assert len(seen) == 1, seen
        assert COOKIE not in (seen[0]["cookie"] or ""), seen
        assert cookie not in (seen[0]["cookie"] or ""), seen
        # the other cookies still reach the app
        assert "theme=dark" in seen[0]["cookie"] and "lang=en" in seen[0]["cookie"], seen
        assert_expiring(r)
        guard.h.wait_log(TAG_REVOKED, since=mark)
        # only the session cookie: the Cookie header is removed entirely
        r, tag = guard.get("/pass/", cookie=cookie)
        assert r.status_code == 200
        assert guard.backend.seen(tag)[0]["cookie"] is None
        assert_expiring(r)

    def test_pass_and_the_app_starts_a_new_session_at_once(self, guard):
        sid = uid("sid")
        old = guard.login("/pass/", sid=sid)
        guard.logout(sid=sid)
        sid2 = uid("sid")
        r, tag = guard.get("/pass/", "login", cookie=old, params={"sid": sid2})
        assert r.status_code == 200
        assert guard.backend.seen(tag)[0]["cookie"] is None
        assert_no_bind_header(r)
        # the app's new cookie wins over the module's expiring one
        new = new_session_value(r)
        assert new != old
        guard.works("/strict/", new)
        guard.logout(sid=sid2)
        guard.refused("/app/", new)

    def test_pass_revoked_cookie_stays_revoked_when_the_app_expires_it(self, guard):
        """In pass mode the app sees an anonymous request; if it answers by
        expiring its cookie (a logout page does), the revoked cookie must
        not become an unknown one that BCLUnboundSession allow lets through."""
        sid = uid("sid")
        cookie = guard.login("/pass/", sid=sid)
        guard.logout(sid=sid)
        r, tag = guard.get("/pass/", "logout-local", cookie=cookie)
        assert r.status_code == 200
        assert guard.backend.seen(tag)[0]["cookie"] is None
        guard.refused("/app/", cookie)

    def test_pass_revoked_cookie_not_rebound_by_a_binding_header(self, guard):
        """A response that names a session without setting a cookie binds
        the request's cookie, but not a revoked one the app never saw."""
        sid = uid("sid")
        cookie = guard.login("/pass/", sid=sid)
        guard.logout(sid=sid)
        r, tag = guard.get("/pass/", "bind", cookie=cookie, params={"sid": uid("fresh")})
        assert r.status_code == 200
        assert guard.backend.seen(tag)[0]["cookie"] is None
        assert_no_bind_header(r)
        guard.refused("/app/", cookie)

    def test_pass_revoked_cookie_not_inherited_by_rotation(self, guard):
        sid = uid("sid")
        cookie = guard.login("/pass/", sid=sid)
        guard.logout(sid=sid)
        r, _ = guard.get("/pass/", "rotate", cookie=cookie)
        assert r.status_code == 200
        new = new_session_value(r)
        guard.refused("/strict/", new, tag=TAG_UNBOUND)
        guard.refused("/app/", cookie)

    def test_deny_with_status(self, guard):
        sid = uid("sid")
        cookie = guard.login("/deny403/", sid=sid)
        guard.works("/deny403/", cookie)
        guard.logout(sid=sid)
        guard.refused("/deny403/", cookie, status=403)

    def test_redirect(self, guard):
        sid = uid("sid")
        cookie = guard.login("/redir/", sid=sid)
        guard.works("/redir/", cookie)
        guard.logout(sid=sid)
        r = guard.refused("/redir/", cookie, status=302)
        assert r.headers.get("Location") == REDIRECT_URL, r.headers

    def test_cookie_path_and_domain(self, guard):
        sid = uid("sid")
        cookie = guard.login("/cpath/", sid=sid)
        guard.works("/cpath/", cookie)
        guard.logout(sid=sid)
        guard.refused("/cpath/", cookie, path="/cpath/", domain="example.test")
        # the same session at a location without those directives: defaults
        guard.refused("/app/", cookie, path="/", domain=None)


# ---------------------------------------------------------------------------
# BCLUnboundSession
# ---------------------------------------------------------------------------

class TestUnbound:
    def test_deny_refuses_unknown_cookie_allow_lets_it_through(self, guard):
        unknown = "never-bound-" + uuid.uuid4().hex
        guard.refused("/strict/", unknown, status=401, tag=TAG_UNBOUND)
        guard.works("/app/", unknown)

    def test_deny_still_lets_anonymous_requests_and_logins_through(self, guard):
        r, tag = guard.get("/strict/")
        assert r.status_code == 200
        assert len(guard.backend.seen(tag)) == 1
        assert set_cookies(r) == []
        cookie = guard.login("/strict/", sid=uid("sid"))
        guard.works("/strict/", cookie)

    def test_cookie_set_without_binding_header_is_unbound(self, guard):
        r, _ = guard.get("/strict/", "login-nohdr")
        assert r.status_code == 200
        cookie = new_session_value(r)
        guard.refused("/strict/", cookie, tag=TAG_UNBOUND)


# ---------------------------------------------------------------------------
# rotation, local logout, malformed binding headers
# ---------------------------------------------------------------------------

class TestLifecycle:
    def test_rotation_inherits_the_binding(self, guard):
        sid = uid("sid")
        c1 = guard.login("/app/", sid=sid, sub=uid("erin"))
        r, _ = guard.get("/app/", "rotate", cookie=c1)
        assert r.status_code == 200
        assert_no_bind_header(r)
        c2 = new_session_value(r)
        assert c2 != c1
        guard.works("/strict/", c2)          # bound, not unknown
        r, _ = guard.get("/strict/", "rotate", cookie=c2)
        assert r.status_code == 200
        c3 = new_session_value(r)
        guard.works("/strict/", c3)
        guard.logout(sid=sid)
        for c in (c1, c2, c3):
            guard.refused("/app/", c)

    def test_rotation_of_a_sub_session_keeps_its_start_time(self, guard):
        sub = uid("frank")
        c1 = guard.login("/app/", sub=sub)
        guard.logout(sub=sub)
        guard.refused("/app/", c1)
        # a session begun after the logout, rotated: lives
        c2 = guard.login("/app/", sub=sub)
        r, _ = guard.get("/app/", "rotate", cookie=c2)
        c3 = new_session_value(r)
        guard.works("/app/", c3)

    def test_unbound_rotation_stays_unbound(self, guard):
        r, _ = guard.get("/app/", "login-nohdr")
        c1 = new_session_value(r)
        r, _ = guard.get("/app/", "rotate", cookie=c1)
        c2 = new_session_value(r)
        guard.refused("/strict/", c2, tag=TAG_UNBOUND)

    @pytest.mark.parametrize("how", ["max-age", "expires", "empty"])
    def test_local_logout_drops_the_binding(self, guard, how):
        sid = uid("sid")
        cookie = guard.login("/strict/", sid=sid)
        guard.works("/strict/", cookie)
        mark = guard.h.log_mark()
        r, tag = guard.get("/strict/", "logout-local", cookie=cookie, params={"how": how})
        assert r.status_code == 200
        assert len(guard.backend.seen(tag)) == 1
        # the app's own expiry reaches the client untouched
        mine = [cookie_attrs(c) for c in set_cookies(r) if cookie_attrs(c)[0] == COOKIE]
        assert len(mine) == 1, set_cookies(r)
        guard.h.wait_log(TAG_DROPPED, since=mark)
        guard.refused("/strict/", cookie, tag=TAG_UNBOUND)
        guard.works("/app/", cookie)          # unknown, allowed there
        # a later logout of that sid does not resurrect anything
        guard.logout(sid=sid)
        guard.refused("/strict/", cookie, tag=TAG_UNBOUND)

    @pytest.mark.parametrize("kind", sorted(guard_app.BAD_HEADERS))
    def test_malformed_binding_header(self, guard, kind):
        mark = guard.h.log_mark()
        r, tag = guard.get("/strict/", "badheader", params={"kind": kind})
        assert r.status_code == 200
        assert_no_bind_header(r)
        cookie = new_session_value(r)
        line = guard.h.wait_log(TAG_BAD_HEADER, since=mark)
        assert "[backchannel_logout:warn]" in line, line
        guard.refused("/strict/", cookie, tag=TAG_UNBOUND)

    def test_malformed_header_on_a_live_session_does_not_rebind(self, guard):
        sid = uid("sid")
        c1 = guard.login("/app/", sid=sid)
        r, _ = guard.get("/app/", "badheader", cookie=c1, params={"kind": "noiss"})
        assert r.status_code == 200
        assert_no_bind_header(r)
        c2 = new_session_value(r)
        # no binding was made for the new cookie: not bound to anything
        guard.refused("/strict/", c2, tag=TAG_UNBOUND)
        guard.works("/strict/", c1)


# ---------------------------------------------------------------------------
# binding from the environment
# ---------------------------------------------------------------------------


class TestEnvBinding:
    def test_sid_revocation(self, guard):
        sub = uid("gina")
        s1, s2 = uid("sid1"), uid("sid2")
        cookie = "oidc-" + uuid.uuid4().hex
        guard.works("/env/", cookie, headers=env_headers(sid=s1, sub=sub))
        guard.works("/env/", cookie, headers=env_headers(sid=s2, sub=sub))
        guard.logout(sid=s1, sub=sub)
        guard.refused("/env/", cookie, headers=env_headers(sid=s1, sub=sub))
        # another cookie value, same identity: still the revoked session
        guard.refused("/env/", "other-" + uuid.uuid4().hex, headers=env_headers(sid=s1, sub=sub))
        guard.works("/env/", cookie, headers=env_headers(sid=s2, sub=sub))

    def test_sub_revocation_by_iat(self, guard):
        sub = uid("hank")
        now = int(time.time())
        logout_iat = now - 10
        guard.logout(sub=sub, iat=logout_iat)
        cookie = "oidc-" + uuid.uuid4().hex
        # began before (or at) the logout, on the OP's clock: revoked
        for iat in (logout_iat - 3600, logout_iat - 1, logout_iat):
            guard.refused("/env/", cookie, headers=env_headers(sid=uid("s"), sub=sub, iat=iat))
        # no iat: counts as begun before
        guard.refused("/env/", cookie, headers=env_headers(sid=uid("s"), sub=sub))
        guard.refused("/env/", cookie, headers=env_headers(sub=sub))
        # began after: lives
        for iat in (logout_iat + 1, logout_iat + 3600):
            guard.works("/env/", cookie, headers=env_headers(sid=uid("s"), sub=sub, iat=iat))
        # another user with an old iat: lives
        guard.works("/env/", cookie, headers=env_headers(sub=uid("ivy"), iat=logout_iat - 3600))

    def test_later_sub_logout_moves_the_cutoff(self, guard):
        sub = uid("jack")
        now = int(time.time())
        guard.logout(sub=sub, iat=now - 50)
        cookie = "oidc-" + uuid.uuid4().hex
        guard.works("/env/", cookie, headers=env_headers(sub=sub, iat=now - 30))
        guard.logout(sub=sub, iat=now - 20)
        guard.refused("/env/", cookie, headers=env_headers(sub=sub, iat=now - 30))
        # an older token arriving late does not move it back
        guard.logout(sub=sub, iat=now - 40)
        guard.refused("/env/", cookie, headers=env_headers(sub=sub, iat=now - 30))
        guard.works("/env/", cookie, headers=env_headers(sub=sub, iat=now - 10))

    def test_no_identity_is_unbound(self, guard):
        cookie = "oidc-" + uuid.uuid4().hex
        guard.works("/env/", cookie)                         # no env at all
        guard.works("/env/", cookie, headers=env_headers(iat=1))  # iss only

    def test_custom_variable_names(self, guard):
        sid, sub = uid("sid"), uid("kate")
        cookie = "oidc-" + uuid.uuid4().hex
        hdrs = env_headers(sid=sid, sub=sub, iss=ISSUER)
        guard.works("/envnames/", cookie, headers=hdrs)
        guard.logout(sid=sid)
        guard.refused("/envnames/", cookie, headers=hdrs)
        # another issuer's session with the same sid is not that session
        guard.works("/envnames/", cookie,
                    headers=env_headers(sid=sid, sub=sub, iss="https://other-op.example.test"))
        # the default OIDC_CLAIM_* names are not read there
        guard.works("/envnames/", cookie, headers=env_headers(sid=uid("s"), sub=sub))


# ---------------------------------------------------------------------------
# concurrency
# ---------------------------------------------------------------------------

class TestConcurrency:
    def test_parallel_logouts_and_requests(self, guard):
        n_revoked, n_live, n_other = 40, 40, 160
        threads = 8
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads)
        try:
            sub = uid("crowd")
            revoked_ids = [uid("rv") for _ in range(n_revoked)]
            live_ids = [uid("lv") for _ in range(n_live)]
            logins = list(pool.map(lambda s: guard.login("/app/", sid=s, sub=sub),
                                   revoked_ids + live_ids))
            revoked = dict(zip(revoked_ids, logins[:n_revoked]))
            live = dict(zip(live_ids, logins[n_revoked:]))
            toks = [guard.token(sid=s, sub=sub)[0] for s in revoked_ids]
            toks += [guard.token(sid=uid("nobody"), sub=uid("nobody"))[0] for _ in range(n_other)]
            toks.sort(key=lambda t: hash(t))

            def post(tok):
                return guard.post(tok).status_code

            def use(cookie):
                r, _ = guard.get("/app/", cookie=cookie)
                return r.status_code

            posts = [pool.submit(post, t) for t in toks]
            uses = [pool.submit(use, c) for c in list(live.values()) * 3]
            races = [pool.submit(use, c) for c in revoked.values()]
            statuses = [f.result() for f in posts]
            assert statuses == [200] * len(toks), sorted(set(statuses))
            assert [f.result() for f in uses] == [200] * len(uses)
            assert set(f.result() for f in races) <= {200, 401}

            after_revoked = list(pool.map(use, revoked.values()))
            after_live = list(pool.map(use, live.values()))
            assert after_revoked == [401] * n_revoked, after_revoked
            assert after_live == [200] * n_live, after_live
        finally:
            pool.shutdown(wait=True)
        # spot checks with the full assertions (backend, headers)
        for c in list(revoked.values())[:3]:
            guard.refused("/app/", c)
        for c in list(live.values())[:3]:
            guard.works("/app/", c)
        if guard.h.mpm == "prefork":
            children = children_of(guard.h.proc.pid)
            assert len(children) >= 2, "prefork should run several children: %r" % children

    def test_parallel_logouts_of_one_user(self, guard):
        """Many sub logouts of one user at once (the same revocation record
        updated concurrently) and replays of the same tokens."""
        sub = uid("storm")
        cookies = [guard.login("/app/", sid=uid("s"), sub=sub) for _ in range(5)]
        toks = [guard.token(sub=sub)[0] for _ in range(30)]
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=8)
        try:
            statuses = list(pool.map(lambda t: guard.post(t).status_code, toks + toks))
        finally:
            pool.shutdown(wait=True)
        assert statuses == [200] * 60
        for c in cookies:
            guard.refused("/app/", c)
        after = guard.login("/app/", sid=uid("s"), sub=sub)
        guard.works("/app/", after)


# ---------------------------------------------------------------------------
# graceful restart
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("mpm", MPMS)
def test_revocations_and_bindings_survive_graceful_restart(mpm, backend, op_keys):
    locs = {k: LOCATIONS[k] for k in ("/app/", "/strict/")}
    h = start_guard_httpd(mpm, backend, op_keys, locations=locs)
    try:
        g = Guard(h, backend, op_keys)
        sub = uid("lena")
        s_dead, s_live, s_later = uid("dead"), uid("live"), uid("later")
        dead = g.login("/app/", sid=s_dead, sub=sub)
        alive = g.login("/app/", sid=s_live, sub=sub)
        later = g.login("/app/", sid=s_later, sub=sub)
        tok, claims = g.logout(sid=s_dead)
        g.refused("/app/", dead)
        pid = h.proc.pid

        generations = h.log_text().count("resuming normal operations")
        mark = h.log_mark()
        os.kill(pid, signal.SIGUSR1)
        h.wait_log("resuming normal operations", since=mark, timeout=15)
        assert h.log_text().count("resuming normal operations") == generations + 1
        assert h.running and h.proc.pid == pid
        # the new generation answers
        deadline = time.time() + 10
        while True:
            try:
                r = browser().get(h.url("/"), timeout=5)
                if r.status_code in (200, 403, 404):
                    break
            except Exception:
                pass
            assert time.time() < deadline, "httpd did not answer after the graceful restart"
            time.sleep(0.1)

        g = Guard(h, backend, op_keys)       # fresh connections: new children
        g.refused("/app/", dead)
        g.works("/app/", alive)
        g.works("/strict/", alive)           # the binding survived too
        # the jti survived: a replay is recognised
        mark = h.log_mark()
        harness.assert_ok(g.post(tok))
        h.wait_log(TAG_REPLAY, claims["jti"], since=mark)
        # the store still takes new revocations
        g.logout(sid=s_later)
        g.refused("/app/", later)
        g.works("/app/", alive)
        assert "damaged" not in h.log_text()
        assert_no_crash(h)
    finally:
        h.cleanup()


# ---------------------------------------------------------------------------
# a full store
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("mpm", MPMS)
def test_full_store_refuses_new_records_and_keeps_old_ones(mpm, backend, op_keys):
    """capacity=16: 4 bindings (4 records) + 3 logouts of bound sessions
    (6) + 3 other logouts (6) = 16; the next logout gets 503."""
    locs = {k: LOCATIONS[k] for k in ("/app/", "/strict/")}
    h = start_guard_httpd(mpm, backend, op_keys, globals_="BCLStore shm capacity=16\n",
                          locations=locs)
    try:
        g = Guard(h, backend, op_keys)
        sids = [uid("s%d" % i) for i in range(4)]
        cookies = [g.login("/app/", sid=s) for s in sids]            # 4 records
        accepted = []
        for s in sids[:3]:                                             # 6 records
            accepted.append(g.logout(sid=s))
        for _ in range(3):                                             # 6 records
            accepted.append(g.logout(sid=uid("filler")))
        for c in cookies[:3]:
            g.refused("/app/", c)
        g.works("/app/", cookies[3])

        # full: the next logout is refused with 503, and logged
        tok, claims = g.token(sid=sids[3])
        mark = h.log_mark()
        r = g.post(tok)
        assert r.status_code == 503, (r.status_code, r.text)
        assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
        assert r.headers.get("Content-Type", "").split(";")[0].strip() == "application/json"
        body = json.loads(r.text)
        assert body.get("error") == "temporarily_unavailable", body
        assert isinstance(body.get("error_description"), str), body
        assert tok not in r.text
        line = h.wait_log(TAG_STORE_FAILED, claims["jti"], since=mark)
        assert "full" in line, line
        # the usage warnings: 80% and 100%, each logged once
        usage = [l for l in h.log_text().splitlines() if "BCL0401" in l]
        assert any("80%" in l for l in usage) and any("is full" in l for l in usage), usage
        assert len(usage) == 2, usage
        # ...again (the OP retries): still 503, never 200
        r = g.post(tok)
        assert r.status_code == 503
        # a sub logout needs room too
        r = g.post(g.token(sub=uid("someone"))[0])
        assert r.status_code == 503

        # every revocation accepted before is still enforced
        for c in cookies[:3]:
            g.refused("/app/", c)
        # the session whose logout could not be stored still works (the OP
        # was told 503 and will retry)
        g.works("/app/", cookies[3])
        # a replay of an accepted token: still 200, recognised
        mark = h.log_mark()
        harness.assert_ok(g.post(accepted[0][0]))
        h.wait_log(TAG_REPLAY, accepted[0][1]["jti"], since=mark)

        # a login when full: the app still answers, no binding can be stored
        mark = h.log_mark()
        r, _ = g.get("/app/", "login", params={"sid": uid("late")})
        assert r.status_code == 200
        assert_no_bind_header(r)
        late = new_session_value(r)
        h.wait_log(TAG_STORE_FAILED, since=mark)
        g.refused("/strict/", late, tag=TAG_UNBOUND)
        for c in cookies[:3]:
            g.refused("/app/", c)
        assert_no_crash(h)
    finally:
        h.cleanup()


# An OpenSSL configuration under which SHA-256 cannot be fetched: every
# algorithm must come from a FIPS provider, and none is loaded. The guard
# then cannot compute any cookie or identity key.
NO_SHA256_CNF = """openssl_conf = openssl_init
[openssl_init]
alg_section = evp_properties
[evp_properties]
default_properties = "fips=yes"
"""


def test_a_key_that_cannot_be_computed_fails_closed(backend, monkeypatch):
    """No stand-in key when hashing fails: a request with a session cookie
    is answered 503 without reaching the app (cookies untouched, BCL0230),
    whatever BCLStoreUnavailable says; a value the app sets is not bound
    (BCL0231) and the response goes out. (One MPM: the path is the same.)"""
    h = harness.Httpd(mpm="event", modules=MODULES, loglevel=LOGLEVEL)
    try:
        cnf = h.write("no-sha256.cnf", NO_SHA256_CNF)
        body = guarded_location("/app/", backend.port)
        body += guarded_location("/open/", backend.port, extra=["BCLStoreUnavailable open"])
        body += guarded_location("/env/", backend.port, extra=ENV_FROM_HEADERS, bind="env")
        h.configure(body)
        monkeypatch.setenv("OPENSSL_CONF", cnf)
        h.start()
        monkeypatch.delenv("OPENSSL_CONF")
        g = Guard(h, backend, None)
        # each child says at start that it has no SHA-256
        assert "SHA-256 cannot be fetched" in h.wait_log("BCL0240")

        # the app sets a value with a binding header: sent, not bound (the
        # header's identity cannot be hashed)
        mark = h.log_mark()
        r, _ = g.get("/app/", "login", params={"sid": uid("s")})
        assert r.status_code == 200, (r.status_code, r.text)
        assert_no_bind_header(r)
        value = new_session_value(r)
        line = h.wait_log("BCL0231", since=mark)
        assert BIND_HEADER in line and value not in line, line
        assert "BCL0202" not in h.log_since(mark)
        # ...and without one (the value itself cannot be hashed)
        mark = h.log_mark()
        r, _ = g.get("/app/", "login-nohdr")
        assert r.status_code == 200, (r.status_code, r.text)
        other = new_session_value(r)
        line = h.wait_log("BCL0231", "cookie " + COOKIE, since=mark)
        assert other not in line, line
        assert "BCL0202" not in h.log_since(mark)

        # that value (or any) cannot be looked up: 503, never to the app
        for loc, headers in (("/app/", None), ("/open/", None),
                             ("/env/", {"X-Test-Sid": uid("s")})):
            mark = h.log_mark()
            r, tag = g.get(loc, cookie=value, headers=headers)
            assert r.status_code == 503, (loc, r.status_code, r.text[:300])
            assert backend.seen(tag) == [], "the backend received a request it could not check"
            assert set_cookies(r) == [], "a fault of ours must not expire the user's cookies"
            line = h.wait_log("BCL0230", since=mark)
            assert value not in line, line

        # a request without a session cookie is not affected
        r, tag = g.get("/app/")
        assert r.status_code == 200, (r.status_code, r.text[:300])
        assert len(backend.seen(tag)) == 1
        assert_no_crash(h)
    finally:
        h.cleanup()
