"""Many distinct, valid logout tokens, fast.

jwcrypto costs about a millisecond of Python per token before any
cryptography; here the compact JWS is built by hand and signed with
pyca/cryptography (OpenSSL) directly, the way tokens.raw_sign() does in the
integration tests. RS256 signing is the slow part (about 1000 per second
per core), so it is spread over worker processes.

Every token is valid for the benchmark's receivers: iss, aud, iat, exp
(iat + 3600, so that a slow run never sees a token expire), a fresh jti,
sub, sid, events; typ logout+jwt; kid of the signing key.
"""
import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def _b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _signing_inputs(alg, kid, issuer, audience, prefix, first, count, now):
    hdr = {"alg": alg, "typ": "logout+jwt"}
    if kid:
        hdr["kid"] = kid
    h64 = _b64u(json.dumps(hdr, separators=(",", ":")).encode())
    for i in range(first, first + count):
        claims = {"iss": issuer, "aud": audience, "iat": now, "exp": now + 3600,
                  "jti": "%s-jti-%d" % (prefix, i), "sub": "%s-user-%d" % (prefix, i),
                  "sid": "%s-sid-%d" % (prefix, i), "events": {LOGOUT_EVENT: {}}}
        yield h64 + b"." + _b64u(json.dumps(claims, separators=(",", ":")).encode())


def _sign_chunk(args):
    alg, key_pem, secret, kid, issuer, audience, prefix, first, count, now = args
    key = None
    if key_pem is not None:
        key = serialization.load_pem_private_key(key_pem, password=None)
    out = []
    for si in _signing_inputs(alg, kid, issuer, audience, prefix, first, count, now):
        if alg == "RS256":
            sig = key.sign(si, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "ES256":
            r, s = decode_dss_signature(key.sign(si, ec.ECDSA(hashes.SHA256())))
            sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        elif alg == "HS256":
            sig = hmac.new(secret.encode(), si, hashlib.sha256).digest()
        else:
            raise ValueError("unsupported alg %s" % alg)
        out.append((si + b"." + _b64u(sig)).decode())
    return out


def make_tokens(alg, count, issuer, audience, key=None, secret=None, prefix="t", workers=None):
    """`count` compact JWS logout tokens. `key`: a keys.Key (RS256/ES256)."""
    now = int(time.time())
    key_pem = key.private_pem() if key is not None else None
    kid = key.kid if key is not None else None
    if workers is None:
        workers = (os.cpu_count() or 1) if alg == "RS256" else 1
    workers = max(1, min(workers, count // 500 or 1))
    per = -(-count // workers)
    jobs = [(alg, key_pem, secret, kid, issuer, audience, prefix, w * per,
             min(per, count - w * per), now) for w in range(workers) if count - w * per > 0]
    if len(jobs) == 1:
        return _sign_chunk(jobs[0])
    with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
        parts = pool.map(_sign_chunk, jobs)
    return [t for part in parts for t in part]


def form_body(token):
    return "logout_token=" + urllib.parse.quote(token, safe="")


def write_bodies(path, tokens):
    """One form body per line (what the wrk token script reads)."""
    with open(path, "w") as f:
        for t in tokens:
            f.write(form_body(t))
            f.write("\n")
    os.chmod(path, 0o644)
    return path
