"""Configuration errors: `apache2 -t` must fail, naming the problem, and
httpd must refuse to start with such a configuration."""
import json

import pytest

import harness
import keys

ISSUER = "https://op.example.test"


@pytest.fixture(scope="module")
def op():
    return keys.OPKeys()


@pytest.fixture(scope="module")
def dec():
    return keys.new_key("rsa", "dec1")


@pytest.fixture
def httpd():
    h = harness.Httpd()
    yield h
    h.cleanup()


def receiver_conf(jwks, extra="", algs=None):
    lines = ["<Location /bcl>",
             "    SetHandler backchannel-logout",
             '    BCLIssuer "%s"' % ISSUER,
             "    BCLClientID rp1",
             '    BCLJWKSFile "%s"' % jwks]
    if algs:
        lines.append("    BCLSigningAlg %s" % algs)
    lines.extend("    " + l for l in extra.strip().splitlines() if l.strip())
    lines.append("</Location>")
    return "\n".join(lines) + "\n"


def configtest(httpd, body):
    httpd.configure(body)
    return httpd.configtest()


def assert_fails(httpd, body, *needles):
    rc, out = configtest(httpd, body)
    assert rc != 0, "apache2 -t accepted the config:\n%s" % out
    assert "Syntax OK" not in out, out
    for n in needles:
        assert n in out, "config error does not mention %r:\n%s" % (n, out)
    return out


def good_jwks(httpd, op):
    return keys.write_jwks(httpd.path("jwks.json"), op.jwks())


# -- valid configurations --------------------------------------------------

def test_valid_config(httpd, op, dec):
    jwks = good_jwks(httpd, op)
    pem = keys.write_file(httpd.path("dec.pem"), dec.private_pem())
    jwk = keys.write_file(httpd.path("dec.jwk"), json.dumps(dec.private_jwk()))
    extra = """
        BCLSigningAlg RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 HS256 HS384 HS512 EdDSA
        BCLClientSecret "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        BCLDecryptionKey "%s"
        BCLDecryptionKey "%s"
        BCLRequireEncryption Off
        BCLRequireSid On
        BCLRequireExp Off
        BCLClockSkew 30
        BCLMaxTokenSize 8192
    """ % (pem, jwk)
    rc, out = configtest(httpd, receiver_conf(jwks, extra))
    assert rc == 0, out
    assert "Syntax OK" in out


def test_valid_config_server_level(httpd, op):
    jwks = good_jwks(httpd, op)
    body = ('BCLIssuer "%s"\nBCLClientID rp1 rp2\nBCLJWKSFile "%s"\n'
            "<Location /bcl>\n    SetHandler backchannel-logout\n</Location>\n" % (ISSUER, jwks))
    rc, out = configtest(httpd, body)
    assert rc == 0, out


def test_jwks_with_a_single_key(httpd, op):
    jwks = keys.write_jwks(httpd.path("one.json"), [op.p256])
    rc, out = configtest(httpd, receiver_conf(jwks, algs="ES256"))
    assert rc == 0, out


# -- the JWKS file ---------------------------------------------------------

def test_missing_jwks_file(httpd):
    path = httpd.path("does-not-exist.json")
    assert_fails(httpd, receiver_conf(path), path)


def test_jwks_does_not_parse(httpd):
    path = keys.write_file(httpd.path("broken.json"), '{"keys": [ {"kty": "RSA", ')
    assert_fails(httpd, receiver_conf(path), path)


def test_jwks_not_a_jwks(httpd):
    path = keys.write_file(httpd.path("array.json"), "[1, 2, 3]")
    assert_fails(httpd, receiver_conf(path), path)


def test_jwks_without_usable_key(httpd):
    path = keys.write_jwks(httpd.path("oct-only.json"),
                           {"keys": [{"kty": "oct", "kid": "o", "k": "c2VjcmV0"}]})
    assert_fails(httpd, receiver_conf(path), path)


def test_jwks_with_broken_rsa_key(httpd, op):
    doc = op.jwks()
    doc["keys"][0]["n"] = "!!not-base64url!!"
    path = keys.write_jwks(httpd.path("bad-n.json"), doc)
    assert_fails(httpd, receiver_conf(path), path)


def test_jwks_is_a_directory(httpd):
    assert_fails(httpd, receiver_conf(httpd.path("run")), httpd.path("run"))


# -- BCLSigningAlg -----------------------------------------------------------

@pytest.mark.parametrize("alg", ["RS257", "none", "rs256", "HS1024", "RSA-OAEP"])
def test_unknown_alg(httpd, op, alg):
    jwks = good_jwks(httpd, op)
    assert_fails(httpd, receiver_conf(jwks, algs="RS256 %s" % alg), alg)


# -- BCLDecryptionKey ------------------------------------------------------

def test_decryption_key_does_not_parse(httpd, op):
    jwks = good_jwks(httpd, op)
    path = keys.write_file(httpd.path("dec.pem"),
                           "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    assert_fails(httpd, receiver_conf(jwks, 'BCLDecryptionKey "%s"' % path), path)


def test_decryption_key_garbage_jwk(httpd, op):
    jwks = good_jwks(httpd, op)
    path = keys.write_file(httpd.path("dec.jwk"), '{"kty": "RSA", "n": 5}')
    assert_fails(httpd, receiver_conf(jwks, 'BCLDecryptionKey "%s"' % path), path)


def test_decryption_key_missing_file(httpd, op):
    jwks = good_jwks(httpd, op)
    path = httpd.path("no-such-key.pem")
    assert_fails(httpd, receiver_conf(jwks, 'BCLDecryptionKey "%s"' % path), path)


def test_decryption_key_public_only(httpd, op, dec):
    jwks = good_jwks(httpd, op)
    path = keys.write_file(httpd.path("pub.pem"), dec.public_pem())
    assert_fails(httpd, receiver_conf(jwks, 'BCLDecryptionKey "%s"' % path), path)


# -- other directives --------------------------------------------------------

@pytest.mark.parametrize("directive", ["BCLRequireSid Maybe", "BCLRequireExp 2",
                                       "BCLRequireEncryption yes-please",
                                       "BCLClockSkew abc", "BCLClockSkew -5",
                                       "BCLMaxTokenSize lots", "BCLMaxTokenSize 0"])
def test_bad_directive_values(httpd, op, directive):
    jwks = good_jwks(httpd, op)
    assert_fails(httpd, receiver_conf(jwks, directive))


@pytest.mark.parametrize("directive,needle", [
    ("BCLBindFrom response-header Set-Cookie", "Set-Cookie"),
    ('BCLBindFrom response-header "X Session"', "X Session"),
    ("BCLBindFrom cookie", "BCLBindFrom"),
    ("BCLBindFrom env color=OIDC_CLAIM_color", "color"),
    ("BCLOnRevoked deny 200", "BCLOnRevoked"),
    ("BCLOnRevoked explode", "BCLOnRevoked"),
    ("BCLUnboundSession maybe", "BCLUnboundSession"),
    ("BCLStoreUnavailable sometimes", "BCLStoreUnavailable"),
    ("BCLCookiePath app", "BCLCookiePath"),
    ("BCLSessionCookie a=b", "a=b"),
])
def test_bad_guard_directive_values(httpd, op, directive, needle):
    jwks = good_jwks(httpd, op)
    assert_fails(httpd, receiver_conf(jwks, directive), needle)


@pytest.mark.parametrize("directive,needle", [
    ("BCLStore memcache", "the server is missing"),
    ("BCLStore redis 127.0.0.1", "is not HOST:PORT"),
    ("BCLStore shm file=", "must not be empty"),
    ("BCLStore shm file=/nonexistent-bcl-dir/journal", "/nonexistent-bcl-dir does not exist"),
    ("BCLStore shm memory=10", "holds 0 records"),
    ("BCLStore shm memory=12X", "not a size"),
    ("BCLStore shm capacity=3", "capacity"),
    ("BCLStore shm size=10", "size=10"),
    ("BCLRevocationLifetime 5", "BCLRevocationLifetime"),
])
def test_bad_store_directive_values(httpd, op, directive, needle):
    jwks = good_jwks(httpd, op)
    assert_fails(httpd, directive + "\n" + receiver_conf(jwks), needle)


# -- httpd refuses to start -------------------------------------------------

def test_start_fails_with_missing_jwks(httpd):
    path = httpd.path("gone.json")
    httpd.configure(receiver_conf(path))
    with pytest.raises(RuntimeError) as e:
        httpd.start(timeout=10)
    assert path in str(e.value)
