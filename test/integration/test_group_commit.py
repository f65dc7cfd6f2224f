"""The durable store syncs outside the store's lock (issue 13, item 7):
logouts that arrive together share fdatasync calls (group commit), each OP
still gets 200 only once its revocation is on disk (a kill -9 of every
process right after the 200s loses none), and guard look-ups go on while
logouts are being synced."""
import concurrent.futures
import os
import shutil

import harness
import promtext
from guard_env import Guard, uid
from durable_env import kill9_all, restart, scrape, start_durable, state_dir


def test_concurrent_logouts_share_syncs_and_survive_kill9(backend, op_keys):
    d = state_dir()
    journal = os.path.join(d, "revocations.journal")
    h = start_durable(backend, op_keys, "event", journal)
    try:
        g = Guard(h, backend, op_keys)
        sids = [uid("gc%d" % i) for i in range(40)]
        cookies = [g.login("/app/", sid=s) for s in sids]
        live = g.login("/app/", sid=uid("live"))
        before = promtext.value(scrape(h), "bcl_journal_syncs_total")
        toks = [g.token(sid=s)[0] for s in sids]

        def post(t):
            return harness.post_token(harness.client(), h.url("/bcl"), t, timeout=20).status_code

        def look():
            return g.get("/app/", "whoami", cookie=live, session=harness.client())[0].status_code

        with concurrent.futures.ThreadPoolExecutor(max_workers=12) as ex:
            posts = [ex.submit(post, t) for t in toks]
            looks = [ex.submit(look) for _ in range(40)]
            assert [f.result() for f in posts] == [200] * len(toks)
            assert [f.result() for f in looks] == [200] * 40
        fams = scrape(h)
        syncs = promtext.value(fams, "bcl_journal_syncs_total") - before
        assert 1 <= syncs <= len(toks), syncs
        assert promtext.value(fams, "bcl_journal_sync_errors_total") == 0
        # every 200 meant "on disk": nothing is lost to kill -9 of every process
        kill9_all(h)
        restart(h)
        for c in cookies:
            g.refused("/app/", c)
        g.works("/app/", live)
    finally:
        h.cleanup()
        shutil.rmtree(d, ignore_errors=True)
