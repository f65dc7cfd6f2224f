"""The durable store (BCLStore shm file=PATH): revocations and bindings
survive kill -9 of every httpd process and a full stop/start; a damaged
journal tail is reported and skipped; the file is private to httpd's User;
maintenance compacts the journal off the request path.

httpd proxies guarded locations to guard_app.py (guard_env.py's backend)
and binds sessions with BCLBindFrom response-header, so a session is
refused after a restart only if both its binding and its revocation came
back from the journal.

    /usr/bin/python3 -m pytest -q test/integration/test_durable.py
"""
import os
import signal
import subprocess
import time

import pytest

import harness
import promtext
from durable_env import child_user, kill9_all, restart, scrape, start_durable, state_dir
from guard_env import Guard, MODULES, TAG_UNBOUND, assert_no_crash, uid

FRAME = 88
HEADER = 16


@pytest.mark.parametrize("mpm,rounds", [("event", 20), ("prefork", 8)])
def test_kill9_right_after_200_keeps_the_revocation(backend, op_keys, mpm, rounds):
    journal = os.path.join(state_dir(), "revocations.journal")
    h = start_durable(backend, op_keys, mpm, journal)
    try:
        g = Guard(h, backend, op_keys)
        refused_so_far = []
        for i in range(rounds):
            sid = uid("k%d" % i)
            cookie = g.login("/app/", sid=sid)
            g.works("/app/", cookie)
            g.logout(sid=sid)                 # 200: durable from here on
            kill9_all(h)
            restart(h)
            g.refused("/app/", cookie)
            refused_so_far.append(cookie)
        # every earlier one too, after all those crashes
        for c in refused_so_far:
            g.refused("/app/", c)
        assert_no_crash(h)
    finally:
        h.cleanup()


@pytest.mark.parametrize("mpm", ["prefork", "event"])
def test_stop_start_brings_back_revocations_and_bindings(backend, op_keys, mpm):
    journal = os.path.join(state_dir(), "j")
    h = start_durable(backend, op_keys, mpm, journal)
    try:
        g = Guard(h, backend, op_keys)
        sid = uid("s")
        revoked_sid = g.login("/app/", sid=sid)
        user = uid("u")
        revoked_sub = g.login("/app/", sub=user)
        live = g.login("/app/", sid=uid("live"))
        gone = g.login("/app/", sid=uid("gone"))
        g.get("/app/", "logout-local", cookie=gone)   # the app expires it: binding dropped
        g.logout(sid=sid)
        g.logout(sub=user)
        g.refused("/app/", revoked_sid)
        g.refused("/app/", revoked_sub)
        g.works("/strict/", live)

        h.stop()
        restart(h)
        g.refused("/app/", revoked_sid)
        g.refused("/app/", revoked_sub)
        # the live session's binding is back: /strict/ refuses unbound cookies
        g.works("/strict/", live)
        g.refused("/strict/", gone, tag=TAG_UNBOUND)
        # a session begun after the sub logout lives
        g.works("/app/", g.login("/app/", sub=user))
        fams = scrape(h)
        assert promtext.value(fams, "bcl_journal_replayed_records") >= 5
        assert promtext.value(fams, "bcl_store_records", kind="revoked_sid") == 1
        assert promtext.value(fams, "bcl_store_records", kind="revoked_sub") == 1
        assert_no_crash(h)
    finally:
        h.cleanup()


def test_damaged_journal_tail_valid_part_restored_and_reported(backend, op_keys):
    journal = os.path.join(state_dir(), "j")
    h = start_durable(backend, op_keys, "event", journal)
    try:
        g = Guard(h, backend, op_keys)
        sids = [uid("t%d" % i) for i in range(5)]
        cookies = [g.login("/app/", sid=s) for s in sids]
        for s in sids:
            g.logout(sid=s)
        live = g.login("/app/", sid=uid("live"))
        # the last record written is a throw-away binding: the damage hits it only
        last = g.login("/app/", sid=uid("last"))
        h.stop()

        size = os.path.getsize(journal)
        assert (size - HEADER) % FRAME == 0, size
        frames = (size - HEADER) // FRAME
        assert frames == 5 + 10 + 2, frames     # 7 bindings, 5 x (revocation + jti)
        with open(journal, "r+b") as f:
            f.truncate(size - 7)
        garbage = b"\x00garbage after a torn write\xff" * 3
        with open(journal, "ab") as f:
            f.write(garbage)
        cut_at = HEADER + (frames - 1) * FRAME

        mark = restart(h)
        line = h.wait_log("BCL0701", since=mark)
        assert journal in line and "offset %d" % cut_at in line, line
        for c in cookies:
            g.refused("/app/", c)
        g.works("/strict/", live)
        g.refused("/strict/", last, tag=TAG_UNBOUND)       # the damaged record is gone
        fams = scrape(h)
        assert promtext.value(fams, "bcl_journal_damaged_bytes") == FRAME - 7 + len(garbage)
        # the journal was rewritten clean: a restart reports nothing
        h.stop()
        assert (os.path.getsize(journal) - HEADER) % FRAME == 0
        mark = restart(h)
        assert "BCL0701" not in h.log_since(mark)
        g.works("/strict/", live)
        assert_no_crash(h)
    finally:
        h.cleanup()


def test_journal_is_private_to_httpds_user(backend, op_keys):
    d = state_dir()
    journal = os.path.join(d, "j")
    h = start_durable(backend, op_keys, "prefork", journal)
    try:
        g = Guard(h, backend, op_keys)
        g.logout(sid=uid("p"))
        st = os.stat(journal)
        assert st.st_mode & 0o777 == 0o600, oct(st.st_mode)
        assert (st.st_uid, st.st_gid) == child_user(), (st.st_uid, st.st_gid)
        # a file that is not a journal is never overwritten: httpd refuses to start
        h.stop()
        other = os.path.join(d, "not-a-journal")
        with open(other, "w") as f:
            f.write('{"some": "other file"}\n')
        h2 = harness.Httpd(mpm="event", modules=MODULES)
        try:
            h2.configure("BCLStore shm file=%s\n" % other)
            # httpd listens before post_config: wait for it to exit instead
            p = subprocess.run([harness.APACHE2, "-f", h2.conf_path, "-DFOREGROUND"], timeout=30,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
            assert p.returncode != 0
            line = h2.wait_log("BCL0700", other)
            assert "is not a journal" in line, line
            with open(other) as f:
                assert f.read() == '{"some": "other file"}\n'
        finally:
            h2.cleanup()
    finally:
        h.cleanup()


def test_counters_and_compaction_off_the_request_path(backend, op_keys):
    """Logouts and a dropped binding grow the journal past 64 KiB and 4x its
    size after the last compaction; the watchdog (every 5 s) then rewrites
    it with the live records only, without any request."""
    journal = os.path.join(state_dir(), "j")
    h = start_durable(backend, op_keys, "event", journal)
    try:
        g = Guard(h, backend, op_keys)
        before = scrape(h)
        keep = g.login("/app/", sid=uid("keep"))
        dropped = g.login("/app/", sid=uid("dropped"))
        g.get("/app/", "logout-local", cookie=dropped)
        n = 0
        while os.path.getsize(journal) < 66 * 1024:
            g.logout(sid=uid("r"))
            n += 1
            assert n < 1000
        after = scrape(h)

        def moved(name):
            return promtext.value(after, name) - promtext.value(before, name)
        assert moved("bcl_journal_syncs_total") >= n                 # each revocation synced
        assert moved("bcl_journal_records_written_total") == 2 + 1 + 2 * n
        assert moved("bcl_bindings_dropped_total") == 1
        assert moved("bcl_journal_sync_errors_total") == 0

        deadline = time.time() + 20
        while time.time() < deadline:
            fams = scrape(h)
            if promtext.value(fams, "bcl_journal_compactions_total") > promtext.value(
                    after, "bcl_journal_compactions_total"):
                break
            time.sleep(0.5)
        else:
            raise AssertionError("no compaction within 20 s:\n" + h.log_text()[-2000:])
        live = sum(promtext.value(fams, "bcl_store_records", kind=k)
                   for k in ("revoked_sid", "revoked_sub", "binding", "jti"))
        assert live == 1 + 2 * n
        assert os.path.getsize(journal) == HEADER + FRAME * live
        assert promtext.value(fams, "bcl_journal_bytes") == HEADER + FRAME * live
        assert "BCL0703" in h.log_text()
        g.works("/strict/", keep)
        h.stop()
        restart(h)
        g.works("/strict/", keep)
        g.refused("/strict/", dropped, tag=TAG_UNBOUND)
    finally:
        h.cleanup()


@pytest.mark.parametrize("mpm", ["prefork", "event"])
def test_graceful_restarts_keep_journalling(backend, op_keys, mpm):
    """After graceful restarts (new children, the module reloaded, the
    watchdog restarted) logouts still reach the journal: a kill -9 later
    loses none of them."""
    journal = os.path.join(state_dir(), "j")
    h = start_durable(backend, op_keys, mpm, journal)
    try:
        g = Guard(h, backend, op_keys)
        cookies = []
        for generation in range(3):
            sid = uid("g%d" % generation)
            c = g.login("/app/", sid=sid)
            g.logout(sid=sid)
            cookies.append(c)
            mark = h.log_mark()
            os.kill(h.proc.pid, signal.SIGUSR1)
            h.wait_log("resuming normal operations", since=mark, timeout=15)
            deadline = time.time() + 10
            while True:
                try:
                    harness.client().get(h.url("/"), timeout=5)
                    break
                except Exception:
                    assert time.time() < deadline, "no answer after the graceful restart"
                    time.sleep(0.1)
            assert "BCL0700" not in h.log_since(mark), "the journal was replayed at a graceful restart"
            g = Guard(h, backend, op_keys)
        kill9_all(h)
        restart(h)
        for c in cookies:
            g.refused("/app/", c)
        assert_no_crash(h)
    finally:
        h.cleanup()


def test_full_durable_store_answers_503_and_loses_nothing(backend, op_keys):
    journal = os.path.join(state_dir(), "j")
    # capacity 16: 2 bindings + 7 logouts of 2 records each
    h = start_durable(backend, op_keys, "prefork", journal, capacity=16)
    try:
        g = Guard(h, backend, op_keys)
        sids = [uid("f0"), uid("f1")]
        cookies = [g.login("/app/", sid=s) for s in sids]
        for s in sids:
            g.logout(sid=s)
        for _ in range(5):
            g.logout(sid=uid("filler"))
        tok, claims = g.token(sid=uid("late"))
        mark = h.log_mark()
        r = g.post(tok)
        assert r.status_code == 503, (r.status_code, r.text)
        h.wait_log("BCL0104", claims["jti"], since=mark)
        for c in cookies:
            g.refused("/app/", c)
        fams = scrape(h)
        assert promtext.value(fams, "bcl_store_usage_ratio") == 1.0
        assert promtext.value(fams, "bcl_store_errors_total", operation="logout", error="full") == 1
        # after a crash and a restart: everything stored before is back, the store still full
        kill9_all(h)
        restart(h)
        for c in cookies:
            g.refused("/app/", c)
        assert g.post(tok).status_code == 503
        fams = scrape(h)
        assert promtext.value(fams, "bcl_store_used_records") == 16
        assert promtext.value(fams, "bcl_journal_replayed_records") == 16
    finally:
        h.cleanup()


def test_records_that_do_not_fit_a_smaller_capacity_stay_in_the_journal(backend, op_keys):
    """A restart with a capacity too small for the journal restores what fits,
    says so (BCL0704), and keeps the rest on disk: a later restart with the
    capacity raised again brings every revocation back."""
    journal = os.path.join(state_dir(), "j")
    h = start_durable(backend, op_keys, "event", journal, capacity=64)
    try:
        g = Guard(h, backend, op_keys)
        sids = [uid("shrink%d" % i) for i in range(10)]
        cookies = [g.login("/app/", sid=s) for s in sids]
        for s in sids:
            g.logout(sid=s)
        for c in cookies:
            g.refused("/app/", c)
    finally:
        h.cleanup()
    size_before = os.path.getsize(journal)

    small = start_durable(backend, op_keys, "event", journal, capacity=16)
    try:
        small.wait_log("BCL0704", journal, "did not fit", "stay in the journal")
        assert promtext.value(scrape(small), "bcl_journal_dropped_records") > 0
    finally:
        small.cleanup()
    assert os.path.getsize(journal) >= size_before, "the journal was rewritten without the records that did not fit"

    big = start_durable(backend, op_keys, "event", journal, capacity=64)
    try:
        g = Guard(big, backend, op_keys)
        for c in cookies:
            g.refused("/app/", c)
        assert "BCL0704" not in big.log_text()
    finally:
        big.cleanup()
