"""Real memcached and redis-server processes for the fleet tests, each on a
free loopback port, owned by the test (started, killed, restarted on the
same port). A missing binary is a test failure, never a skip."""
import os
import shutil
import signal
import socket
import subprocess
import time

import harness


def _require(binary):
    path = shutil.which(binary)
    if path is None:
        raise AssertionError("%s is not installed (apt-get install memcached redis-server, "
                             "or bash tools/install-deps.sh)" % binary)
    return path


def _wait_port(port, proc, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %d at start" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not listen on port %d within %ss" % (port, timeout))


class _Server:
    def __init__(self, port=None):
        self.port = port or harness.free_port()
        self.proc = None
        self.dir = harness.make_tmpdir("bcl-fleet-")

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def command(self):
        raise NotImplementedError

    def start(self):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.dir)
        log.close()
        _wait_port(self.port, self.proc)
        return self

    def kill(self):
        """SIGKILL: the server dies without a word, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self):
        """SIGTERM and wait (redis then writes its append-only file)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def cleanup(self):
        self.kill()
        if not os.environ.get("BCL_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)


class Memcached(_Server):
    def __init__(self, port=None, memory_mb=16):
        super().__init__(port)
        self.memory_mb = memory_mb

    def command(self):
        cmd = [_require("memcached"), "-l", "127.0.0.1", "-p", str(self.port), "-U", "0",
               "-m", str(self.memory_mb), "-c", "256"]
        if os.geteuid() == 0:
            cmd += ["-u", "nobody"]
        return cmd

    def get(self, key):
        """The raw value of `key` (bytes) or None."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"get %s\r\n" % key.encode())
            data = b""
            while not data.endswith(b"END\r\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        if not data.startswith(b"VALUE"):
            return None
        header, rest = data.split(b"\r\n", 1)
        n = int(header.split()[3])
        return rest[:n]

    def keys_with_prefix(self, prefix):
        """Every key under `prefix` (memcached's lru_crawler metadump)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"lru_crawler metadump all\r\n")
            data = b""
            while not data.endswith(b"END\r\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        out = []
        for line in data.decode(errors="replace").splitlines():
            if line.startswith("key="):
                fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
                if fields["key"].startswith(prefix):
                    out.append(fields)
        return out


class Redis(_Server):
    def __init__(self, port=None, password=None, persistent=False):
        super().__init__(port)
        self.password = password
        self.persistent = persistent

    def command(self):
        cmd = [_require("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
               "--dir", self.dir, "--save", ""]
        cmd += ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        if self.password:
            cmd += ["--requirepass", self.password]
        return cmd

    def cli(self, *args, db=0):
        """redis-cli against this server; returns stdout (str)."""
        cmd = [_require("redis-cli"), "-h", "127.0.0.1", "-p", str(self.port), "-n", str(db), "--no-auth-warning"]
        if self.password:
            cmd += ["-a", self.password]
        p = subprocess.run(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
        return p.stdout.decode(errors="replace")
