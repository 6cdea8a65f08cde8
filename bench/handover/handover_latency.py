#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Handover latency in a live sipkeep (issue 15, goal 4): how long after the
committing 200 OK leaves sipkeep does the first downlink packet of that user
leave it rewritten, during a storm of handovers.

  handover_latency.py [--sipkeep build/control/sipkeep] [-n USERS] [-k FOLLOW]

The capture (raw frames, built here): USERS phones register and place a call;
one pass of downlink RTP; then the storm: phone after phone re-registers from a
new address (200 OK right behind), and after each 200 OK come downlink RTP
frames of the last FOLLOW phones that moved (this one first), still aimed at
their old addresses. sipkeep runs live (the daemon: a worker lcore and the
control thread, --no-huge) with net_pcap ports: each side's frames go into its own port as fast as net_pcap reads them,
laid out in 32-frame slots (the worker's burst: access, then core) so that no frame
is read before one it follows; each port writes what it sends, stamped with
the time it was sent. Read back per phone: the time from its
200 OK's departure to its first rewritten downlink frame, and how many of its
downlink frames left unrewritten after the 200 OK. Prints the distribution
(median, p90, p99, max) and the storm's achieved rate, handovers per second.
net_pcap does not pace: the storm runs as fast as the worker forwards, which
is harsher than a paced 10k/s; the rate achieved is printed.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
sys.path.insert(0, os.path.join(HERE, "..", "signalling"))

import gen_sig_pcap as g  # noqa: E402
from sktest.daemon import Daemon  # noqa: E402
from sktest.sipscen import read_frames  # noqa: E402


def new_ip(i):
    return "10.%d.%d.%d" % (128 + (i >> 16), (i >> 8) & 0xFF, i & 0xFF)


def core_port(i):
    return 20000 + 2 * (i % 20000)


def rtp(w, i, seq):
    w.udp("192.0.2.20", core_port(i), g.phone(i), 4000, g.struct.pack("!BBHII", 0x80, 0, seq, seq * 160, i) +
          b"\xd5" * 160, False)


def setup_call(w, i):
    ip, user = g.phone(i), "u%d" % i
    hp, rhp = "%s:5060" % ip, "%s:5060" % g.REG
    via = "Via: SIP/2.0/UDP %s;branch=z9hG4bK-c%d-%%s;rport" % (hp, i)
    fr, to, cid = "From: <sip:%s@example.com>;tag=f%d" % (user, i), "To: <sip:bob@example.com>", "Call-ID: call-%d" % i
    tot = to + ";tag=b%d" % i
    w.sip(ip, g.REG, "INVITE sip:bob@example.com SIP/2.0",
          [via % 1, fr, to, cid, "CSeq: 1 INVITE", "Contact: <sip:%s@%s>" % (user, hp)], g.sdp(ip, 4000))
    w.sip(g.REG, ip, "SIP/2.0 200 OK", [via % 1, fr, tot, cid, "CSeq: 1 INVITE", "Contact: <sip:bob@%s>" % rhp],
          g.sdp("192.0.2.20", core_port(i)), from_access=False)
    w.sip(ip, g.REG, "ACK sip:bob@%s SIP/2.0" % rhp, [via % 2, fr, tot, cid, "CSeq: 1 ACK"])


def build(acc_path, core_path, n, follow, rtt=0):
    w = g.Collect()
    for i in range(n):
        g.register(w, g.phone(i), "u%d" % i)
        setup_call(w, i)
    for i in range(n):
        rtp(w, i, 1)
    # The registrar's round trip: each 200 OK comes after the next RTT phones' re-REGISTERs.
    for k in range(n + rtt):
        if k < n:
            g.register(w, new_ip(k), "u%d" % k, cseq=2, answer=False)
        i = k - rtt
        if i < 0:
            continue
        g.register(w, new_ip(i), "u%d" % i, cseq=2, request=False)
        for j in range(i, max(-1, i - follow), -1):
            rtp(w, j, 2 + i - j)
    for i in range(n):
        rtp(w, i, 1000)
    return g.lockstep(w.recs, acc_path, core_path)


def analyse(frames, n):
    """Per phone: (seconds from its 200 OK to its first rewritten downlink, unrewritten after)."""
    import socket
    import struct
    t200, first, late = {}, {}, {}
    old = {socket.inet_aton(g.phone(i)): i for i in range(n)}
    new = {socket.inet_aton(new_ip(i)): i for i in range(n)}
    for t, raw in frames:
        if len(raw) < 42 or raw[12:14] != b"\x08\x00" or raw[23] != 17:
            continue
        ihl = (raw[14] & 0xF) * 4
        src, dst = raw[26:30], raw[30:34]
        sport, dport = struct.unpack("!HH", raw[14 + ihl:18 + ihl])
        pl = raw[14 + ihl + 8:]
        if src == socket.inet_aton(g.REG) and pl.startswith(b"SIP/2.0 200") and b"CSeq: 2 REGISTER" in pl:
            i = new.get(dst)
            if i is not None:
                t200[i] = t
        elif sport != 5060 and src == socket.inet_aton("192.0.2.20"):
            if dst in new:
                i = new[dst]
                if i in t200 and i not in first:
                    first[i] = t
            elif dst in old:
                i = old[dst]
                if i in t200 and i not in first:
                    late[i] = late.get(i, 0) + 1
    return t200, first, late


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sipkeep", default=os.path.join(ROOT, "build", "control", "sipkeep"))
    ap.add_argument("-n", type=int, default=2000, help="phones (handovers)")
    ap.add_argument("-k", type=int, default=200, help="downlink frames after each 200 OK")
    ap.add_argument("--rtt", type=int, default=0,
                    help="the registrar's round trip, in handovers: each 200 OK comes after the next RTT "
                         "re-REGISTERs (0: right behind its own)")
    ap.add_argument("--arm-ms", type=int, default=None,
                    help="handover_arm_ms (0: no armed commits, the control thread publishes each move; "
                         "default: sipkeep's)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("handover_latency: needs root (DPDK)")
    tmp = tempfile.mkdtemp(prefix="skho-")
    try:
        acc_in, core_in = os.path.join(tmp, "acc-in.pcap"), os.path.join(tmp, "core-in.pcap")
        nf = build(acc_in, core_in, a.n, a.k, a.rtt)
        acc_out, core_out = os.path.join(tmp, "acc.pcap"), os.path.join(tmp, "core.pcap")
        cfg = ("access_prefixes = 10.0.0.0/8\npersist_window_ms = 3600000\nmedia_silence_ms = 600000\n"
               "stats_interval_ms = 0\nmax_users = %d\nmax_dialogs = %d\nmax_streams = %d\n"
               "max_pending_registers = %d\n" % ((a.n + 1024,) * 3 + (a.n + 1024,)))
        if a.arm_ms is not None:
            cfg += "handover_arm_ms = %d\n" % a.arm_ms
        d = Daemon.with_socket(a.sipkeep, None, "handover", cfg_extra=cfg,
                               vdevs=["net_pcap0,rx_pcap=%s,tx_pcap=%s" % (acc_in, acc_out),
                                      "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (core_in, core_out)])
        try:
            d.start()
            last, stable = -1, 0
            while stable < 5:
                time.sleep(0.5)
                st = d.request("show stats")
                now = (st["ports"]["access"]["tx"], st["counters"]["sip_events_applied"])
                stable = stable + 1 if now == last else 0
                last = now
            c = st["counters"]
            fired, armed, cancelled = (c.get(k, "-") for k in ("handovers_fired", "handovers_armed",
                                                                "handovers_arm_cancelled"))
            rc = d.stop()
        finally:
            d.cleanup()
        out = read_frames(acc_out)  # what the core side sent: 200 OKs, downlink
        t200, first, late = analyse(out, a.n)
        lat = [(first[i] - t200[i]) * 1e6 for i in t200 if i in first]
        lt = [late.get(i, 0) for i in t200]
        span = max(t200.values()) - min(t200.values()) if t200 else 0
        print("handover_latency: %d phones, %d frames in (filler included), %d out toward access, sipkeep exit %s"
              % (a.n, nf, len(out), rc))
        print("storm: %d committing 200 OKs forwarded in %.3f s = %.0f handovers/s" %
              (len(t200), span, len(t200) / span if span else 0))
        if lat:
            print("commit-to-first-rewrite (us, 200 OK out -> first rewritten downlink out): median %.1f, "
                  "p90 %.1f, p99 %.1f, max %.1f over %d phones"
                  % (statistics.median(lat), pct(lat, 0.9), pct(lat, 0.99), max(lat), len(lat)))
            print("downlink frames still to the old address after the 200 OK: median %d, p99 %d, max %d; "
                  "phones with none %d of %d" % (statistics.median(lt), pct(lt, 0.99), max(lt),
                                                 sum(1 for x in lt if x == 0), len(lt)))
        print("phones never rewritten: %d" % (len(t200) - len(lat)))
        print("armed commits: %s fired by the worker, %s armed, %s taken back"
              % (fired, armed, cancelled))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
