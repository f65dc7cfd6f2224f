"""The receiver against a real httpd: the JOSE envelope. Algorithms, key
selection and key confusion, header-embedded keys, tampering, malformed
serialisations, duplicate JSON members, typ, crit, and encrypted (JWE)
logout tokens (docs/receiver.md, "Validation steps"; docs/keys.md)."""
import base64
import json

import pytest

import keys
import tokens
from conftest import OCT_KEY_BYTES, SECRET
from tokens import b64u

REPLACE = "REPLACE"  # placeholder claim value, swapped for raw JSON


def hdr(alg, kid=None, **extra):
    h = {"alg": alg, "typ": "logout+jwt"}
    if kid is not None:
        h["kid"] = kid
    h.update(extra)
    return h


# ---------------------------------------------------------------------------
# Algorithms
# ---------------------------------------------------------------------------

class TestAlgorithms:
    @pytest.mark.parametrize("alg", keys.ALL_SIG_ALGS)
    def test_each_alg_accepted_when_allowed(self, receiver, alg):
        receiver.accept("/main", receiver.token(alg))

    @pytest.mark.parametrize("alg", [a for a in keys.ALL_SIG_ALGS if a != "RS256"])
    def test_each_alg_refused_by_default_rs256_only(self, receiver, alg):
        receiver.refuse("/rs256", receiver.token(alg), "alg")

    def test_rs256_default_accepted(self, receiver):
        receiver.accept("/rs256", receiver.token("RS256"))

    def test_rs256_refused_where_only_es256(self, receiver):
        receiver.refuse("/es256", receiver.token("RS256"), "alg")

    def test_es256_accepted_where_only_es256(self, receiver):
        receiver.accept("/es256", receiver.token("ES256"))

    @pytest.mark.parametrize("alg", ["RS256", "PS384", "ES256", "ES384", "ES512", "EdDSA"])
    def test_without_kid_each_key_of_the_type_tried(self, receiver, op_keys, alg):
        tok = tokens.sign(receiver.claims(), alg, key=op_keys.for_alg(alg), kid=False)
        assert "kid" not in tokens.decode_part(tok, 0)
        receiver.accept("/main", tok)

    def test_without_kid_second_rsa_key(self, receiver, op_keys):
        tok = tokens.sign(receiver.claims(), "RS256", key=op_keys.rsa2, kid=False)
        receiver.accept("/main", tok)

    def test_kid_selects_the_key(self, receiver, op_keys):
        receiver.accept("/main", tokens.sign(receiver.claims(), "RS256", key=op_keys.rsa2))

    def test_kid_of_other_rsa_key(self, receiver, op_keys):
        # signed by rsa2, but names rsa1: only rsa1 is tried
        tok = tokens.sign(receiver.claims(), "RS256", key=op_keys.rsa2, kid="rsa1")
        receiver.refuse("/main", tok, "signature")

    @pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
    def test_alg_none_variants(self, receiver, alg):
        tok = tokens.raw_sign({"alg": alg, "typ": "logout+jwt"}, receiver.claims(), alg="none")
        receiver.refuse("/main", tok, "alg")

    def test_alg_none_with_a_signature(self, receiver, op_keys):
        good = receiver.token("RS256")
        h = b64u(tokens.json_bytes({"alg": "none", "kid": "rsa1"}))
        _, p, s = tokens.split(good)
        receiver.refuse("/main", tokens.compact(h, p, s), "alg")

    @pytest.mark.parametrize("alg", ["RS999", "ES256K", "HS1", "rs256", "A256GCM", ""])
    def test_unknown_alg(self, receiver, op_keys, alg):
        tok = tokens.raw_sign(hdr(alg, "rsa1"), receiver.claims(), key=op_keys.rsa, alg="RS256")
        receiver.refuse("/main", tok, "alg")

    def test_alg_missing(self, receiver, op_keys):
        tok = tokens.raw_sign({"typ": "logout+jwt", "kid": "rsa1"}, receiver.claims(),
                              key=op_keys.rsa, alg="RS256")
        receiver.refuse("/main", tok, ("alg", "header"))

    def test_alg_not_a_string(self, receiver, op_keys):
        tok = tokens.raw_sign(hdr(256, "rsa1"), receiver.claims(), key=op_keys.rsa, alg="RS256")
        receiver.refuse("/main", tok, ("alg", "header"))


# ---------------------------------------------------------------------------
# Keys: confusion, unknown kid, keys carried in the header
# ---------------------------------------------------------------------------

class TestKeyConfusion:
    def test_hs256_keyed_with_rsa_public_pem(self, receiver, op_keys):
        tok = tokens.raw_sign(hdr("HS256"), receiver.claims(), secret=op_keys.rsa.public_pem())
        receiver.refuse("/main", tok, "signature")

    def test_hs256_keyed_with_rsa_public_pem_and_its_kid(self, receiver, op_keys):
        tok = tokens.raw_sign(hdr("HS256", "rsa1"), receiver.claims(),
                              secret=op_keys.rsa.public_pem())
        receiver.refuse("/main", tok, "signature")

    def test_hs256_keyed_with_rsa_public_jwk(self, receiver, op_keys):
        jwk_bytes = json.dumps(op_keys.rsa.public_jwk()).encode()
        tok = tokens.raw_sign(hdr("HS256", "rsa1"), receiver.claims(), secret=jwk_bytes)
        receiver.refuse("/main", tok, "signature")

    def test_hs256_keyed_with_ec_public_pem(self, receiver, op_keys):
        tok = tokens.raw_sign(hdr("HS256", "ec256"), receiver.claims(),
                              secret=op_keys.p256.public_pem())
        receiver.refuse("/main", tok, "signature")

    def test_oct_key_in_jwks_is_ignored(self, receiver):
        tok = tokens.raw_sign(hdr("HS256", "oct1"), receiver.claims(), secret=OCT_KEY_BYTES)
        receiver.refuse("/main", tok, "signature")

    @pytest.mark.parametrize("alg", keys.HMAC_ALGS)
    def test_hmac_wrong_secret(self, receiver, alg):
        tok = tokens.sign(receiver.claims(), alg, secret=SECRET + "-not")
        receiver.refuse("/main", tok, "signature")

    def test_hmac_secret_prefix_only(self, receiver):
        tok = tokens.sign(receiver.claims(), "HS256", secret=SECRET[:32])
        receiver.refuse("/main", tok, "signature")

    def test_kid_of_wrong_key_type(self, receiver, op_keys):
        # RS256 naming the P-256 key's kid: no key of the right type has it
        tok = tokens.raw_sign(hdr("RS256", "ec256"), receiver.claims(), key=op_keys.rsa)
        receiver.refuse("/main", tok, ("unknown_kid", "no_key"))

    def test_ec_curve_mismatch(self, receiver, op_keys):
        # ES384 naming the P-256 key
        tok = tokens.raw_sign(hdr("ES384", "ec256"), receiver.claims(), key=op_keys.p384)
        receiver.refuse("/main", tok, ("unknown_kid", "no_key"))

    def test_encryption_key_not_used_for_signatures(self, receiver, op_keys):
        tok = tokens.sign(receiver.claims(), "RS256", key=op_keys.rsa_enc)
        receiver.refuse("/main", tok, ("unknown_kid", "signature"))

    def test_unknown_kid(self, receiver, op_keys):
        tok = tokens.sign(receiver.claims(), "RS256", key=op_keys.rsa, kid="no-such-kid")
        receiver.refuse("/main", tok, "unknown_kid")

    def test_attacker_key_with_trusted_kid(self, receiver, attacker):
        tok = tokens.sign(receiver.claims(), "RS256", key=attacker.rsa, kid="rsa1")
        receiver.refuse("/main", tok, "signature")

    def test_attacker_key_without_kid(self, receiver, attacker):
        tok = tokens.sign(receiver.claims(), "ES256", key=attacker.p256, kid=False)
        receiver.refuse("/main", tok, "signature")


class TestHeaderKeysIgnored:
    def test_jwk_header_without_kid(self, receiver, attacker):
        h = hdr("RS256", jwk=attacker.rsa.public_jwk())
        h["jwk"].pop("kid")
        tok = tokens.raw_sign(h, receiver.claims(), key=attacker.rsa)
        receiver.refuse("/main", tok, "signature")

    def test_jwk_header_with_its_own_kid(self, receiver, attacker):
        h = hdr("RS256", attacker.rsa.kid, jwk=attacker.rsa.public_jwk())
        tok = tokens.raw_sign(h, receiver.claims(), key=attacker.rsa)
        receiver.refuse("/main", tok, "unknown_kid")

    def test_jwk_header_with_trusted_kid(self, receiver, attacker):
        h = hdr("RS256", "rsa1", jwk=attacker.rsa.public_jwk(kid="rsa1"))
        tok = tokens.raw_sign(h, receiver.claims(), key=attacker.rsa)
        receiver.refuse("/main", tok, "signature")

    def test_jwk_header_ec(self, receiver, attacker):
        h = hdr("ES256", jwk=attacker.p256.public_jwk())
        tok = tokens.raw_sign(h, receiver.claims(), key=attacker.p256)
        receiver.refuse("/main", tok, "signature")

    def test_jwk_header_ed25519(self, receiver, attacker):
        h = hdr("EdDSA", jwk=attacker.ed25519.public_jwk())
        tok = tokens.raw_sign(h, receiver.claims(), key=attacker.ed25519)
        receiver.refuse("/main", tok, "signature")

    @pytest.mark.parametrize("member", ["jku", "x5u"])
    def test_url_headers(self, receiver, attacker, member):
        h = hdr("RS256", "rsa1", **{member: "http://127.0.0.1:9/evil/jwks.json"})
        tok = tokens.raw_sign(h, receiver.claims(), key=attacker.rsa)
        receiver.refuse("/main", tok, "signature")

    def test_x5c_header(self, receiver, attacker):
        cert = tokens.self_signed_cert_der(attacker.rsa)
        h = hdr("RS256", x5c=[base64.b64encode(cert).decode()])
        tok = tokens.raw_sign(h, receiver.claims(), key=attacker.rsa)
        receiver.refuse("/main", tok, "signature")


# ---------------------------------------------------------------------------
# Tampering and malformed serialisations
# ---------------------------------------------------------------------------

class TestTampering:
    def test_tampered_payload(self, receiver):
        tok = receiver.token("RS256")
        p = tokens.decode_part(tok, 1)
        p["sub"] = "someone-else"
        receiver.refuse("/main", tokens.replace_payload(tok, p), "signature")

    @pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "ES512", "HS256", "EdDSA"])
    def test_tampered_signature(self, receiver, alg):
        receiver.refuse("/main", tokens.flip_signature(receiver.token(alg)), "signature")

    def test_truncated_signature(self, receiver):
        h, p, s = tokens.split(receiver.token("RS256"))
        receiver.refuse("/main", tokens.compact(h, p, s[:-8]), ("signature", "malformed"))

    def test_empty_signature(self, receiver):
        h, p, _ = tokens.split(receiver.token("RS256"))
        receiver.refuse("/main", tokens.compact(h, p, ""), ("signature", "malformed"))

    def test_signature_of_another_token(self, receiver):
        h1, p1, _ = tokens.split(receiver.token("ES256"))
        _, _, s2 = tokens.split(receiver.token("ES256"))
        receiver.refuse("/main", tokens.compact(h1, p1, s2), "signature")


class TestMalformed:
    def test_two_parts(self, receiver):
        h, p, _ = tokens.split(receiver.token())
        receiver.refuse("/main", tokens.compact(h, p), "malformed")

    def test_four_parts(self, receiver):
        h, p, s = tokens.split(receiver.token())
        receiver.refuse("/main", tokens.compact(h, p, s, s), "malformed")

    def test_six_parts(self, receiver):
        h, p, s = tokens.split(receiver.token())
        receiver.refuse("/main", tokens.compact(h, p, s, h, p, s), "malformed")

    def test_one_part(self, receiver):
        receiver.refuse("/main", "eyJhbGciOiJSUzI1NiJ9", "malformed")

    def test_bad_base64url_header(self, receiver):
        _, p, s = tokens.split(receiver.token())
        receiver.refuse("/main", tokens.compact("eyJ@@@!!", p, s), "malformed")

    def test_standard_base64_chars_in_header(self, receiver):
        _, p, s = tokens.split(receiver.token())
        receiver.refuse("/main", tokens.compact("eyJ+/+/", p, s), ("malformed", "header"))

    def test_bad_base64url_payload(self, receiver):
        h, _, s = tokens.split(receiver.token())
        receiver.refuse("/main", tokens.compact(h, "e30*%", s), ("malformed", "payload"))

    def test_bad_base64url_signature(self, receiver):
        h, p, _ = tokens.split(receiver.token())
        receiver.refuse("/main", tokens.compact(h, p, "!!!!"), ("malformed", "signature"))

    @pytest.mark.parametrize("raw", [b"not json", b"", b"{", b"\xff\xfe{}"])
    def test_header_not_json(self, receiver, op_keys, raw):
        tok = tokens.raw_sign(raw, receiver.claims(), key=op_keys.rsa, alg="RS256")
        receiver.refuse("/main", tok, ("header", "malformed"))

    @pytest.mark.parametrize("raw", [b'["RS256"]', b'"RS256"', b"42", b"null"])
    def test_header_not_an_object(self, receiver, op_keys, raw):
        tok = tokens.raw_sign(raw, receiver.claims(), key=op_keys.rsa, alg="RS256")
        receiver.refuse("/main", tok, "header")

    @pytest.mark.parametrize("raw", [b"not json", b"[1,2]", b"null", b'"x"', b""])
    def test_payload_not_an_object(self, receiver, op_keys, raw):
        tok = tokens.raw_sign(hdr("RS256", "rsa1"), raw, key=op_keys.rsa)
        receiver.refuse("/main", tok, "payload")

    def test_only_dots(self, receiver):
        receiver.refuse("/main", "..", ("malformed", "header"))

    def test_kid_not_a_string(self, receiver, op_keys):
        tok = tokens.raw_sign(hdr("RS256", 1), receiver.claims(), key=op_keys.rsa)
        receiver.refuse("/main", tok, ("header", "unknown_kid"))


class TestDuplicateMembers:
    def _claims_json(self, receiver, dup):
        c = json.dumps(receiver.claims(), separators=(",", ":"))
        return (c[:-1] + "," + dup + "}").encode()

    def test_header_duplicate_alg(self, receiver, op_keys):
        raw = b'{"alg":"RS256","kid":"rsa1","typ":"logout+jwt","alg":"RS256"}'
        tok = tokens.raw_sign(raw, receiver.claims(), key=op_keys.rsa, alg="RS256")
        receiver.refuse("/main", tok, "header")

    def test_header_duplicate_alg_none_last(self, receiver, op_keys):
        raw = b'{"alg":"RS256","kid":"rsa1","alg":"none"}'
        tok = tokens.raw_sign(raw, receiver.claims(), key=op_keys.rsa, alg="RS256")
        receiver.refuse("/main", tok, ("header", "alg"))

    def test_header_duplicate_kid(self, receiver, op_keys):
        raw = b'{"alg":"RS256","kid":"nope","kid":"rsa1"}'
        tok = tokens.raw_sign(raw, receiver.claims(), key=op_keys.rsa, alg="RS256")
        receiver.refuse("/main", tok, "header")

    def test_payload_duplicate_aud(self, receiver, op_keys):
        raw = self._claims_json(receiver, '"aud":"evil-client"')
        receiver.refuse("/main", tokens.raw_sign(hdr("RS256", "rsa1"), raw, key=op_keys.rsa),
                        "payload")

    def test_payload_duplicate_iss_same_value(self, receiver, op_keys):
        raw = self._claims_json(receiver, json.dumps({"iss": receiver.claims()["iss"]})[1:-1])
        receiver.refuse("/main", tokens.raw_sign(hdr("RS256", "rsa1"), raw, key=op_keys.rsa),
                        "payload")

    def test_payload_duplicate_in_nested_object(self, receiver, op_keys):
        c = receiver.claims(events=REPLACE)
        c_json = json.dumps(c, separators=(",", ":")).replace(
            '"events":"REPLACE"',
            '"events":{"%s":{},"%s":{}}' % (tokens.LOGOUT_EVENT, tokens.LOGOUT_EVENT))
        tok = tokens.raw_sign(hdr("RS256", "rsa1"), c_json.encode(), key=op_keys.rsa)
        receiver.refuse("/main", tok, ("payload", "events"))


# ---------------------------------------------------------------------------
# typ and crit
# ---------------------------------------------------------------------------

class TestTyp:
    @pytest.mark.parametrize("typ", ["logout+jwt", "application/logout+jwt", "JWT", "jwt",
                                     "application/jwt", "Application/Logout+JWT",
                                     "LOGOUT+JWT", None])
    def test_accepted(self, receiver, op_keys, typ):
        tok = tokens.sign(receiver.claims(), "RS256", key=op_keys.rsa, typ=typ)
        receiver.accept("/main", tok)

    @pytest.mark.parametrize("typ", ["at+jwt", "id_token+jwt", "application/at+jwt",
                                     "secevent+jwt", "JOSE", "", "logout+jwt ",
                                     "application/logout+jwt+x", "text/logout+jwt"])
    def test_rejected(self, receiver, op_keys, typ):
        tok = tokens.sign(receiver.claims(), "RS256", key=op_keys.rsa, typ=typ)
        receiver.refuse("/main", tok, "typ")

    def test_typ_not_a_string(self, receiver, op_keys):
        tok = tokens.raw_sign(hdr("RS256", "rsa1", typ=1), receiver.claims(), key=op_keys.rsa)
        receiver.refuse("/main", tok, ("typ", "header"))


class TestCrit:
    @pytest.mark.parametrize("extra", [
        {"crit": ["exp"], "exp": 1},
        {"crit": ["b64"], "b64": True},
        {"crit": ["urn:example:must-understand"], "urn:example:must-understand": 1},
        {"crit": []},
    ], ids=["exp", "b64", "private", "empty"])
    def test_crit_rejected(self, receiver, op_keys, extra):
        tok = tokens.raw_sign(hdr("RS256", "rsa1", **extra), receiver.claims(), key=op_keys.rsa)
        receiver.refuse("/main", tok, "crit")

    def test_crit_not_a_list(self, receiver, op_keys):
        tok = tokens.raw_sign(hdr("RS256", "rsa1", crit="exp", exp=1), receiver.claims(),
                              key=op_keys.rsa)
        receiver.refuse("/main", tok, ("crit", "header"))


# ---------------------------------------------------------------------------
# Encrypted logout tokens (JWE)
# ---------------------------------------------------------------------------

class TestJWE:
    @pytest.mark.parametrize("enc", keys.JWE_ENCS)
    @pytest.mark.parametrize("alg", keys.JWE_ALGS)
    def test_each_alg_and_enc(self, receiver, dec_keys, alg, enc):
        c = receiver.claims()
        tok = tokens.encrypt(receiver.token("RS256", payload=c), dec_keys.pem, alg=alg, enc=enc)
        assert len(tok.split(".")) == 5
        receiver.accept("/main", tok, payload=c)

    def test_jwk_decryption_key(self, receiver, dec_keys):
        c = receiver.claims()
        tok = tokens.encrypt(receiver.token("ES256", payload=c), dec_keys.jwk,
                             alg="RSA-OAEP-256", enc="A256GCM", kid=True)
        receiver.accept("/main", tok, payload=c)

    @pytest.mark.parametrize("inner_alg", ["EdDSA", "HS256", "PS512"])
    def test_inner_algs(self, receiver, dec_keys, inner_alg):
        c = receiver.claims()
        tok = tokens.encrypt(receiver.token(inner_alg, payload=c), dec_keys.pem)
        receiver.accept("/main", tok, payload=c)

    def test_without_cty(self, receiver, dec_keys):
        c = receiver.claims()
        tok = tokens.encrypt(receiver.token("RS256", payload=c), dec_keys.pem, cty=None)
        receiver.accept("/main", tok, payload=c)

    def test_wrong_key(self, receiver, dec_keys):
        tok = tokens.encrypt(receiver.token(), dec_keys.wrong, alg="RSA-OAEP-256")
        receiver.refuse("/main", tok, "decrypt")

    @pytest.mark.parametrize("part", [1, 2, 3, 4])
    def test_tampered(self, receiver, dec_keys, part):
        tok = tokens.encrypt(receiver.token(), dec_keys.pem, enc="A128CBC-HS256")
        parts = tok.split(".")
        raw = bytearray(tokens.b64u_decode(parts[part]))
        raw[len(raw) // 2] ^= 0x01
        parts[part] = b64u(bytes(raw))
        receiver.refuse("/main", ".".join(parts), ("decrypt", "malformed"))

    def test_tampered_protected_header(self, receiver, dec_keys):
        tok = tokens.encrypt(receiver.token(), dec_keys.pem, enc="A256GCM")
        parts = tok.split(".")
        h = json.loads(tokens.b64u_decode(parts[0]))
        h["x"] = 1
        parts[0] = b64u(json.dumps(h))
        receiver.refuse("/main", ".".join(parts), "decrypt")

    def test_inner_token_wrong_aud(self, receiver, dec_keys):
        tok = tokens.encrypt(receiver.token(aud="other"), dec_keys.pem)
        receiver.refuse("/main", tok, "aud")

    def test_inner_alg_none(self, receiver, dec_keys):
        inner = tokens.raw_sign({"alg": "none"}, receiver.claims())
        receiver.refuse("/main", tokens.encrypt(inner, dec_keys.pem), "alg")

    def test_inner_not_a_jws(self, receiver, dec_keys):
        tok = tokens.encrypt(json.dumps(receiver.claims()), dec_keys.pem)
        receiver.refuse("/main", tok, ("malformed", "payload", "decrypt"))

    def test_unknown_enc(self, receiver, dec_keys):
        tok = tokens.encrypt(receiver.token(), dec_keys.pem, enc="A256GCM")
        parts = tok.split(".")
        h = json.loads(tokens.b64u_decode(parts[0]))
        h["enc"] = "A512GCM"
        parts[0] = b64u(json.dumps(h))
        receiver.refuse("/main", ".".join(parts), ("decrypt", "alg", "header"))

    def test_require_encryption_refuses_plain_jws(self, receiver):
        receiver.refuse("/enc", receiver.token(), "encryption_required")

    def test_require_encryption_accepts_jwe(self, receiver, dec_keys):
        c = receiver.claims()
        tok = tokens.encrypt(receiver.token("RS256", payload=c), dec_keys.pem,
                             alg="RSA-OAEP-256", enc="A128GCM")
        receiver.accept("/enc", tok, payload=c)

    def test_jwe_where_no_decryption_key(self, receiver, dec_keys):
        tok = tokens.encrypt(receiver.token(), dec_keys.pem)
        receiver.refuse("/rs256", tok, ("malformed", "decrypt", "no_key"))
