#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Signalling rate of a live sipkeep (issue 15, goal 5): does the control thread
keep up with one worker that parses SIP as fast as it can?

  run_sig_live.py [-n N] [-t SECONDS] [--rounds R] [SHAPE ...]

SHAPE is register, calls or flood (default: all three), the messages of
gen_sig_pcap.py: N REGISTER + 200 pairs; N users registering and placing one
INVITE/200/ACK/BYE/200 call each; N pairs, each behind 10 REGISTERs of random
users that are never answered.

Live: the daemon (control thread on lcore 0, one worker on lcore 1, --no-huge)
with two net_pcap ports that replay their capture over and over from memory
(infinite_rx) and drop what sipkeep sends. Each side's messages go into its own
port in 32-frame slots (the worker reads 32 from access, then 32 from core), 32
transactions abreast, so that every answer is read after its request; filler
frames (non-SIP UDP) fill the slots the order leaves empty. Every pass after
the first repeats the same messages: a REGISTER commits again (a refresh), a
call is set up and torn down again. After a second of warm-up, two readings of
`show stats` SECONDS apart give the rates; the daemon runs on its own, paced
only by the worker.

Reference, in the same invocation: sipkeep --replay of the same messages in the
same order (no filler), repeated like the live ports repeat them (200000
messages at least), median of R runs. Replay applies each event before the
next frame, so it never queues: it is the same worker and control code in one
thread without the ring between them. The RATIO compares SIP events applied
per CPU second: live, the worker's and the control thread's CPU time over the
window together (read from /proc), so that messages parsed for events that were
then dropped count against it; replay, user + system time less a replay of one
message (start-up and shutdown). CPU time, because the machine may be shared.

Printed per shape: the ratio; REGISTER+200 pairs offered per second (passes of
the ports times N) against those committed (registrations_committed); the
worker's rate (frames and SIP messages per second); events applied and dropped
in the window; the event ring's high-water mark against its capacity (the
counter sip_events_ring_high_water); pending REGISTERs refused and evicted.
A repeated call is no new dialog, so the calls shape shows its rate in events.
"""
import argparse
import contextlib
import io
import json
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
sys.path.insert(0, HERE)

import gen_sig_pcap as g  # noqa: E402
from sktest.daemon import Daemon  # noqa: E402

EVENT_RING = 8191  # the event ring's capacity (control/session.c)
SHAPES = ("register", "calls", "flood")
REPLAY_MESSAGES = 200000


def transactions(shape, n, seed=5):
    """The messages of SHAPE, one list of (side, frame) per transaction."""
    rng = random.Random(seed)
    w = g.Collect()
    out = []
    for i in range(n):
        start = len(w.recs)
        if shape == "flood":
            for _ in range(10):
                g.register(w, "10.%d.%d.%d" % (rng.randrange(64, 128), rng.randrange(256), rng.randrange(1, 255)),
                           "x%08x" % rng.getrandbits(32), answer=False)
        g.register(w, g.phone(i), "u%d" % i)
        if shape == "calls":
            g.call(w, i)
        out.append(w.recs[start:])
    return out


def abreast(txs, width=g.BURST):
    """WIDTH transactions at a time, step by step: the first message of each, then
    the second of each, ... (each transaction's own order is kept)."""
    recs = []
    for k in range(0, len(txs), width):
        group = txs[k:k + width]
        for step in range(max(len(t) for t in group)):
            recs += [t[step] for t in group if step < len(t)]
    return recs


def write_pcap(path, recs):
    w = g.Writer(path)
    for _, rec in recs:
        w.f.write(rec)
    w.f.close()


def config(n, frames):
    mbufs = 16383
    while mbufs < frames + 16383:
        mbufs = mbufs * 2 + 1
    return ("access_prefixes = 10.0.0.0/8\nstats_interval_ms = 0\nmax_users = %d\nmax_dialogs = %d\n"
            "max_streams = %d\nmbufs = %d\n" % (n + 1024, n + 1024, 2 * n + 1024, mbufs))


def replay(sipkeep, pcap, cfg, tmp, rounds):
    """Median wall and CPU seconds (user + system) of ROUNDS replays; the last counters."""
    walls, cpus = [], []
    for _ in range(rounds):
        r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
        r = subprocess.run([sipkeep, "--replay", pcap, "--replay-out", os.path.join(tmp, "out.pcap"),
                            "--config", cfg, "--stats-json", os.path.join(tmp, "replay.json")],
                           capture_output=True, text=True)
        t1, r1 = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode != 0:
            sys.exit("run_sig_live: replay failed:\n" + r.stdout[-2000:] + r.stderr[-2000:])
        walls.append(t1 - t0)
        cpus.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
    with open(os.path.join(tmp, "replay.json")) as f:
        stats = json.load(f)["counters"]
    return statistics.median(walls), statistics.median(cpus), stats


def thread_cpu_ns(pid):
    """CPU nanoseconds of sipkeep's control thread (the main one) and of its worker."""
    ctl = wrk = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                name = f.read().strip()
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                ns = int(f.read().split()[0])
        except OSError:
            continue
        if int(tid) == pid:
            ctl = ns
        elif name.startswith("rte-worker"):
            wrk += ns
    return ctl, wrk


def quiet_request(d, line):
    with contextlib.redirect_stdout(io.StringIO()):  # sktest's checks print every "ok"
        return d.request(line)


def live(sipkeep, acc, core, cfg_text, secs):
    d = Daemon.with_socket(sipkeep, None, "siglive", cfg_extra=cfg_text,
                           vdevs=["net_pcap0,rx_pcap=%s,infinite_rx=1" % acc,
                                  "net_pcap1,rx_pcap=%s,infinite_rx=1" % core])
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            d.start(wait=False)
            d.wait_ready(timeout=300)
        time.sleep(1.0)
        a, ca, ta = quiet_request(d, "show stats"), thread_cpu_ns(d.proc.pid), time.monotonic()
        time.sleep(secs)
        b, cb, tb = quiet_request(d, "show stats"), thread_cpu_ns(d.proc.pid), time.monotonic()
        rc = d.stop()
        if rc != 0:
            sys.exit("run_sig_live: sipkeep exited %s:\n%s" % (rc, d.output()[-3000:]))
    finally:
        d.cleanup()
    return a, b, tb - ta, (cb[0] - ca[0]) / 1e9, (cb[1] - ca[1]) / 1e9


def run_shape(a, shape, tmp):
    txs = transactions(shape, a.n)
    recs = abreast(txs)
    sip_frames = len(recs)
    pcap = os.path.join(tmp, "%s.pcap" % shape)
    acc, core = os.path.join(tmp, "%s-access.pcap" % shape), os.path.join(tmp, "%s-core.pcap" % shape)
    frames = g.lockstep(recs, acc, core, loop=True)
    cfg = config(a.n, frames)
    with open(os.path.join(tmp, "sig.conf"), "w") as f:
        f.write(cfg)
    # The reference: replay of these messages, over and over like the live ports (at
    # least REPLAY_MESSAGES), less a replay of the first one alone (start-up and
    # shutdown), in CPU seconds.
    passes = max(1, -(-REPLAY_MESSAGES // len(recs)))
    write_pcap(pcap, recs * passes)
    one = os.path.join(tmp, "one.pcap")
    write_pcap(one, recs[:1])
    w_rep, c_rep, rep = replay(a.sipkeep, pcap, os.path.join(tmp, "sig.conf"), tmp, a.rounds)
    w_one, c_one, _ = replay(a.sipkeep, one, os.path.join(tmp, "sig.conf"), tmp, a.rounds)
    before, after, dt, ctl_s, wrk_s = live(a.sipkeep, acc, core, cfg, a.seconds)

    def d(name):
        return after["counters"].get(name, 0) - before["counters"].get(name, 0)
    done = "dialogs_created" if shape == "calls" else "registrations_committed"
    what = "calls (a repeated Call-ID is no new dialog: only the first pass counts)" if shape == "calls" \
        else "REGISTER+200 pairs"
    rx = sum(after["ports"][s]["rx"] - before["ports"][s]["rx"] for s in ("access", "core"))
    live_rate = d(done) / dt
    offered = rx / frames * a.n / dt  # passes of the live ports per second, times N
    net_cpu = c_rep - c_one
    rep_done = rep.get(done, 0)
    rep_wall_rate = rep_done / w_rep
    # The ratio: SIP events applied per CPU second, live (worker and control thread
    # together, so that a worker parsing messages whose events are dropped counts
    # against it) over replay (one thread doing both).
    live_ev = d("sip_events_applied") / (wrk_s + ctl_s) if wrk_s + ctl_s > 0 else 0.0
    rep_ev = rep.get("sip_events_applied", 0) / net_cpu if net_cpu > 0 else 0.0
    print("%s: %d transactions, %d SIP frames (%d with filler: a pass of the live ports)" %
          (shape, a.n, sip_frames, frames))
    print("  replay (reference), %d passes, median of %d: %.2f s wall, %.3f s CPU (%.3f s of it start-up and "
          "shutdown): %.0f SIP events applied per CPU second; %s %d (%.0f/s by the wall clock); events applied "
          "%d, dropped %d" % (passes, a.rounds, w_rep, c_rep, c_one, rep_ev, done, rep_done, rep_wall_rate,
                              rep.get("sip_events_applied", 0), rep.get("sip_events_dropped", 0)))
    print("  live, %.1f s: %.0f SIP events applied per CPU second (worker %.0f%% of a CPU, control thread %.0f%%); "
          "RATIO live / replay %.2fx" % (dt, live_ev, 100 * wrk_s / dt, 100 * ctl_s / dt,
                                        live_ev / rep_ev if rep_ev else 0.0))
    print("  live %s: %.0f/s offered (passes of the ports x N), %.0f/s committed (%s)" %
          (what, offered, live_rate, done))
    print("  worker: %.3f Mframes/s in (%.0f SIP messages/s); events applied %.0f/s (%.0f per second of the "
          "control thread's CPU), dropped %d in the window (%d since start)" %
          (rx / dt / 1e6, d("sip_messages") / dt, d("sip_events_applied") / dt,
           d("sip_events_applied") / ctl_s if ctl_s > 0 else 0.0, d("sip_events_dropped"),
           after["counters"].get("sip_events_dropped", 0)))
    print("  event ring: high-water mark %d of %d; pending REGISTERs refused %d, evicted %d in the window" %
          (after["counters"].get("sip_events_ring_high_water", 0), EVENT_RING,
           d("registrations_pending_refused"), d("registrations_pending_evicted")))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sipkeep", default=os.path.join(ROOT, "build", "control", "sipkeep"))
    ap.add_argument("-n", type=int, default=4096, help="users (transactions) per pass (default 4096)")
    ap.add_argument("-t", "--seconds", type=float, default=10, help="live window in seconds (default 10)")
    ap.add_argument("--rounds", type=int, default=3, help="replays of the reference (default 3)")
    ap.add_argument("shapes", nargs="*", metavar="SHAPE", help="register, calls, flood (default: all)")
    a = ap.parse_args()
    for s in a.shapes:
        if s not in SHAPES:
            ap.error("SHAPE: one of %s" % ", ".join(SHAPES))
    if os.geteuid() != 0:
        sys.exit("run_sig_live: needs root (DPDK)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the daemon is stopped on the way out
    if not os.access(a.sipkeep, os.X_OK):
        sys.exit("run_sig_live: %s not built" % a.sipkeep)
    if not 1 <= a.n <= 200000:
        ap.error("-n: 1..200000")
    print("run_sig_live: N=%d, live window %.0f s, replay median of %d; %d CPUs, load %s" %
          (a.n, a.seconds, a.rounds, os.cpu_count(), open("/proc/loadavg").read().split()[0]))
    tmp = tempfile.mkdtemp(prefix="sigbench-live-")
    try:
        for shape in a.shapes or SHAPES:
            run_shape(a, shape, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
