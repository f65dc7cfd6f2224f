"""The httpd configuration the stack generates, per client kind, and the two
switches for work merged from other branches (no processes are started)."""
import pytest

import stack as st


class FakeOP:
    issuer = "http://127.0.0.1:4444"
    jwks_path = "/tmp/op.jwks.json"
    metadata_url = issuer + "/.well-known/openid-configuration"


class FakeApp:
    port = 5555


@pytest.fixture
def make_config(monkeypatch):
    made = []

    def make(clients, metadata=False, status=False):
        monkeypatch.setenv("BCL_E2E_METADATA", "1" if metadata else "0")
        monkeypatch.setenv("BCL_E2E_STATUS", "1" if status else "0")
        s = st.Stack(clients)
        made.append(s)
        s.op = FakeOP()
        s.apps = {c.client_id: FakeApp() for c in clients}
        for c in clients:
            if c.encrypted:
                c.dec_key_path = "/tmp/%s-dec.pem" % c.client_id
        return s.config()
    yield make
    for s in made:
        s.httpd.cleanup()


def receiver(conf, cid):
    start = conf.index('<Location "%s%s">' % (st.RECEIVER_PREFIX, cid))
    return conf[start:conf.index("</Location>", start)]


def test_keys_from_the_file_the_op_launcher_writes(make_config):
    conf = make_config([st.ClientSpec("a")])
    r = receiver(conf, "a")
    assert 'BCLIssuer "http://127.0.0.1:4444"' in r
    assert 'BCLJWKSFile "/tmp/op.jwks.json"' in r
    assert "BCLProviderMetadataURL" not in conf
    assert "backchannel-logout-status" not in conf


def test_one_switch_turns_on_discovery(make_config):
    conf = make_config([st.ClientSpec("a"), st.ClientSpec("b", alg="ES256")], metadata=True)
    for cid in ("a", "b"):
        r = receiver(conf, cid)
        assert 'BCLProviderMetadataURL "%s"' % FakeOP.metadata_url in r
        assert "BCLJWKSFile" not in r and "BCLIssuer" not in r


def test_one_switch_turns_on_the_status_page(make_config):
    conf = make_config([st.ClientSpec("a")], status=True)
    assert '<Location "/bcl-status">\n    SetHandler backchannel-logout-status' in conf


def test_directives_per_client_kind(make_config):
    hs = st.ClientSpec("hs", alg="HS256")
    conf = make_config([hs, st.ClientSpec("enc", encrypted=True),
                        st.ClientSpec("subonly", session_required=False),
                        st.ClientSpec("portal", mode="companion", on_revoked="redirect /portal/")])
    r = receiver(conf, "hs")
    assert "BCLSigningAlg HS256" in r and 'BCLClientSecret "%s"' % hs.secret in r
    assert "BCLRequireSid On" in r
    r = receiver(conf, "enc")
    assert 'BCLDecryptionKey "/tmp/enc-dec.pem"' in r and "BCLRequireEncryption On" in r
    assert "BCLRequireSid" not in receiver(conf, "subonly")
    assert "BCLSessionCookie PORTALSESSION mod_auth_openidc_session" in conf
    assert "BCLBindFrom env" in conf and "AuthType openid-connect" in conf
    assert 'OIDCProviderMetadataURL "%s"' % FakeOP.metadata_url in conf
