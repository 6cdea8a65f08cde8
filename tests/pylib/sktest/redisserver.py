# SPDX-License-Identifier: BSD-3-Clause
"""A private redis-server for one test (Debian's): on a unix socket in a temp
dir, no persistence, stopped on exit even when the test fails. Exits 77 when
redis-server is not installed."""

import os
import shutil
import subprocess
import sys
import tempfile
import time

from sktest.checks import SKIP


class RedisServer:
    def __init__(self):
        if not shutil.which("redis-server") or not shutil.which("redis-cli"):
            print("SKIP: redis-server or redis-cli not installed")
            sys.exit(SKIP)
        self.dir = tempfile.mkdtemp(prefix="sk-redis-")
        self.sock = os.path.join(self.dir, "redis.sock")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", self.sock, "--unixsocketperm", "700",
             "--dir", self.dir, "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--logfile", os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(500):
            if os.path.exists(self.sock) and self.cli("PING") == "PONG":
                return self
            time.sleep(0.01)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-s", self.sock] + [str(a) for a in args], capture_output=True,
                           text=True, timeout=10)
        return r.stdout.strip()

    @property
    def url(self):
        return "unix:" + self.sock

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
