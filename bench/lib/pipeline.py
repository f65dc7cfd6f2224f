"""Filling the store fast: pipelined HTTP/1.1 requests over a few keep-alive
connections.

wrk runs for a duration, not for a number of requests, and its main thread
sleeps for the whole duration even when every Lua thread has stopped; a
fill needs an exact count. Python writes batches of pipelined requests
(httpd answers them in order on each connection) and counts the answers by
status, so a fill of N makes exactly N requests and reports any that were
not answered 200.
"""
import re
import socket
import threading
import time
from collections import Counter

_CLEN = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.I)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:[ \t]*chunked", re.I)


class PipelineError(RuntimeError):
    pass


def _read_answers(sock, buf, want, statuses):
    """Reads `want` responses from `sock` (buffer `buf` carries leftovers)."""
    got = 0
    pos = 0
    while got < want:
        end_head = buf.find(b"\r\n\r\n", pos)
        if end_head >= 0:
            head = bytes(buf[pos:end_head])
            if _CHUNKED.search(head):
                end = buf.find(b"\r\n0\r\n\r\n", end_head + 4)
                end = -1 if end < 0 else end + 7
            else:
                m = _CLEN.search(head)
                length = int(m.group(1)) if m else 0
                end = end_head + 4 + length
                if end > len(buf):
                    end = -1
            if end >= 0:
                statuses[int(head[9:12])] += 1
                pos = end
                got += 1
                continue
        del buf[:pos]
        pos = 0
        data = sock.recv(1 << 18)
        if not data:
            raise PipelineError("connection closed by httpd after %d of %d answers" % (got, want))
        buf += data
    del buf[:pos]


def _worker(port, make_request, indexes, batch, statuses, errors):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            buf = bytearray()
            for start in range(0, len(indexes), batch):
                chunk = indexes[start:start + batch]
                sock.sendall(b"".join(make_request(i) for i in chunk))
                _read_answers(sock, buf, len(chunk), statuses)
    except (OSError, PipelineError) as e:
        errors.append(str(e))


def run(port, make_request, count, connections=4, batch=200):
    """Sends make_request(i) for i in range(count) over `connections`
    pipelined connections. Returns (Counter of statuses, seconds)."""
    results = [Counter() for _ in range(connections)]
    errors = []
    threads = []
    t0 = time.monotonic()
    for c in range(connections):
        idx = range(c, count, connections)
        t = threading.Thread(target=_worker,
                             args=(port, make_request, idx, batch, results[c], errors))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    total = Counter()
    for r in results:
        total.update(r)
    if errors:
        raise PipelineError("; ".join(errors[:3]))
    return total, elapsed


def get_request(path, cookie=None):
    hdr = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % path
    if cookie:
        hdr += "Cookie: %s\r\n" % cookie
    return (hdr + "\r\n").encode()


def post_form(path, body):
    if isinstance(body, str):
        body = body.encode()
    return (b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n" % (path.encode(), len(body))) + body
