#!/usr/bin/python3
"""A walk through the back-channel logout receiver with a real httpd.

Generates an OP signing key and its JWKS, starts Apache httpd on 127.0.0.1
with mod_backchannel_logout and a receiver at /oidc/backchannel-logout, then
sends: a valid logout token (200), the same token again (200), a token for
another audience (400), an unsigned alg=none token (400) and a GET (405).
Each step prints the request, the answer, and the error-log lines it caused.

    tools/demo_receiver.py [--keep] [--port N] [--mpm event|prefork]

--keep leaves httpd running and prints its URL and a ready-made curl command.
Environment: BCL_MODULE (the module), APACHE2 (the httpd binary).
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "test", "integration"))

import harness  # noqa: E402
import keys  # noqa: E402
import tokens  # noqa: E402

ISSUER = "https://op.demo.test/realms/demo"
CLIENT_ID = "demo-rp"
PATH = "/oidc/backchannel-logout"

BOLD = "\033[1m" if sys.stdout.isatty() else ""
DIM = "\033[2m" if sys.stdout.isatty() else ""
RESET = "\033[0m" if sys.stdout.isatty() else ""


def short(token, n=24):
    return "%s...%s (%d chars)" % (token[:n], token[-8:], len(token))


def show_claims(c):
    keep = ("iss", "aud", "sub", "sid", "jti", "iat", "exp", "events")
    return ", ".join("%s=%s" % (k, json.dumps(c[k])) for k in keep if k in c)


class Demo:
    def __init__(self, httpd, op_key):
        self.httpd = httpd
        self.op_key = op_key
        self.session = harness.client()
        self.n = 0

    def step(self, title):
        self.n += 1
        print("\n%s== Step %d: %s%s" % (BOLD, self.n, title, RESET))

    def show(self, r, mark):
        reason = r.reason or ""
        print("-> %s%d %s%s" % (BOLD, r.status_code, reason, RESET))
        for h in ("Cache-Control", "Content-Type", "Allow"):
            if h in r.headers:
                print("   %s: %s" % (h, r.headers[h]))
        body = r.text.strip()
        if body:
            try:
                body = json.dumps(json.loads(body), indent=2).replace("\n", "\n   ")
            except ValueError:
                pass
            print("   body: %s" % body)
        else:
            print("   body: (empty)")
        time.sleep(0.2)  # let the child finish writing its log line
        lines = [l for l in self.httpd.log_since(mark).splitlines() if "BCL0" in l]
        print("   error log:")
        for l in lines or ["(no BCL line)"]:
            print("     %s%s%s" % (DIM, l, RESET))

    def post(self, title, c=None, token=None, note=""):
        self.step(title)
        if token is None:
            token = tokens.sign(c, "RS256", key=self.op_key)
        print("POST %s  (Content-Type: %s)" % (PATH, harness.FORM))
        print("   logout_token = %s" % short(token))
        hdr = tokens.decode_part(token, 0)
        print("   header: %s" % json.dumps(hdr))
        if c is not None:
            print("   claims: %s" % show_claims(c))
        if note:
            print("   (%s)" % note)
        mark = self.httpd.log_mark()
        r = harness.post_token(self.session, self.httpd.url(PATH), token)
        self.show(r, mark)
        return token, r

    def get(self, title):
        self.step(title)
        print("GET %s" % PATH)
        mark = self.httpd.log_mark()
        r = self.session.get(self.httpd.url(PATH), timeout=10)
        self.show(r, mark)
        return r


def claims(**kw):
    return tokens.claims(ISSUER, CLIENT_ID, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keep", action="store_true", help="leave httpd running at the end")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    ap.add_argument("--mpm", default="event", choices=["event", "prefork", "worker"])
    args = ap.parse_args()

    harness.require_module()
    print("%sGenerating the OP's RSA signing key and JWKS...%s" % (BOLD, RESET))
    op_key = keys.new_key("rsa", "demo-op-key-1")
    httpd = harness.Httpd(mpm=args.mpm, port=args.port or None,
                          tmpdir=harness.make_tmpdir("bcl-demo-"))
    jwks = keys.write_jwks(httpd.path("op-jwks.json"), [op_key])
    body = "\n".join([
        '<Location "%s">' % PATH,
        "    SetHandler backchannel-logout",
        '    BCLIssuer "%s"' % ISSUER,
        "    BCLClientID %s" % CLIENT_ID,
        '    BCLJWKSFile "%s"' % jwks,
        "</Location>", ""])
    httpd.configure(body)
    print("httpd config: %s, with:\n%s" % (httpd.conf_path, body))
    rc, out = httpd.configtest()
    print("apache2 -t: %s" % out.strip())
    if rc != 0:
        return 1
    httpd.start()
    print("httpd (%s MPM) running, pid %d, receiver at %s"
          % (args.mpm, httpd.proc.pid, httpd.url(PATH)))

    ok = True
    try:
        d = Demo(httpd, op_key)
        c = claims()
        tok, r = d.post("a valid logout token", c)
        ok &= r.status_code == 200
        _, r = d.post("the same token again (replay): still 200, nothing more happens",
                      c, token=tok)
        ok &= r.status_code == 200
        _, r = d.post("a token for another client (wrong aud)", claims(aud="someone-else"))
        ok &= r.status_code == 400
        c = claims()
        none_tok = tokens.raw_sign({"alg": "none", "typ": "logout+jwt"}, c)
        _, r = d.post("an unsigned token (alg none)", c, token=none_tok,
                      note="no signature: anyone could have made it")
        ok &= r.status_code == 400
        r = d.get("a GET instead of a POST")
        ok &= r.status_code == 405
    finally:
        if not args.keep:
            httpd.cleanup()
            print("\nhttpd stopped.")

    if args.keep:
        c = claims(iat=int(time.time()), exp=int(time.time()) + 3600)
        fresh = tokens.sign(c, "RS256", key=op_key)
        print("\n%shttpd left running%s (pid %d), files in %s" % (BOLD, RESET, httpd.proc.pid,
                                                                  httpd.dir))
        print("receiver: %s" % httpd.url(PATH))
        print("error log: %s" % httpd.error_log)
        print("a fresh token (valid for one hour):\n")
        print("  curl -sS -i -X POST --data-urlencode 'logout_token=%s' %s\n" % (fresh, httpd.url(PATH)))
        print("stop it with:  kill %d; rm -rf %s" % (httpd.proc.pid, httpd.dir))
    print("\n%s%s%s" % (BOLD, "demo: every step answered as expected" if ok
                        else "demo: SOME STEP ANSWERED UNEXPECTEDLY", RESET))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
