# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for the control socket tests: run sipkeep on vdevs, talk to its socket."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

NULL_VDEVS = ["net_null0", "net_null1"]


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    raise SystemExit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def dpdk_runtime_dir(prefix):
    """Where the EAL puts its runtime files (same rule as EAL and dpdk-telemetry.py)."""
    run = os.environ.get("RUNTIME_DIRECTORY")
    if not run:
        run = "/var/run" if os.getuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp")
    return os.path.join(run, "dpdk", prefix)


class Daemon:
    """One sipkeep in live mode, with its own file prefix, config and socket in a temp dir."""

    def __init__(self, sipkeep, sipkeepctl, name, vdevs=None, sock_rel="s.sock",
                 cfg_extra="", env=None, sock_path=None):
        self.sipkeep = sipkeep
        self.sipkeepctl = sipkeepctl
        self.tmp = tempfile.mkdtemp(prefix="skctl-%s-" % name)
        self.sock = sock_path or os.path.join(self.tmp, sock_rel)
        self.prefix = "skctl-%s-%d" % (name, os.getpid())
        self.cfg = os.path.join(self.tmp, "sipkeep.conf")
        self.stats_json = os.path.join(self.tmp, "final-stats.json")
        self.log_path = os.path.join(self.tmp, "daemon.log")
        self.vdevs = vdevs if vdevs is not None else NULL_VDEVS
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.proc = None
        with open(self.cfg, "w") as f:
            f.write("# written by %s\ncontrol_socket = %s\n%s" % (name, self.sock, cfg_extra))

    def argv(self):
        a = [self.sipkeep, "--no-huge", "-m", "512", "--no-pci", "-l", "0-1",
             "--file-prefix", self.prefix]
        for v in self.vdevs:
            a += ["--vdev", v]
        return a + ["--", "--config", self.cfg, "--stats-json", self.stats_json]

    def start(self, wait=True):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.argv(), stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self.env)
        if wait:
            self.wait_ready()
        return self

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail("sipkeep exited with %d before answering; log:\n%s"
                     % (self.proc.returncode, self.log_text()))
            if os.path.exists(self.sock):
                try:
                    r = self.request("help", timeout=2)
                    if r.get("ok"):
                        return
                except OSError:
                    pass
            time.sleep(0.1)
        fail("sipkeep did not answer on %s within %d s; log:\n%s"
             % (self.sock, timeout, self.log_text()))

    def connect(self, timeout=5):
        """A client connection. A full listen backlog gives EAGAIN on a socket with a
        timeout (Python connects non-blocking then): wait and retry, like a blocking
        connect would."""
        deadline = time.time() + timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout)
            try:
                s.connect(self.sock)
                return s
            except BlockingIOError:
                s.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.002)

    def request(self, line, timeout=5):
        """Send one command on a fresh connection, return the parsed reply."""
        s = self.connect(timeout)
        try:
            data = line if isinstance(line, bytes) else line.encode()
            s.sendall(data + b"\n")
            return json.loads(read_line(s))
        finally:
            s.close()

    def ctl(self, *words, json_out=False, sock=None, timeout=30):
        """Run sipkeepctl; returns the CompletedProcess (text)."""
        argv = [self.sipkeepctl, "-s", sock or self.sock]
        if json_out:
            argv.append("--json")
        argv += list(words)
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)

    def ctl_json(self, *words):
        """sipkeepctl --json: the reply, parsed; the command must succeed."""
        r = self.ctl(*words, json_out=True)
        check(r.returncode == 0, "sipkeepctl --json %s: rc %d, stderr %r, stdout %r"
              % (" ".join(words), r.returncode, r.stderr, r.stdout))
        check(r.stdout.endswith("\n") and r.stdout.count("\n") == 1,
              "sipkeepctl --json prints one line: %r" % r.stdout[:200])
        return json.loads(r.stdout)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=60):
        """SIGTERM, wait, check a clean exit; returns the final counters (--stats-json)."""
        check(self.alive(), "sipkeep died during the test; log:\n%s" % self.log_text())
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("sipkeep did not stop within %d s of SIGTERM" % timeout)
        check(rc == 0, "sipkeep exited with %d; log:\n%s" % (rc, self.log_text()))
        check(not os.path.exists(self.sock), "control socket left behind at %s" % self.sock)
        with open(self.stats_json) as f:
            return json.load(f)

    def cleanup(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            self.log.close()
        shutil.rmtree(dpdk_runtime_dir(self.prefix), ignore_errors=True)
        if os.environ.get("SKCTL_KEEP_TMP"):
            print("kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def read_line(s):
    """Read one reply: up to and including its newline (the socket's timeout applies)."""
    buf = b""
    while b"\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            fail("connection closed before a complete reply (got %r)" % buf[:200])
        buf += chunk
    check(buf.endswith(b"\n") and buf.count(b"\n") == 1,
          "one request, one reply line: %r" % buf[:200])
    return buf


class LineReader:
    """Reads newline-terminated replies from one socket, several per connection."""

    def __init__(self, s):
        self.s = s
        self.buf = b""

    def reply(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                fail("connection closed before a complete reply (got %r)" % self.buf[:200])
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def read_to_end(self, timeout=10):
        """Everything until EOF or reset: (complete JSON replies, leftover bytes)."""
        self.s.settimeout(timeout)
        try:
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    break
                self.buf += chunk
        except ConnectionResetError:
            pass
        lines = self.buf.split(b"\n")
        rest = lines.pop()
        return [json.loads(x) for x in lines], rest


def check_error(reply, *words):
    """An error reply whose message names every one of WORDS."""
    check(isinstance(reply, dict) and "error" in reply and "ok" not in reply,
          "expected an error reply, got %r" % reply)
    msg = reply["error"]
    check(isinstance(msg, str) and msg, "error message is empty: %r" % reply)
    for w in words:
        check(w in msg, "error %r does not name %r" % (msg, w))


def check_frames(stats, no_drops=False):
    """Frame conservation: what one side received, the other sent or dropped."""
    ports = stats["ports"]
    for a, b in (("access", "core"), ("core", "access")):
        rx = ports[a]["rx"]
        tx = ports[b]["tx"]
        dropped = ports[b]["tx_dropped"]
        check(rx == tx + dropped, "%s rx %d != %s tx %d + tx_dropped %d"
              % (a, rx, b, tx, dropped))
        if no_drops:
            check(dropped == 0, "%s tx_dropped %d, expected 0" % (b, dropped))
    # Per worker too, and the workers add up to the totals.
    for side in ("access", "core"):
        for c in ("rx", "tx", "tx_dropped"):
            total = sum(w[side][c] for w in stats["workers"])
            check(total == ports[side][c], "workers' %s.%s sum %d != total %d"
                  % (side, c, total, ports[side][c]))


def main(fn):
    """Run FN(sipkeep, sipkeepctl) with the two binaries from argv."""
    if len(sys.argv) != 3:
        print("usage: %s SIPKEEP SIPKEEPCTL" % sys.argv[0], file=sys.stderr)
        raise SystemExit(2)
    fn(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]))
    print("PASS")
