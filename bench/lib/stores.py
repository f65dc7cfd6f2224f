"""Store backends for the guard benchmark: the `BCLStore` line, and for the
network stores a private memcached or redis-server on a free loopback port,
with a count of the commands it served (to show round trips per request).

A store is named by its kind: shm, memcache or redis. Adding a row for
another backend means adding one entry to KINDS.
"""
import os
import pwd
import socket
import subprocess
import time

import harness
from procstat import task_cpu_ns


def _wait_port(port, proc, what, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %d at start" % (what, proc.returncode))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on port %d" % (what, port))


def _ask(port, command, until):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(command)
        data = b""
        while not data.endswith(until):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.decode(errors="replace")


class ShmStore:
    kind = "shm"
    sample_overhead = 0
    server = None

    def line(self, capacity):
        return "BCLStore shm capacity=%d" % capacity

    def start(self):
        pass

    def stop(self):
        pass

    def commands(self):
        return None

    def cpu_s(self):
        return None

    def version(self):
        return None


class _NetStore:
    kind = None
    sample_overhead = 0
    proc = None
    port = None

    def start(self):
        self.port = harness.free_port()
        self.proc = subprocess.Popen(self.argv(), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        _wait_port(self.port, self.proc, self.kind)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def cpu_s(self):
        return task_cpu_ns(self.proc.pid) / 1e9 if self.proc else None


class MemcacheStore(_NetStore):
    kind = "memcache"

    def line(self, capacity):
        return "BCLStore memcache 127.0.0.1:%d" % (self.port or 11211)

    def argv(self):
        argv = ["memcached", "-l", "127.0.0.1", "-p", str(self.port), "-U", "0",
                "-m", "4096", "-c", "4096", "-t", "2"]
        if os.geteuid() == 0:
            for user in ("memcache", "nobody"):
                try:
                    pwd.getpwnam(user)
                    argv += ["-u", user]
                    break
                except KeyError:
                    pass
        return argv

    def commands(self):
        stats = {}
        for line in _ask(self.port, b"stats\r\n", b"END\r\n").splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "STAT":
                stats[parts[1]] = parts[2]
        names = ("cmd_get", "cmd_set", "cmd_touch", "delete_hits", "delete_misses",
                 "incr_hits", "incr_misses", "decr_hits", "decr_misses", "cas_hits",
                 "cas_misses", "cas_badval")
        return sum(int(stats.get(n, 0)) for n in names)

    def version(self):
        p = subprocess.run(["memcached", "-V"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return p.stdout.decode(errors="replace").strip()


class RedisStore(_NetStore):
    kind = "redis"

    def line(self, capacity):
        return "BCLStore redis 127.0.0.1:%d" % (self.port or 6379)

    def argv(self):
        return ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--protected-mode", "no"]

    # each sample sends INFO and PING: the next sample counts both
    sample_overhead = 2

    def commands(self):
        text = _ask(self.port, b"INFO stats\r\nPING\r\n", b"+PONG\r\n")
        for line in text.splitlines():
            if line.startswith("total_commands_processed:"):
                return int(line.split(":", 1)[1])
        return None

    def version(self):
        p = subprocess.run(["redis-server", "--version"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        return p.stdout.decode(errors="replace").strip()


KINDS = {"shm": ShmStore, "memcache": MemcacheStore, "redis": RedisStore}
