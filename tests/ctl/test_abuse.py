# SPDX-License-Identifier: BSD-3-Clause
"""Bad clients while traffic flows: over-long lines, binary garbage with NUL bytes, clients
that never send, vanish mid-reply, never read, or come in crowds. The daemon must keep
answering everyone else, and its frame counters must stay consistent."""

import random
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from sktest.checks import check
from sktest.daemon import Daemon, LineReader, check_error, check_frames, main

IDLE_MS = 1500
MAX_CLIENTS = 64


class Prober(threading.Thread):
    """A well-behaved client asking `show stats` in a loop; records the slowest answer."""

    def __init__(self, d):
        super().__init__(daemon=True)
        self.d = d
        self.stop = threading.Event()
        self.worst = 0.0
        self.count = 0
        self.error = None

    def run(self):
        try:
            while not self.stop.is_set():
                t = time.time()
                r = self.d.request("show stats", timeout=10)
                self.worst = max(self.worst, time.time() - t)
                if not r.get("ok"):
                    raise RuntimeError("bad reply %r" % r)
                self.count += 1
                time.sleep(0.01)
        except Exception as e:  # reported by finish()
            self.error = e

    def finish(self):
        self.stop.set()
        self.join(20)
        check(self.error is None, "well-behaved client failed: %r" % self.error)
        check(self.count > 0, "well-behaved client got no answer")
        # Generous: CI machines are shared. Blocking would mean many seconds (idle timeout).
        check(self.worst < 5.0, "a well-behaved client waited %.2f s" % self.worst)


def expect_closed(s):
    """After an error reply the daemon closes: we read EOF (or a reset) soon."""
    rd = LineReader(s)
    replies, rest = rd.read_to_end(timeout=5)
    s.close()
    return replies, rest


def test_long_lines(d):
    # 4095 bytes + newline is the longest line: answered, connection stays.
    s = d.connect()
    rd = LineReader(s)
    s.sendall(b"x" * 4095 + b"\n")
    check_error(rd.reply(), "unknown command", "...")
    s.sendall(b"help\n")
    check(rd.reply().get("ok"), "connection usable after a 4095-byte line")
    # One more byte: error, then the daemon closes.
    s.sendall(b"y" * 4096 + b"\n")
    replies, rest = expect_closed(s)
    check(len(replies) == 1, "long line: replies %r" % replies)
    check_error(replies[0], "longer than 4095 bytes")
    # Much longer, and still sending after the error: the daemon must not wait for us.
    s = d.connect()
    try:
        s.sendall(b"show stats " * 20000)
    except (BrokenPipeError, ConnectionResetError):
        pass
    replies, rest = expect_closed(s)
    check(len(replies) == 1, "very long line: replies %r" % replies)
    check_error(replies[0], "longer than")


def test_garbage(d):
    rnd = random.Random(6)
    # NUL bytes and control bytes inside a line: named in the error, connection stays.
    s = d.connect()
    rd = LineReader(s)
    s.sendall(b"show\x00stats\n")
    check_error(rd.reply(), "NUL byte", "offset 4")
    s.sendall(b"\x00\x00\x00\n")
    check_error(rd.reply(), "NUL byte", "offset 0")
    s.sendall(b"show \x1b[31mstats\n")
    check_error(rd.reply(), "control byte 0x1b")
    s.sendall(b"\xff\xfe\xc3\x28 stats\n")
    check_error(rd.reply(), "unknown command")
    # Random binary lines (any byte but newline): each gets one error reply, valid JSON.
    n = 0
    for _ in range(200):
        line = bytes(rnd.choice([b for b in range(256) if b != 10])
                     for _ in range(rnd.randint(1, 300)))
        if not line.strip(b" \t\r"):
            continue
        s.sendall(line + b"\n")
        r = rd.reply()
        check("error" in r, "garbage %r got %r" % (line[:40], r))
        n += 1
    check(n > 100, "not enough garbage lines")
    s.sendall(b"show config\n")
    check(rd.reply().get("ok"), "connection usable after garbage")
    s.close()
    # Binary garbage with no newline at all: it fills the line buffer, then error and close.
    s = d.connect()
    blob = bytes(rnd.randrange(256) for _ in range(9000)).replace(b"\n", b"\x00")
    try:
        s.sendall(blob)
    except (BrokenPipeError, ConnectionResetError):
        pass
    replies, rest = expect_closed(s)
    check(len(replies) >= 1, "binary blob: no reply")
    check_error(replies[-1], "longer than")


def test_idle(d):
    # Clients that connect and never send are dropped after the idle timeout, with a reason.
    idle = [d.connect(timeout=IDLE_MS / 1000 + 5) for _ in range(5)]
    t0 = time.time()
    check(d.request("help").get("ok"), "daemon answers while idle clients hang around")
    for s in idle:
        replies, rest = expect_closed(s)
        check(len(replies) == 1 and rest == b"", "idle client: %r %r" % (replies, rest))
        check_error(replies[0], "idle")
    waited = time.time() - t0
    check(IDLE_MS / 1000 * 0.8 <= waited <= IDLE_MS / 1000 + 5,
          "idle clients dropped after %.2f s (timeout %d ms)" % (waited, IDLE_MS))


def test_vanishing(d):
    # Ask and hang up at once, many times, several ways.
    for i in range(100):
        s = d.connect()
        s.sendall(b"show stats\n" if i % 2 else b"show stats\nshow ports\nshow workers\n")
        if i % 3 == 0:
            # RST instead of FIN: SO_LINGER 0.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    # Pipelined requests, read a little, then vanish mid-reply.
    for _ in range(10):
        s = d.connect()
        s.sendall(b"show stats\n" * 500)
        s.recv(100)
        s.close()
    check(d.request("show workers").get("ok"), "daemon answers after vanishing clients")


def test_non_reader(d):
    # A client that asks and asks and never reads: it must not hold anyone else up.
    s = d.connect()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setblocking(False)
    sent = 0
    deadline = time.time() + 3
    while time.time() < deadline:
        try:
            sent += s.send(b"show stats\n" * 100)
        except BlockingIOError:
            time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            break  # dropped already: fine
    check(sent > 0, "nothing sent")
    t = time.time()
    check(d.request("show config").get("ok"), "daemon answers while a client does not read")
    check(time.time() - t < 3, "answer delayed by the non-reading client")
    # Dropped once idle (its replies stay unread): it gets what fitted, then EOF or reset.
    time.sleep(IDLE_MS / 1000 + 1.5)
    s.setblocking(True)
    rd = LineReader(s)
    replies, rest = rd.read_to_end(timeout=10)
    check(len(replies) > 0, "the non-reader got no reply at all")
    check(all("ok" in r or "error" in r for r in replies), "replies are documents")
    s.close()


def test_crowd(d):
    # More clients than slots: the first 64 are served, the rest get an error and are closed.
    time.sleep(0.5)  # earlier clients' closes are seen first
    socks = []
    for _ in range(MAX_CLIENTS + 36):
        socks.append(d.connect(timeout=10))
    time.sleep(0.3)
    ok = busy = 0
    for s in socks:
        try:
            s.sendall(b"show workers\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        rd = LineReader(s)
        try:
            r = rd.reply()
        except ConnectionResetError:
            r = {}
        if r.get("ok"):
            ok += 1
        else:
            check_error(r, "too many control clients", str(MAX_CLIENTS))
            busy += 1
    check(ok == MAX_CLIENTS and busy == 36, "crowd: %d served, %d refused" % (ok, busy))
    for s in socks:
        s.close()
    # Slots come back once they close.
    time.sleep(0.5)
    again = [d.connect() for _ in range(MAX_CLIENTS)]
    for s in again:
        s.sendall(b"help\n")
    for s in again:
        check(LineReader(s).reply().get("ok"), "slot not freed")
        s.close()


def run(sipkeep, sipkeepctl):
    d = Daemon.with_socket(sipkeep, sipkeepctl, "abuse", env={"SIPKEEP_CONTROL_IDLE_MS": str(IDLE_MS)})
    try:
        d.start()
        rx0 = d.request("show stats")["ports"]["access"]["rx"]
        prober = Prober(d)
        prober.start()
        test_long_lines(d)
        test_garbage(d)
        test_vanishing(d)
        test_idle(d)
        test_non_reader(d)
        prober.finish()
        # The crowd needs every slot: no prober now (traffic still flows).
        test_crowd(d)
        # Still answering, through sipkeepctl too, and traffic still flows.
        st = d.ctl_json("show", "stats")
        check(st["ports"]["access"]["rx"] > rx0, "traffic stopped during the test")
        check(d.ctl("show", "ports").returncode == 0, "sipkeepctl show ports after abuse")
        final = d.stop_clean()
        check_frames(final)
    finally:
        d.cleanup()


if __name__ == "__main__":
    main(run)
