# SPDX-License-Identifier: BSD-3-Clause
"""Running sipkeep for the tests: to completion in replay mode (run_sipkeep), or
in live mode in the background (Daemon), optionally with a config, a control
socket and a file prefix of its own (Daemon.with_socket), and talking to that
socket (request, ctl, LineReader)."""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from sktest import checks
from sktest.checks import Failure, check, fail

NULL_VDEVS = ["net_null0", "net_null1"]


def common_args(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--sipkeep", required=True, help="path of the sipkeep binary")
    ap.add_argument("--traces", help="folder of shared captures")
    ap.add_argument("--case", default="all", help="which part of the test to run")
    return ap.parse_args()


def daemon_env():
    """The daemon's environment: ours, sanitizer options included. The daemon
    frees what it allocates (DPDK's memory included, via rte_eal_cleanup), so
    LeakSanitizer stays on; should a DPDK-internal allocation ever show up as
    a leak, set SKTEST_DAEMON_NO_LEAK_CHECK=1 to add detect_leaks=0 for it."""
    env = dict(os.environ)
    if env.get("SKTEST_DAEMON_NO_LEAK_CHECK") == "1":
        asan = env.get("ASAN_OPTIONS", "")
        env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "detect_leaks=0"
    return env


def run_sipkeep(binary, args, timeout=120):
    """Run sipkeep to completion; return (rc, combined output)."""
    p = subprocess.Popen([binary] + list(args), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=daemon_env())
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    # Replay mode's EAL leaves an empty runtime folder named after the pid: tidy it.
    for base in ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"),
                                               "dpdk")):
        try:
            os.rmdir(os.path.join(base, f"sipkeep-replay-{p.pid}"))
        except OSError:
            pass
    return p.returncode, out.decode("utf-8", "replace")


def load_json(path):
    with open(path) as f:
        return json.load(f)


SANITIZER_MARKS = ("runtime error:", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "SUMMARY: ")


def tail(text, n=15):
    """The last N lines of a daemon's output, after any sanitizer report's first lines
    (a stack trace would otherwise push the message itself out of view)."""
    lines = text.rstrip("\n").split("\n")
    head = []
    for i, line in enumerate(lines):
        if any(m in line for m in SANITIZER_MARKS) and len(head) < 12:
            head += lines[i:i + 4]
    shown = (head + ["..."] if head else []) + lines[-n:]
    return "\n".join("    | " + l for l in shown)


class Daemon:
    """sipkeep in live mode in the background, its output collected line by line.

    Daemon(binary, args) runs BINARY ARGS; Daemon.with_socket() makes the
    arguments itself: its own temp dir, config, control socket and file prefix,
    vdevs (net_null by default), and the final counters in --stats-json."""

    def __init__(self, binary, args=(), env=None):
        self.binary = binary
        self.args = list(args)
        self.env = daemon_env()
        self.env.update(env or {})
        self.lines = []
        self.lock = threading.Lock()
        self.proc = None
        self.reader = None
        self.tmp = self.sock = self.prefix = None

    @classmethod
    def with_socket(cls, sipkeep, sipkeepctl, name, vdevs=None, sock_rel="s.sock",
                    cfg_extra="", env=None, sock_path=None):
        d = cls(sipkeep, env=env)
        d.sipkeepctl = sipkeepctl
        d.tmp = tempfile.mkdtemp(prefix="skctl-%s-" % name)
        d.sock = sock_path or os.path.join(d.tmp, sock_rel)
        d.prefix = "skctl-%s-%d" % (name, os.getpid())
        d.cfg = os.path.join(d.tmp, "sipkeep.conf")
        d.stats_json = os.path.join(d.tmp, "final-stats.json")
        d.vdevs = vdevs if vdevs is not None else NULL_VDEVS
        with open(d.cfg, "w") as f:
            f.write("# written by %s\ncontrol_socket = %s\n%s" % (name, d.sock, cfg_extra))
        return d

    def argv(self):
        if self.sock is None:
            return [self.binary] + self.args
        a = [self.binary, "--no-huge", "-m", "512", "--no-pci", "-l", "0-1",
             "--file-prefix", self.prefix]
        for v in self.vdevs:
            a += ["--vdev", v]
        return a + ["--", "--config", self.cfg, "--stats-json", self.stats_json]

    def start(self, wait=True):
        """Start it; with a control socket and WAIT, return once it answers there."""
        self.proc = subprocess.Popen(self.argv(), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=self.env)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if wait and self.sock is not None:
            self.wait_ready()
        return self

    def _read(self):
        for raw in self.proc.stdout:
            with self.lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def output(self):
        if self.proc is not None and self.proc.poll() is not None:
            self.reader.join(timeout=5)  # all of it once it has exited
        with self.lock:
            return "\n".join(self.lines)

    def port_stats(self):
        """The last 'port access/core: rx=.. tx=.. tx_dropped=..' lines of the log."""
        res = {}
        with self.lock:
            lines = list(self.lines)
        for line in lines:
            for side in ("access", "core"):
                tag = f"port {side}:"
                if tag in line:
                    kv = dict(x.split("=", 1) for x in line.split(tag, 1)[1].split() if "=" in x)
                    try:
                        res[side] = {k: int(v) for k, v in kv.items()}
                    except ValueError:
                        pass
        return res

    def wait_until(self, pred, timeout, nolog_after=15):
        """Poll pred(port_stats) until true or timeout. False if the daemon died
        first, or if it printed no counter line within NOLOG_AFTER seconds."""
        start = time.monotonic()
        while time.monotonic() < start + timeout:
            if self.proc.poll() is not None:
                return False
            stats = self.port_stats()
            if pred(stats):
                return True
            if not stats and time.monotonic() > start + nolog_after:
                return False
            time.sleep(0.1)
        return False

    def wait(self, timeout):
        """Wait for it to exit; returns the exit code (TimeoutExpired if it does not)."""
        rc = self.proc.wait(timeout)
        self.reader.join(timeout=5)
        return rc

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Send SIG and wait; returns the exit code (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self.reader.join(timeout=5)
        return rc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop_clean(self, timeout=60):
        """SIGTERM, check a clean exit; returns the final counters (--stats-json)."""
        check(self.alive(), "sipkeep alive until the end of the test", self.output())
        rc = self.stop(timeout=timeout)
        check(rc is not None, "sipkeep stops within %d s of SIGTERM" % timeout)
        check(rc == 0, "sipkeep exits 0 (got %s)" % rc, self.output())
        check(not os.path.exists(self.sock), "control socket %s removed" % self.sock)
        return load_json(self.stats_json)

    def cleanup(self):
        if self.alive():
            self.proc.kill()
            self.wait(60)
        if self.prefix is not None:
            cleanup_runtime_dir(self.prefix)
        if self.tmp is None:
            return
        if os.environ.get("SKCTL_KEEP_TMP"):
            with open(os.path.join(self.tmp, "daemon.log"), "w") as f:
                f.write(self.output())
            print("kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- the control socket (Daemon.with_socket)

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail("sipkeep exited with %d before answering" % self.proc.returncode,
                     self.output())
            if os.path.exists(self.sock):
                try:
                    r = self.request("help", timeout=2)
                    if r.get("ok"):
                        return
                except OSError:
                    pass
            time.sleep(0.1)
        fail("sipkeep did not answer on %s within %d s" % (self.sock, timeout), self.output())

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


def dpdk_runtime_dir(prefix):
    """Where the EAL puts its runtime files (same rule as EAL and dpdk-telemetry.py)."""
    run = os.environ.get("RUNTIME_DIRECTORY")
    if not run:
        run = "/var/run" if os.getuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp")
    return os.path.join(run, "dpdk", prefix)


def cleanup_runtime_dir(prefix):
    """Remove DPDK's runtime folder for a --file-prefix this test made."""
    for base in ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"),
                                               "dpdk")):
        shutil.rmtree(os.path.join(base, prefix), ignore_errors=True)
    shutil.rmtree(dpdk_runtime_dir(prefix), ignore_errors=True)


def file_prefix(tag):
    return f"sktest-{tag}-{os.getpid()}"
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
    """Run FN(sipkeep, sipkeepctl) with the two binaries from argv. The control socket
    tests word their checks as what went wrong: only failures are printed."""
    if len(sys.argv) != 3:
        print("usage: %s SIPKEEP SIPKEEPCTL" % sys.argv[0], file=sys.stderr)
        raise SystemExit(2)
    checks.print_ok = False
    try:
        fn(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]))
    except Failure:
        raise SystemExit(1)
    print("PASS")
