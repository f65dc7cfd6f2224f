#!/usr/bin/python3
"""A small web app with its own session cookie, for the demo and the
end-to-end tests. It knows nothing about back-channel logout: the point is
that mod_backchannel_logout, in the proxy in front of it, ends its sessions.

    demo_app.py --issuer URL --client-id ID --client-secret S \\
                --public-url http://127.0.0.1:8080/app/ [--cookie DEMOSESSION] ...

It listens on 127.0.0.1 (--port, 0 = a free one) and prints "PORT <n>" once
it does. httpd proxies --public-url to it (`ProxyPass /app/ http://127.0.0.1:n/`).

Two modes:

  --mode oidc (default)  the app signs users in itself, with the OpenID
      Connect code flow (PKCE) against the OP. When it creates a session it
      sets its cookie and names the OP session in one response header,
      `BCL-Session: iss="...", sid="...", sub="..."`, which the guard
      (`BCLBindFrom response-header BCL-Session`) turns into a binding and
      removes before the browser sees it.
  --mode companion  mod_auth_openidc in front signs users in and passes the
      claims as request headers (OIDC_CLAIM_sub, ...). The app keeps its own
      session cookie on top; the guard reads the identity from the request
      environment (`BCLBindFrom env`).

Pages (paths relative to --public-url):
  /            "signed in as <user>" with the sid, a visit counter, links to
               "sign out at the provider" and the status page; or "not signed
               in" with a "sign in" link
  /login       starts the code flow (oidc mode)
  /callback    the redirect_uri (oidc mode)
  /signed-out  where the proxy sends a refused session (BCLOnRevoked redirect)
  /api/me      JSON of the same facts, for tests
"""
import argparse
import base64
import hashlib
import html
import json
import secrets
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jwcrypto import jwe as jw_e
from jwcrypto import jwk as jw_k
from jwcrypto import jws as jw_s

BIND_HEADER = "BCL-Session"


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def quote(v):
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


class LoginError(Exception):
    pass


class OIDCClient:
    """The code flow: authorization URL, token exchange, ID token checks."""

    def __init__(self, args):
        self.issuer = args.issuer.rstrip("/")
        self.client_id = args.client_id
        self.client_secret = args.client_secret
        self.redirect_uri = args.public_url + "callback"
        self.sig_alg = args.alg
        self.decryption_key = None
        if args.decryption_key:
            with open(args.decryption_key, "rb") as f:
                self.decryption_key = jw_k.JWK.from_pem(f.read())
        self._meta = None
        self._jwks = None
        self._lock = threading.Lock()

    def _get_json(self, url):
        req = urllib.request.Request(url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read().decode())

    def metadata(self):
        with self._lock:
            if self._meta is None:
                self._meta = self._get_json(self.issuer + "/.well-known/openid-configuration")
            return self._meta

    def jwks(self):
        meta = self.metadata()
        with self._lock:
            if self._jwks is None:
                self._jwks = jw_k.JWKSet.from_json(json.dumps(self._get_json(meta["jwks_uri"])))
            return self._jwks

    def authorization_url(self, state, nonce, verifier):
        challenge = b64u(hashlib.sha256(verifier.encode()).digest())
        q = {"response_type": "code", "client_id": self.client_id,
             "redirect_uri": self.redirect_uri, "scope": "openid profile",
             "state": state, "nonce": nonce, "code_challenge": challenge,
             "code_challenge_method": "S256"}
        return self.metadata()["authorization_endpoint"] + "?" + urllib.parse.urlencode(q)

    def end_session_url(self, id_token, post_logout_redirect_uri):
        q = {"client_id": self.client_id,
             "post_logout_redirect_uri": post_logout_redirect_uri}
        if id_token and id_token.count(".") == 2:  # a JWE hint cannot be read by the OP
            q["id_token_hint"] = id_token
        return self.metadata()["end_session_endpoint"] + "?" + urllib.parse.urlencode(q)

    def exchange(self, code, verifier):
        body = urllib.parse.urlencode({
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": self.redirect_uri, "code_verifier": verifier}).encode()
        basic = base64.b64encode(("%s:%s" % (
            urllib.parse.quote(self.client_id, safe=""),
            urllib.parse.quote(self.client_secret, safe=""))).encode()).decode()
        req = urllib.request.Request(self.metadata()["token_endpoint"], data=body, headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Basic " + basic, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read().decode())
        except urllib.error.HTTPError as e:
            raise LoginError("token endpoint answered %d: %s"
                             % (e.code, e.read().decode(errors="replace")[:300]))

    def verify_id_token(self, token, nonce):
        """Decrypts (JWE) and verifies the ID token; returns its claims."""
        if token.count(".") == 4:
            if self.decryption_key is None:
                raise LoginError("encrypted ID token but no --decryption-key")
            e = jw_e.JWE()
            e.deserialize(token, key=self.decryption_key)
            token = e.payload.decode()
        s = jw_s.JWS()
        s.deserialize(token)
        alg = s.jose_header.get("alg")
        if alg != self.sig_alg:
            raise LoginError("ID token alg %r, expected %r" % (alg, self.sig_alg))
        if alg.startswith("HS"):
            key = jw_k.JWK(kty="oct", k=b64u(self.client_secret.encode()))
        else:
            kid = s.jose_header.get("kid")
            key = self.jwks().get_key(kid) if kid else None
            if key is None:
                raise LoginError("no OP key for kid %r" % kid)
        s.verify(key, alg=alg)
        claims = json.loads(s.payload.decode())
        now = time.time()
        if claims.get("iss") != self.metadata()["issuer"]:
            raise LoginError("ID token iss %r" % claims.get("iss"))
        aud = claims.get("aud")
        if not (aud == self.client_id or (isinstance(aud, list) and self.client_id in aud)):
            raise LoginError("ID token aud %r" % aud)
        if claims.get("nonce") != nonce:
            raise LoginError("ID token nonce mismatch")
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] < now - 60:
            raise LoginError("ID token expired")
        return claims


class App:
    """Sessions live in this process's memory, keyed by the cookie value."""

    def __init__(self, args):
        self.args = args
        self.public_url = args.public_url if args.public_url.endswith("/") else args.public_url + "/"
        args.public_url = self.public_url
        self.cookie = args.cookie
        self.oidc = OIDCClient(args) if args.mode == "oidc" else None
        self.sessions = {}
        self.pending = {}
        self.lock = threading.Lock()

    def new_session(self, identity):
        value = secrets.token_urlsafe(32)
        identity = dict(identity, created=time.time(), visits=0)
        with self.lock:
            self.sessions[value] = identity
        return value

    def session_for(self, cookie_header):
        if not cookie_header:
            return None, None
        for part in cookie_header.split(";"):
            name, _, value = part.strip().partition("=")
            if name == self.cookie:
                with self.lock:
                    s = self.sessions.get(value)
                    if s is not None:
                        s["visits"] += 1
                        return value, dict(s)
        return None, None

    def set_cookie(self, value):
        return "%s=%s; Path=/; HttpOnly; SameSite=Lax" % (self.cookie, value)


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>%(title)s</title>
<style>body{font-family:sans-serif;max-width:44em;margin:2em auto;line-height:1.5}
code{background:#eee;padding:0 .3em}.box{border:1px solid #ccc;padding:1em;border-radius:.4em}
.note{color:#555;font-size:.9em}</style></head>
<body><h1>%(title)s</h1>
<div class="box">%(body)s</div>
<p class="note">This app keeps its own session cookie (<code>%(cookie)s</code>) and
knows nothing about back-channel logout. mod_backchannel_logout, in the proxy in
front of it, receives the provider's logout and ends the session.</p>
%(links)s
</body></html>
"""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "BCLDemoApp/1"
    app = None  # set by main()

    def log_message(self, fmt, *args):
        if self.app.args.verbose:
            sys.stderr.write("demo_app: " + (fmt % args) + "\n")

    # -- plumbing ----------------------------------------------------------
    def _send(self, status, body, ctype="text/html; charset=utf-8", headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _redirect(self, location, headers=()):
        self._send(302, "", headers=[("Location", location)] + list(headers))

    def _page(self, body, status=200, headers=()):
        a = self.app
        links = []
        if a.args.status_url:
            links.append('<a id="status" href="%s">status page (counters)</a>'
                         % html.escape(a.args.status_url))
        text = PAGE % {"title": html.escape(a.args.title), "body": body,
                       "cookie": html.escape(a.cookie),
                       "links": "<p>%s</p>" % " | ".join(links) if links else ""}
        self._send(status, text, headers=headers)

    # -- routes ------------------------------------------------------------
    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        route = {"/": self.home, "/api/me": self.me, "/login": self.login,
                 "/callback": self.callback, "/signed-out": self.signed_out,
                 "/healthz": self.healthz}.get(url.path)
        if route is None:
            return self._send(404, "not found\n", "text/plain")
        try:
            route(q)
        except LoginError as e:
            self._page("<p>Sign-in failed: %s</p>" % html.escape(str(e)), status=400)

    def healthz(self, q):
        self._send(200, "ok\n", "text/plain")

    def _current(self):
        """(cookie value, session, extra headers): in companion mode a request
        that mod_auth_openidc let through without our cookie starts a session."""
        a = self.app
        value, s = a.session_for(self.headers.get("Cookie"))
        headers = []
        if s is None and a.args.mode == "companion":
            sub = self.headers.get(a.args.companion_header)
            if sub:
                identity = {"sub": sub, "name": sub,
                            "sid": self.headers.get("OIDC_CLAIM_sid", ""),
                            "iss": self.headers.get("OIDC_CLAIM_iss", "")}
                value = a.new_session(identity)
                headers.append(("Set-Cookie", a.set_cookie(value)))
                _, s = a.session_for("%s=%s" % (a.cookie, value))
        return value, s, headers

    def home(self, q):
        a = self.app
        value, s, headers = self._current()
        if s is None:
            body = ('<p id="state">You are <b>not signed in</b>.</p>'
                    '<p><a id="signin" href="%slogin">sign in</a></p>' % html.escape(a.public_url))
            if a.args.mode == "companion":
                body = '<p id="state">You are <b>not signed in</b>.</p>'
            return self._page(body, headers=headers)
        body = ('<p id="state">signed in as <b id="user">%s</b></p>'
                '<p>OP session (sid): <code id="sid">%s</code></p>'
                '<p>visits in this session: <span id="visits">%d</span></p>'
                % (html.escape(s.get("name") or s["sub"]), html.escape(s.get("sid") or "(none)"),
                   s["visits"]))
        if a.oidc is not None:
            end = a.oidc.end_session_url(s.get("id_token"), a.public_url)
            body += '<p><a id="signout" href="%s">sign out at the provider</a></p>' % html.escape(end)
        elif a.args.logout_url:
            body += '<p><a id="signout" href="%s">sign out at the provider</a></p>' % html.escape(
                a.args.logout_url)
        self._page(body, headers=headers)

    def me(self, q):
        value, s, headers = self._current()
        out = {"signed_in": s is not None,
               "cookie_present": self.app.cookie + "=" in (self.headers.get("Cookie") or "")}
        if s is not None:
            out.update({k: s.get(k) for k in ("sub", "sid", "iss", "visits")})
        self._send(200, json.dumps(out), "application/json", headers=headers)

    def signed_out(self, q):
        a = self.app
        self._page('<p id="state">Your session has ended: you are <b>not signed in</b>.</p>'
                   '<p><a id="signin" href="%slogin">sign in again</a></p>' % html.escape(a.public_url))

    def login(self, q):
        a = self.app
        if a.oidc is None:
            return self._send(404, "no login here: mod_auth_openidc signs users in\n", "text/plain")
        state, nonce, verifier = (secrets.token_urlsafe(16), secrets.token_urlsafe(16),
                                  secrets.token_urlsafe(48))
        with a.lock:
            a.pending[state] = (nonce, verifier, time.time())
        self._redirect(a.oidc.authorization_url(state, nonce, verifier))

    def callback(self, q):
        a = self.app
        if "error" in q:
            raise LoginError("the provider answered %s: %s" % (q["error"], q.get("error_description", "")))
        with a.lock:
            pending = a.pending.pop(q.get("state", ""), None)
        if pending is None or "code" not in q:
            raise LoginError("unknown or missing state")
        nonce, verifier, _ = pending
        tokens = a.oidc.exchange(q["code"], verifier)
        claims = a.oidc.verify_id_token(tokens["id_token"], nonce)
        identity = {"sub": claims["sub"], "sid": claims.get("sid", ""), "iss": claims["iss"],
                    "name": claims.get("name") or claims["sub"], "id_token": tokens["id_token"]}
        value = a.new_session(identity)
        bind = ["iss=" + quote(claims["iss"])]
        if claims.get("sid"):
            bind.append("sid=" + quote(claims["sid"]))
        bind.append("sub=" + quote(claims["sub"]))
        self._redirect(a.public_url, headers=[("Set-Cookie", a.set_cookie(value)),
                                              (BIND_HEADER, ", ".join(bind))])


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--mode", choices=("oidc", "companion"), default="oidc")
    p.add_argument("--issuer", help="the OP's issuer (oidc mode)")
    p.add_argument("--client-id")
    p.add_argument("--client-secret", default="")
    p.add_argument("--alg", default="RS256", help="the client's id_token_signed_response_alg")
    p.add_argument("--decryption-key", help="PEM private key for encrypted ID tokens")
    p.add_argument("--public-url", required=True, help="this app's URL through httpd, ending in /")
    p.add_argument("--cookie", default="DEMOSESSION")
    p.add_argument("--title", default="Demo app")
    p.add_argument("--status-url", default="", help="link to the module's status page")
    p.add_argument("--logout-url", default="", help="companion mode: the sign-out link")
    p.add_argument("--companion-header", default="OIDC_CLAIM_sub")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)
    if args.mode == "oidc" and not (args.issuer and args.client_id):
        p.error("--issuer and --client-id are required in oidc mode")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    Handler.app = App(args)
    srv = Server(("127.0.0.1", args.port), Handler)
    sys.stdout.write("PORT %d\n" % srv.server_address[1])
    sys.stdout.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
