"""A small proxied web app for the guard's integration tests.

Run as a process:  python3 guard_app.py [PORT]   (0 or nothing: a free port)
It prints "PORT <n>" on stdout once it listens on 127.0.0.1:<n>.

Endpoints (the query string is ignored unless said otherwise):
  GET /login?iss=..&sid=..&sub=..  200 (or ?status=302 with Location: /whoami,
                                   ?status=204 without a body); Set-Cookie APPSESSION=<random>; Path=/
                                   and the binding header
                                   BCL-Session: iss="..", sid="..", sub=".."
                                   (only the parameters given; iss defaults to
                                   the `iss` of the test OP); &name=N sets
                                   cookie N instead, &value=V sets value V
                                   as written (test_guard_cookies.py)
  GET /login-nohdr                 200; a new APPSESSION cookie, no binding header
  GET /bind?iss=..&sid=..&sub=..   200; the binding header, no Set-Cookie
  GET /badheader?kind=K            200; a new APPSESSION cookie with a malformed
                                   binding header (K picks the malformation)
  GET /rotate                      200; a new APPSESSION value, no binding header
  GET /logout-local?how=H          200; expires APPSESSION (H: max-age (default),
                                   expires, empty)
  GET /whoami (anything else)      200; JSON {"path", "cookie"}: what it received
  GET /_seen?tag=T                 JSON list of every request received so far
                                   whose path contains T (all when no tag)
  GET /_reset                      forgets the recorded requests

Every response is JSON: {"path": ..., "cookie": <Cookie header or null>, ...}.
Every request except /_seen and /_reset is recorded (path + Cookie header).
"""
import json
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DEFAULT_ISS = "https://op.example.test/realms/main"
COOKIE = "APPSESSION"
BIND_HEADER = "BCL-Session"

# kind -> a malformed BCL-Session value
BAD_HEADERS = {
    "nocomma": 'iss="%s" sid="s-bad"' % DEFAULT_ISS,
    "unterminated": 'iss="%s", sid="s-bad' % DEFAULT_ISS,
    "noiss": 'sid="s-bad", sub="u-bad"',
    "noid": 'iss="%s"' % DEFAULT_ISS,
    "empty": 'iss="%s", sid=""' % DEFAULT_ISS,
    "twice": 'iss="%s", sid="a", sid="b"' % DEFAULT_ISS,
    "garbage": "!!!",
}

_lock = threading.Lock()
_seen = []


def quote(v):
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GuardApp/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _send(self, body, cookies=(), headers=(), status=200):
        data = b"" if status in (204, 304) else json.dumps(body).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
        elif status != 204:
            self.send_header("Content-Length", "0")
        if status in (301, 302, 303, 307):
            self.send_header("Location", "/whoami")
        for c in cookies:
            self.send_header("Set-Cookie", c)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        path = url.path
        cookie = self.headers.get("Cookie")
        if path == "/_seen":
            tag = q.get("tag")
            with _lock:
                rows = [s for s in _seen if tag is None or tag in s["path"]]
            return self._send(rows)
        if path == "/_reset":
            with _lock:
                del _seen[:]
            return self._send({"reset": True})
        with _lock:
            _seen.append({"path": self.path, "cookie": cookie})
        body = {"path": self.path, "cookie": cookie}
        cookies, headers = [], []
        if path in ("/login", "/login-nohdr", "/badheader", "/rotate"):
            value = q.get("value") if path == "/login" and "value" in q else secrets.token_urlsafe(24)
            name = q.get("name", COOKIE) if path == "/login" else COOKIE
            body["new_session"] = value
            cookies.append("%s=%s; Path=/; HttpOnly" % (name, value))
        if path in ("/login", "/bind"):
            parts = ["iss=" + quote(q.get("iss", DEFAULT_ISS))]
            for name in ("sid", "sub"):
                if name in q:
                    parts.append("%s=%s" % (name, quote(q[name])))
            headers.append((BIND_HEADER, ", ".join(parts)))
        elif path == "/badheader":
            headers.append((BIND_HEADER, BAD_HEADERS[q.get("kind", "nocomma")]))
        elif path == "/logout-local":
            how = q.get("how", "max-age")
            if how == "max-age":
                cookies.append("%s=gone; Max-Age=0; Path=/" % COOKIE)
            elif how == "expires":
                cookies.append("%s=gone; Expires=Thu, 01 Jan 1998 00:00:00 GMT; Path=/" % COOKIE)
            else:
                cookies.append("%s=; Path=/" % COOKIE)
        self._send(body, cookies, headers, status=int(q.get("status", "200")))


class Server(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True


def serve(port=0):
    srv = Server(("127.0.0.1", port), Handler)
    return srv


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    srv = serve(port)
    sys.stdout.write("PORT %d\n" % srv.server_address[1])
    sys.stdout.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
