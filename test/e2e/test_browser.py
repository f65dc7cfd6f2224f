"""The demo in a real browser: headless Chromium (Debian's /usr/bin/chromium)
driven by playwright-core walks sign in, "signed in as", sign out at the
provider, and back at the app: the session is gone. On failure walk.mjs
writes a screenshot and prints its path ("screenshot: ...")."""
import os
import subprocess
import sys

import pytest

from stack import BROWSER_DIR, NODE, REPO, ensure_browser_installed, node_env

sys.path.insert(0, os.path.join(REPO, "tools"))
import demo  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def stack():
    assert os.path.exists(CHROMIUM), "Chromium is not installed (apt-get install chromium)"
    ensure_browser_installed()
    s = demo.demo_stack()
    try:
        yield s
    finally:
        s.cleanup()


def test_browser_walk_of_the_demo(stack, tmp_path):
    log_mark, op_mark = stack.httpd.log_mark(), stack.op.mark()
    cmd = [NODE, os.path.join(BROWSER_DIR, "walk.mjs"), stack.app_url("app"),
           "--user", "browser-user", "--out", str(tmp_path)]
    if stack.status_url:
        cmd.append("--status")
    p = subprocess.run(cmd, cwd=BROWSER_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, timeout=180,
                       env=dict(node_env(), CHROMIUM=CHROMIUM))
    out = p.stdout.decode(errors="replace")
    print(out)
    assert p.returncode == 0, "browser walk failed (see the screenshot path below):\n" + out
    assert "session gone after the OP logout" in out
    stack.op.wait_line("backchannel.success", "client=app ", "sub=browser-user", since=op_mark)
    stack.httpd.wait_log("BCL0100", "sub=browser-user ", since=log_mark)
    stack.httpd.wait_log("BCL0200", "action=redirect", since=log_mark)
