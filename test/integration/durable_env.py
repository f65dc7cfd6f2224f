"""The durable store's test scaffolding (BCLStore shm file=, docs/store.md
"Durability"), shared by test_durable.py, test_group_commit.py and
test_keys_restart.py: a journal directory httpd's User owns, an httpd with
a durable store in front of guard_app.py, kill -9 of every httpd process,
a restart that waits for the journal replay, and a status scrape.
"""
import os
import pwd
import signal
import time

import harness
import keys
import promtext
from guard_env import LOCATIONS, MODULES, children_of, guarded_location, receiver_location

STATUS = "/bcl-status"


def child_user():
    """(uid, gid) httpd's children run as (the harness's User when root)."""
    if os.geteuid() != 0:
        return os.geteuid(), os.getegid()
    for name in ("www-data", "daemon", "nobody"):
        try:
            pw = pwd.getpwnam(name)
            return pw.pw_uid, pw.pw_gid
        except KeyError:
            continue
    raise AssertionError("no user for httpd's children")


def state_dir():
    """A directory for the journal, owned by httpd's User, mode 0700."""
    d = harness.make_tmpdir("bcl-state-")
    uid_, gid = child_user()
    os.chown(d, uid_, gid)
    os.chmod(d, 0o700)
    return d


def start_durable(backend, op_keys, mpm, journal, capacity=2000):
    h = harness.Httpd(mpm=mpm, modules=MODULES, loglevel="warn backchannel_logout:debug")
    jwks = keys.write_jwks(h.path("jwks.json"), op_keys.jwks())
    body = "BCLStore shm capacity=%d file=%s\n" % (capacity, journal) + receiver_location(jwks)
    for path in ("/app/", "/strict/"):
        extra, bind = LOCATIONS[path]
        body += guarded_location(path, backend.port, extra, bind)
    body += "<Location %s>\n    SetHandler backchannel-logout-status\n</Location>\n" % STATUS
    h.configure(body)
    h.start()
    return h


def kill9_all(h):
    """SIGKILL to every httpd process of `h` (children first, then the
    parent, so that nothing shuts down cleanly), then waits for the parent."""
    parent = h.proc.pid
    kids = children_of(parent)
    assert kids, "httpd has no children to kill"
    for pid in kids + [parent]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    h.proc.wait(timeout=10)
    h.proc = None
    deadline = time.time() + 10
    while any(os.path.exists("/proc/%d" % k) for k in kids) and time.time() < deadline:
        time.sleep(0.02)


def restart(h):
    mark = h.log_mark()
    h.start()
    h.wait_log("BCL0700", "replayed", since=mark)
    return mark


def scrape(h):
    r = harness.client().get(h.url(STATUS), timeout=10)
    assert r.status_code == 200
    return promtext.parse(r.text)
