"""The demo in a real browser: headless Chromium (Debian's /usr/bin/chromium)
driven by playwright-core.

- walk.mjs: sign in, "signed in as", sign out at the provider, and back at
  the app: the session is gone.
- frontchannel.mjs: sign in at the real OP, then an OP's front-channel
  logout page (op_logout_page.py: an iframe with the app's
  frontchannel-logout URL) ends the session in that browser and for every
  copy of its cookie.

On failure the walks write a screenshot and print its path ("screenshot: ...")."""
import json
import os
import re
import subprocess
import sys

import pytest

import harness
from op_logout_page import LogoutPage
from stack import BROWSER_DIR, NODE, REPO, UserAgent, ensure_browser_installed, node_env

sys.path.insert(0, os.path.join(REPO, "tools"))
import demo  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def stack():
    assert os.path.exists(CHROMIUM), "Chromium is not installed (apt-get install chromium)"
    ensure_browser_installed()
    s = demo.demo_stack(frontchannel=True)
    try:
        yield s
    finally:
        s.cleanup()


def run_walk(script, args):
    """Runs browser/SCRIPT with Debian's Chromium; returns its output, which
    the test prints (pytest shows it on failure) and which must end well."""
    p = subprocess.run([NODE, os.path.join(BROWSER_DIR, script)] + args, cwd=BROWSER_DIR,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                       timeout=180, env=dict(node_env(), CHROMIUM=CHROMIUM))
    out = p.stdout.decode(errors="replace")
    print(out)
    assert p.returncode == 0, "%s failed (see the screenshot path below):\n%s" % (script, out)
    return out


def test_browser_walk_of_the_demo(stack, tmp_path):
    log_mark, op_mark = stack.httpd.log_mark(), stack.op.mark()
    args = [stack.app_url("app"), "--user", "browser-user", "--out", str(tmp_path)]
    if stack.status_url:
        args.append("--status")
    out = run_walk("walk.mjs", args)
    assert "session gone after the OP logout" in out
    stack.op.wait_line("backchannel.success", "client=app ", "sub=browser-user", since=op_mark)
    stack.httpd.wait_log("BCL0100", "sub=browser-user ", since=log_mark)
    stack.httpd.wait_log("BCL0200", "action=redirect", since=log_mark)


@pytest.fixture
def logout_page(stack):
    """The OP's front-channel logout page, knowing the app's front-channel URL."""
    app = stack.clients["app"]
    page = LogoutPage(stack.op.issuer, {"app": stack.base + app.frontchannel_path},
                      allowed_redirect_prefix=stack.base + "/").start()
    try:
        yield page
    finally:
        page.stop()


def replay(stack, cookie_value):
    """A copy of the app's cookie, sent from outside the browser."""
    return harness.client().get(stack.app_url("app"), headers={"Cookie": "DEMOSESSION=" + cookie_value},
                                allow_redirects=False, timeout=10)


def test_frontchannel_logout_page_in_the_browser(stack, logout_page, user, tmp_path):
    """sid + iss from a page on another site (localhost, the app on
    127.0.0.1): the browser sends no cookie to the iframe, the session ends
    anyway. Without sid: from another site nothing is revoked (the browser
    withholds the SameSite=Lax cookie: docs/frontchannel.md, "Third-party
    cookies and the iframe"); from the app's own site the cookie's session
    is revoked. Another user's session lives through all of it."""
    app_url = stack.app_url("app")
    other = UserAgent()
    page = other.login(app_url, user + "-other")
    assert page.status_code == 200 and "signed in as" in page.text, page.text[:500]
    log_mark = stack.httpd.log_mark()

    out = run_walk("frontchannel.mjs", [
        app_url, "--cross", logout_page.url("localhost"), "--same", logout_page.url("127.0.0.1"),
        "--sid-user", user + "-sid", "--cookie-user", user + "-cookie", "--out", str(tmp_path)])
    assert "front-channel walk: ok" in out
    result = json.loads(re.search(r"^fc-result (.*)$", out, re.M).group(1))
    hosts = sorted({host.rsplit(":", 1)[0] for host, _, status in logout_page.requests if status == 200})
    assert hosts == ["127.0.0.1", "localhost"], logout_page.requests

    # what the server recorded: the sid with the iss the page sent; nothing
    # for the cross-site call without sid; the cookie's session same-site
    line = stack.httpd.wait_log("BCL0800", "sid=%s" % result["sid_user"]["sid"], since=log_mark)
    assert "iss=%s " % stack.op.issuer in line and "no iss in the request" not in line, line
    stack.httpd.wait_log("BCL0802", "(0 cookie(s) of BCLSessionCookie sent)", since=log_mark)
    stack.httpd.wait_log("BCL0801", "session cookie DEMOSESSION's session revoked (its sid)", since=log_mark)
    assert result["cookie_user"]["cookie"] not in stack.httpd.log_since(log_mark)

    # copies of both cookies, from outside the browser: refused by the guard
    for who in ("sid_user", "cookie_user"):
        mark = stack.httpd.log_mark()
        r = replay(stack, result[who]["cookie"])
        assert r.status_code == 302 and r.headers["Location"].endswith("/app/signed-out"), \
            (who, r.status_code, r.headers)
        stack.httpd.wait_log("BCL0200", "action=redirect", since=mark)

    # the other user's session lives
    me = other.get(app_url + "api/me")
    assert me.status_code == 200 and me.json()["signed_in"] and me.json()["sub"] == user + "-other", me.text
