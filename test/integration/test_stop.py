"""httpd stops cleanly with fetched keys configured (issue 13, item 1).

httpd unloads the module when the configuration pool is cleared, and only
then destroys the process pool: anything the module kept there that points
into its code (a cleanup, a userdata destructor) would run after the code is
gone and kill the parent with SIGSEGV. The harness's stop asserts exit code
0 and no "exit signal" in the error log for every test; these tests make
sure the configurations that used to crash are exercised: BCLJWKSURI and
BCLProviderMetadataURL, keys fetched or not, under prefork and event, after
a graceful restart too."""
import os
import signal
import subprocess
import time

import pytest

import harness
import keys
import tokens
from keyserver import KeyServer, TestCA

ISSUER = "https://op.stop.test"
CLIENT = "rp-stop"


def location(path, source, issuer=ISSUER):
    lines = ['<Location "%s">' % path, "    SetHandler backchannel-logout",
             "    BCLClientID %s" % CLIENT, "    " + source]
    if issuer:
        lines.append('    BCLIssuer "%s"' % issuer)
    lines.append("</Location>")
    return "\n".join(lines) + "\n"


@pytest.fixture
def keyserver():
    """An http key server (the configured URLs) with an https one beside it
    (the jwks_uri the metadata names must be https://)."""
    ks = KeyServer()
    ca = TestCA(harness.make_tmpdir("bcl-ca-"))
    ks.secure = KeyServer(tls=ca)
    ks.ca_file = ca.ca_file
    yield ks
    ks.stop()
    ks.secure.stop()


def _config(ks, k):
    ks.set_json("/jwks", keys.jwks_doc([k]))
    ks.secure.set_json("/jwks", keys.jwks_doc([k]))
    ks.secure.start()
    ks.set_json("/.well-known/openid-configuration",
                {"issuer": ISSUER, "jwks_uri": ks.secure.url("/jwks")})
    ks.start()
    return (location("/j", "BCLJWKSURI %s" % ks.url("/jwks"))
            + location("/m", "BCLProviderMetadataURL %s\n    BCLCAFile \"%s\""
                       % (ks.url("/.well-known/openid-configuration"), ks.ca_file), issuer=None))


def _stop_and_check(h):
    """Stops by PID and returns the parent's exit code (the harness asserts
    it too; asserting here names the symptom in this test's failure)."""
    proc = h.proc
    h.stop()
    assert proc.returncode == 0, "httpd parent exit code %s" % proc.returncode
    assert "exit signal" not in h.log_text()


@pytest.mark.parametrize("mpm", ["prefork", "event"])
def test_stop_with_key_urls_exits_zero(keyserver, mpm):
    k = keys.new_key("rsa", "stop-1")
    h = harness.Httpd(mpm=mpm)
    try:
        h.configure(_config(keyserver, k))
        h.start()
        h.wait_log("BCL0500", keyserver.url("/jwks"), timeout=15)
        h.wait_log("BCL0500", keyserver.secure.url("/jwks"), timeout=15)
        tok = tokens.sign(tokens.claims(ISSUER, CLIENT), "RS256", key=k, kid=True)
        harness.assert_ok(harness.post_token(harness.client(), h.url("/j"), tok))
        _stop_and_check(h)
    finally:
        h.cleanup()


@pytest.mark.parametrize("mpm", ["prefork", "event"])
@pytest.mark.parametrize("sig", [signal.SIGUSR1, signal.SIGHUP])
def test_stop_after_restart_with_key_urls_exits_zero(keyserver, mpm, sig):
    """Keys carried across a restart are kept by the parent between
    generations: the stop after a restart must not crash either."""
    k = keys.new_key("rsa", "stop-2")
    h = harness.Httpd(mpm=mpm)
    try:
        h.configure(_config(keyserver, k))
        h.start()
        h.wait_log("BCL0500", keyserver.url("/jwks"), timeout=15)
        mark = h.log_mark()
        os.kill(h.proc.pid, sig)
        h.wait_log("resuming normal operations", since=mark, timeout=15)
        tok = tokens.sign(tokens.claims(ISSUER, CLIENT), "RS256", key=k, kid=True)
        r = None
        for _ in range(50):
            try:
                r = harness.post_token(harness.client(), h.url("/j"), tok)
                break
            except Exception:
                time.sleep(0.1)
        harness.assert_ok(r)
        _stop_and_check(h)
    finally:
        h.cleanup()


def test_stop_before_any_fetch_exits_zero():
    """The OP was never reachable: nothing fetched, nothing carried."""
    h = harness.Httpd(mpm="prefork")
    try:
        h.configure(location("/j", "BCLJWKSURI http://127.0.0.1:%d/jwks" % harness.free_port()))
        h.start()
        _stop_and_check(h)
    finally:
        h.cleanup()


def test_apache2_k_stop_exits_zero(keyserver):
    """`apache2 -k stop` (what apache2ctl stop does): the parent exits 0."""
    k = keys.new_key("rsa", "stop-3")
    h = harness.Httpd(mpm="event")
    try:
        h.configure(_config(keyserver, k))
        h.start()
        h.wait_log("BCL0500", keyserver.url("/jwks"), timeout=15)
        subprocess.run([harness.APACHE2, "-f", h.conf_path, "-k", "stop"], check=True, timeout=30,
                       start_new_session=True)
        h.proc.wait(timeout=15)
        _stop_and_check(h)
    finally:
        h.cleanup()
