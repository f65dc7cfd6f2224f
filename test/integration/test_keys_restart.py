"""No logout lost around a restart (issue 13, item 2): with a durable store
(`BCLStore shm file=`) the last good key set of each key URL is kept beside
the journal, so after a full stop and start the receiver answers 200 before
the OP answers, and while the OP is down. Without file= the same restart
answers 503 until the OP is back (the control)."""
import os
import shutil

import pytest

import harness
import keys
import tokens
from keyserver import KeyServer
from durable_env import state_dir

ISSUER = "https://op.restart.test"
CLIENT = "rp-restart"


def _conf(ks, journal):
    store = "BCLStore shm capacity=1000%s\n" % (" file=%s" % journal if journal else "")
    return store + ('<Location /bcl>\n    SetHandler backchannel-logout\n    BCLClientID %s\n'
                    '    BCLIssuer "%s"\n    BCLJWKSURI %s\n    BCLHTTPTimeout 2\n</Location>\n'
                    % (CLIENT, ISSUER, ks.url("/jwks")))


def _post(h, key):
    tok = tokens.sign(tokens.claims(ISSUER, CLIENT), "RS256", key=key, kid=True)
    return harness.post_token(harness.client(), h.url("/bcl"), tok, timeout=20)


@pytest.mark.parametrize("mpm", ["prefork", "event"])
def test_full_restart_with_op_down_keeps_answering_200(mpm):
    k1 = keys.new_key("rsa", "restart-1")
    ks = KeyServer()
    ks.set_json("/jwks", keys.jwks_doc([k1]))
    ks.start()
    d = state_dir()
    journal = os.path.join(d, "revocations.journal")
    h = harness.Httpd(mpm=mpm)
    try:
        h.configure(_conf(ks, journal))
        h.start()
        h.wait_log("BCL0500", ks.url("/jwks"), "restart-1", timeout=15)
        harness.assert_ok(_post(h, k1))
        kept = [n for n in os.listdir(d) if n.startswith("revocations.journal.keys-")]
        assert len(kept) == 1, os.listdir(d)
        h.stop()
        ks.stop()                                   # the OP is down from here on
        mark = h.log_mark()
        h.start()
        h.wait_log("BCL0500", ks.url("/jwks"), "loaded from", since=mark, timeout=5)
        for _ in range(3):
            harness.assert_ok(_post(h, k1))
        h.wait_log("BCL0501", ks.url("/jwks"), since=mark, timeout=15)   # the OP is still down
        harness.assert_ok(_post(h, k1))
    finally:
        h.cleanup()
        ks.stop()
        shutil.rmtree(d, ignore_errors=True)


def test_control_without_file_answers_503_while_the_op_is_down():
    k1 = keys.new_key("rsa", "restart-2")
    ks = KeyServer()
    ks.set_json("/jwks", keys.jwks_doc([k1]))
    ks.start()
    h = harness.Httpd(mpm="prefork")
    try:
        h.configure(_conf(ks, None))
        h.start()
        h.wait_log("BCL0500", ks.url("/jwks"), timeout=15)
        harness.assert_ok(_post(h, k1))
        h.stop()
        ks.stop()
        mark = h.log_mark()
        h.start()
        h.wait_log("BCL0501", ks.url("/jwks"), since=mark, timeout=15)
        assert _post(h, k1).status_code == 503
    finally:
        h.cleanup()
        ks.stop()
