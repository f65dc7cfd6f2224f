"""The status page is safe to expose (issue 13, item 5): key URLs are shown
without query string or credentials, and a fetched document is never
quoted; the per-kind record counts do not depend on a scan."""
import json

import harness
import keys
import tokens
from keyserver import KeyServer

ISSUER = "https://op.status-public.test"
CLIENT = "rp-sp"
SECRET = "QSECRET4711"
SNIPPET = "DOCSNIPPET0815"


def test_status_hides_query_strings_and_document_quotes():
    k1 = keys.new_key("rsa", "sp-1")
    ks = KeyServer()
    ks.set_json("/jwks", keys.jwks_doc([k1]))
    ks.set_doc("/broken", "%s is not json" % SNIPPET)
    ks.start()
    h = harness.Httpd(mpm="prefork", modules=("authz_core", "authz_host"))
    try:
        good = ks.url("/jwks") + "?access_token=" + SECRET
        broken = ks.url("/broken") + "?sig=" + SECRET
        h.configure(
            '<Location /bcl>\n    SetHandler backchannel-logout\n    BCLClientID %s\n    BCLIssuer "%s"\n'
            '    BCLJWKSURI "%s"\n</Location>\n'
            '<Location /bcl2>\n    SetHandler backchannel-logout\n    BCLClientID %s\n    BCLIssuer "%s"\n'
            '    BCLJWKSURI "%s"\n</Location>\n'
            '<Location /bcl-status>\n    SetHandler backchannel-logout-status\n    Require local\n</Location>\n'
            % (CLIENT, ISSUER, good, CLIENT, ISSUER, broken))
        h.start()
        h.wait_log("BCL0500", ks.url("/jwks"), timeout=15)
        h.wait_log("BCL0504", ks.url("/broken"), timeout=15)
        tok = tokens.sign(tokens.claims(ISSUER, CLIENT), "RS256", key=k1, kid=True)
        harness.assert_ok(harness.post_token(harness.client(), h.url("/bcl"), tok))
        c = harness.client()
        prom = c.get(h.url("/bcl-status"), timeout=10)
        js = c.get(h.url("/bcl-status"), params={"format": "json"}, timeout=10)
        assert prom.status_code == 200 and js.status_code == 200
        for text in (prom.text, js.text):
            assert SECRET not in text, text
            assert SNIPPET not in text, text
            assert "access_token" not in text and "sig=" not in text, text
            assert ks.url("/jwks") in text and ks.url("/broken") in text, text
        doc = json.loads(js.text)
        urls = {u["url"]: u for u in doc["keys"]["sources"]}
        assert set(urls) == {ks.url("/jwks"), ks.url("/broken")}, urls
        assert urls[ks.url("/jwks")]["jwks_uri"] == ks.url("/jwks"), urls
        assert urls[ks.url("/broken")]["last_error"], urls
        # the fetch itself used the whole URL (the query string reached the OP)
        assert ks.count("/jwks") == 1
    finally:
        h.cleanup()
        ks.stop()
