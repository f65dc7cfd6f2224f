"""Issue 12 items 5 and 6 against a real httpd (and real memcached / redis).

Item 5: a logout token naming sid and sub ends the session with that sid
and the sessions bound by sub alone (no sid known for them), never a
session bound to another sid of the same user. Run with every store
backend, since each keeps the records its own way.

Item 6: one OP cannot take the server-wide store from the others for
longer than BCLRevocationLifetime: a hostile but validly signed OP on
virtual host A fills a small store with far-future-exp tokens; virtual host
B's logouts get 503 while it is full and 200 again once the lifetime has
passed (its jti records do not outlive it).

    /usr/bin/python3 -m pytest -q test/integration/test_store_rules.py
"""
import json
import time

import pytest

import fleet
import harness
import keys
import tokens
from guard_env import ENV_FROM_HEADERS, Guard, TAG_STORE_FAILED, env_headers, start_guard_httpd, uid

STORES = ["shm", "memcache", "redis"]


@pytest.fixture(scope="module", params=STORES)
def guard(request, backend, op_keys):
    server = None
    store = ""
    if request.param == "memcache":
        server = fleet.Memcached().start()
        store = "BCLStore memcache %s\n" % server.address
    elif request.param == "redis":
        server = fleet.Redis().start()
        store = "BCLStore redis %s\n" % server.address
    locations = {
        "/app/": ([], "response-header BCL-Session"),
        "/env/": (ENV_FROM_HEADERS, "env"),
    }
    h = start_guard_httpd("event", backend, op_keys, globals_=store, locations=locations)
    try:
        yield Guard(h, backend, op_keys)
    finally:
        h.cleanup()
        if server is not None:
            server.cleanup()


class TestSidAndSubToken:
    def test_ends_sub_only_sessions_not_other_sids(self, guard):
        user, other_user = uid("erin"), uid("frank")
        sid, other_sid = uid("sid"), uid("sid")
        with_sid = guard.login("/app/", sid=sid, sub=user)
        sub_only = guard.login("/app/", sub=user)
        other_sid_session = guard.login("/app/", sid=other_sid, sub=user)
        sid_only_other = guard.login("/app/", sid=uid("sid"))
        other_users = guard.login("/app/", sub=other_user)
        for c in (with_sid, sub_only, other_sid_session, sid_only_other, other_users):
            guard.works("/app/", c)

        guard.logout(sid=sid, sub=user)

        guard.refused("/app/", with_sid)
        guard.refused("/app/", sub_only)
        guard.works("/app/", other_sid_session)
        guard.works("/app/", sid_only_other)
        guard.works("/app/", other_users)
        # a session bound by sub alone after the logout began after it
        time.sleep(1.1)
        later = guard.login("/app/", sub=user)
        guard.works("/app/", later)

    def test_env_identity_without_sid(self, guard):
        """An auth module that knows the user but not the OP's sid."""
        user, sid = uid("gus"), uid("sid")
        now = int(time.time())
        guard.logout(sid=sid, sub=user, iat=now)
        guard.refused("/env/", uid("c"), headers=env_headers(sub=user, iat=str(now - 60)))
        guard.works("/env/", uid("c"), headers=env_headers(sub=user, sid=uid("sid"), iat=str(now - 60)))
        guard.works("/env/", uid("c"), headers=env_headers(sub=user, iat=str(now + 60)))

    def test_sub_only_token_still_ends_every_session(self, guard):
        user = uid("hank")
        with_sid = guard.login("/app/", sid=uid("sid"), sub=user)
        sub_only = guard.login("/app/", sub=user)
        guard.logout(sub=user)
        guard.refused("/app/", with_sid)
        guard.refused("/app/", sub_only)


# ---------------------------------------------------------------------------
# item 6: a hostile OP on another virtual host
# ---------------------------------------------------------------------------

OPS = {
    "a.test": {"iss": "https://op-a.example.test", "client": "rp-a", "prefix": "ha-"},
    "b.test": {"iss": "https://op-b.example.test", "client": "rp-b", "prefix": "hb-"},
}
LIFETIME = 60          # the smallest BCLRevocationLifetime
CAPACITY = 16          # the smallest shm capacity
STATUS = "/bcl-status"


def test_hostile_op_cannot_hold_the_store_past_the_lifetime():
    op_keys = {name: keys.OPKeys(prefix=op["prefix"]) for name, op in OPS.items()}
    h = harness.Httpd(mpm="event", loglevel="warn backchannel_logout:info")
    body = "BCLStore shm capacity=%d\nBCLRevocationLifetime %d\n" % (CAPACITY, LIFETIME)
    body += "<Location /bcl>\n    SetHandler backchannel-logout\n</Location>\n"
    body += "<Location %s>\n    SetHandler backchannel-logout-status\n</Location>\n" % STATUS
    for name, op in OPS.items():
        jwks = keys.write_jwks(h.path("jwks-%s.json" % name), op_keys[name].jwks())
        body += "\n".join([
            "<VirtualHost 127.0.0.1:%d>" % h.port,
            "    ServerName %s" % name,
            '    BCLIssuer "%s"' % op["iss"],
            "    BCLClientID %s" % op["client"],
            '    BCLJWKSFile "%s"' % jwks,
            "</VirtualHost>", ""])
    h.configure(body)
    session = harness.client()

    def post(host, **overrides):
        op = OPS[host]
        c = tokens.claims(op["iss"], op["client"], **overrides)
        tok = tokens.sign(c, "RS256", key=op_keys[host].for_alg("RS256"))
        return harness.post_token(session, h.url("/bcl"), tok, headers={"Host": host})

    def store_status():
        r = session.get(h.url(STATUS), params={"format": "json"}, headers={"Host": "a.test"}, timeout=10)
        assert r.status_code == 200, r.text
        return json.loads(r.text)["store"]

    try:
        h.start()
        # OP A: validly signed tokens that claim to be valid for ten years,
        # each with a new jti, all naming the same sid: the first costs 2
        # records (the revocation and its jti), each later one a jti
        far = int(time.time()) + 10 * 365 * 86400
        sid = "sid-hostile"
        accepted = 0
        while True:
            r = post("a.test", exp=far, sid=sid, sub=tokens.REMOVE)
            if r.status_code != 200:
                break
            accepted += 1
            last_accepted = time.time()
            assert accepted <= CAPACITY, "the store never filled"
        assert r.status_code == 503, r.text
        assert accepted == CAPACITY - 1
        st = store_status()
        assert st["used"] == CAPACITY
        assert st["records"]["jti"] == CAPACITY - 1
        assert st["records"]["revoked_sid"] == 1

        # OP B's logouts are refused while the store is full (the OP retries)
        mark = h.log_mark()
        r = post("b.test")
        assert r.status_code == 503, r.text
        assert "full" in r.text
        h.wait_log(TAG_STORE_FAILED, since=mark)

        # ... until OP A's records reach BCLRevocationLifetime, exp or not:
        # were its jtis kept until their exp, they alone would keep the
        # store full for ten years
        time.sleep(max(0.0, last_accepted + LIFETIME + 1.5 - time.time()))
        r = post("b.test")
        harness.assert_ok(r)
        st = store_status()
        assert st["records"]["jti"] == 1, st
        assert st["records"]["revoked_sid"] == 1, st
    finally:
        h.cleanup()
