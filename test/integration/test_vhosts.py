"""Two name-based virtual hosts on one port (prefork MPM), each with its own
OP (BCLIssuer, BCLClientID, BCLJWKSFile set at virtual-host level) and a
server-wide <Location /bcl> that only sets the handler and inherits them."""
import pytest

import harness
import keys
import tokens

OPS = {
    "a.test": {"iss": "https://op-a.example.test", "client": "rp-a", "prefix": "a-"},
    "b.test": {"iss": "https://op-b.example.test", "client": "rp-b", "prefix": "b-"},
}


class VHosts:
    def __init__(self, httpd, op_keys):
        self.httpd = httpd
        self.keys = op_keys
        self.session = harness.client()

    def token(self, op, alg="RS256", signer=None, **overrides):
        c = tokens.claims(OPS[op]["iss"], OPS[op]["client"], **overrides)
        key = (signer or self.keys[op]).for_alg(alg)
        return tokens.sign(c, alg, key=key), c

    def post(self, host, token, path="/bcl"):
        return harness.post_token(self.session, self.httpd.url(path), token,
                                  headers={"Host": host})


@pytest.fixture(scope="module")
def vhosts():
    op_keys = {name: keys.OPKeys(prefix=op["prefix"]) for name, op in OPS.items()}
    h = harness.Httpd(mpm="prefork")
    body = "<Location /bcl>\n    SetHandler backchannel-logout\n</Location>\n"
    for name, op in OPS.items():
        jwks = keys.write_jwks(h.path("jwks-%s.json" % name), op_keys[name].jwks())
        body += "\n".join([
            "<VirtualHost 127.0.0.1:%d>" % h.port,
            "    ServerName %s" % name,
            '    BCLIssuer "%s"' % op["iss"],
            "    BCLClientID %s" % op["client"],
            '    BCLJWKSFile "%s"' % jwks,
            "    BCLSigningAlg RS256 ES256",
            # a location inside the vhost that adds a policy on top
            "    <Location /bcl-sid>",
            "        SetHandler backchannel-logout",
            "        BCLRequireSid On",
            "    </Location>",
            "</VirtualHost>", ""])
    h.configure(body)
    try:
        h.start()
        yield VHosts(h, op_keys)
    finally:
        h.cleanup()


@pytest.mark.parametrize("host", list(OPS))
@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_own_op_accepted(vhosts, host, alg):
    tok, c = vhosts.token(host, alg)
    mark = vhosts.httpd.log_mark()
    harness.assert_ok(vhosts.post(host, tok))
    line = vhosts.httpd.wait_log(harness.LOG_ACCEPTED, c["jti"], since=mark)
    assert OPS[host]["iss"] in line


@pytest.mark.parametrize("host,other", [("a.test", "b.test"), ("b.test", "a.test")])
def test_other_op_token_refused(vhosts, host, other):
    tok, _ = vhosts.token(other)
    r = vhosts.post(host, tok)
    harness.assert_error(r, ("iss", "unknown_kid", "signature", "aud"), secrets=(tok,))


@pytest.mark.parametrize("host,other", [("a.test", "b.test"), ("b.test", "a.test")])
def test_own_claims_signed_by_other_op(vhosts, host, other):
    # right iss and aud, but signed with the other OP's key (kid unknown here)
    tok, _ = vhosts.token(host, signer=vhosts.keys[other])
    harness.assert_error(vhosts.post(host, tok), "unknown_kid", secrets=(tok,))


@pytest.mark.parametrize("host,other", [("a.test", "b.test"), ("b.test", "a.test")])
def test_own_claims_signed_by_other_op_without_kid(vhosts, host, other):
    c = tokens.claims(OPS[host]["iss"], OPS[host]["client"])
    tok = tokens.sign(c, "RS256", key=vhosts.keys[other].rsa, kid=False)
    harness.assert_error(vhosts.post(host, tok), "signature", secrets=(tok,))


@pytest.mark.parametrize("host,other", [("a.test", "b.test"), ("b.test", "a.test")])
def test_other_vhost_client_id_refused(vhosts, host, other):
    tok, _ = vhosts.token(host, aud=OPS[other]["client"])
    harness.assert_error(vhosts.post(host, tok), "aud", secrets=(tok,))


def test_vhost_signing_alg_inherited(vhosts):
    # both vhosts allow RS256 and ES256 only: EdDSA is refused
    tok, _ = vhosts.token("a.test", alg="EdDSA")
    harness.assert_error(vhosts.post("a.test", tok), "alg", secrets=(tok,))


@pytest.mark.parametrize("host", list(OPS))
def test_location_inside_vhost_adds_policy(vhosts, host):
    tok, _ = vhosts.token(host, sid=tokens.REMOVE)
    r = vhosts.post(host, tok, path="/bcl-sid")
    harness.assert_error(r, "sid_required", secrets=(tok,))
    tok, _ = vhosts.token(host)
    harness.assert_ok(vhosts.post(host, tok, path="/bcl-sid"))


def test_unknown_host_goes_to_first_vhost(vhosts):
    tok, _ = vhosts.token("a.test")
    harness.assert_ok(vhosts.post("unknown.test", tok))


def test_prefork_handles_many_requests(vhosts):
    # a burst over several connections reaches several prefork children
    for i in range(20):
        s = harness.client()
        host = "a.test" if i % 2 else "b.test"
        tok, _ = vhosts.token(host)
        r = harness.post_token(s, vhosts.httpd.url("/bcl"), tok, headers={"Host": host})
        harness.assert_ok(r)
        s.close()


def test_no_token_in_log(vhosts):
    text = vhosts.httpd.log_text()
    assert harness.LOG_ACCEPTED in text
    for line in text.splitlines():
        # a compact JWS has three base64url parts of some length; none may appear
        for word in line.split():
            parts = word.strip('",;()').split(".")
            assert not (len(parts) == 3 and all(len(p) > 40 for p in parts)), line
