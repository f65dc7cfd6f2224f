"""Keys fetched from the OP (BCLJWKSURI, BCLProviderMetadataURL) against a
real local key server (keyserver.py): fetching from a JWKS URL and through
discovery, sharing between child processes and locations, key rotation
without restart, the unknown-kid refetch budget, an OP that is down or slow
at startup and later, TLS trust, and refused documents."""
import concurrent.futures
import json
import os
import re
import time
import uuid

import pytest

import harness
import keys
import tokens
from keyserver import KeyServer, TestCA

ISSUER = "https://op.keys.test/realms/main"
CLIENT = "rp-keys"

FETCHED = "BCL0500"
FETCH_FAILED = "BCL0501"
STALE = "BCL0502"
TOO_LARGE = "BCL0503"
MALFORMED = "BCL0504"
NONE_YET = "BCL0505"
RECOVERED = "BCL0507"
REFETCH = "BCL0510"
REFETCH_LIMITED = "BCL0511"
UNAVAILABLE = "BCL0512"
ISSUER_MISMATCH = "BCL0520"
CONFIG = "BCL0530"


def location(path, source, issuer=ISSUER, extra=()):
    """A receiver location; `source` is a BCLJWKSURI / BCLProviderMetadataURL line."""
    lines = ['<Location "%s">' % path, "    SetHandler backchannel-logout",
             "    BCLClientID %s" % CLIENT, "    " + source]
    if issuer:
        lines.append('    BCLIssuer "%s"' % issuer)
    lines += ["    " + l for l in extra]
    lines.append("</Location>")
    return "\n".join(lines) + "\n"


def token(key, issuer=ISSUER, kid=True):
    return tokens.sign(tokens.claims(issuer, CLIENT), "RS256", key=key, kid=kid)


def start(body, mpm="event"):
    h = harness.Httpd(mpm=mpm)
    h.configure(body)
    try:
        h.start()
    except Exception:
        h.cleanup()
        raise
    return h


def post(h, path, tok, session=None):
    return harness.post_token(session or harness.client(), h.url(path), tok, timeout=20)


def assert_refused(r, code, status=400):
    harness.assert_error(r, code, status=status)


def assert_unavailable(r):
    """503 with the JSON error body the OP may retry on."""
    assert r.status_code == 503, "expected 503, got %d: %s" % (r.status_code, r.text)
    assert "no-store" in r.headers.get("Cache-Control", "")
    body = json.loads(r.text)
    assert body["error"] == "temporarily_unavailable", body
    assert body["error_description"].startswith("keys:"), body


def rsa(kid):
    return keys.new_key("rsa", kid)


@pytest.fixture
def keyserver():
    ks = KeyServer()
    yield ks
    ks.stop()


# ---------------------------------------------------------------------------
# fetching, sharing
# ---------------------------------------------------------------------------

def test_jwks_uri_fetched_once_and_shared_by_children_and_locations(keyserver):
    """prefork: two locations use the same URL (with different settings);
    two child processes answer; the key server sees one fetch; an http://
    loopback URL is warned about."""
    k1 = rsa("k1")
    keyserver.set_json("/jwks", keys.jwks_doc([k1]), headers={"Cache-Control": "max-age=3600"})
    keyserver.start()
    url = keyserver.url("/jwks")
    h = start(location("/a", "BCLJWKSURI %s" % url)
              + location("/b", "BCLJWKSURI %s" % url, extra=["BCLHTTPTimeout 4"])
              + 'LogFormat "%P %U %>s" pids\nCustomLog "pids.log" pids\n', mpm="prefork")
    try:
        h.wait_log(FETCHED, url, "k1", timeout=15)
        h.wait_log(CONFIG, url, "loopback")
        # one entry: the settings of the first declaration win, and the log says so
        h.wait_log("BCL0531", url, "different fetch settings")
        # two keep-alive connections: prefork binds each to its own child
        s1, s2 = harness.client(), harness.client()
        for i in range(6):
            harness.assert_ok(post(h, "/a", token(k1), session=s1))
            harness.assert_ok(post(h, "/b", token(k1), session=s2))
        with open(h.path("pids.log")) as f:
            pids = {line.split()[0] for line in f if " /a " in line or " /b " in line}
        assert len(pids) >= 2, "the receiver requests were all served by one child: %s" % pids
        assert keyserver.count("/jwks") == 1, "the JWKS was fetched %d times" % keyserver.count("/jwks")
    finally:
        h.cleanup()


@pytest.fixture
def tls_keyserver():
    """A key server over https, and the BCLCAFile line that trusts it: a
    jwks_uri taken from a metadata document must be https://."""
    ca = TestCA(harness.make_tmpdir("bcl-ca-"))
    ks = KeyServer(tls=ca)
    ks.ca_line = 'BCLCAFile "%s"' % ca.ca_file
    yield ks
    ks.stop()


def test_discovery_supplies_issuer_and_jwks_uri(keyserver, tls_keyserver):
    k1 = rsa("disc1")
    other_issuer = "https://op.keys.test/realms/other"
    certs = tls_keyserver
    certs.set_json("/realms/main/certs", keys.jwks_doc([k1]))
    certs.start()
    keyserver.set_json("/realms/main/.well-known/openid-configuration",
                       {"issuer": ISSUER, "jwks_uri": certs.url("/realms/main/certs"),
                        "backchannel_logout_supported": True})
    keyserver.start()
    meta = keyserver.url("/realms/main/.well-known/openid-configuration")
    ca = [certs.ca_line]
    h = start(location("/disc", "BCLProviderMetadataURL %s" % meta, issuer=None, extra=ca)
              + location("/same", "BCLProviderMetadataURL %s" % meta, issuer=ISSUER, extra=ca)
              + location("/mismatch", "BCLProviderMetadataURL %s" % meta, issuer=other_issuer, extra=ca))
    meta_ks, keyserver = keyserver, certs     # `keyserver` below: where the keys are
    try:
        h.wait_log(FETCHED, keyserver.url("/realms/main/certs"), ISSUER, timeout=15)
        # the discovered issuer is the only accepted iss
        harness.assert_ok(post(h, "/disc", token(k1)))
        assert_refused(post(h, "/disc", token(k1, issuer=other_issuer)), "iss")
        harness.assert_ok(post(h, "/same", token(k1)))
        # BCLIssuer differing from the discovered issuer: both named in the log, 500
        mark = h.log_mark()
        r = post(h, "/mismatch", token(k1, issuer=other_issuer))
        assert r.status_code == 500, r.text
        assert json.loads(r.text)["error"] == "server_error"
        assert json.loads(r.text)["error_description"].startswith("configuration:")
        h.wait_log(ISSUER_MISMATCH, other_issuer, ISSUER, since=mark)
        # and the background fetch said so too
        h.wait_log(ISSUER_MISMATCH, other_issuer, ISSUER, meta)
        # one entry for three locations
        assert meta_ks.count("/realms/main/.well-known/openid-configuration") == 1
        assert keyserver.count("/realms/main/certs") == 1
        # a new key at the OP: the unknown kid refetches the keys (not the metadata)
        k2 = rsa("disc2")
        keyserver.set_json("/realms/main/certs", keys.jwks_doc([k1, k2]))
        mark = h.log_mark()
        harness.assert_ok(post(h, "/disc", token(k2)))
        h.wait_log(REFETCH, "disc2", since=mark)
        h.wait_log(FETCHED, "disc1,disc2", "generation 2", since=mark)
        assert keyserver.count("/realms/main/certs") == 2
        assert meta_ks.count("/realms/main/.well-known/openid-configuration") == 1
    finally:
        h.cleanup()


def test_discovered_http_jwks_uri_is_never_fetched(keyserver):
    """The administrator's metadata URL may be http:// on loopback; the
    jwks_uri the OP's document names may not: refused before any fetch
    (count 0 at the key server), logged, and tokens get 503."""
    k1 = rsa("disc-http")
    keyserver.set_json("/.well-known/openid-configuration",
                       {"issuer": ISSUER, "jwks_uri": keyserver.url("/certs")})
    keyserver.set_json("/certs", keys.jwks_doc([k1]))
    keyserver.start()
    meta = keyserver.url("/.well-known/openid-configuration")
    h = start(location("/disc", "BCLProviderMetadataURL %s" % meta, issuer=None), mpm="prefork")
    try:
        h.wait_log(MALFORMED, meta, keyserver.url("/certs"), "not https", timeout=15)
        assert_unavailable(post(h, "/disc", token(k1)))
        assert keyserver.count("/.well-known/openid-configuration") >= 1
        assert keyserver.count("/certs") == 0
    finally:
        h.cleanup()


# ---------------------------------------------------------------------------
# rotation, unknown kids
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("mpm", ["event", "prefork"])
def test_rotation_followed_without_restart(keyserver, mpm):
    """The OP publishes k2 and drops k1: after the next scheduled refresh k2
    is accepted and k1 refused, by every child, with no restart."""
    k1, k2 = rsa("rot-1"), rsa("rot-2")
    keyserver.set_json("/jwks", keys.jwks_doc([k1]))   # no Cache-Control: BCLKeyRefreshInterval
    keyserver.start()
    h = start(location("/r", "BCLJWKSURI %s" % keyserver.url("/jwks"),
                       extra=["BCLKeyRefreshInterval 2", "BCLKeyMinRefreshInterval 1",
                              "BCLKeyRefetchInterval 3600"]), mpm=mpm)
    try:
        pid = h.proc.pid
        h.wait_log(FETCHED, "rot-1", "generation 1", timeout=15)
        for _ in range(4):
            harness.assert_ok(post(h, "/r", token(k1)))
        mark = h.log_mark()
        keyserver.set_json("/jwks", keys.jwks_doc([k2]))
        h.wait_log(FETCHED, "rot-2", "generation 2", since=mark, timeout=15)
        for _ in range(4):
            harness.assert_ok(post(h, "/r", token(k2)))
        for _ in range(4):
            assert_refused(post(h, "/r", token(k1)), "unknown_kid")
        assert h.proc.pid == pid and h.running
        assert "BCL0001" in h.log_text() and h.log_text().count("BCL0001") == 1, "httpd restarted"
    finally:
        h.cleanup()


@pytest.mark.parametrize("mpm", ["event", "prefork"])
def test_unknown_kid_flood_causes_one_refetch(keyserver, mpm):
    k1 = rsa("flood-1")
    keyserver.set_json("/jwks", keys.jwks_doc([k1]), headers={"Cache-Control": "max-age=3600"})
    keyserver.start()
    h = start(location("/f", "BCLJWKSURI %s" % keyserver.url("/jwks"),
                       extra=["BCLKeyRefetchInterval 60"]), mpm=mpm)
    try:
        h.wait_log(FETCHED, "flood-1", timeout=15)
        assert keyserver.count("/jwks") == 1
        mark = h.log_mark()
        attacker = rsa("attacker")

        def one(i):
            return post(h, "/f", token(attacker, kid="unknown-%d-%s" % (i, uuid.uuid4().hex[:8])))
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(one, range(40)))
        for r in answers:
            assert_refused(r, "unknown_kid")
        # the first unknown kid refetched; the other 39 did not
        assert keyserver.count("/jwks") == 2, "the JWKS was fetched %d times" % keyserver.count("/jwks")
        log = h.log_since(mark)
        assert log.count(REFETCH + ": unknown kid") == 1, log[-3000:]
        assert log.count(REFETCH_LIMITED) >= 30, log[-3000:]
        # the known key still works
        harness.assert_ok(post(h, "/f", token(k1)))
    finally:
        h.cleanup()


# ---------------------------------------------------------------------------
# the OP down or slow
# ---------------------------------------------------------------------------

def test_op_down_at_startup_then_up_then_down_then_slow(keyserver):
    k1, k2 = rsa("life-1"), rsa("life-2")
    keyserver.set_json("/jwks", keys.jwks_doc([k1]))
    url = keyserver.url("/jwks")
    # the key server is not started: nothing listens on its port
    h = start(location("/l", "BCLJWKSURI %s" % url,
                       extra=["BCLKeyRefreshInterval 2", "BCLKeyMinRefreshInterval 1",
                              "BCLHTTPTimeout 1", "BCLHTTPConnectTimeout 1",
                              "BCLKeyRefetchInterval 1"]))
    try:
        # startup did not wait for the OP; a token now: 503, the OP may retry
        h.wait_log(FETCH_FAILED, url, timeout=15)
        h.wait_log(NONE_YET, url)
        mark = h.log_mark()
        assert_unavailable(post(h, "/l", token(k1)))
        h.wait_log(UNAVAILABLE, since=mark)

        # the OP comes up: the background fetcher retries and recovers
        mark = h.log_mark()
        keyserver.start()
        h.wait_log(FETCHED, "life-1", since=mark, timeout=15)
        h.wait_log(RECOVERED, url, since=mark)
        harness.assert_ok(post(h, "/l", token(k1)))

        # the OP goes down: the keys held stay in use
        mark = h.log_mark()
        keyserver.stop()
        h.wait_log(FETCH_FAILED, url, since=mark, timeout=15)
        h.wait_log(STALE, url, "keeping the keys", since=mark)
        harness.assert_ok(post(h, "/l", token(k1)))
        # an unknown kid while the OP is down: refetch fails, old keys kept, 400
        assert_refused(post(h, "/l", token(rsa("nobody"))), "unknown_kid")
        harness.assert_ok(post(h, "/l", token(k1)))

        # the OP answers slower than BCLHTTPTimeout: a timeout, keys still in use
        mark = h.log_mark()
        keyserver.set_delay(3)
        keyserver.start()
        line = h.wait_log(FETCH_FAILED, url, since=mark, timeout=20)
        h.wait_log(FETCH_FAILED, url, "imeout", since=mark, timeout=20)
        harness.assert_ok(post(h, "/l", token(k1)))

        # the OP is fast again, with a rotated key
        mark = h.log_mark()
        keyserver.set_json("/jwks", keys.jwks_doc([k2]))
        keyserver.set_delay(0)
        h.wait_log(FETCHED, "life-2", since=mark, timeout=20)
        h.wait_log(RECOVERED, since=mark)
        harness.assert_ok(post(h, "/l", token(k2)))
        assert line
    finally:
        h.cleanup()


def test_op_slow_at_startup(keyserver):
    k1 = rsa("slow-1")
    keyserver.set_json("/jwks", keys.jwks_doc([k1]))
    keyserver.set_delay(4)
    keyserver.start()
    url = keyserver.url("/jwks")
    h = start(location("/s", "BCLJWKSURI %s" % url,
                       extra=["BCLHTTPTimeout 1", "BCLKeyRefreshInterval 2", "BCLKeyMinRefreshInterval 1"]))
    try:
        assert h.running   # startup did not wait for the slow OP
        h.wait_log(FETCH_FAILED, url, "imeout", timeout=15)
        r = post(h, "/s", token(k1))
        assert_unavailable(r)
        mark = h.log_mark()
        keyserver.set_delay(0)
        h.wait_log(FETCHED, "slow-1", since=mark, timeout=20)
        harness.assert_ok(post(h, "/s", token(k1)))
    finally:
        h.cleanup()


@pytest.mark.parametrize("mpm", ["prefork", "event"])
def test_token_waits_for_the_first_fetch_under_way(keyserver, mpm):
    """Right after a start the key server takes 2 s to answer the first
    fetch (BCLHTTPTimeout 5): a token posted meanwhile waits for that fetch
    and gets 200, not 503; nothing is fetched twice."""
    k1 = rsa("wait-1")
    keyserver.set_json("/jwks", keys.jwks_doc([k1]))
    keyserver.set_delay(2)
    keyserver.start()
    url = keyserver.url("/jwks")
    h = start(location("/w", "BCLJWKSURI %s" % url, extra=["BCLHTTPTimeout 5"]), mpm=mpm)
    try:
        keyserver.wait_count("/jwks", 1, timeout=10)     # the first fetch is under way
        assert "BCL0500" not in h.log_text()
        t0 = time.time()
        r = post(h, "/w", token(k1))
        harness.assert_ok(r)
        assert time.time() - t0 < 5
        assert keyserver.count("/jwks") == 1
    finally:
        h.cleanup()


# ---------------------------------------------------------------------------
# TLS
# ---------------------------------------------------------------------------

def test_tls_untrusted_refused_unless_ca_file():
    tmp = harness.make_tmpdir("bcl-ca-")
    ca = TestCA(tmp)
    other_ca = TestCA(tmp, name="other-ca")
    k1 = rsa("tls-1")
    ks = KeyServer(tls=ca)
    for p in ("/untrusted/jwks", "/trusted/jwks", "/wrong-ca/jwks"):
        ks.set_json(p, keys.jwks_doc([k1]))
    ks.start()
    h = None
    try:
        h = start(location("/untrusted", "BCLJWKSURI %s" % ks.url("/untrusted/jwks"))
                  + location("/trusted", "BCLJWKSURI %s" % ks.url("/trusted/jwks"),
                             extra=['BCLCAFile "%s"' % ca.ca_file])
                  + location("/wrong-ca", "BCLJWKSURI %s" % ks.url("/wrong-ca/jwks"),
                             extra=['BCLCAFile "%s"' % other_ca.ca_file]))
        h.wait_log(FETCHED, ks.url("/trusted/jwks"), timeout=15)
        h.wait_log(FETCH_FAILED, ks.url("/untrusted/jwks"), "certificate", timeout=15)
        h.wait_log(FETCH_FAILED, ks.url("/wrong-ca/jwks"), "certificate", timeout=15)
        harness.assert_ok(post(h, "/trusted", token(k1)))
        assert_unavailable(post(h, "/untrusted", token(k1)))
        assert_unavailable(post(h, "/wrong-ca", token(k1)))
    finally:
        if h:
            h.cleanup()
        ks.stop()


# ---------------------------------------------------------------------------
# refused documents
# ---------------------------------------------------------------------------

def test_oversized_and_malformed_documents_refused(keyserver):
    k1 = rsa("doc-1")
    big = keys.jwks_doc([k1])
    big["padding"] = "x" * 20000
    ks = keyserver
    ks.set_json("/ok/jwks", keys.jwks_doc([k1]))
    ks.set_json("/big/jwks", big)
    ks.set_json("/bigstream/jwks", big, content_length=False)
    ks.set_doc("/notjson/jwks", "{\"keys\": [")
    ks.set_json("/nokeys/jwks", {"keys": []})
    ks.set_doc("/html/jwks", "<html>error</html>", content_type="text/html")
    ks.set_doc("/status/jwks", "{}", status=500)
    ks.set_json("/m-nojwks/meta", {"issuer": ISSUER})
    ks.set_json("/m-http/meta", {"issuer": ISSUER, "jwks_uri": "http://op.example.com/jwks"})
    ks.set_json("/m-big/meta", {"issuer": ISSUER, "jwks_uri": ks.url("/ok/jwks"), "x": "y" * 20000})
    ks.set_doc("/m-notjson/meta", "not json at all")
    ks.start()
    cases = {
        "/big": ("BCLJWKSURI", "/big/jwks", TOO_LARGE, "larger than 8192"),
        "/bigstream": ("BCLJWKSURI", "/bigstream/jwks", TOO_LARGE, "larger than 8192"),
        "/notjson": ("BCLJWKSURI", "/notjson/jwks", MALFORMED, "refused"),
        "/nokeys": ("BCLJWKSURI", "/nokeys/jwks", MALFORMED, "refused"),
        "/html": ("BCLJWKSURI", "/html/jwks", MALFORMED, "refused"),
        "/status": ("BCLJWKSURI", "/status/jwks", FETCH_FAILED, "HTTP status 500"),
        "/m-nojwks": ("BCLProviderMetadataURL", "/m-nojwks/meta", MALFORMED, "jwks_uri"),
        "/m-http": ("BCLProviderMetadataURL", "/m-http/meta", MALFORMED, "loopback"),
        "/m-big": ("BCLProviderMetadataURL", "/m-big/meta", TOO_LARGE, "larger than 8192"),
        "/m-notjson": ("BCLProviderMetadataURL", "/m-notjson/meta", MALFORMED, "not JSON"),
    }
    body = location("/ok", "BCLJWKSURI %s" % ks.url("/ok/jwks"))
    for loc, (directive, path, _, _) in cases.items():
        body += location(loc, "%s %s" % (directive, ks.url(path)), extra=["BCLHTTPMaxSize 8192"])
    h = start(body)
    try:
        h.wait_log(FETCHED, ks.url("/ok/jwks"), timeout=15)
        for loc, (_, path, tag, words) in cases.items():
            h.wait_log(tag, ks.url(path), words, timeout=15)
        for loc in cases:
            assert_unavailable(post(h, loc, token(k1)))
        harness.assert_ok(post(h, "/ok", token(k1)))
        text = h.log_text()
        assert "exit signal" not in text and "Segmentation" not in text, text[-3000:]
    finally:
        h.cleanup()


# ---------------------------------------------------------------------------
# configuration errors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("lines,message", [
    (["BCLJWKSURI http://op.example.com/jwks"], "loopback"),
    (["BCLJWKSURI ftp://op.example.com/jwks"], "not https"),
    (["BCLProviderMetadataURL not-a-url"], "BCLProviderMetadataURL"),
    (["BCLJWKSURI https://op.example.com/jwks",
      "BCLProviderMetadataURL https://op.example.com/.well-known/openid-configuration"], "use one of them"),
    (["BCLJWKSURI https://op.example.com/jwks", "BCLCAFile /nonexistent/ca.pem"], "BCLCAFile"),
    (["BCLJWKSURI https://op.example.com/jwks", "BCLHTTPTimeout 0"], "BCLHTTPTimeout"),
    (["BCLJWKSURI https://op.example.com/jwks", "BCLHTTPMaxSize 10"], "BCLHTTPMaxSize"),
    (["BCLJWKSURI https://op.example.com/jwks", "BCLHTTPProxy nonsense"], "BCLHTTPProxy"),
    (["BCLJWKSURI https://op.example.com/jwks", "BCLKeyRefetchInterval x"], "BCLKeyRefetchInterval"),
])
def test_config_errors(lines, message):
    h = harness.Httpd()
    try:
        body = '<Location "/x">\n    SetHandler backchannel-logout\n    BCLClientID c\n' \
               '    BCLIssuer https://op.example.com\n' + "".join("    %s\n" % l for l in lines) + "</Location>\n"
        h.configure(body)
        rc, out = h.configtest()
        assert rc != 0, out
        assert message in out, out
    finally:
        h.cleanup()


def test_https_url_config_starts_without_network():
    """An https URL to an unreachable host: httpd starts and answers at once;
    the failed fetch is logged, the receiver answers 503."""
    port = harness.free_port()
    h = start(location("/x", "BCLJWKSURI https://127.0.0.1:%d/jwks" % port,
                       extra=["BCLHTTPConnectTimeout 1", "BCLHTTPTimeout 1"]))
    try:
        assert h.running
        h.wait_log(FETCH_FAILED, "https://127.0.0.1:%d/jwks" % port, timeout=15)
        assert_unavailable(post(h, "/x", token(rsa("any"))))
    finally:
        h.cleanup()


# ---------------------------------------------------------------------------
# graceful restart
# ---------------------------------------------------------------------------

def graceful(h, timeout=20):
    """apachectl graceful: SIGUSR1 to the parent; waits for the new generation."""
    import signal
    before = h.log_text().count("resuming normal operations")
    os.kill(h.proc.pid, signal.SIGUSR1)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if h.log_text().count("resuming normal operations") > before:
            return
        time.sleep(0.05)
    raise AssertionError("no graceful restart:\n" + h.log_text()[-3000:])


@pytest.mark.parametrize("mpm", ["event", "prefork"])
def test_keys_survive_graceful_restart_while_op_down(keyserver, mpm):
    k1 = rsa("grace-1")
    keyserver.set_json("/jwks", keys.jwks_doc([k1]), headers={"Cache-Control": "max-age=3600"})
    keyserver.start()
    url = keyserver.url("/jwks")
    h = start(location("/g", "BCLJWKSURI %s" % url), mpm=mpm)
    try:
        h.wait_log(FETCHED, "grace-1", timeout=15)
        harness.assert_ok(post(h, "/g", token(k1)))
        keyserver.stop()
        mark = h.log_mark()
        graceful(h)
        h.wait_log(FETCHED, "kept across the restart", url, since=mark)
        # the OP is down, yet the keys fetched before the reload still verify
        for _ in range(3):
            harness.assert_ok(post(h, "/g", token(k1)))
        assert keyserver.count("/jwks") == 1
    finally:
        h.cleanup()


# ---------------------------------------------------------------------------
# proxies
# ---------------------------------------------------------------------------

def test_proxy_directive_and_environment(keyserver, monkeypatch):
    """BCLHTTPProxy sends fetches through the proxy; the proxy environment
    (http_proxy) is honoured by default; BCLHTTPProxy none ignores it."""
    k1 = rsa("proxy-1")
    # the OP's address answers nothing itself: only the proxy knows the document
    unreachable = "http://127.0.0.1:%d/jwks" % harness.free_port()
    proxy = KeyServer()
    proxy.set_json(unreachable, keys.jwks_doc([k1]))          # a forward proxy sees the absolute URL
    proxy.set_json(unreachable.replace("/jwks", "/env-jwks"), keys.jwks_doc([k1]))
    proxy.start()
    keyserver.set_json("/direct", keys.jwks_doc([k1]))
    keyserver.start()
    monkeypatch.setenv("http_proxy", proxy.base)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    h = None
    try:
        h = start(location("/explicit", "BCLJWKSURI %s" % unreachable,
                           extra=["BCLHTTPProxy %s" % proxy.base])
                  + location("/env", "BCLJWKSURI %s" % unreachable.replace("/jwks", "/env-jwks"))
                  + location("/none", "BCLJWKSURI %s" % keyserver.url("/direct"),
                             extra=["BCLHTTPProxy none"]))
        h.wait_log(FETCHED, unreachable, timeout=15)
        h.wait_log(FETCHED, unreachable.replace("/jwks", "/env-jwks"), timeout=15)
        h.wait_log(FETCHED, keyserver.url("/direct"), timeout=15)
        for loc in ("/explicit", "/env", "/none"):
            harness.assert_ok(post(h, loc, token(k1)))
        assert proxy.count(unreachable) == 1
        assert proxy.count(unreachable.replace("/jwks", "/env-jwks")) == 1
        assert keyserver.count("/direct") == 1          # not through the proxy
    finally:
        if h:
            h.cleanup()
        proxy.stop()


# ---------------------------------------------------------------------------
# redirects
# ---------------------------------------------------------------------------

def test_redirects_only_to_https_and_limited(keyserver):
    tmp = harness.make_tmpdir("bcl-ca-")
    ca = TestCA(tmp)
    k1 = rsa("redir-1")
    ks = keyserver
    ks.set_json("/final", keys.jwks_doc([k1]))
    ks.set_doc("/one", "", status=302, headers={"Location": ks.url("/final")})
    for i in range(5):
        ks.set_doc("/hop%d" % i, "", status=302, headers={"Location": ks.url("/hop%d" % (i + 1))})
    ks.set_json("/hop5", keys.jwks_doc([k1]))
    ks.start()
    tls = KeyServer(tls=ca)
    tls.set_doc("/down", "", status=301, headers={"Location": ks.url("/final")})
    tls.set_json("/final", keys.jwks_doc([k1]))
    for i in range(5):
        tls.set_doc("/thop%d" % i, "", status=302, headers={"Location": tls.url("/thop%d" % (i + 1))})
    tls.set_json("/thop5", keys.jwks_doc([k1]))
    tls.start()
    ks.set_doc("/up", "", status=302, headers={"Location": tls.url("/final")})
    cafile = ['BCLCAFile "%s"' % ca.ca_file]
    h = None
    try:
        h = start(location("/one", "BCLJWKSURI %s" % ks.url("/one"))
                  + location("/hops", "BCLJWKSURI %s" % ks.url("/hop0"))
                  + location("/up", "BCLJWKSURI %s" % ks.url("/up"), extra=cafile)
                  + location("/thops", "BCLJWKSURI %s" % tls.url("/thop0"), extra=cafile)
                  + location("/down", "BCLJWKSURI %s" % tls.url("/down"), extra=cafile))
        # a redirect's Location comes from the OP's answer: never followed to
        # plain http, even from a configured loopback http:// URL
        h.wait_log(FETCH_FAILED, ks.url("/one"), "only to https", ks.url("/final"), timeout=15)
        h.wait_log(FETCH_FAILED, ks.url("/hop0"), "only to https", timeout=15)
        h.wait_log(FETCH_FAILED, tls.url("/down"), "stays on https", ks.url("/final"), timeout=15)
        # followed to https (named by where it was asked for), at most 3 hops
        h.wait_log(FETCHED, ks.url("/up"), timeout=15)
        h.wait_log(FETCH_FAILED, tls.url("/thop0"), "more than 3 redirects", timeout=15)
        harness.assert_ok(post(h, "/up", token(k1)))
        assert_unavailable(post(h, "/one", token(k1)))
        assert_unavailable(post(h, "/hops", token(k1)))
        assert_unavailable(post(h, "/down", token(k1)))
        assert_unavailable(post(h, "/thops", token(k1)))
        assert ks.count("/final") == 0
        assert ks.count("/hop1") == 0
        assert tls.count("/thop5") == 0
    finally:
        if h:
            h.cleanup()
        tls.stop()


# ---------------------------------------------------------------------------
# bcl-check fetches keys with the same code
# ---------------------------------------------------------------------------

def test_bcl_check_fetches_keys(keyserver, tls_keyserver):
    import subprocess
    assert os.path.isfile(harness.BCL_CHECK), "bcl-check not built: %s" % harness.BCL_CHECK
    k1 = rsa("cli-1")
    tls_keyserver.set_json("/jwks", keys.jwks_doc([k1]))
    tls_keyserver.start()
    ca_file = tls_keyserver.ca_line.split('"')[1]
    keyserver.set_json("/.well-known/openid-configuration",
                       {"issuer": ISSUER, "jwks_uri": tls_keyserver.url("/jwks")})
    keyserver.set_json("/http-jwks/.well-known/openid-configuration",
                       {"issuer": ISSUER, "jwks_uri": keyserver.url("/jwks")})
    keyserver.set_json("/jwks", keys.jwks_doc([k1]))
    keyserver.start()

    def check(*args):
        p = subprocess.run([harness.BCL_CHECK, "--client-id", CLIENT] + list(args) + [token(k1)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    rc, out, err = check("--metadata", keyserver.url("/.well-known/openid-configuration"), "--ca-file", ca_file)
    assert rc == 0 and out.startswith("valid:"), (rc, out, err)
    # a jwks_uri from the document must be https://, even on loopback
    rc, out, err = check("--metadata", keyserver.url("/http-jwks/.well-known/openid-configuration"))
    assert rc == 2 and "not https" in err, (rc, out, err)
    assert keyserver.count("/jwks") == 0
    rc, out, err = check("--issuer", ISSUER, "--jwks-uri", keyserver.url("/jwks"))
    assert rc == 0 and out.startswith("valid:"), (rc, out, err)
    rc, out, err = check("--issuer", "https://other.example", "--metadata",
                         keyserver.url("/.well-known/openid-configuration"), "--ca-file", ca_file)
    assert rc == 2 and "differs" in err and ISSUER in err, (rc, out, err)
    rc, out, err = check("--issuer", ISSUER, "--jwks-uri", "http://op.example.com/jwks")
    assert rc == 2 and "loopback" in err, (rc, out, err)


def test_cache_control_max_age_shortens_refresh_within_bounds(keyserver):
    """max-age=1 from the OP: refreshed about every BCLKeyMinRefreshInterval
    (1 s here) instead of every BCLKeyRefreshInterval (3600 s); no-cache on
    another URL with the default lower bound (60 s): fetched once."""
    k1 = rsa("cc-1")
    keyserver.set_json("/short", keys.jwks_doc([k1]), headers={"Cache-Control": "public, max-age=1"})
    keyserver.set_json("/nocache", keys.jwks_doc([k1]), headers={"Cache-Control": "no-cache"})
    keyserver.start()
    h = start(location("/short", "BCLJWKSURI %s" % keyserver.url("/short"),
                       extra=["BCLKeyRefreshInterval 3600", "BCLKeyMinRefreshInterval 1"])
              + location("/nocache", "BCLJWKSURI %s" % keyserver.url("/nocache")))
    try:
        h.wait_log(FETCHED, keyserver.url("/nocache"), "next refresh in 60 s", timeout=15)
        h.wait_log(FETCHED, keyserver.url("/short"), "next refresh in 1 s", timeout=15)
        keyserver.wait_count("/short", 3, timeout=20)
        harness.assert_ok(post(h, "/short", token(k1)))
        assert keyserver.count("/nocache") == 1
    finally:
        h.cleanup()
