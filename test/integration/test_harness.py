"""Self-test of the harness, independent of the module: a stock httpd with
mod_reflector, under both MPMs, started and stopped by PID."""
import os

import pytest

import harness


@pytest.mark.parametrize("mpm", ["event", "prefork"])
def test_httpd_start_request_stop(mpm):
    with harness.Httpd(mpm=mpm, modules=("authz_core", "reflector"), load_bcl=False) as h:
        h.configure("<Location /echo>\n    SetHandler reflector\n</Location>\n")
        rc, out = h.configtest()
        assert rc == 0 and "Syntax OK" in out, out
        h.start()
        assert h.running
        pid = h.proc.pid
        s = harness.client()
        r = harness.post_token(s, h.url("/echo"), "a.b.c", extra={"state": "x"})
        assert r.status_code == 200
        assert r.text == "logout_token=a.b.c&state=x"
        assert "resuming normal operations" in h.wait_log("resuming normal operations")
        mark = h.log_mark()
        assert h.log_since(mark) == ""
        h.stop()
        assert not h.running
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_configtest_reports_errors():
    with harness.Httpd(load_bcl=False) as h:
        h.configure("NoSuchDirective here\n")
        rc, out = h.configtest()
        assert rc != 0
        assert "NoSuchDirective" in out


def test_start_failure_is_reported():
    with harness.Httpd(load_bcl=False) as h:
        h.configure("<Location /x>\n    SetHandler reflector\n")  # unclosed section
        with pytest.raises(RuntimeError) as e:
            h.start(timeout=10)
        assert "Location" in str(e.value)


def test_free_ports_differ():
    assert harness.free_port() != 0


def test_missing_module_fails_not_skips():
    with pytest.raises(AssertionError):
        harness.require_module("/nonexistent/mod_backchannel_logout.so")
