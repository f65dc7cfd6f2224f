"""Test keys for the integration suite: OP signing keys, JWKS files, RP
decryption keys.

Every key is a `Key`: the pyca/cryptography private key, its jwcrypto JWK
(with `kid`), and helpers to export the public JWK, a JWKS document, or PEM.
"""
import json
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwcrypto import jwk as jwk_mod

# Which key type each signature algorithm needs (name used by new_key()).
ALG_KEY_TYPE = {
    "RS256": "rsa", "RS384": "rsa", "RS512": "rsa",
    "PS256": "rsa", "PS384": "rsa", "PS512": "rsa",
    "ES256": "p256", "ES384": "p384", "ES512": "p521",
    "EdDSA": "ed25519",
    "HS256": "secret", "HS384": "secret", "HS512": "secret",
}

ALL_SIG_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                "ES256", "ES384", "ES512", "HS256", "HS384", "HS512", "EdDSA"]
ASYM_SIG_ALGS = [a for a in ALL_SIG_ALGS if not a.startswith("HS")]
HMAC_ALGS = ["HS256", "HS384", "HS512"]

JWE_ALGS = ["RSA-OAEP", "RSA-OAEP-256"]
JWE_ENCS = ["A128GCM", "A192GCM", "A256GCM",
            "A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512"]


class Key:
    """One asymmetric key with a kid."""

    def __init__(self, kind, kid, private):
        self.kind = kind
        self.kid = kid
        self.private = private
        d = json.loads(jwk_mod.JWK.from_pyca(private).export_private())
        if kid is not None:
            d["kid"] = kid
        self.jwk = jwk_mod.JWK(**d)

    @property
    def public(self):
        return self.private.public_key()

    def public_jwk(self, **extra):
        """The public JWK as a dict (kid included), plus `extra` members."""
        d = json.loads(self.jwk.export_public())
        d.update(extra)
        return d

    def private_jwk(self, **extra):
        d = json.loads(self.jwk.export_private())
        d.update(extra)
        return d

    def public_jwk_object(self):
        return jwk_mod.JWK(**self.public_jwk())

    def private_pem(self):
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())

    def public_pem(self):
        return self.public.public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo)

    def __repr__(self):
        return "Key(%s, kid=%r)" % (self.kind, self.kid)


def new_key(kind, kid=None):
    """kind: rsa, rsa4096, p256, p384, p521, ed25519."""
    if kind == "rsa":
        priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif kind == "rsa4096":
        priv = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    elif kind == "p256":
        priv = ec.generate_private_key(ec.SECP256R1())
    elif kind == "p384":
        priv = ec.generate_private_key(ec.SECP384R1())
    elif kind == "p521":
        priv = ec.generate_private_key(ec.SECP521R1())
    elif kind == "ed25519":
        priv = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError("unknown key kind %r" % kind)
    return Key(kind, kid, priv)


class OPKeys:
    """The signing keys of one OP: one key per type, each with a kid."""

    def __init__(self, prefix=""):
        self.rsa = new_key("rsa", prefix + "rsa1")
        self.p256 = new_key("p256", prefix + "ec256")
        self.p384 = new_key("p384", prefix + "ec384")
        self.p521 = new_key("p521", prefix + "ec521")
        self.ed25519 = new_key("ed25519", prefix + "ed1")

    def all(self):
        return [self.rsa, self.p256, self.p384, self.p521, self.ed25519]

    def for_alg(self, alg):
        kind = ALG_KEY_TYPE[alg]
        return {"rsa": self.rsa, "p256": self.p256, "p384": self.p384,
                "p521": self.p521, "ed25519": self.ed25519}[kind]

    def jwks(self, **extra):
        return jwks_doc(self.all(), **extra)


def jwks_doc(keys, **extra):
    """A JWKS dict holding the public JWKs of `keys` (each plus `extra`)."""
    return {"keys": [k.public_jwk(**extra) for k in keys]}


def write_file(path, data, mode=0o644):
    """Writes bytes or str to `path`, readable by httpd's child user."""
    if isinstance(data, str):
        data = data.encode()
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


def write_jwks(path, doc):
    """Writes a JWKS (dict, list of Key, or raw str/bytes) to `path`."""
    if isinstance(doc, list):
        doc = jwks_doc(doc)
    if isinstance(doc, dict):
        doc = json.dumps(doc, indent=1)
    return write_file(path, doc)
