"""Minting logout tokens for the integration tests.

Two ways to make a token:
- `sign()` / `encrypt()`: through jwcrypto, the way a real OP would;
- `raw_sign()` / `compact()`: byte-level construction (any header, any
  payload bytes, alg none, duplicate JSON members, embedded keys, ...), with
  the signature computed directly with pyca/cryptography.
"""
import base64
import datetime
import hashlib
import hmac
import json
import time
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from jwcrypto import jwe as jwe_mod
from jwcrypto import jwk as jwk_mod
from jwcrypto import jws as jws_mod

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class _Remove:
    def __repr__(self):
        return "REMOVE"


# Pass as a claim value to claims() to drop that claim.
REMOVE = _Remove()


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(s):
    s += "=" * (-len(s) % 4)
    return base64.urlsafe_b64decode(s)


def json_bytes(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def new_jti():
    return str(uuid.uuid4())


def claims(issuer, audience, now=None, **overrides):
    """A valid logout token claim set; `overrides` replace claims, and a
    value of REMOVE drops the claim."""
    now = int(time.time()) if now is None else now
    c = {
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + 120,
        "jti": new_jti(),
        "sub": "user-" + uuid.uuid4().hex[:8],
        "sid": "sid-" + uuid.uuid4().hex,
        "events": {LOGOUT_EVENT: {}},
    }
    for k, v in overrides.items():
        if v is REMOVE:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def _hmac_jwk(secret):
    if isinstance(secret, str):
        secret = secret.encode()
    return jwk_mod.JWK(kty="oct", k=b64u(secret))


def sign(payload, alg, key=None, secret=None, typ="logout+jwt", kid=True,
         headers=None):
    """Signs `payload` (dict or bytes) with jwcrypto. `key` is a keys.Key
    (asymmetric algs); `secret` is the HMAC key for HS*. `kid=True` puts the
    key's kid in the header, False leaves it out, a string sets it. `typ=None`
    leaves typ out. `headers` adds protected header members."""
    if isinstance(payload, dict):
        payload = json_bytes(payload)
    hdr = {"alg": alg}
    if typ is not None:
        hdr["typ"] = typ
    if alg.startswith("HS"):
        sk = _hmac_jwk(secret)
    else:
        sk = key.jwk
        if kid is True and key.kid is not None:
            hdr["kid"] = key.kid
    if isinstance(kid, str):
        hdr["kid"] = kid
    if headers:
        hdr.update(headers)
    s = jws_mod.JWS(payload)
    s.add_signature(sk, alg=alg, protected=json.dumps(hdr))
    return s.serialize(compact=True)


def _hash_for(alg):
    return {"256": hashes.SHA256(), "384": hashes.SHA384(),
            "512": hashes.SHA512()}[alg[-3:]]


def signature_bytes(alg, signing_input, key=None, secret=None):
    """The JWS signature of `signing_input` (bytes) with `alg`."""
    if alg == "none":
        return b""
    if alg.startswith("HS"):
        if isinstance(secret, str):
            secret = secret.encode()
        dig = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
               "HS512": hashlib.sha512}[alg]
        return hmac.new(secret, signing_input, dig).digest()
    priv = key.private if hasattr(key, "private") else key
    if alg.startswith("RS"):
        return priv.sign(signing_input, padding.PKCS1v15(), _hash_for(alg))
    if alg.startswith("PS"):
        h = _hash_for(alg)
        return priv.sign(signing_input,
                         padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size),
                         h)
    if alg.startswith("ES"):
        der = priv.sign(signing_input, ec.ECDSA(_hash_for(alg)))
        r, s = decode_dss_signature(der)
        n = {"ES256": 32, "ES384": 48, "ES512": 66}[alg]
        return r.to_bytes(n, "big") + s.to_bytes(n, "big")
    if alg == "EdDSA":
        return priv.sign(signing_input)
    raise ValueError("unknown alg %r" % alg)


def _part(x):
    """A header/payload part: dict -> compact JSON, str/bytes -> used as-is."""
    if isinstance(x, dict) or isinstance(x, list):
        return json_bytes(x)
    if isinstance(x, str):
        return x.encode()
    return x


def raw_sign(header, payload, key=None, secret=None, alg=None):
    """Builds header.payload.signature from raw parts. `header` and `payload`
    are dicts (serialised compactly) or exact bytes/str (e.g. JSON with
    duplicate members). The signature uses `alg` (default: header's alg)."""
    if alg is None:
        alg = header["alg"] if isinstance(header, dict) else json.loads(header)["alg"]
    signing_input = (b64u(_part(header)) + "." + b64u(_part(payload))).encode()
    sig = signature_bytes(alg, signing_input, key=key, secret=secret)
    return signing_input.decode() + "." + b64u(sig)


def compact(*parts):
    """Joins already-encoded parts with dots."""
    return ".".join(parts)


def split(token):
    return token.split(".")


def decode_part(token, i):
    return json.loads(b64u_decode(split(token)[i]))


def replace_payload(token, payload):
    """Swaps the payload of a signed token, keeping header and signature."""
    h, _, s = split(token)
    return compact(h, b64u(_part(payload)), s)


def flip_signature(token):
    """Changes one bit in the middle of the signature."""
    h, p, s = split(token)
    sig = bytearray(b64u_decode(s))
    sig[len(sig) // 2] ^= 0x01
    return compact(h, p, b64u(bytes(sig)))


def encrypt(inner, key, alg="RSA-OAEP", enc="A256GCM", cty="JWT", kid=False,
            headers=None):
    """Wraps the compact JWS `inner` in a compact JWE for the RSA public key of
    keys.Key `key` (or a jwcrypto JWK)."""
    hdr = {"alg": alg, "enc": enc}
    if cty is not None:
        hdr["cty"] = cty
    k = key.public_jwk_object() if hasattr(key, "public_jwk_object") else key
    if kid:
        hdr["kid"] = key.kid
    if headers:
        hdr.update(headers)
    e = jwe_mod.JWE(plaintext=inner.encode(), protected=json.dumps(hdr))
    e.add_recipient(k)
    return e.serialize(compact=True)


def self_signed_cert_der(key, cn="attacker.example"):
    """A self-signed certificate for keys.Key `key` (for x5c headers)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key.private, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


__all__ = [
    "LOGOUT_EVENT", "REMOVE", "b64u", "b64u_decode", "json_bytes", "new_jti",
    "claims", "sign", "raw_sign", "signature_bytes", "compact", "split",
    "decode_part", "replace_payload", "flip_signature", "encrypt",
    "self_signed_cert_der", "rsa", "ed25519",
]
