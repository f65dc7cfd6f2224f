"""Companion mode: mod_auth_openidc signs users in, in front of an app that
keeps its own session cookie on top; the OP's back-channel logout URL is our
receiver, and the guard reads the identity mod_auth_openidc put in the
request environment (`BCLBindFrom env`: OIDC_CLAIM_iss, _sid, _sub, _iat).
After the OP logout the next request is refused by our guard, both cookies
are expired, and the next visit goes back to the OP.
"""
import os

import pytest

from conftest import start_stack
from stack import ClientSpec, UserAgent, expired_cookies, find_link
import harness

MOD_AUTH_OPENIDC = "/usr/lib/apache2/modules/mod_auth_openidc.so"
OIDC_COOKIE = "mod_auth_openidc_session"


@pytest.fixture(scope="module")
def stack():
    assert os.path.exists(MOD_AUTH_OPENIDC), \
        "mod_auth_openidc is not installed (apt-get install libapache2-mod-auth-openidc)"
    s = start_stack([ClientSpec("portal", mode="companion", on_revoked="redirect /portal/")])
    try:
        yield s
    finally:
        s.cleanup()


def sign_in(stack, ua, user):
    page = ua.login(stack.app_url("portal"), user, start=stack.app_url("portal"))
    assert page.status_code == 200, page.text[:500]
    assert 'signed in as <b id="user">%s</b>' % user in page.text, page.text[:800]
    assert ua.cookie(OIDC_COOKIE), "mod_auth_openidc set no session cookie"
    assert ua.cookie("PORTALSESSION"), "the app set no session cookie"
    return page


def test_first_visit_goes_to_the_op(stack):
    r = UserAgent().get(stack.app_url("portal"))
    assert r.status_code == 302
    assert r.headers["Location"].startswith(stack.op.issuer + "/auth?"), r.headers["Location"]


def test_op_logout_ends_both_sessions_and_the_next_visit_goes_to_the_op(stack, user):
    ua = UserAgent()
    page = sign_in(stack, ua, user)
    me = ua.get(stack.app_url("portal", "api/me")).json()
    assert me["signed_in"] and me["sub"] == user and me["sid"], me

    link = find_link(page.text, "signout")
    assert link and link.startswith(stack.op.issuer + "/session/end"), link
    op_mark, log_mark = stack.op.mark(), stack.httpd.log_mark()
    r = ua.logout_at_op(link)
    assert r.status_code in (302, 303)
    stack.op.wait_line("backchannel.success", "client=portal ", "sid=%s" % me["sid"], since=op_mark)
    stack.httpd.wait_log(harness.LOG_ACCEPTED, "sub=%s " % user, "sid=%s " % me["sid"], since=log_mark)

    # mod_auth_openidc still holds its own session: our guard refuses it
    log_mark = stack.httpd.log_mark()
    r = ua.get(stack.app_url("portal", "api/me"))
    assert r.status_code == 302, (r.status_code, r.text[:300])
    assert r.headers["Location"].endswith("/portal/"), r.headers
    gone = expired_cookies(r)
    assert "PORTALSESSION" in gone and OIDC_COOKIE in gone, r.headers
    stack.httpd.wait_log("BCL0200", "action=redirect", since=log_mark)
    assert ua.cookie(OIDC_COOKIE) is None and ua.cookie("PORTALSESSION") is None

    # the next visit carries no session: mod_auth_openidc sends it to the OP
    r = ua.get(stack.app_url("portal"))
    assert r.status_code == 302
    assert r.headers["Location"].startswith(stack.op.issuer + "/auth?"), r.headers["Location"]


def test_a_stolen_copy_of_both_cookies_is_refused(stack, user):
    ua = UserAgent()
    page = sign_in(stack, ua, user)
    stolen = "%s=%s; PORTALSESSION=%s" % (OIDC_COOKIE, ua.cookie(OIDC_COOKIE), ua.cookie("PORTALSESSION"))
    op_mark = stack.op.mark()
    ua.logout_at_op(find_link(page.text, "signout"))
    stack.op.wait_line("backchannel.success", "client=portal ", "sub=%s" % user, since=op_mark)
    r = harness.client().get(stack.app_url("portal", "api/me"), headers={"Cookie": stolen},
                             allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"].endswith("/portal/"), r.status_code
    assert OIDC_COOKIE in expired_cookies(r)
