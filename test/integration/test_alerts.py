"""Visible at Debian's default `LogLevel warn` (issue 13, item 4): an OP
whose logouts are refused and a receiver answering 503 produce one BCL0193
warning per issuer and reason per minute, the next one saying how many were
held back, and both are counted in the status page."""
import json

import harness
import keys
import tokens

ISSUER = "https://op.alerts.test"
OTHER = "https://op.someone-else.test"
CLIENT = "rp-alerts"
ALERT = "BCL0193"


def _start(make_body, mpm="event"):
    # Debian's default: warn for everything, the module included
    h = harness.Httpd(mpm=mpm, modules=("authz_core", "authz_host"), loglevel="warn")
    try:
        h.configure(make_body(h) + '<Location /bcl-status>\n    SetHandler backchannel-logout-status\n'
                    '    Require local\n</Location>\n')
        h.start()
    except Exception:
        h.cleanup()
        raise
    return h


def _status(h):
    r = harness.client().get(h.url("/bcl-status"), params={"format": "json"}, timeout=10)
    assert r.status_code == 200
    return json.loads(r.text)


def _alerts(h, *needles):
    return [l for l in h.log_text().splitlines() if ALERT in l and all(n in l for n in needles)]


def test_refused_logouts_warned_once_per_issuer_and_reason():
    op = keys.new_key("rsa", "al-1")

    def body(h):
        j = keys.write_jwks(h.path("jwks.json"), [op])
        return ('<Location /bcl>\n    SetHandler backchannel-logout\n    BCLClientID %s\n    BCLIssuer "%s"\n'
                '    BCLJWKSFile "%s"\n</Location>\n' % (CLIENT, ISSUER, j))
    h = _start(body)
    try:
        s = harness.client()
        # the right OP, but an expired token: refused, reason exp
        for _ in range(3):
            claims = tokens.claims(ISSUER, CLIENT)
            claims["iat"] -= 7200
            claims["exp"] = claims["iat"] + 120
            r = harness.post_token(s, h.url("/bcl"), tokens.sign(claims, "RS256", key=op, kid=True))
            assert r.status_code == 400, r.text
        # another issuer: another pair, its own line
        for _ in range(2):
            tok = tokens.sign(tokens.claims(OTHER, CLIENT), "RS256", key=op, kid=True)
            assert harness.post_token(s, h.url("/bcl"), tok).status_code == 400
        h.wait_log(ALERT, ISSUER, "logout tokens are refused")
        h.wait_log(ALERT, OTHER, "logout tokens are refused")
        assert len(_alerts(h, "issuer " + ISSUER)) == 1, h.log_text()
        assert len(_alerts(h, "issuer " + OTHER)) == 1, h.log_text()
        # the per-token lines (info) are not at warn
        assert "BCL0101" not in h.log_text()
        st = _status(h)
        assert st["alerts"]["suppressed"] == 3, st["alerts"]
    finally:
        h.cleanup()


def test_receiver_503_warned_and_counted():
    """Keys that could never be fetched (the OP is down): 503, counted by
    cause, one warning for several answers."""
    op = keys.new_key("rsa", "al-2")

    def body(h):
        return ('<Location /bcl>\n    SetHandler backchannel-logout\n    BCLClientID %s\n    BCLIssuer "%s"\n'
                '    BCLJWKSURI http://127.0.0.1:%d/jwks\n    BCLHTTPTimeout 1\n</Location>\n'
                % (CLIENT, ISSUER, harness.free_port()))
    h = _start(body, mpm="prefork")
    try:
        s = harness.client()
        for _ in range(3):
            tok = tokens.sign(tokens.claims(ISSUER, CLIENT), "RS256", key=op, kid=True)
            r = harness.post_token(s, h.url("/bcl"), tok, timeout=20)
            assert r.status_code == 503, r.text
        lines = _alerts(h, "answers 503", "keys_unavailable")
        assert len(lines) == 1, h.log_text()
        st = _status(h)
        assert st["receiver_errors"]["keys_unavailable"] == 3, st["receiver_errors"]
        assert st["receiver_errors"]["store"] == 0
        prom = harness.client().get(h.url("/bcl-status"), timeout=10).text
        assert 'bcl_receiver_errors_total{status="503",cause="keys_unavailable"} 3' in prom, prom
    finally:
        h.cleanup()
