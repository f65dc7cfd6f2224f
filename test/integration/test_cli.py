"""The offline checker tools/bcl-check: same validation as the receiver,
for an admin whose OP's tokens are refused.

    bcl-check --jwks FILE --issuer ISS --client-id ID [--client-id ID2]
              [--alg ALG ...] [--secret S] [--decryption-key FILE]
              [--require-sid] [--no-require-exp] [--require-encryption]
              [--clock-skew N] [--now EPOCH] [TOKEN | -]

Exit 0 + "valid: iss=... sub=... sid=... jti=..."; exit 1 + "invalid: <code>:
<detail>"; exit 2 for usage/configuration errors (message on stderr)."""
import os
import re
import subprocess

import pytest

import harness
import keys
import tokens
from tokens import REMOVE

ISSUER = "https://op.example.test/cli"
CLIENT = "cli-rp"
SECRET = "cli-secret-0123456789-0123456789-0123456789-0123456789-0123456789"
T0 = 1_700_000_000  # a fixed iat, used with --now


@pytest.fixture(scope="module")
def env():
    if not os.access(harness.BCL_CHECK, os.X_OK):
        raise AssertionError("bcl-check not built: %s (set BCL_CHECK)" % harness.BCL_CHECK)
    d = harness.make_tmpdir("bcl-cli-")
    op = keys.OPKeys()
    dec = keys.new_key("rsa", "dec1")

    class E:
        pass
    e = E()
    e.dir, e.op, e.dec = d, op, dec
    e.jwks = keys.write_jwks(os.path.join(d, "jwks.json"), op.jwks())
    e.dec_pem = keys.write_file(os.path.join(d, "dec.pem"), dec.private_pem())
    yield e
    import shutil
    shutil.rmtree(d, ignore_errors=True)


def run(env, *args, token=None, stdin=None, base=True, now=None):
    argv = [harness.BCL_CHECK]
    if base:
        argv += ["--jwks", env.jwks, "--issuer", ISSUER, "--client-id", CLIENT]
    argv += list(args)
    if now is not None:
        argv += ["--now", str(now)]
    if token is not None:
        argv.append(token)
    p = subprocess.run(argv, input=(stdin or "").encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def mint(env, alg="RS256", **overrides):
    c = tokens.claims(ISSUER, CLIENT, now=T0, **overrides)
    if alg.startswith("HS"):
        return tokens.sign(c, alg, secret=SECRET), c
    return tokens.sign(c, alg, key=env.op.for_alg(alg)), c


def assert_valid(rc, out, err, c):
    assert rc == 0, (rc, out, err)
    line = out.strip().splitlines()[0]
    assert line.startswith("valid:"), out
    assert "iss=%s" % c["iss"] in line, line
    assert "jti=%s" % c["jti"] in line, line
    if "sub" in c:
        assert "sub=%s" % c["sub"] in line, line
    if "sid" in c:
        assert "sid=%s" % c["sid"] in line, line


def assert_invalid(rc, out, err, code):
    assert rc == 1, (rc, out, err)
    line = out.strip().splitlines()[0]
    assert line.startswith("invalid: %s:" % code), (out, err)
    assert not re.search(r"%[-+ #0-9.]*(?:ll|l|h|z|j)?[diouxXscpf]", line), \
        "unformatted printf conversion: %r" % line


def test_valid_token_argument(env):
    tok, c = mint(env)
    assert_valid(*run(env, token=tok, now=T0 + 5), c)


def test_valid_token_stdin_dash(env):
    tok, c = mint(env)
    assert_valid(*run(env, token="-", stdin=tok + "\n", now=T0 + 5), c)


def test_valid_token_stdin_no_arg(env):
    tok, c = mint(env)
    assert_valid(*run(env, stdin=tok, now=T0 + 5), c)


def test_wrong_aud(env):
    tok, _ = mint(env, aud="someone-else")
    assert_invalid(*run(env, token=tok, now=T0 + 5), "aud")


def test_second_client_id(env):
    tok, c = mint(env, aud="cli-rp-2")
    assert_valid(*run(env, "--client-id", "cli-rp-2", token=tok, now=T0 + 5), c)


def test_now_in_the_future_exp_fails(env):
    tok, _ = mint(env)  # exp = T0 + 120, default skew 60
    assert_invalid(*run(env, token=tok, now=T0 + 120 + 61 + 600), "exp")


def test_now_in_the_past_iat_fails(env):
    tok, _ = mint(env)
    assert_invalid(*run(env, token=tok, now=T0 - 600), "iat")


def test_clock_skew_option(env):
    tok, c = mint(env)
    assert_valid(*run(env, token=tok, now=T0 + 150), c)  # within 60 s skew
    assert_invalid(*run(env, "--clock-skew", "10", token=tok, now=T0 + 150), "exp")


def test_real_clock_default(env):
    c = tokens.claims(ISSUER, CLIENT)
    tok = tokens.sign(c, "RS256", key=env.op.rsa)
    assert_valid(*run(env, token=tok), c)
    assert_invalid(*run(env, token=mint(env)[0]), "exp")  # a 2023 token, now


def test_alg_option(env):
    tok, c = mint(env, alg="ES256")
    assert_invalid(*run(env, token=tok, now=T0), "alg")
    assert_valid(*run(env, "--alg", "ES256", token=tok, now=T0), c)
    tok, c = mint(env, alg="EdDSA")
    assert_valid(*run(env, "--alg", "RS256", "--alg", "EdDSA", token=tok, now=T0), c)


def test_hmac_secret(env):
    tok, c = mint(env, alg="HS256")
    assert_valid(*run(env, "--alg", "HS256", "--secret", SECRET, token=tok, now=T0), c)
    rc, out, err = run(env, "--alg", "HS256", "--secret", SECRET + "x", token=tok, now=T0)
    assert_invalid(rc, out, err, "signature")
    assert SECRET not in out + err


def test_require_sid(env):
    tok, c = mint(env, sid=REMOVE)
    assert_valid(*run(env, token=tok, now=T0), c)
    assert_invalid(*run(env, "--require-sid", token=tok, now=T0), "sid_required")


def test_no_require_exp(env):
    tok, c = mint(env, exp=REMOVE)
    assert_invalid(*run(env, token=tok, now=T0), "exp")
    assert_valid(*run(env, "--no-require-exp", token=tok, now=T0 + 10), c)


def test_decryption_key(env):
    inner, c = mint(env)
    tok = tokens.encrypt(inner, env.dec, alg="RSA-OAEP-256", enc="A256GCM")
    assert_valid(*run(env, "--decryption-key", env.dec_pem, token=tok, now=T0), c)


def test_require_encryption(env):
    tok, _ = mint(env)
    assert_invalid(*run(env, "--decryption-key", env.dec_pem, "--require-encryption",
                        token=tok, now=T0), "encryption_required")


def test_tampered_signature(env):
    tok, _ = mint(env)
    assert_invalid(*run(env, token=tokens.flip_signature(tok), now=T0), "signature")


def test_missing_jwks_file(env):
    path = os.path.join(env.dir, "missing.json")
    tok, _ = mint(env)
    rc, out, err = run(env, "--jwks", path, "--issuer", ISSUER, "--client-id", CLIENT,
                       token=tok, base=False, now=T0)
    assert rc == 2, (rc, out, err)
    assert path in err, err


def test_jwks_does_not_parse(env):
    path = keys.write_file(os.path.join(env.dir, "broken.json"), "{ nope")
    tok, _ = mint(env)
    rc, out, err = run(env, "--jwks", path, "--issuer", ISSUER, "--client-id", CLIENT,
                       token=tok, base=False, now=T0)
    assert rc == 2, (rc, out, err)
    assert path in err, err


def test_unknown_alg_option(env):
    tok, _ = mint(env)
    rc, out, err = run(env, "--alg", "RS999", token=tok, now=T0)
    assert rc == 2, (rc, out, err)
    assert "RS999" in err


@pytest.mark.parametrize("missing", ["--jwks", "--issuer", "--client-id"])
def test_usage_errors(env, missing):
    args = {"--jwks": env.jwks, "--issuer": ISSUER, "--client-id": CLIENT}
    args.pop(missing)
    argv = [x for kv in args.items() for x in kv]
    tok, _ = mint(env)
    rc, out, err = run(env, *argv, token=tok, base=False, now=T0)
    assert rc == 2, (rc, out, err)
    assert err.strip(), "usage error without a message on stderr"


def test_unknown_option(env):
    rc, out, err = run(env, "--frobnicate", token="x.y.z")
    assert rc == 2, (rc, out, err)
    assert err.strip()


def test_garbage_token(env):
    assert_invalid(*run(env, token="not-a-token", now=T0), "malformed")
