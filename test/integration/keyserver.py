"""A real key server for the key-fetching tests: Python's threaded
http.server on 127.0.0.1, over HTTP or HTTPS (certificates from a test CA
made with pyca/cryptography).

It serves any number of documents by path, counts the requests per path,
and can change a document (key rotation), delay its answers (a slow OP),
stop listening and come back on the same port (an OP that is down), or
serve oversized and malformed documents.

    ca = TestCA(dirpath)                      # CA + server certificate for 127.0.0.1
    ks = KeyServer(tls=ca).start()
    ks.set_json("/jwks", {"keys": [...]}, headers={"Cache-Control": "max-age=60"})
    ks.url("/jwks") -> "https://127.0.0.1:PORT/jwks"
    ks.count("/jwks") -> how many GETs it answered or began answering
    ks.stop(); ks.start()                     # down, then up again on the same port
"""
import datetime
import http.server
import ipaddress
import json
import os
import socket
import ssl
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import harness


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o644)   # httpd's child user reads the CA file
    return path


class TestCA:
    __test__ = False  # not a pytest test class
    """A CA and one server certificate for 127.0.0.1 / localhost, written as
    PEM files under `dirpath`: ca_file (what BCLCAFile names), cert_file,
    key_file."""

    def __init__(self, dirpath, name="bcl-test-ca"):
        now = datetime.datetime.now(datetime.timezone.utc)
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca_cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name)).issuer_name(_name(name))
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(self.ca_key, hashes.SHA256()))
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name("127.0.0.1")).issuer_name(self.ca_cert.subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.ca_key, hashes.SHA256()))
        pem = serialization.Encoding.PEM
        self.ca_file = _write(os.path.join(dirpath, name + ".pem"), self.ca_cert.public_bytes(pem))
        self.cert_file = _write(os.path.join(dirpath, name + "-server.pem"), self.cert.public_bytes(pem))
        self.key_file = _write(os.path.join(dirpath, name + "-server.key"), self.key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


class _Doc:
    def __init__(self, body, status=200, headers=None, content_length=True):
        self.body = body
        self.status = status
        self.headers = dict(headers or {})
        self.content_length = content_length


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"   # one request per connection; a body without length ends at close

    def log_message(self, fmt, *args):  # quiet
        pass

    def do_GET(self):
        ks = self.server.keyserver
        path = self.path.split("?", 1)[0]
        with ks.lock:
            ks.counts[path] = ks.counts.get(path, 0) + 1
            ks.log.append((time.time(), path))
            doc = ks.docs.get(path)
            delay = ks.delay
        if delay:
            time.sleep(delay)
        if doc is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        try:
            self.send_response(doc.status)
            for k, v in doc.headers.items():
                self.send_header(k, v)
            if doc.content_length:
                self.send_header("Content-Length", str(len(doc.body)))
            self.end_headers()
            self.wfile.write(doc.body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass   # the client gave up (size cap, timeout): expected in some tests


class _Server(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True


class KeyServer:
    def __init__(self, tls=None, port=None):
        self.tls = tls
        self.port = port or harness.free_port()
        self.lock = threading.Lock()
        self.docs = {}
        self.counts = {}
        self.log = []
        self.delay = 0
        self.httpd = None
        self.thread = None

    # -- content -----------------------------------------------------------
    def set_doc(self, path, body, status=200, headers=None, content_type="application/json",
                content_length=True):
        if isinstance(body, str):
            body = body.encode()
        hdrs = {"Content-Type": content_type} if content_type else {}
        hdrs.update(headers or {})
        with self.lock:
            self.docs[path] = _Doc(body, status, hdrs, content_length)

    def set_json(self, path, obj, **kw):
        self.set_doc(path, json.dumps(obj), **kw)

    def remove(self, path):
        with self.lock:
            self.docs.pop(path, None)

    def set_delay(self, seconds):
        with self.lock:
            self.delay = seconds

    def count(self, path):
        with self.lock:
            return self.counts.get(path, 0)

    def wait_count(self, path, at_least, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.count(path) >= at_least:
                return self.count(path)
            time.sleep(0.05)
        raise AssertionError("the key server saw %d GET %s, expected at least %d"
                             % (self.count(path), path, at_least))

    # -- URLs ----------------------------------------------------------------
    @property
    def base(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    def url(self, path):
        return self.base + path

    # -- process ---------------------------------------------------------------
    def start(self):
        assert self.httpd is None, "already running"
        self.httpd = _Server(("127.0.0.1", self.port), _Handler)
        self.httpd.keyserver = self
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.tls.cert_file, self.tls.key_file)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        """Stops listening: connections to the port are refused until start()."""
        if self.httpd is None:
            return
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
        self.httpd = None
        self.thread = None

    @property
    def running(self):
        return self.httpd is not None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def refused(port):
    """True when nothing listens on 127.0.0.1:port."""
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0
