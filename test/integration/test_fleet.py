"""Fleet stores (docs/fleet.md; issue 5): several httpd servers share
their revocations and bindings through a real memcached or redis-server
that the tests start on loopback, kill, and restart.

What is asserted is what users see: a logout POSTed to server A refuses the
session at server B; with the store down the receiver answers 503 and the
guard applies BCLStoreUnavailable; with the store back everything works
again without restarting httpd; the error log's tags; what lands in the
store (keys, expiries).

    /usr/bin/python3 -m pytest -q test/integration/test_fleet.py
"""
import json
import os
import signal
import time
import uuid

import pytest

import fleet
import harness
import tokens
from guard_env import (COOKIE, ENV_FROM_HEADERS, TAG_REPLAY, TAG_STORE_FAILED, Guard, assert_no_crash,
                       env_headers, start_guard_httpd, uid)

TAG_STORE_DOWN = "BCL0205"
TAG_NET_STORE = "BCL0600"
TAG_NET_FAILED = "BCL0601"
TAG_NET_RECOVERED = "BCL0602"

# path -> (extra directives, BCLBindFrom argument)
FLEET_LOCATIONS = {
    "/app/": ([], "response-header BCL-Session"),
    "/open/": (["BCLStoreUnavailable open"], "response-header BCL-Session"),
    "/env/": (ENV_FROM_HEADERS, "env"),
    "/envopen/": (ENV_FROM_HEADERS + ["BCLStoreUnavailable open"], "env"),
    # the 503's error page is a page of the app, where the store is "open"
    "/errdoc/": (["ErrorDocument 503 /open/error-page"], "response-header BCL-Session"),
}


class Fleet:
    """Two httpd servers (A: event MPM, B: prefork) with the same store."""

    def __init__(self, backend, op_keys, store_line, mpms=("event", "prefork")):
        self.backend = backend
        self.op_keys = op_keys
        self.store_line = store_line
        self.mpms = mpms
        self.servers = []
        self.start()

    def start(self):
        for mpm in self.mpms:
            h = start_guard_httpd(mpm, self.backend, self.op_keys, globals_=self.store_line + "\n",
                                  locations=FLEET_LOCATIONS)
            self.servers.append(Guard(h, self.backend, self.op_keys))

    def restart(self):
        """Stops both servers (a full stop, not a graceful restart) and starts
        new ones with the same configuration."""
        for g in self.servers:
            assert_no_crash(g.h)
            g.h.cleanup()
        self.servers = []
        self.start()

    @property
    def a(self):
        return self.servers[0]

    @property
    def b(self):
        return self.servers[1]

    def cleanup(self):
        for g in self.servers:
            try:
                assert_no_crash(g.h)
            finally:
                g.h.cleanup()


def store_line(kind, server, extra=""):
    return ("BCLStore %s %s %s" % (kind, server.address, extra)).strip()


@pytest.fixture(scope="module", params=["memcache", "redis"])
def shared(request, backend, op_keys):
    """A store server and two httpd servers sharing it."""
    server = fleet.Memcached() if request.param == "memcache" else fleet.Redis()
    server.start()
    f = None
    try:
        f = Fleet(backend, op_keys, store_line(request.param, server, "timeout=2000 prefix=it:%s:" % uuid.uuid4().hex[:8]))
        f.kind = request.param
        f.server = server
        yield f
    finally:
        if f is not None:
            f.cleanup()
        server.cleanup()


def count_lines(h, mark, *needles):
    return sum(1 for line in h.log_since(mark).splitlines() if all(n in line for n in needles))


# ---------------------------------------------------------------------------
# one logout, every server
# ---------------------------------------------------------------------------

class TestShared:
    def test_store_is_announced(self, shared):
        line = shared.a.h.wait_log(TAG_NET_STORE)
        assert shared.kind in line and shared.server.address in line, line

    def test_logout_at_a_refuses_session_bound_at_a_on_b(self, shared):
        sid, sub = uid("sid"), uid("alice")
        cookie = shared.a.login("/app/", sid=sid, sub=sub)
        shared.b.works("/app/", cookie)
        shared.a.logout(sid=sid)
        shared.b.refused("/app/", cookie)
        shared.a.refused("/app/", cookie)

    def test_logout_at_a_refuses_session_bound_at_b_on_b(self, shared):
        sid = uid("sid")
        cookie = shared.b.login("/app/", sid=sid)
        shared.a.works("/app/", cookie)
        shared.a.logout(sid=sid)
        shared.b.refused("/app/", cookie)
        shared.a.refused("/app/", cookie)

    def test_sub_logout_kills_sessions_begun_before_on_every_server(self, shared):
        sub = uid("bob")
        old_a = shared.a.login("/app/", sid=uid("s"), sub=sub)
        old_b = shared.b.login("/app/", sub=sub)
        shared.b.logout(sub=sub)
        for g in (shared.a, shared.b):
            g.refused("/app/", old_a)
            g.refused("/app/", old_b)
        new = shared.a.login("/app/", sid=uid("s"), sub=sub)
        shared.b.works("/app/", new)

    def test_env_binding(self, shared):
        sid, sub = uid("sid"), uid("carol")
        cookie = "oidc-" + uuid.uuid4().hex
        hdrs = env_headers(sid=sid, sub=sub)
        shared.b.works("/env/", cookie, headers=hdrs)
        shared.a.logout(sid=sid, sub=sub)
        shared.b.refused("/env/", cookie, headers=hdrs)
        # sub logout by the OP's clock, seen on the other server
        now = int(time.time())
        dave = uid("dave")
        shared.b.logout(sub=dave, iat=now - 10)
        shared.a.refused("/env/", cookie, headers=env_headers(sub=dave, iat=now - 20))
        shared.a.works("/env/", cookie, headers=env_headers(sub=dave, iat=now))

    def test_replay_at_another_server_changes_nothing(self, shared):
        sub = uid("erin")
        tok, _ = shared.a.logout(sub=sub)
        # a session begun after the logout...
        cookie = shared.b.login("/app/", sid=uid("s"), sub=sub)
        shared.b.works("/app/", cookie)
        # ...is not killed when the same token arrives again at B
        mark = shared.b.h.log_mark()
        harness.assert_ok(shared.b.post(tok))
        shared.b.h.wait_log(TAG_REPLAY, since=mark)
        shared.a.works("/app/", cookie)

    def test_rotation_and_local_logout_across_servers(self, shared):
        sid = uid("sid")
        first = shared.a.login("/app/", sid=sid)
        r, _ = shared.b.get("/app/", "rotate", cookie=first)
        assert r.status_code == 200
        rotated = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("APPSESSION=")]
        assert len(rotated) == 1, rotated
        second = rotated[0].split(";")[0].split("=", 1)[1]
        shared.a.logout(sid=sid)
        shared.a.refused("/app/", second)
        shared.b.refused("/app/", first)


# ---------------------------------------------------------------------------
# what is stored
# ---------------------------------------------------------------------------

def test_memcache_keys_and_long_expiry(backend, op_keys):
    """Keys are prefix + kind + hex; a lifetime over 30 days is sent as an
    absolute time (memcached would expire it at once otherwise)."""
    mc = fleet.Memcached().start()
    lifetime = 40 * 86400
    f = None
    try:
        f = Fleet(backend, op_keys, "BCLStore memcache %s prefix=longlife:\nBCLRevocationLifetime %d"
                  % (mc.address, lifetime), mpms=("event",))
        sid = uid("sid")
        cookie = f.a.login("/app/", sid=sid)
        f.a.logout(sid=sid)
        f.a.refused("/app/", cookie)
        keys = mc.keys_with_prefix("longlife%3A") or mc.keys_with_prefix("longlife:")
        kinds = sorted({k["key"].replace("%3A", ":").split(":")[1] for k in keys})
        assert kinds == ["c", "j", "s"], keys
        now = time.time()
        for k in keys:
            name = k["key"].replace("%3A", ":")
            assert len(name) <= 250 and " " not in name, name
            assert len(name.split(":")[2]) == 32, name
            exp = int(k["exp"])
            assert exp > now, k
            if name.split(":")[1] in ("c", "s"):
                assert exp > now + 39 * 86400, "a 40-day record expires too soon: %r" % k
            value = mc.get(name)
            assert value is not None and value.startswith(b"1 "), value
            # no raw value of the session in the store
            assert cookie.encode() not in value and sid.encode() not in value
    finally:
        if f is not None:
            f.cleanup()
        mc.cleanup()


def test_prefixes_keep_two_fleets_apart(backend, op_keys):
    mc = fleet.Memcached().start()
    one = two = None
    try:
        one = Fleet(backend, op_keys, "BCLStore memcache %s prefix=one:" % mc.address, mpms=("event",))
        two = Fleet(backend, op_keys, "BCLStore memcache %s prefix=two:" % mc.address, mpms=("event",))
        sid = uid("sid")
        c1 = one.a.login("/app/", sid=sid)
        c2 = two.a.login("/app/", sid=sid)
        one.a.logout(sid=sid)
        one.a.refused("/app/", c1)
        two.a.works("/app/", c2)
    finally:
        for f in (one, two):
            if f is not None:
                f.cleanup()
        mc.cleanup()


def test_memcache_several_servers(backend, op_keys):
    """Keys are spread over the servers; every httpd finds each on the same one."""
    m1, m2 = fleet.Memcached().start(), fleet.Memcached().start()
    f = None
    try:
        f = Fleet(backend, op_keys, "BCLStore memcache %s,%s" % (m1.address, m2.address))
        sessions = []
        for _ in range(8):
            sid = uid("sid")
            sessions.append((sid, f.a.login("/app/", sid=sid)))
        for sid, cookie in sessions:
            f.b.logout(sid=sid)
        for sid, cookie in sessions:
            f.a.refused("/app/", cookie)
        assert m1.keys_with_prefix("bcl") and m2.keys_with_prefix("bcl"), "keys are not spread"
    finally:
        if f is not None:
            f.cleanup()
        m1.cleanup()
        m2.cleanup()


# ---------------------------------------------------------------------------
# the store goes away and comes back
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["memcache", "redis"])
def test_store_killed_and_restarted(backend, op_keys, kind):
    server = fleet.Memcached() if kind == "memcache" else fleet.Redis()
    server.start()
    f = None
    try:
        f = Fleet(backend, op_keys, store_line(kind, server, "timeout=1000"))
        a, b = f.a, f.b
        sid = uid("sid")
        cookie = a.login("/app/", sid=sid)
        b.works("/app/", cookie)
        marks = [g.h.log_mark() for g in (a, b)]

        server.kill()

        # the receiver never answers 200 for a logout it could not store
        tok, _ = a.token(sid=sid)
        r = a.post(tok)
        assert r.status_code == 503, (r.status_code, r.text)
        assert "no-store" in r.headers.get("Cache-Control", "")
        assert json.loads(r.text)["error"] == "temporarily_unavailable"
        a.h.wait_log(TAG_STORE_FAILED, since=marks[0])
        # guard closed (the default): 503, the backend never sees the request
        t0 = time.time()
        n = 12
        for _ in range(n):
            r, tag = b.get("/app/", cookie=cookie)
            assert r.status_code == 503, r.status_code
            assert b.backend.seen(tag) == []
        # the unchecked cookie does not travel on to the error page
        r, tag = b.get("/errdoc/", cookie="a=1; %s=%s" % (COOKIE, cookie))
        assert b.backend.seen(tag) == []
        assert r.json()["path"] == "/error-page", r.text[:200]
        assert r.json()["cookie"] == "a=1", r.json()
        # guard open: let through, and logged
        r, tag = b.get("/open/", cookie=cookie)
        assert r.status_code == 200
        assert len(b.backend.seen(tag)) == 1
        line = b.h.wait_log(TAG_STORE_DOWN, "let through", since=marks[1])
        # env mode too
        hdrs = env_headers(sid=sid)
        r, _ = b.get("/env/", cookie="x", headers=hdrs)
        assert r.status_code == 503
        r, _ = b.get("/envopen/", cookie="x", headers=hdrs)
        assert r.status_code == 200
        # logged once per interval, not once per request
        elapsed = time.time() - t0
        cause = b.h.wait_log(TAG_NET_FAILED, since=marks[1])
        assert server.address in cause and kind in cause, cause
        allowed = 2 + int(elapsed // 10)
        failed_lines = count_lines(b.h, marks[1], TAG_NET_FAILED)
        down_lines = count_lines(b.h, marks[1], TAG_STORE_DOWN, ":error]")
        assert 1 <= failed_lines <= allowed, b.h.log_since(marks[1])
        assert 1 <= down_lines <= allowed, b.h.log_since(marks[1])

        # the store is back: no restart of httpd
        server.start()
        deadline = time.time() + 20
        while True:
            r = a.post(tok)
            if r.status_code == 200 or time.time() > deadline:
                break
            time.sleep(0.2)
        harness.assert_ok(r)
        a.h.wait_log(TAG_NET_RECOVERED, since=marks[0])
        # (the restarted server is empty: the binding made before the outage
        # is gone with it; see docs/fleet.md on losing the store's memory)
        # new sessions are bound and their logouts enforced everywhere again
        sid2 = uid("sid")
        c2 = b.login("/app/", sid=sid2)
        a.works("/app/", c2)
        b.logout(sid=sid2)
        a.refused("/app/", c2)
    finally:
        if f is not None:
            f.cleanup()
        server.cleanup()


def test_redis_revocation_survives_restarting_every_httpd(backend, op_keys):
    rd = fleet.Redis(persistent=True).start()
    f = None
    try:
        f = Fleet(backend, op_keys, store_line("redis", rd))
        sid, sub = uid("sid"), uid("frank")
        revoked = f.a.login("/app/", sid=sid, sub=sub)
        live = f.b.login("/app/", sid=uid("sid"), sub=uid("gail"))
        f.b.logout(sid=sid)
        f.restart()
        f.a.refused("/app/", revoked)
        f.b.refused("/app/", revoked)
        f.a.works("/app/", live)
        # and redis itself restarting (append-only file): still kept, and
        # the connections that went stale in the pools cost no request a 503
        rd.stop()
        rd.start()
        f.b.refused("/app/", revoked)
        f.a.works("/app/", live)
        f.a.refused("/app/", revoked)
        f.b.works("/app/", live)
    finally:
        if f is not None:
            f.cleanup()
        rd.cleanup()


def test_redis_password_and_db(backend, op_keys):
    password = "s3cret-" + uuid.uuid4().hex
    rd = fleet.Redis(password=password).start()
    f = None
    try:
        f = Fleet(backend, op_keys, store_line("redis", rd, 'db=5 password=%s' % password))
        sid = uid("sid")
        cookie = f.a.login("/app/", sid=sid)
        f.a.logout(sid=sid)
        f.b.refused("/app/", cookie)
        in_db5 = rd.cli("--scan", "--pattern", "bcl:*", db=5).split()
        in_db0 = rd.cli("--scan", "--pattern", "bcl:*", db=0).split()
        assert any(k.startswith("bcl:s:") for k in in_db5), in_db5
        assert any(k.startswith("bcl:c:") for k in in_db5), in_db5
        assert in_db0 == [], in_db0
        ttl = int(rd.cli("TTL", [k for k in in_db5 if k.startswith("bcl:s:")][0], db=5).strip())
        assert 86000 < ttl <= 86400, ttl
        for g in f.servers:
            assert password not in g.h.log_text(), "the redis password is in the error log"
    finally:
        if f is not None:
            f.cleanup()
        rd.cleanup()


def test_redis_wrong_password_is_a_logged_503(backend, op_keys):
    rd = fleet.Redis(password="right-" + uuid.uuid4().hex).start()
    f = None
    try:
        wrong = "wrong-" + uuid.uuid4().hex
        f = Fleet(backend, op_keys, store_line("redis", rd, "password=%s" % wrong), mpms=("event",))
        tok, _ = f.a.token(sid=uid("sid"))
        r = f.a.post(tok)
        assert r.status_code == 503, r.status_code
        line = f.a.h.wait_log(TAG_NET_FAILED)
        assert "AUTH" in line or "credentials" in line, line
        assert wrong not in f.a.h.log_text()
    finally:
        if f is not None:
            f.cleanup()
        rd.cleanup()


# ---------------------------------------------------------------------------
# configuration errors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("directive,needle", [
    ("BCLStore memcache", "server is missing"),
    ("BCLStore memcache timeout=100", "server is missing"),
    ("BCLStore memcache localhost", "is not HOST:PORT"),
    ("BCLStore memcache 127.0.0.1:0", "is not HOST:PORT"),
    ("BCLStore memcache 127.0.0.1:11211,,127.0.0.1:11212", "HOST:PORT"),
    ("BCLStore memcache 127.0.0.1:11211 timeout=0", "timeout"),
    ("BCLStore memcache 127.0.0.1:11211 timeout=soon", "timeout"),
    ("BCLStore memcache 127.0.0.1:11211 prefix=a/b", "prefix"),
    ("BCLStore memcache 127.0.0.1:11211 prefix=" + "p" * 65, "prefix"),
    ("BCLStore memcache 127.0.0.1:11211 db=1", 'unknown option "db"'),
    ("BCLStore memcache 127.0.0.1:11211 fast", "NAME=VALUE"),
    ("BCLStore redis 127.0.0.1:6379,127.0.0.1:6380", "more than 1"),
    ("BCLStore redis 127.0.0.1:6379 db=-1", "db"),
    ("BCLStore redis 127.0.0.1:6379 db=x", "db"),
    ("BCLStore redis 127.0.0.1:6379 password=", "empty"),
    ("BCLStore redis 127.0.0.1:6379 password-file=/nonexistent/pw", "/nonexistent/pw"),
    ("BCLStore redis 127.0.0.1:6379 username=bob", "password"),
    ("BCLStore redis 127.0.0.1:6379 passwort=hunter2", 'unknown option "passwort"'),
    ("BCLStore mongodb 127.0.0.1:27017", "redis HOST:PORT"),
])
def test_bad_store_arguments(directive, needle):
    h = harness.Httpd()
    try:
        h.configure(directive + "\n")
        rc, out = h.configtest()
        assert rc != 0, "apache2 -t accepted %r:\n%s" % (directive, out)
        assert needle in out, out
        assert "hunter2" not in out, "a value that may be a password is echoed: " + out
    finally:
        h.cleanup()


def test_good_store_arguments(tmp_path):
    h = harness.Httpd()
    try:
        pw = h.write("redis.pw", "from-a-file\n", mode=0o600)
        for directive in ("BCLStore memcache 127.0.0.1:11211",
                          "BCLStore memcache 127.0.0.1:11211,[::1]:11212 timeout=250 prefix=app1:",
                          "BCLStore redis 127.0.0.1:6379 db=3 password=x username=bcl timeout=100",
                          "BCLStore redis localhost:6379 password-file=%s prefix=fleet-a." % pw):
            h.configure(directive + "\n")
            rc, out = h.configtest()
            assert rc == 0, "%s\n%s" % (directive, out)
    finally:
        h.cleanup()


@pytest.mark.parametrize("kind", ["memcache", "redis"])
def test_store_frozen_is_a_bounded_wait(backend, op_keys, kind):
    """A store that accepts connections but never answers (SIGSTOP): every
    wait ends at timeout=, the receiver answers 503, the guard applies
    BCLStoreUnavailable; SIGCONT and it works again."""
    server = fleet.Memcached() if kind == "memcache" else fleet.Redis()
    server.start()
    f = None
    try:
        f = Fleet(backend, op_keys, store_line(kind, server, "timeout=300"), mpms=("event",))
        g = f.a
        sid = uid("sid")
        cookie = g.login("/app/", sid=sid)
        g.works("/app/", cookie)
        mark = g.h.log_mark()
        os.kill(server.proc.pid, signal.SIGSTOP)
        try:
            tok, _ = g.token(sid=sid)
            r = g.post(tok)
            assert r.status_code == 503, r.status_code
            r, tag = g.get("/app/", cookie=cookie)
            assert r.status_code == 503
            r, tag = g.get("/open/", cookie=cookie)
            assert r.status_code == 200 and len(g.backend.seen(tag)) == 1
            line = g.h.wait_log(TAG_NET_FAILED, since=mark)
            assert "timed out" in line, line
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        deadline = time.time() + 20
        while True:
            r = g.post(tok)
            if r.status_code == 200 or time.time() > deadline:
                break
            time.sleep(0.2)
        harness.assert_ok(r)
        g.refused("/app/", cookie)
    finally:
        if f is not None:
            f.cleanup()
        server.cleanup()


@pytest.mark.parametrize("kind", ["memcache", "redis"])
def test_store_restart_costs_no_request_a_503(backend, op_keys, kind):
    """Every connection idle in the pools goes stale when the store restarts;
    the requests after it still get answers, not 503s."""
    import concurrent.futures
    server = fleet.Memcached() if kind == "memcache" else fleet.Redis()
    server.start()
    f = None
    try:
        f = Fleet(backend, op_keys, store_line(kind, server), mpms=("event",))
        g = f.a
        hdrs = env_headers(sid=uid("sid"), sub=uid("ursula"))

        def burst():
            def one(_):
                s = harness.client()
                return [s.get(g.h.url("/env/whoami"), headers=dict(hdrs, Cookie="APPSESSION=x"),
                              timeout=15).status_code for _ in range(4)]
            with concurrent.futures.ThreadPoolExecutor(8) as ex:
                return [c for codes in ex.map(one, range(8)) for c in codes]

        assert set(burst()) == {200}
        server.stop()
        server.start()
        codes = burst()
        assert set(codes) == {200}, codes
    finally:
        if f is not None:
            f.cleanup()
        server.cleanup()
