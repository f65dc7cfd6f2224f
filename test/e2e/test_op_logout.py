"""A real OP logs a real user out: node-oidc-provider's end_session with
logout=yes sends its back-channel logout POSTs to our receiver, and the next
request of the app's session is refused at the proxy.

One stack for the module: an OP with six clients, one demo app per client
behind httpd, one receiver location per client.
"""
import pytest

from conftest import start_stack
from stack import ClientSpec, UserAgent, expired_cookies, find_link
import harness

CLIENTS = [
    # id, alg, sid in tokens, encrypted, BCLOnRevoked
    ClientSpec("app1", alg="RS256", on_revoked="deny 401"),
    ClientSpec("app2", alg="ES256", on_revoked="redirect /app2/signed-out"),
    ClientSpec("hs", alg="HS256", on_revoked="pass"),
    ClientSpec("enc", alg="RS256", encrypted=True, on_revoked="deny 403"),
    # backchannel_logout_session_required false: tokens name the user only
    ClientSpec("subonly", alg="RS256", session_required=False),
    # the same kind of client, but the receiver insists on sid
    ClientSpec("strict", alg="RS256", session_required=False, require_sid=True),
]


@pytest.fixture(scope="module")
def stack():
    s = start_stack(CLIENTS)
    try:
        yield s
    finally:
        s.cleanup()


def login(stack, ua, cid, user):
    """Signs `user` in to app `cid`; checks the page and returns /api/me."""
    page = ua.login(stack.app_url(cid), user)
    assert page.status_code == 200, page.text[:500]
    assert page.url == stack.app_url(cid), page.url
    assert "signed in as <b id=\"user\">%s</b>" % user in page.text, page.text[:800]
    assert ua.cookie(stack.clients[cid].cookie), "the app set no session cookie"
    assert "BCL-Session" not in page.headers
    me = ua.get(stack.app_url(cid, "api/me")).json()
    assert me["signed_in"] and me["sub"] == user, me
    me["page"] = page
    return me


def logout_at_op(stack, ua, cid, page):
    """Clicks "sign out at the provider" on the app page and confirms at the
    OP; returns (OP output mark, httpd log mark) taken before."""
    link = find_link(page.text, "signout")
    assert link and link.startswith(stack.op.issuer + "/session/end"), link
    marks = (stack.op.mark(), stack.httpd.log_mark())
    r = ua.logout_at_op(link)
    assert r.status_code in (302, 303), r.status_code
    assert r.headers["Location"].startswith(stack.app_url(cid)), r.headers["Location"]
    return marks


def assert_delivered(stack, marks, cid, user, sid=None, alg="RS256", encrypted=False):
    """The OP reports the back-channel POST as delivered (our receiver said
    200) and our log has the BCL0100 line for it."""
    op_mark, log_mark = marks
    stack.op.wait_line("backchannel.success", "client=%s " % cid, "sub=%s" % user, since=op_mark)
    needles = [harness.LOG_ACCEPTED, "sub=%s " % user, "alg=%s" % alg, "iss=%s " % stack.op.issuer]
    if sid:
        needles.append("sid=%s " % sid)
    line = stack.httpd.wait_log(*needles, since=log_mark)
    assert ("encrypted" in line) == encrypted, line
    if not sid:
        assert "sid=- " in line or "sid=(null)" in line or "sid= " in line, line
    return line


def assert_refused_and_expired(r, cookie, status):
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert cookie in expired_cookies(r), r.headers
    assert "no-store" in r.headers.get("Cache-Control", "")


@pytest.mark.parametrize("cid,alg,encrypted", [
    ("app1", "RS256", False),
    ("app2", "ES256", False),
    ("hs", "HS256", False),
    ("enc", "RS256", True),
])
def test_logout_at_the_op_ends_the_apps_session(stack, user, cid, alg, encrypted):
    ua = UserAgent()
    me = login(stack, ua, cid, user)
    assert me["sid"], "a session_required client gets sid in its ID token"
    # the app works: the session is used several times
    for _ in range(2):
        again = ua.get(stack.app_url(cid, "api/me")).json()
        assert again["signed_in"] and again["sid"] == me["sid"], again
    assert again["visits"] >= 3

    marks = logout_at_op(stack, ua, cid, me["page"])
    assert_delivered(stack, marks, cid, user, sid=me["sid"], alg=alg, encrypted=encrypted)

    log_mark = stack.httpd.log_mark()
    cookie = stack.clients[cid].cookie
    r = ua.get(stack.app_url(cid, "api/me"))
    spec = stack.clients[cid]
    if spec.on_revoked.startswith("deny"):
        assert_refused_and_expired(r, cookie, int(spec.on_revoked.split()[1]))
    elif spec.on_revoked.startswith("redirect"):
        assert_refused_and_expired(r, cookie, 302)
        assert r.headers["Location"].endswith("/%s/signed-out" % cid), r.headers
        page = ua.follow(r)
        assert "not signed in" in page.text, page.text[:500]
    else:  # pass: the app answers as for an anonymous request
        assert_refused_and_expired(r, cookie, 200)
        assert r.json() == {"signed_in": False, "cookie_present": False}, r.text
    stack.httpd.wait_log("BCL0200", "action=%s" % spec.on_revoked.split()[0], since=log_mark)
    assert ua.cookie(cookie) is None, "the browser still holds the expired cookie"


def test_a_stolen_cookie_is_refused_and_a_new_login_works(stack, user):
    ua = UserAgent()
    me = login(stack, ua, "app1", user)
    stolen = ua.cookie("APP1SESSION")
    marks = logout_at_op(stack, ua, "app1", me["page"])
    assert_delivered(stack, marks, "app1", user, sid=me["sid"])

    thief = harness.client()
    r = thief.get(stack.app_url("app1", "api/me"), headers={"Cookie": "APP1SESSION=" + stolen},
                  allow_redirects=False, timeout=10)
    assert_refused_and_expired(r, "APP1SESSION", 401)

    # the user's own browser is refused too (and drops the cookie); then
    # signs in again: a new OP session, a new sid, a live app session
    assert_refused_and_expired(ua.get(stack.app_url("app1", "api/me")), "APP1SESSION", 401)
    again = login(stack, ua, "app1", user)
    assert again["sid"] != me["sid"]
    assert ua.get(stack.app_url("app1", "api/me")).json()["signed_in"]


def test_one_op_logout_ends_the_sessions_of_two_apps(stack, user):
    ua = UserAgent()
    me1 = login(stack, ua, "app1", user)
    # second app, same OP session: no password asked again (consent only)
    before = len(ua.trace)
    me2 = login(stack, ua, "app2", user)
    posts = [t for t in ua.trace[before:] if t[0] == "POST"]
    assert len(posts) == 1, "expected only the consent form, got %s" % posts
    assert me1["sid"] and me2["sid"]

    marks = logout_at_op(stack, ua, "app1", me1["page"])
    assert_delivered(stack, marks, "app1", user, sid=me1["sid"])
    assert_delivered(stack, marks, "app2", user, sid=me2["sid"], alg="ES256")

    assert_refused_and_expired(ua.get(stack.app_url("app1", "api/me")), "APP1SESSION", 401)
    r = ua.get(stack.app_url("app2", "api/me"))
    assert_refused_and_expired(r, "APP2SESSION", 302)


def test_sub_only_client_ends_sessions_begun_before_the_logout(stack, user):
    ua = UserAgent()
    me = login(stack, ua, "subonly", user)
    assert not me["sid"], "no sid in the ID token of a client without session_required"
    marks = logout_at_op(stack, ua, "subonly", me["page"])
    assert_delivered(stack, marks, "subonly", user, sid=None)
    assert_refused_and_expired(ua.get(stack.app_url("subonly", "api/me")), "SUBONLYSESSION", 401)

    # a session that begins after the sub logout lives
    again = login(stack, ua, "subonly", user)
    r = ua.get(stack.app_url("subonly", "api/me"))
    assert r.status_code == 200 and r.json()["signed_in"], r.text
    assert r.json()["visits"] == again["visits"] + 1


def test_receiver_requiring_sid_refuses_a_sub_only_token(stack, user):
    """A client registered without backchannel_logout_session_required, a
    receiver with BCLRequireSid On: the OP is told 400 (and reports the
    failed delivery), and the app session is not ended."""
    ua = UserAgent()
    me = login(stack, ua, "strict", user)
    op_mark, log_mark = logout_at_op(stack, ua, "strict", me["page"])
    line = stack.op.wait_line("backchannel.error", "client=strict ", since=op_mark)
    assert "400" in line, line
    stack.httpd.wait_log("BCL0101", "reason=sid_required", since=log_mark)
    r = ua.get(stack.app_url("strict", "api/me"))
    assert r.status_code == 200 and r.json()["signed_in"], r.text
