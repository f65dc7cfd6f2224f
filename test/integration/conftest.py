"""Shared fixtures: OP keys, the RP's decryption keys, one httpd per test
module with a receiver at several locations (one per policy), and the
guard suites' backend (guard_app.py; their drivers are in guard_env.py)."""
import json
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import backends  # noqa: E402
import harness  # noqa: E402
import keys  # noqa: E402
import tokens  # noqa: E402

ISSUER = "https://op.example.test/realms/main"
CLIENT_ID = "rp1"
CLIENT_ID2 = "rp2"
# Long enough for HS512 (64 octets); distinctive so a leak is easy to find.
SECRET = "hmac-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ-42"
# The raw bytes of the `oct` key planted in the JWKS (must be ignored).
OCT_KEY_BYTES = b"oct-key-in-the-jwks-must-never-be-used-0123456789-0123456789-xyz"

# Reasons found after the signature was verified (the jti is then known).
CLAIM_CODES = {"iss", "aud", "azp", "iat", "exp", "sub_sid", "sid_required",
               "events", "nonce"}

ALL_ALGS_DIRECTIVE = " ".join(keys.ALL_SIG_ALGS)


@pytest.fixture(scope="session")
def op_keys():
    """The OP's signing keys (kids rsa1, ec256, ec384, ec521, ed1) plus a
    second RSA key rsa2 (for kid-less selection) and a use=enc RSA key."""
    k = keys.OPKeys()
    k.rsa2 = keys.new_key("rsa", "rsa2")
    k.rsa_enc = keys.new_key("rsa", "rsa-enc")
    return k


@pytest.fixture(scope="session")
def attacker():
    """Keys the receiver does not trust."""
    k = keys.OPKeys(prefix="evil-")
    return k


@pytest.fixture(scope="session")
def dec_keys():
    """The RP's JWE decryption keys: dec1 (configured as PEM), dec2
    (configured as a private JWK), wrong (not configured)."""
    class D:
        pass
    d = D()
    d.pem = keys.new_key("rsa", "dec1")
    d.jwk = keys.new_key("rsa", "dec2")
    d.wrong = keys.new_key("rsa", "dec-wrong")
    return d


def jwks_for(op_keys):
    doc = op_keys.jwks()
    doc["keys"].append(op_keys.rsa2.public_jwk())
    doc["keys"].append(op_keys.rsa_enc.public_jwk(use="enc"))
    doc["keys"].append({"kty": "oct", "kid": "oct1", "k": tokens.b64u(OCT_KEY_BYTES)})
    return doc


def location(path, jwks, dec_pem, dec_jwk, extra="", algs=ALL_ALGS_DIRECTIVE,
             secret=True, decryption=True, client_ids=(CLIENT_ID, CLIENT_ID2)):
    lines = ['<Location "%s">' % path,
             "    SetHandler backchannel-logout",
             '    BCLIssuer "%s"' % ISSUER,
             "    BCLClientID %s" % " ".join(client_ids),
             '    BCLJWKSFile "%s"' % jwks]
    if algs:
        lines.append("    BCLSigningAlg %s" % algs)
    if secret:
        lines.append('    BCLClientSecret "%s"' % SECRET)
    if decryption:
        lines.append('    BCLDecryptionKey "%s"' % dec_pem)
        lines.append('    BCLDecryptionKey "%s"' % dec_jwk)
    for l in extra.strip().splitlines():
        lines.append("    " + l.strip())
    lines.append("</Location>")
    return "\n".join(lines) + "\n"


# Receiver locations: path -> (extra directives, location() keyword args)
LOCATIONS = {
    "/main": ("", {}),
    "/sid": ("BCLRequireSid On", {}),
    "/noexp": ("BCLRequireExp Off", {}),
    "/enc": ("BCLRequireEncryption On", {}),
    "/small": ("BCLMaxTokenSize 1024", {}),
    "/skew": ("BCLClockSkew 5", {}),
    # default BCLSigningAlg (RS256); the secret is set so HS* fails on alg
    "/rs256": ("", {"algs": None, "decryption": False}),
    "/es256": ("", {"algs": "ES256", "decryption": False}),
}


class Receiver:
    """One running httpd with every receiver location, plus helpers that post
    a token and check the answer and the error log together."""

    def __init__(self, httpd, op_keys):
        self.httpd = httpd
        self.op = op_keys
        self.session = harness.client()
        self.sent_tokens = []

    def url(self, loc):
        return self.httpd.url(loc)

    # -- minting ---------------------------------------------------------
    def claims(self, **overrides):
        return tokens.claims(ISSUER, CLIENT_ID, **overrides)

    def token(self, alg="RS256", payload=None, **overrides):
        """A token signed by the OP with `alg` (claims valid unless overridden)."""
        payload = self.claims(**overrides) if payload is None else payload
        if alg.startswith("HS"):
            return tokens.sign(payload, alg, secret=SECRET)
        return tokens.sign(payload, alg, key=self.op.for_alg(alg))

    # -- posting ---------------------------------------------------------
    def post(self, loc, token, **kw):
        self.sent_tokens.append(token)
        return harness.post_token(self.session, self.url(loc), token, **kw)

    def post_raw(self, loc, body, **kw):
        return harness.post_raw(self.session, self.url(loc), body, **kw)

    def _no_token_in_log(self, mark, token):
        if token:
            text = self.httpd.log_since(mark)
            assert token not in text, "the whole token appears in the error log"
            assert SECRET not in text, "the client secret appears in the error log"

    def accept(self, loc, token, payload=None, **kw):
        """Posts `token`, expects 200 and a BCL0100 log line naming it
        (`payload`: the claims, for a JWE whose payload cannot be read)."""
        mark = self.httpd.log_mark()
        r = self.post(loc, token, **kw)
        harness.assert_ok(r)
        payload = payload or _payload_of(token)
        needles = [harness.LOG_ACCEPTED]
        if payload and isinstance(payload.get("jti"), str):
            needles.append(payload["jti"])
        line = self.httpd.wait_log(*needles, since=mark)
        for field in ("iss=", "sub=", "sid=", "jti="):
            assert field in line, "accept log line lacks %s: %s" % (field, line)
        if payload and isinstance(payload.get("iss"), str):
            assert payload["iss"] in line, line
        self._no_token_in_log(mark, token)
        return r

    def refuse(self, loc, token, code, status=400, tag=harness.LOG_REFUSED_TOKEN, **kw):
        """Posts `token`, expects `status` with reason `code` (or one of a
        tuple), and a log line with `tag` and reason=<code>."""
        mark = self.httpd.log_mark()
        r = self.post(loc, token, **kw)
        body = harness.assert_error(r, code, status=status, secrets=(token, SECRET))
        got = body["error_description"].split(":", 1)[0]
        line = self.check_refusal_log(mark, got, tag)
        payload = _payload_of(token)
        if got in CLAIM_CODES and payload and isinstance(payload.get("jti"), str):
            # the signature was good, so the jti is known: it must be logged
            assert "jti=" + payload["jti"] in line, "refusal log line lacks the jti: " + line
        self._no_token_in_log(mark, token)
        return r

    def check_refusal_log(self, mark, code, tag):
        """Waits for a log line with `tag` (or any of a tuple of tags); it
        must carry reason=<code>."""
        tags = (tag,) if isinstance(tag, str) else tuple(tag)
        deadline = time.time() + 3.0
        while True:
            for line in self.httpd.log_since(mark).splitlines():
                if any(t in line for t in tags):
                    assert "reason=%s " % code in line + " ", \
                        "refusal log line lacks reason=%s: %s" % (code, line)
                    return line
            if time.time() >= deadline:
                raise AssertionError("no error-log line with any of %r; log since mark:\n%s"
                                     % (tags, self.httpd.log_since(mark)[-4000:]))
            time.sleep(0.05)


def _payload_of(token):
    parts = token.split(".")
    if len(parts) == 3:
        try:
            p = json.loads(tokens.b64u_decode(parts[1]))
            return p if isinstance(p, dict) else None
        except Exception:
            return None
    return None


def start_receiver(op_keys, dec_keys, mpm="event"):
    h = harness.Httpd(mpm=mpm)
    jwks = keys.write_jwks(h.path("jwks.json"), jwks_for(op_keys))
    dec_pem = keys.write_file(h.path("dec1.pem"), dec_keys.pem.private_pem())
    dec_jwk = keys.write_file(h.path("dec2.jwk"), json.dumps(dec_keys.jwk.private_jwk()))
    body = ""
    for path, (extra, kw) in LOCATIONS.items():
        body += location(path, jwks, dec_pem, dec_jwk, extra=extra, **kw)
    h.configure(body)
    try:
        h.start()
    except Exception:
        h.cleanup()
        raise
    return h


@pytest.fixture(scope="module")
def receiver(op_keys, dec_keys):
    h = start_receiver(op_keys, dec_keys)
    r = Receiver(h, op_keys)
    try:
        yield r
    finally:
        h.cleanup()


@pytest.fixture(scope="module")
def backend():
    """guard_app.py in its own process (guard_env.Backend), one per test
    module: what the guarded locations proxy to."""
    b = backends.GuardApp()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture(scope="module")
def app(backend):
    """The module's guard_app.py under the name the handler suites use."""
    return backend
