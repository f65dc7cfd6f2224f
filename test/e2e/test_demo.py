"""The README's first command, as CI runs it: `bash tools/demo.sh` with
CI=true and no stdin walks the whole flow against the real OP and exits 0."""
import os
import subprocess

from stack import REPO


def test_demo_walk_as_ci_runs_it():
    env = dict(os.environ, CI="true")
    p = subprocess.run(["bash", os.path.join(REPO, "tools", "demo.sh")], cwd=REPO, env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=600, start_new_session=True)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, out[-6000:]
    assert "walking the flow" in out
    for needle in ("signed in as alice",
                   "backchannel.success client=app ",
                   "backchannel.success client=shop ",
                   "BCL0100: logout token accepted",
                   "BCL0200: session refused at the edge",
                   "DEMOSESSION=; Max-Age=0",
                   "the shop says: not signed in",
                   "The walk is complete"):
        assert needle in out, "%r not in the demo's output:\n%s" % (needle, out[-6000:])
    assert "FAILED" not in out
