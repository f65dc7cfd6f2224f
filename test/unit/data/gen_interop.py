#!/usr/bin/python3
"""Makes the interop fixtures of test_jwe.c / test_token.c with an independent
JOSE implementation (python3-jwcrypto, Debian), so the core is checked against
tokens it did not make itself.

    /usr/bin/python3 test/unit/data/gen_interop.py   # rewrites test/unit/data/interop-*

Writes:
  interop-jwks.json         the OP's public keys (RSA, EC P-256/384/521, Ed25519)
  interop-enc-key.pem       the RP's RSA decryption key (PKCS#8)
  interop-enc-key.jwk       the same key as a private JWK
  interop-<ALG>.jws         a logout token signed with each signature algorithm
  interop-<ALG>-<ENC>.jwe   an RS256 logout token encrypted with each supported
                            key management x content encryption pair
  interop-secret.txt        the client secret the HS* tokens use

Every token has iat = 1699999995 and exp = 1700000115 (the tests' clock is
1700000000, TH_NOW), iss https://op.example.com/realms/main, aud portal.
The files are committed: rerunning makes new keys and tokens that work just
as well.
"""
import json
import os
import sys

from jwcrypto import jwe, jwk, jws, jwt

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = 1700000000
ISSUER = "https://op.example.com/realms/main"
CLIENT = "portal"
SECRET = "interop-client-secret-7f3a9c0e5b"
EVENT = "http://schemas.openid.net/event/backchannel-logout"


def write(name, data):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(data)


def claims(alg):
    return {
        "iss": ISSUER, "aud": CLIENT, "iat": NOW - 5, "exp": NOW + 115,
        "jti": "interop-" + alg, "sub": "interop-user", "sid": "interop-sid",
        "events": {EVENT: {}},
    }


def main():
    keys = {
        "RSA": jwk.JWK.generate(kty="RSA", size=2048, kid="interop-rsa"),
        "P-256": jwk.JWK.generate(kty="EC", crv="P-256", kid="interop-p256"),
        "P-384": jwk.JWK.generate(kty="EC", crv="P-384", kid="interop-p384"),
        "P-521": jwk.JWK.generate(kty="EC", crv="P-521", kid="interop-p521"),
        "Ed25519": jwk.JWK.generate(kty="OKP", crv="Ed25519", kid="interop-ed25519"),
    }
    pub = [json.loads(k.export_public()) for k in keys.values()]
    write("interop-jwks.json", json.dumps({"keys": pub}, indent=1) + "\n")
    write("interop-secret.txt", SECRET)

    enc_key = jwk.JWK.generate(kty="RSA", size=2048, kid="interop-enc")
    write("interop-enc-key.pem", enc_key.export_to_pem(private_key=True, password=None).decode())
    write("interop-enc-key.jwk", enc_key.export_private() + "\n")

    by_alg = {
        "RS256": "RSA", "RS384": "RSA", "RS512": "RSA",
        "PS256": "RSA", "PS384": "RSA", "PS512": "RSA",
        "ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "EdDSA": "Ed25519",
    }
    hmac_key = jwk.JWK(kty="oct", k=jws.base64url_encode(SECRET.encode()))
    for alg in list(by_alg) + ["HS256", "HS384", "HS512"]:
        key = hmac_key if alg.startswith("HS") else keys[by_alg[alg]]
        header = {"alg": alg, "typ": "logout+jwt"}
        if not alg.startswith("HS"):
            header["kid"] = json.loads(key.export_public())["kid"]
        tok = jwt.JWT(header=header, claims=claims(alg))
        tok.make_signed_token(key)
        write("interop-%s.jws" % alg, tok.serialize() + "\n")

    inner = jwt.JWT(header={"alg": "RS256", "kid": "interop-rsa", "typ": "logout+jwt"},
                    claims=claims("RS256-nested"))
    inner.make_signed_token(keys["RSA"])
    inner_s = inner.serialize()
    for alg in ("RSA-OAEP", "RSA-OAEP-256"):
        for enc in ("A128GCM", "A192GCM", "A256GCM",
                    "A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512"):
            e = jwe.JWE(inner_s.encode(), json.dumps({"alg": alg, "enc": enc, "cty": "JWT"}),
                        algs=[alg, enc])
            e.add_recipient(enc_key)
            write("interop-%s-%s.jwe" % (alg, enc), e.serialize(compact=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
