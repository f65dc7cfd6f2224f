#!/usr/bin/python3
"""The demo of mod_backchannel_logout with a real OpenID Provider.

Starts, all on 127.0.0.1: node-oidc-provider as the OP, two small apps that
keep their own session cookies (/app/ and /shop/), and Apache httpd with
mod_backchannel_logout in front of them: one back-channel logout receiver
per app, and the guard on each app's cookie.

    tools/demo.py            start everything, print the URL, wait for Ctrl-C
    tools/demo.py --walk     walk the flow with HTTP requests, print each
                             step, stop; exit status 1 if a step fails

In a browser: open the printed URL, sign in (any login, any password), see
"signed in as <user>" with the OP session's sid, click "sign out at the
provider" and confirm: the OP posts a logout token to the module, and when
you come back the app's session is gone (the app itself was never told).

With CI set in the environment and no --walk, --walk is implied: nothing
would ever press Ctrl-C there.

Options: --port N (httpd's port, default 8080 or a free one if it is taken),
--user NAME (the walk's login), --mpm event|prefork|worker.
Environment: BCL_MODULE, APACHE2 (see test/integration/harness.py),
BCL_E2E_METADATA=0 / BCL_E2E_STATUS=0 turn discovery / the status page off (see test/e2e/stack.py).
"""
import argparse
import os
import signal
import socket
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "test", "e2e"))

import stack as e2e  # noqa: E402
from stack import ClientSpec, UserAgent, expired_cookies, find_link  # noqa: E402

TTY = sys.stdout.isatty()
BOLD = "\033[1m" if TTY else ""
DIM = "\033[2m" if TTY else ""
RED = "\033[31m" if TTY else ""
GREEN = "\033[32m" if TTY else ""
RESET = "\033[0m" if TTY else ""


def demo_clients():
    """The demo's two apps: the same user, two clients of the OP."""
    return [
        ClientSpec("app", alg="RS256", on_revoked="redirect /app/signed-out",
                   cookie="DEMOSESSION", title="Demo app"),
        ClientSpec("shop", alg="ES256", on_revoked="redirect /shop/signed-out",
                   cookie="SHOPSESSION", title="Demo shop"),
    ]


def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def demo_stack(port=None, mpm="event", say=None, **stack_kw):
    """A started stack with the demo's apps (the browser test uses it too,
    with frontchannel=True: see e2e.Stack)."""
    st = e2e.Stack(demo_clients(), mpm=mpm, say=say, **stack_kw)
    if port:
        st.httpd.port = port
        st.base = st.httpd.url("").rstrip("/")
    return st.start()


class StepFailed(Exception):
    pass


class Walk:
    def __init__(self, st, user):
        self.st = st
        self.user = user
        self.n = 0
        self.ua = UserAgent(say=lambda m: print(DIM + m + RESET))

    def step(self, title):
        self.n += 1
        print("\n%s== Step %d: %s%s" % (BOLD, self.n, title, RESET))

    def check(self, ok, what):
        print("   %s %s" % ((GREEN + "ok" + RESET) if ok else (RED + "FAILED" + RESET), what))
        if not ok:
            raise StepFailed(what)

    def show_log(self, mark, tags=("BCL0",)):
        for line in self.st.httpd.log_since(mark).splitlines():
            if any(t in line for t in tags):
                print("   httpd error log: %s" % line.split("] ", 3)[-1])

    def show_op(self, mark):
        for line in self.st.op.lines[mark:]:
            if line.startswith("backchannel."):
                print("   OP output: %s" % line)

    def run(self):
        st, ua, user = self.st, self.ua, self.user
        app, shop = st.app_url("app"), st.app_url("shop")

        self.step("visit the app without a session")
        r = ua.get(app)
        self.check(r.status_code == 200 and "not signed in" in r.text, "the app says: not signed in")

        self.step("sign in at the OP as %r (the OP's development login form takes any password)" % user)
        mark = st.httpd.log_mark()
        page = ua.login(app, user)
        self.check(page.status_code == 200 and 'signed in as <b id="user">%s</b>' % user in page.text,
                   "the app says: signed in as %s" % user)
        me = ua.get(st.app_url("app", "api/me")).json()
        self.check(bool(me.get("sid")), "the app's session belongs to OP session sid=%s" % me.get("sid"))
        stolen = ua.cookie("DEMOSESSION")
        self.check(bool(stolen), "the browser holds the app's cookie DEMOSESSION")

        self.step("use the app")
        r = ua.get(app)
        self.check(r.status_code == 200 and "signed in as" in r.text, "still signed in (visit %s)"
                   % ua.get(st.app_url("app", "api/me")).json().get("visits"))

        self.step("sign in to the second app, the shop (single sign-on: no password this time)")
        before = len(ua.trace)
        page2 = ua.login(shop, user)
        self.check(page2.status_code == 200 and "signed in as" in page2.text, "the shop says: signed in as %s" % user)
        posts = [t for t in ua.trace[before:] if t[0] == "POST"]
        self.check(len(posts) == 1, "the OP asked only for consent, not for the password")
        me2 = ua.get(st.app_url("shop", "api/me")).json()

        self.step('click "sign out at the provider" and confirm at the OP (logout=yes)')
        link = find_link(page.text, "signout")
        self.check(bool(link), "the app links to the OP's end_session endpoint")
        op_mark, log_mark = st.op.mark(), st.httpd.log_mark()
        r = ua.logout_at_op(link)
        self.check(r.status_code in (302, 303), "the OP signed the user out and redirects back to the app")
        for cid, sid in (("app", me["sid"]), ("shop", me2["sid"])):
            st.op.wait_line("backchannel.success", "client=%s " % cid, since=op_mark)
            st.httpd.wait_log("BCL0100", "sid=%s " % sid, since=log_mark)
        self.show_op(op_mark)
        self.show_log(log_mark)
        self.check(True, "the OP's back-channel logout POSTs reached the module for both apps")

        self.step("come back to the app (the app itself was never told)")
        log_mark = st.httpd.log_mark()
        r = ua.get(app)
        self.check(r.status_code == 302 and r.headers.get("Location", "").endswith("/app/signed-out"),
                   "the proxy refuses the session: 302 to /app/signed-out")
        self.check("DEMOSESSION" in expired_cookies(r), "and expires the cookie: %s"
                   % r.headers.get("Set-Cookie"))
        page = ua.follow(r)
        self.check("not signed in" in page.text, "the app says: not signed in")
        self.show_log(log_mark)

        self.step("the shop's session is gone too")
        r = ua.follow(ua.get(shop))
        self.check("not signed in" in r.text, "the shop says: not signed in")

        self.step("a copy of the old cookie (stolen earlier) is refused as well")
        thief = e2e.harness.client()
        r = thief.get(st.app_url("app", "api/me"), allow_redirects=False, timeout=10,
                      headers={"Cookie": "DEMOSESSION=%s" % stolen})
        self.check(r.status_code == 302, "302 to /app/signed-out for the copy too")

        if st.status_url:
            self.step("the status page")
            r = ua.get(st.status_url)
            self.check(r.status_code == 200, "GET %s -> 200" % st.status_url)
            counters = {}
            for line in r.text.splitlines():
                if line.startswith(("bcl_tokens_accepted_total ", "bcl_sessions_refused_total{",
                                    "bcl_bindings_made_total ")):
                    print("   " + line)
                    name = line.split("{")[0].split(" ")[0]
                    counters[name] = counters.get(name, 0) + float(line.rsplit(" ", 1)[1])
            self.check(counters.get("bcl_tokens_accepted_total", 0) >= 2,
                       "the module counted the OP's logout tokens (one per app)")
            self.check(counters.get("bcl_sessions_refused_total", 0) >= 1,
                       "the module counted the sessions it refused")
        print("\n%sThe walk is complete: the logout at the OP ended both apps' sessions at the proxy.%s"
              % (BOLD, RESET))


def walk(args):
    st = demo_stack(args.port, args.mpm, say=lambda m: print("== " + m))
    try:
        Walk(st, args.user).run()
        return 0
    except (StepFailed, AssertionError) as e:
        print("\n%sdemo --walk FAILED: %s%s" % (RED, e, RESET))
        print(st.diagnostics())
        return 1
    finally:
        st.cleanup()


def serve(args):
    st = demo_stack(args.port, args.mpm, say=lambda m: print("== " + m))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *a: stop.set())
    try:
        print("""
%(b)sThe demo is running.%(r)s Open in a browser:

    %(b)s%(app)s%(r)s          (and the second app: %(shop)s)

1. "sign in": the OP's login page takes any login and any password;
   allow the app on the next page.
2. The app says "signed in as <login>" and shows the OP session's sid.
3. Click "sign out at the provider", then "Yes, sign me out".
   The OP sends a logout token to the module (see the error log below).
4. Back at the app: the proxy refused the old session, the app says
   "not signed in". Open the shop: signed out there too.
%(status)s
Logs: httpd %(elog)s
      OP    %(oplog)s
Press Ctrl-C to stop everything.""" % {
            "b": BOLD, "r": RESET, "app": st.app_url("app"), "shop": st.app_url("shop"),
            "elog": st.httpd.error_log, "oplog": st.op.logfile,
            "status": ("5. The status page with the module's counters: %s\n" % st.status_url)
            if st.status_url else ""})
        sys.stdout.flush()
        while not stop.wait(1):
            dead = [p.name for p in [st.op] + list(st.apps.values()) if not p.running]
            if dead or not st.httpd.running:
                print("demo: %s stopped unexpectedly" % (", ".join(dead) or "httpd"))
                print(st.diagnostics())
                return 1
        print("\nstopping...")
        return 0
    finally:
        st.cleanup()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--walk", action="store_true", help="walk the flow non-interactively and exit")
    ap.add_argument("--port", type=int, default=0, help="httpd's port (default 8080, or a free one)")
    ap.add_argument("--user", default="alice", help="the login the walk uses")
    ap.add_argument("--mpm", default="event", choices=["event", "prefork", "worker"])
    args = ap.parse_args(argv)
    if not args.walk and os.environ.get("CI"):
        print("demo: CI is set: walking the flow instead of waiting for a browser (--walk)")
        args.walk = True
    if not args.port and not args.walk and port_is_free(8080):
        args.port = 8080
    return walk(args) if args.walk else serve(args)


if __name__ == "__main__":
    sys.exit(main())
