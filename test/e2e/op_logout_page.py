"""An OP's front-channel logout page, served by the test.

node-oidc-provider 9 (the stack's OP) has no front-channel logout any more,
and its 7.x line, which had it as a draft feature, supports Node.js up to
18 only and would be a second OP with its own dependency tree. So the test
serves the one page of an OP that front-channel logout is about: the page
the OP shows once the user has signed out, which loads every relying
party's `frontchannel_logout_uri` in a hidden iframe (OpenID Connect
Front-Channel Logout 1.0, section 3; Entra ID's sign-out page does the
same) and, when every iframe has loaded, sends the browser on to the
`post_logout_redirect_uri`.

    page = LogoutPage(issuer, {"app": "http://127.0.0.1:8080/oidc/frontchannel-logout/app"})
    page.start()
    page.url("localhost")    # http://localhost:PORT/session/end: another site than 127.0.0.1
    page.url("127.0.0.1")    # http://127.0.0.1:PORT/session/end: the same site, another origin
    page.stop()

GET /session/end?client_id=ID[&sid=SID][&post_logout_redirect_uri=URL]
renders the page. With `sid` the iframe's URL carries `iss` and `sid` (a
client registered with frontchannel_logout_session_required); without it is
the bare URI (an OP that sends nothing: the relying party can only go by its
cookies). `sid` without `iss`, as Entra ID sends it, is
test/integration/test_frontchannel.py's. The redirect URI must be on the stack (no open redirect).
"""
import html
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Signed out</title>
<script>
var pending = %(count)d;
function frameLoaded() {
  pending -= 1;
  if (pending > 0) return;
  document.getElementById('state').textContent = 'You are signed out of every application.';
  var next = %(next)s;
  if (next) window.location.replace(next);
}
</script></head>
<body><h1>Test OP</h1><p id="state">Signing you out of your applications...</p>
%(frames)s
</body></html>
"""


class LogoutPage:
    def __init__(self, issuer, frontchannel_uris, allowed_redirect_prefix=""):
        self.issuer = issuer
        self.uris = dict(frontchannel_uris)
        self.allowed = allowed_redirect_prefix
        self.requests = []
        self.srv = None

    def start(self):
        page = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def do_GET(self):
                status, body = page.render(self.path)
                page.requests.append((self.headers.get("Host"), self.path, status))
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8" if status == 200
                                 else "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        return self

    @property
    def port(self):
        return self.srv.server_address[1]

    def url(self, host):
        return "http://%s:%d/session/end" % (host, self.port)

    def frame_url(self, client_id, sid=None):
        """The iframe's URL, as an OP builds it from the client's registration."""
        uri = self.uris[client_id]
        if not sid:
            return uri
        return uri + "?" + urllib.parse.urlencode([("iss", self.issuer), ("sid", sid)])

    def render(self, path):
        url = urllib.parse.urlsplit(path)
        if url.path != "/session/end":
            return 404, "not found\n"
        q = dict(urllib.parse.parse_qsl(url.query))
        clients = [c for c in q.get("client_id", "").split(" ") if c]
        if not clients or any(c not in self.uris for c in clients):
            return 400, "unknown client_id\n"
        nxt = q.get("post_logout_redirect_uri", "")
        if nxt and not (self.allowed and nxt.startswith(self.allowed)):
            return 400, "post_logout_redirect_uri not registered\n"
        frames = "\n".join(
            '<iframe src="%s" title="%s" onload="frameLoaded()" style="display:none"></iframe>'
            % (html.escape(self.frame_url(c, q.get("sid"))), html.escape(c))
            for c in clients)
        # the redirect URI as a JavaScript string inside <script>: JSON with < escaped
        nxt_js = json.dumps(nxt).replace("<", "\\u003c") if nxt else "null"
        return 200, PAGE % {"count": len(clients), "next": nxt_js, "frames": frames}

    def stop(self):
        if self.srv is not None:
            self.srv.shutdown()
            self.srv.server_close()
            self.srv = None
