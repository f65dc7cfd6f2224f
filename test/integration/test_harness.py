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


def test_start_notices_a_post_config_failure_after_the_port_is_bound():
    """httpd binds its port before post_config; a module that refuses the
    configuration there makes the parent exit after the port was open. The
    harness's start must report that, not return a dead server. (Here: the
    journal path is a directory, which only post_config finds out.)"""
    with harness.Httpd() as h:
        os.makedirs(h.path("journal-dir"))
        h.configure("BCLStore shm file=%s\n" % h.path("journal-dir"))
        rc, out = h.configtest()
        assert rc == 0, out                # the config test cannot know
        with pytest.raises(RuntimeError) as e:
            h.start(timeout=10)
        assert "a directory" in str(e.value) and "Configuration Failed" in str(e.value)
        assert not h.running


def test_stop_reports_a_child_killed_by_a_signal():
    """The clean-exit check every stop makes: a child that dies of a signal
    (here SIGSEGV sent by the test) fails the stop."""
    import signal
    with harness.Httpd(mpm="prefork", modules=("authz_core", "reflector"), load_bcl=False) as h:
        h.configure("<Location /echo>\n    SetHandler reflector\n</Location>\n")
        h.start()
        kids = [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == h.proc.pid]
        assert kids
        os.kill(kids[0], signal.SIGSEGV)
        h.wait_log("exit signal Segmentation fault", timeout=10)
        with pytest.raises(AssertionError) as e:
            h.stop()
        assert "exit signal" in str(e.value)
        # cleaning up after a reported failure does not raise again
        h.cleanup()


def _ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1
