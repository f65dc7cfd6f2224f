"""The status handler's view of fetched keys (BCLJWKSURI) and of a network
store (memcache, redis): per-URL key series, the server-wide key fetch
counters, and the network store's health, in Prometheus text and JSON.

    /usr/bin/python3 -m pytest -q test/integration/test_status_sources.py
"""
import json

import pytest

import harness
import keys
import promtext
import tokens
from fleet import Memcached, Redis
from keyserver import KeyServer

ISSUER = "https://op.status.test"
CLIENT = "rp-status"
STATUS = "/bcl-status"
CERTS = "/certs"


def status_location():
    return "<Location %s>\n    SetHandler backchannel-logout-status\n</Location>\n" % STATUS


def scrape(h):
    r = harness.client().get(h.url(STATUS), timeout=10)
    assert r.status_code == 200, r.text
    return promtext.parse(r.text)


def scrape_json(h):
    r = harness.client().get(h.url(STATUS), params={"format": "json"}, timeout=10)
    assert r.status_code == 200, r.text
    return json.loads(r.text)


@pytest.fixture
def keyserver():
    ks = KeyServer()
    yield ks
    ks.stop()


def test_fetched_keys_are_reported_per_url(keyserver):
    k1 = keys.new_key("rsa", "status-k1")
    keyserver.set_json(CERTS, keys.jwks_doc([k1]))
    keyserver.start()
    url = keyserver.url(CERTS)
    h = harness.Httpd(mpm="prefork")
    h.configure(status_location() + """<Location "/bcl">
    SetHandler backchannel-logout
    BCLClientID %s
    BCLIssuer "%s"
    BCLJWKSURI %s
    BCLKeyRefetchInterval 1
</Location>
""" % (CLIENT, ISSUER, url))
    try:
        h.start()
        h.wait_log("BCL0500", url, timeout=15)
        fams = scrape(h)
        assert promtext.value(fams, "bcl_keys_fetches_total", url=url, result="ok") == 1
        assert promtext.value(fams, "bcl_keys_fetches_total", url=url, result="failed") == 0
        assert promtext.value(fams, "bcl_keys_known", url=url) == 1
        assert promtext.value(fams, "bcl_keys_consecutive_failures", url=url) == 0
        assert promtext.value(fams, "bcl_keys_last_success_seconds", url=url) > 0
        assert "bcl_key_fetches_total" not in fams
        assert scrape_json(h)["keys"]["fetches"] == 1
        src = scrape_json(h)["keys"]["sources"]
        assert len(src) == 1 and src[0]["url"] == url and src[0]["kind"] == "jwks"
        assert src[0]["kids"] == "status-k1" and src[0]["last_error"] is None

        # the OP goes away; a token with an unknown kid causes one refetch, which fails
        keyserver.stop()
        k2 = keys.new_key("rsa", "status-k2")
        tok = tokens.sign(tokens.claims(ISSUER, CLIENT), "RS256", key=k2, kid=True)
        r = harness.post_token(harness.client(), h.url("/bcl"), tok, timeout=20)
        assert r.status_code == 400, r.text
        fams = scrape(h)
        assert promtext.value(fams, "bcl_keys_fetches_total", url=url, result="failed") == 1
        assert promtext.value(fams, "bcl_keys_refetches_total", url=url, result="fetched") == 1
        assert promtext.value(fams, "bcl_keys_consecutive_failures", url=url) == 1
        assert sum(v for k, v in fams["bcl_keys_fetches_total"].samples.items()
                   if dict(k)["result"] == "failed") == 1
        # the keys held stay in use, and the status says so
        assert promtext.value(fams, "bcl_keys_known", url=url) == 1
        src = scrape_json(h)["keys"]["sources"][0]
        assert src["fetches_failed"] == 1 and src["last_error"]
        assert scrape_json(h)["keys"]["failures"] == 1
    finally:
        h.cleanup()


@pytest.mark.parametrize("kind", ["memcache", "redis"])
def test_network_store_health_is_reported(kind):
    server = Memcached() if kind == "memcache" else Redis()
    server.start()
    key = keys.new_key("rsa", "net-k1")
    h = harness.Httpd(mpm="event")
    jwks = keys.write_jwks(h.path("jwks.json"), keys.jwks_doc([key]))
    h.configure("BCLStore %s %s timeout=300\n" % (kind, server.address) + status_location() + """<Location "/bcl">
    SetHandler backchannel-logout
    BCLClientID %s
    BCLIssuer "%s"
    BCLJWKSFile %s
</Location>
""" % (CLIENT, ISSUER, jwks))
    try:
        h.start()
        fams = scrape(h)
        assert promtext.value(fams, "bcl_store_up") == 1
        assert promtext.value(fams, "bcl_store_net_down") == 0
        assert promtext.value(fams, "bcl_store_net_failures_total") == 0
        info = fams["bcl_build_info"].samples
        assert [dict(k)["store"] for k in info] == [kind]
        net = scrape_json(h)["store"]["network"]
        assert net["down"] is False and net["failures"] == 0

        # a logout while the store is down: 503, and the status shows the store down
        server.kill()
        tok = tokens.sign(tokens.claims(ISSUER, CLIENT), "RS256", key=key, kid=True)
        r = harness.post_token(harness.client(), h.url("/bcl"), tok, timeout=20)
        assert r.status_code == 503, r.text
        fams = scrape(h)
        assert promtext.value(fams, "bcl_store_up") == 0
        assert promtext.value(fams, "bcl_store_net_down") == 1
        assert promtext.value(fams, "bcl_store_net_failures_total") >= 1
        assert promtext.value(fams, "bcl_store_errors_total", operation="logout", error="unavailable") == 1
        net = scrape_json(h)["store"]["network"]
        assert net["down"] is True and net["failures"] >= 1
    finally:
        h.cleanup()
        server.cleanup()
