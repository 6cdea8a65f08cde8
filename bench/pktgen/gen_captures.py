#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the captures the pktgen runs replay (bench/pktgen/README.md), with the
project's own scenario builder (tests/pylib/sktest/sipscen, scapy).

  gen_captures.py --shape mix|rtp|handover [--calls N] [--passes K] OUT.pcap

Shapes (access side 10.0.0.0/8, core side 192.0.2.0/24, as the sipkeep config
that run_pktgen.sh writes):

  mix       a site's traffic sipkeep does not own: TCP downloads (1460-byte
            segments from core port 443) and their ACKs, QUIC on UDP 443 both
            ways, DNS queries and answers, and 10% RTP that belongs to no call.
  rtp       N calls: each phone registers (with the persistency tag), places a
            call, then K passes of G.711 RTP both ways (20 ms packets; the
            passes are shuffled, seeded, so consecutive frames hit unrelated
            flows).
  handover  the same N calls, then every phone re-registers from a new
            address within one 100 ms burst (the storm), then K passes of
            downlink RTP still aimed at the old addresses (sipkeep rewrites
            them) and uplink from the new ones.

With --split, two more files: OUT-access.pcap (the frames that enter sipkeep
from the access side: requests from phones, uplink) and OUT-core.pcap (from the
core: the registrar's answers, downlink). sipkeep takes a frame's side from
the port it arrives on, so pktgen sends each on its own port.

pktgen ignores the timestamps and loops the files: the signalling at the start
of each pass reaches sipkeep again as retransmissions, which it absorbs (same
Call-ID and CSeq), and a 200 OK that overtakes its request on the other port
meets it on a later pass. Frames are at most 1514 bytes; every checksum is valid.
"""
import argparse
import os
import random
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "pylib"))

from sktest.sipscen import MEDIA, PERSIST, REGISTRAR, Endpoint, Scenario, basic_call  # noqa: E402


def phone_ip(i, base=1):
    return "10.%d.%d.%d" % (base, (i >> 8) & 0xFF, i & 0xFF)


def rtp_payload(seq, ssrc):
    return struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, (seq * 160) & 0xFFFFFFFF, ssrc) + b"\xd5" * 160


def calls(s, n):
    """N registered phones with one call each; returns [(phone, core media port)]."""
    out = []
    for i in range(n):
        ph = Endpoint(phone_ip(i), 5060, 4000)
        media = Endpoint(MEDIA.ip, 5060, 20000 + 2 * i)
        basic_call(s, ph, user="u%d" % i, call_id="call-%d" % i, t_reg=0.001 * i, t_inv=1.0 + 0.001 * i,
                   media=media, tag="t%d" % i)
        out.append((ph, media.rtp_port))
    return out


def media_passes(s, legs, passes, t0, rng):
    """legs: (src ip, sport, dst ip, dport, ssrc, from_access); PASSES shuffled passes."""
    t = t0
    for k in range(passes):
        order = list(legs)
        rng.shuffle(order)
        for (src, sport, dst, dport, ssrc, acc) in order:
            s.udp(t, src, sport, dst, dport, rtp_payload(k + 1, ssrc), acc)
            t += 1e-5
    return t


def shape_mix(s, n, passes, rng):
    t = 0.0
    quic = b"\xc3" + b"\x00" * 1199
    for k in range(passes):
        frames = []
        for i in range(n):
            c = "10.%d.%d.%d" % (3, (i >> 8) & 0xFF, i & 0xFF)
            srv = "198.51.100.%d" % (1 + i % 200)
            kind = i % 10
            if kind < 5:  # TCP download: 2 segments, 1 ACK
                frames += [("tcp", srv, 443, c, 40000 + i, 1460, False)] * 2
                frames.append(("tcp", c, 40000 + i, srv, 443, 0, True))
            elif kind < 8:  # QUIC
                frames.append(("udp", srv, 443, c, 50000 + i, quic, False))
                frames.append(("udp", c, 50000 + i, srv, 443, quic[:60], True))
            elif kind == 8:  # DNS
                frames.append(("udp", c, 33000 + i, "192.0.2.53", 53, b"\x12\x34\x01\x00" + b"\0" * 36, True))
                frames.append(("udp", "192.0.2.53", 53, c, 33000 + i, b"\x12\x34\x81\x80" + b"\0" * 80, False))
            else:  # RTP of no known call
                frames.append(("udp", "203.0.113.9", 30000 + 2 * i, c, 4000, rtp_payload(k + 1, i), False))
        rng.shuffle(frames)
        for f in frames:
            if f[0] == "udp":
                s.udp(t, f[1], f[2], f[3], f[4], f[5], f[6])
            else:
                tcp_frame(s, t, *f[1:])
            t += 1e-5


def tcp_frame(s, t, src, sport, dst, dport, size, from_access):
    from scapy.all import IP, TCP, Ether, Raw
    from sktest.sipscen import CORE_MAC, PHONE_MAC
    eth = Ether(src=PHONE_MAC, dst=CORE_MAC) if from_access else Ether(src=CORE_MAC, dst=PHONE_MAC)
    f = eth / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="A", seq=1, ack=1) / Raw(b"\0" * size)
    s.frames.append((t, f.__class__(bytes(f))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", choices=("mix", "rtp", "handover"), required=True)
    ap.add_argument("--calls", type=int, default=500, help="calls (rtp, handover) or clients (mix)")
    ap.add_argument("--passes", type=int, default=20, help="passes of media / traffic")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--split", action="store_true", help="also OUT-access.pcap and OUT-core.pcap")
    ap.add_argument("out")
    a = ap.parse_args()
    if not 1 <= a.calls <= 60000:
        ap.error("--calls: 1..60000")
    rng = random.Random(a.seed)
    s = Scenario()
    if a.shape == "mix":
        shape_mix(s, a.calls, a.passes, rng)
    else:
        cs = calls(s, a.calls)
        t = 2.0 + 0.001 * a.calls
        legs = []
        if a.shape == "handover":
            for i, (ph, mport) in enumerate(cs):
                new = Endpoint(phone_ip(i, base=2), 5062, 4010)
                s.register(t + 0.1 * i / a.calls, new, REGISTRAR, "u%d" % i, "reg-u%d" % i, 2, PERSIST,
                           answer_after=0.001)
                legs.append((MEDIA.ip, mport, ph.ip, 4000, 0x2000 + i, False))  # to the old address
                legs.append((new.ip, 4010, MEDIA.ip, mport, 0x3000 + i, True))
            t += 0.2
        else:
            for i, (ph, mport) in enumerate(cs):
                legs.append((MEDIA.ip, mport, ph.ip, 4000, 0x2000 + i, False))
                legs.append((ph.ip, 4000, MEDIA.ip, mport, 0x1000 + i, True))
        media_passes(s, legs, a.passes, t, rng)
    s.write(a.out)
    if a.split:
        from sktest.sipscen import PHONE_MAC
        stem = a.out[:-5] if a.out.endswith(".pcap") else a.out
        for side, acc in (("access", True), ("core", False)):
            part = Scenario()
            part.frames = [(t, f) for t, f in s.frames if (f.src == PHONE_MAC) == acc]
            part.write("%s-%s.pcap" % (stem, side))
    print("%s: %d frames (%s, %d %s, %d passes)" % (a.out, len(s.frames), a.shape, a.calls,
                                                     "clients" if a.shape == "mix" else "calls", a.passes))


if __name__ == "__main__":
    main()
