"""A Flask (Werkzeug) app with a server-side session store keyed by the value
of its own cookie `flask_sid`, read from `request.cookies` (Werkzeug's
cookie parser decides what reaches the store). Proxied by httpd in
test_guard_apps.py.

  python3 flask_app.py     prints "PORT <n>" once it listens on 127.0.0.1:<n>
  GET /login?user=U&sid=S&iss=I  starts a session for U; binding header
  GET /whoami                    {"backend","user"}: the session's user or "anonymous"
"""
import secrets
import sys
import threading

from flask import Flask, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

COOKIE = "flask_sid"
app = Flask(__name__)
_store = {}
_lock = threading.Lock()


def quote(v):
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


@app.route("/login")
def login():
    user = request.args["user"]
    value = secrets.token_urlsafe(24)
    with _lock:
        _store[value] = user
    resp = jsonify(backend="flask", user=user)
    resp.set_cookie(COOKIE, value, path="/", httponly=True)
    resp.headers["BCL-Session"] = "iss=%s, sid=%s, sub=%s" % (
        quote(request.args["iss"]), quote(request.args["sid"]), quote(user))
    return resp


@app.route("/whoami")
def whoami():
    with _lock:
        user = _store.get(request.cookies.get(COOKIE, ""))
    return jsonify(backend="flask", user=user or "anonymous")


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def main():
    srv = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    sys.stdout.write("PORT %d\n" % srv.port)
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
