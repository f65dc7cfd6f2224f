"""The status handler (docs/status.md) and the mod_status section.

One httpd (prefork: several child processes, so the counters must be
shared) with a receiver, guarded locations in front of guard_app.py, the
status handler and mod_status. Every test reads the counters, acts, and
checks that exactly the expected counters moved, in both formats.

    /usr/bin/python3 -m pytest -q test/integration/test_status.py
"""
import json
import socket

import pytest

import harness
import keys
import promtext
from guard_env import (Guard, LOCATIONS, MODULES, TAG_REVOKED, guarded_location, receiver_location,
                       uid)

STATUS = "/bcl-status"
PROM_TYPE = "text/plain; version=0.0.4"


def start_status_httpd(backend, op_keys, mpm="prefork", store="BCLStore shm capacity=5000\n"):
    h = harness.Httpd(mpm=mpm, modules=MODULES + ("status",), loglevel="warn backchannel_logout:debug")
    jwks = keys.write_jwks(h.path("jwks.json"), op_keys.jwks())
    body = store + receiver_location(jwks)
    for path in ("/app/", "/pass/", "/strict/"):
        extra, bind = LOCATIONS[path]
        body += guarded_location(path, backend.port, extra, bind)
    body += "<Location %s>\n    SetHandler backchannel-logout-status\n</Location>\n" % STATUS
    body += "<Location /server-status>\n    SetHandler server-status\n</Location>\nExtendedStatus On\n"
    h.configure(body)
    rc, out = h.configtest()
    assert rc == 0, out
    h.start()
    return h


@pytest.fixture(scope="module")
def guard(backend, op_keys):
    h = start_status_httpd(backend, op_keys)
    try:
        yield Guard(h, backend, op_keys)
    finally:
        h.cleanup()


def scrape(g):
    r = harness.client().get(g.h.url(STATUS), timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith(PROM_TYPE), r.headers
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
    return promtext.parse(r.text)


def scrape_json(g):
    r = harness.client().get(g.h.url(STATUS), params={"format": "json"}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == "application/json", r.headers
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
    return json.loads(r.text)


V = promtext.value


def test_prometheus_text_is_well_formed_and_complete(guard):
    fams = scrape(guard)
    for name in ("bcl_tokens_accepted_total", "bcl_tokens_refused_total", "bcl_sessions_refused_total",
                 "bcl_sessions_passed_total", "bcl_bindings_made_total", "bcl_store_records",
                 "bcl_store_capacity_records", "bcl_store_usage_ratio", "bcl_store_errors_total",
                 "bcl_receiver_errors_total", "bcl_journal_appends_total", "bcl_build_info"):
        assert name in fams, name
        assert fams[name].help, name
    # gone in 0.2 (NEWS): the all-URLs sum of bcl_keys_fetches_total, a name one letter away
    assert "bcl_key_fetches_total" not in fams
    # every reason code has a series, zero or not
    for reason in ("method", "content_type", "signature", "aud", "iss", "exp", "nonce"):
        V(fams, "bcl_tokens_refused_total", reason=reason)
    assert scrape_json(guard)["keys"]["fetches"] == 0
    assert scrape_json(guard)["keys"]["failures"] == 0
    assert V(fams, "bcl_store_capacity_records") == 5000
    info = [dict(k) for k in fams["bcl_build_info"].samples]
    assert len(info) == 1 and info[0]["store"] == "shm" and info[0]["durable"] == "no", info
    assert info[0]["version"] and info[0]["cjose"] and info[0]["openssl"].startswith("OpenSSL"), info
    for name, fam in fams.items():
        assert name.startswith("bcl_"), name


def test_json_matches_the_prometheus_text(guard):
    fams = scrape(guard)
    j = scrape_json(guard)
    assert j["config"]["store"] == "shm"
    assert j["config"]["capacity"] == 5000
    assert j["config"]["file"] is None
    assert j["config"]["lifetime"] == 86400
    assert j["config"]["memory_bytes"] == V(fams, "bcl_store_memory_bytes") > 5000 * 80
    assert j["build"]["version"] and j["build"]["cjose"] and j["build"]["openssl"]
    assert j["tokens"]["accepted"] == V(fams, "bcl_tokens_accepted_total")
    assert j["tokens"]["refused"]["aud"] == V(fams, "bcl_tokens_refused_total", reason="aud")
    assert j["keys"] == {"fetches": 0, "failures": 0, "issuer_mismatches": 0, "sources": []}   # no key URL here
    assert j["store"]["capacity"] == 5000
    assert set(j["store"]["records"]) == {"revoked_sid", "revoked_sub", "revoked_sub_nosid", "revoked_iss", "binding",
                                         "jti"}


def test_counters_move_as_the_receiver_and_guard_act(guard):
    g = guard
    before = scrape(g)
    before_j = scrape_json(g)

    # the guard: a login binds, the live session passes twice
    sid = uid("st")
    cookie = g.login("/app/", sid=sid)
    g.works("/app/", cookie)
    g.works("/app/", cookie)
    # the receiver: one accepted, one replayed, refusals by reason
    tok, _ = g.logout(sid=sid)
    harness.assert_ok(g.post(tok))
    bad, _ = g.token(sid=uid("x"), aud="someone-else")
    assert g.post(bad).status_code == 400
    assert g.s.get(g.h.url("/bcl"), timeout=10).status_code == 405
    # the guard refuses the revoked session (deny) and, in pass mode, passes it anonymously
    g.refused("/app/", cookie, tag=TAG_REVOKED)
    r, _ = g.get("/pass/", cookie=cookie)
    assert r.status_code == 200
    # an unknown cookie at /strict/ (BCLUnboundSession deny)
    g.refused("/strict/", "never-bound-" + uid("c"), tag="BCL0201")

    after = scrape(g)

    def moved(name, **labels):
        return V(after, name, **labels) - V(before, name, **labels)

    assert moved("bcl_tokens_accepted_total") == 1
    assert moved("bcl_tokens_replayed_total") == 1
    assert moved("bcl_tokens_refused_total", reason="aud") == 1
    assert moved("bcl_tokens_refused_total", reason="method") == 1
    assert moved("bcl_tokens_refused_total", reason="signature") == 0
    assert moved("bcl_bindings_made_total") == 1
    assert moved("bcl_sessions_passed_total") == 2
    assert moved("bcl_sessions_refused_total", reason="revoked", action="deny") == 1
    assert moved("bcl_sessions_refused_total", reason="revoked", action="pass") == 1
    assert moved("bcl_sessions_refused_total", reason="unbound", action="deny") == 1
    assert moved("bcl_store_records", kind="revoked_sid") == 1
    assert moved("bcl_store_records", kind="binding") == 1
    assert moved("bcl_store_records", kind="jti") == 1
    used = V(after, "bcl_store_used_records")
    assert V(after, "bcl_store_usage_ratio") == pytest.approx(used / 5000, abs=1e-6)

    after_j = scrape_json(g)
    assert after_j["tokens"]["accepted"] - before_j["tokens"]["accepted"] == 1
    assert after_j["guard"]["refused"]["revoked"]["deny"] - before_j["guard"]["refused"]["revoked"]["deny"] == 1
    assert after_j["guard"]["bindings_made"] - before_j["guard"]["bindings_made"] == 1
    assert after_j["store"]["records"]["revoked_sid"] - before_j["store"]["records"]["revoked_sid"] == 1


def test_only_get_and_head(guard):
    s = harness.client()
    for method in ("POST", "PUT", "DELETE"):
        r = s.request(method, guard.h.url(STATUS), timeout=10)
        assert r.status_code == 405, (method, r.status_code)
        assert r.headers.get("Allow") == "GET, HEAD", r.headers
        assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
    r = s.head(guard.h.url(STATUS), timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith(PROM_TYPE)
    # what the wire carries after the headers (requests never reads a HEAD body)
    with socket.create_connection(("127.0.0.1", guard.h.port), timeout=10) as sock:
        sock.sendall(b"HEAD %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" % STATUS.encode())
        raw = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert body == b"", body[:200]


def test_mod_status_page_has_a_line(guard):
    g = guard
    s = harness.client()
    j = scrape_json(g)
    r = s.get(g.h.url("/server-status"), timeout=10)
    assert r.status_code == 200
    assert "mod_backchannel_logout" in r.text
    assert "tokens accepted" in r.text and "of 5000 records" in r.text
    r = s.get(g.h.url("/server-status?auto"), timeout=10)
    assert r.status_code == 200
    lines = dict(l.split(": ", 1) for l in r.text.splitlines() if l.startswith("BCL"))
    assert set(lines) == {"BCLTokensAccepted", "BCLTokensRefused", "BCLSessionsRefused", "BCLStoreRecords",
                          "BCLStoreCapacity"}, lines
    assert int(lines["BCLStoreCapacity"]) == 5000
    assert int(lines["BCLTokensAccepted"]) >= j["tokens"]["accepted"]
    assert "<" not in r.text  # the short form is plain text


def test_full_store_usage_and_errors_reported(backend, op_keys):
    h = start_status_httpd(backend, op_keys, mpm="event", store="BCLStore shm capacity=16\n")
    try:
        g = Guard(h, backend, op_keys)
        cookie = g.login("/app/", sid=uid("first"))
        first, _ = g.logout(sid=uid("other"))
        status = 200
        n = 0
        while status == 200:
            status = g.post(g.token(sid=uid("fill"))[0]).status_code
            n += 1
            assert n < 20, "the store never filled"
        assert status == 503
        fams = scrape(g)
        # 1 binding + 7 logouts of 2 records: a logout needs 2, one is left
        assert V(fams, "bcl_store_used_records") == 15
        assert V(fams, "bcl_store_usage_ratio") == pytest.approx(15 / 16)
        assert V(fams, "bcl_store_errors_total", operation="logout", error="full") == 1
        assert V(fams, "bcl_store_full_refusals_total") == 1
        j = scrape_json(g)
        assert j["store"]["usage"] == pytest.approx(15 / 16)
        assert j["store"]["used"] == 15
        assert j["store"]["errors"]["logout"]["full"] == 1
        # nothing stored is lost
        g.works("/app/", cookie)
        assert V(fams, "bcl_store_records", kind="binding") == 1
    finally:
        h.cleanup()


def table_bytes(capacity):
    return (capacity + capacity // 4 + 1) * 80 + 80


def test_capacity_in_bytes_reported(backend, op_keys):
    """BCLStore shm memory=1M: the largest table that fits in 1 MiB, at 100
    bytes per record (plus 160), as the status output reports it."""
    h = start_status_httpd(backend, op_keys, mpm="event", store="BCLStore shm memory=1M\n")
    try:
        g = Guard(h, backend, op_keys)
        fams = scrape(g)
        cap = int(V(fams, "bcl_store_capacity_records"))
        assert table_bytes(cap) <= 1024 * 1024 < table_bytes(cap + 1), cap
        assert cap == 10484
        assert V(fams, "bcl_store_memory_bytes") == table_bytes(cap)
        j = scrape_json(g)
        assert j["config"]["capacity"] == cap and j["config"]["memory_bytes"] == table_bytes(cap)
        h.wait_log("BCL0400", "capacity %d records" % cap, since=0)
    finally:
        h.cleanup()


def test_unbound_sessions_passed_are_counted_apart(guard):
    """A session the store knows nothing about, let through under
    BCLUnboundSession allow, counts as passed and as passed unbound; a bound
    one only as passed."""
    g = guard
    j0 = scrape_json(g)["guard"]
    bound = g.login("/app/", sid=uid("bound"))
    g.works("/app/", bound)
    g.works("/app/", "never-bound-" + uid("x"))
    g.works("/app/", "never-bound-" + uid("y"))
    j1 = scrape_json(g)["guard"]
    assert j1["passed"] - j0["passed"] == 3, (j0, j1)
    assert j1["passed_unbound"] - j0["passed_unbound"] == 2, (j0, j1)
    fams = promtext.parse(harness.client().get(g.h.url(STATUS), timeout=10).text)
    assert promtext.value(fams, "bcl_sessions_passed_unbound_total") == j1["passed_unbound"]
