"""Combinations of directives refused at startup (issue 13, item 3):
`apache2 -t` fails, and so does a start, with a BCL0192 line naming the
config file and the line of the section or directive. Configurations that
complete a receiver or a guard through inheritance (server level, virtual
host, a covering <Location>) are not refused."""

import pytest

import harness
import keys

ISSUER = "https://op.combo.test"


@pytest.fixture(scope="module")
def op():
    return keys.OPKeys()


@pytest.fixture
def httpd():
    h = harness.Httpd()
    yield h
    h.cleanup()


def jwks(h, op):
    return keys.write_jwks(h.path("jwks.json"), op.jwks())


def line_of(h, needle):
    with open(h.conf_path) as f:
        for n, line in enumerate(f, 1):
            if needle in line:
                return n
    raise AssertionError("%r not in the config" % needle)


def refused(h, body, section_needle, *words):
    """apache2 -t fails and names file:line of `section_needle`'s line; a
    start fails the same way."""
    h.configure(body)
    rc, out = h.configtest()
    assert rc != 0 and "Syntax OK" not in out, out
    where = "%s:%d" % (h.conf_path, line_of(h, section_needle))
    lines = [l for l in out.splitlines() if "BCL0192" in l and where in l]
    assert lines, "no BCL0192 line naming %s:\n%s" % (where, out)
    for w in words:
        assert any(w in l for l in lines), "no BCL0192 line at %s mentions %r:\n%s" % (where, w, out)
    with pytest.raises(RuntimeError) as e:
        h.start(timeout=10)
    assert "BCL0192" in str(e.value) and where in str(e.value)
    return out


def accepted(h, body):
    h.configure(body)
    rc, out = h.configtest()
    assert rc == 0 and "Syntax OK" in out, out
    assert "BCL0192" not in out
    h.start()
    h.stop()


def test_receiver_without_client_id(httpd, op):
    body = ('<Location /bcl>\n    SetHandler backchannel-logout\n    BCLIssuer "%s"\n'
            '    BCLJWKSFile "%s"\n</Location>\n' % (ISSUER, jwks(httpd, op)))
    refused(httpd, body, "<Location /bcl>", "no BCLClientID")


def test_receiver_without_issuer(httpd, op):
    body = ('<Location /bcl>\n    SetHandler backchannel-logout\n    BCLClientID rp\n'
            '    BCLJWKSFile "%s"\n</Location>\n' % jwks(httpd, op))
    refused(httpd, body, "<Location /bcl>", "no BCLIssuer")


def test_receiver_without_key_source(httpd):
    body = ('<Location /bcl>\n    SetHandler backchannel-logout\n    BCLClientID rp\n'
            '    BCLIssuer "%s"\n</Location>\n' % ISSUER)
    refused(httpd, body, "<Location /bcl>", "no key source")


def test_receiver_in_vhost_without_anything(httpd):
    body = ('<VirtualHost 127.0.0.1:%d>\n    ServerName v.test\n    <LocationMatch "^/bcl$">\n'
            '        SetHandler backchannel-logout\n    </LocationMatch>\n</VirtualHost>\n' % httpd.port)
    out = refused(httpd, body, "<LocationMatch", "no BCLClientID")
    assert "no BCLIssuer" in out and "no key source" in out


def test_session_cookie_without_bind_from(httpd, op):
    body = ('BCLIssuer "%s"\nBCLClientID rp\nBCLJWKSFile "%s"\n'
            '<Location /app>\n    BCLSessionCookie sess\n</Location>\n' % (ISSUER, jwks(httpd, op)))
    refused(httpd, body, "BCLSessionCookie sess", "no BCLBindFrom")


def test_bind_header_without_guard(httpd):
    body = '<Location /app>\n    BCLBindFrom response-header X-Bind\n</Location>\n'
    refused(httpd, body, "BCLBindFrom response-header X-Bind", "binding header would reach the browser")


def test_require_encryption_without_decryption_key(httpd, op):
    body = ('<Location /bcl>\n    SetHandler backchannel-logout\n    BCLIssuer "%s"\n    BCLClientID rp\n'
            '    BCLJWKSFile "%s"\n    BCLRequireEncryption On\n</Location>\n' % (ISSUER, jwks(httpd, op)))
    refused(httpd, body, "BCLRequireEncryption On", "no BCLDecryptionKey")


def test_hmac_only_without_secret(httpd, op):
    body = ('<Location /bcl>\n    SetHandler backchannel-logout\n    BCLIssuer "%s"\n    BCLClientID rp\n'
            '    BCLJWKSFile "%s"\n    BCLSigningAlg HS256 HS512\n</Location>\n' % (ISSUER, jwks(httpd, op)))
    refused(httpd, body, "BCLSigningAlg HS256", "only HMAC")


def test_complete_through_inheritance_is_accepted(httpd, op):
    """Server level, virtual host and covering <Location>s complete the
    sections: nothing refused, httpd starts and stops cleanly."""
    j = jwks(httpd, op)
    body = ('BCLIssuer "%s"\nBCLJWKSFile "%s"\n'
            '<Location /oidc>\n    BCLClientID rp\n</Location>\n'
            '<Location /oidc/bcl>\n    SetHandler backchannel-logout\n</Location>\n'
            '<Location /bcl2>\n    SetHandler backchannel-logout\n</Location>\n'
            '<VirtualHost 127.0.0.1:%d>\n    ServerName v.test\n    BCLClientID rp2\n</VirtualHost>\n'
            'BCLBindFrom response-header\n'
            '<Location /app>\n    BCLSessionCookie sess\n</Location>\n'
            '<Location /app2>\n    BCLSessionCookie s2\n    <If "true">\n        BCLBindFrom env\n    </If>\n'
            '</Location>\n' % (ISSUER, j, httpd.port))
    accepted(httpd, body)


def test_receiver_with_metadata_url_only_needs_client_id(httpd):
    body = ('<Location /bcl>\n    SetHandler backchannel-logout\n    BCLClientID rp\n'
            '    BCLProviderMetadataURL http://127.0.0.1:%d/.well-known/openid-configuration\n'
            '</Location>\n' % harness.free_port())
    accepted(httpd, body)
