#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the capture the RTP benchmark replays: downlink RTP toward moved users.

Address plan (bench_rtp.c builds its sessions from the same plan; keep both in
step). Stream i, 0 <= i < STREAMS, belongs to user i:

  old access IP (SDP c=, first REGISTER)  10.64.0.0  + i   (10.64.0.0/10)
  new access IP (re-REGISTER: handover)   10.128.0.0 + i   (10.128.0.0/10)
  access media port                       40000 (RTCP 40001), SIP port 5060
  core media IP                           172.16.(i // 20000).10
  core media port                         20000 + 2 * (i % 20000) (RTCP +1)

Each packet is Ethernet/IPv4/UDP/RTP from the core media address to the old
access media address (the downlink of a moved user, so sipkeep rewrites its
destination), with valid IPv4 and UDP checksums. The file holds PASSES passes
over all streams, each pass in its own random order (seeded): consecutive
packets hit unrelated hash buckets, as on a real link.

Plain struct packing (no scapy needed); --verify re-reads packets with scapy.
"""
import argparse
import random
import struct
import sys

CORE_PER_IP = 20000


def ip4(a, b, c, d):
    return (a << 24) | (b << 16) | (c << 8) | d


def old_access_ip(i):
    return ip4(10, 64, 0, 0) + i


def new_access_ip(i):
    return ip4(10, 128, 0, 0) + i


def core_media(i):
    return ip4(172, 16, i // CORE_PER_IP, 10), 20000 + 2 * (i % CORE_PER_IP)


ACCESS_MEDIA_PORT = 40000
# --untracked: to port 40002 of the same IPs, which no flow holds (UDP in no flow).
UNTRACKED_PORT_OFFSET = 0


def csum_fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def words_sum(data):
    if len(data) % 2:
        data += b"\0"
    return sum(struct.unpack("!%dH" % (len(data) // 2), data))


def frame(i, seq, ts, rtp_len, payload_sum_cache):
    src, sport = core_media(i)
    dst, dport = old_access_ip(i), ACCESS_MEDIA_PORT + UNTRACKED_PORT_OFFSET
    # RTP: V=2, PT=0 (PCMU), marker off; payload is a constant pattern.
    rtp_hdr = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, ts & 0xFFFFFFFF, 0x10000000 + i)
    payload = payload_sum_cache[0]
    udp_len = 8 + rtp_len
    ip_len = 20 + udp_len
    # UDP checksum over the pseudo-header, the header and the data.
    s = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + 17 + udp_len
    s += sport + dport + udp_len
    s += words_sum(rtp_hdr) + payload_sum_cache[1]
    ucs = (~csum_fold(s)) & 0xFFFF
    if ucs == 0:
        ucs = 0xFFFF
    udp = struct.pack("!HHHH", sport, dport, udp_len, ucs)
    iph = struct.pack("!BBHHHBBHII", 0x45, 0xB8, ip_len, seq & 0xFFFF, 0, 64, 17, 0, src, dst)
    ics = (~csum_fold(words_sum(iph))) & 0xFFFF
    iph = iph[:10] + struct.pack("!H", ics) + iph[12:]
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    return eth + iph + udp + rtp_hdr + payload


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=100000)
    ap.add_argument("--passes", type=int, default=1, help="packets = streams * passes")
    ap.add_argument("--frame-size", type=int, default=214,
                    help="Ethernet frame bytes without FCS (214: RTP 172 = 12 + 160 G.711)")
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--packets", type=int, default=0,
                    help="packets per pass, each a different stream drawn at random "
                    "(default: every stream): keeps the capture and its mbufs small "
                    "while the tables hold many more streams; above --streams, "
                    "that many packets in passes over all streams")
    ap.add_argument("--untracked", action="store_true",
                    help="send to access port 40002, which no flow holds: passthrough")
    ap.add_argument("--verify", type=int, default=0, metavar="N",
                    help="re-read the first N packets with scapy and check them")
    ap.add_argument("out")
    a = ap.parse_args()
    if not 1 <= a.streams <= (1 << 22):
        sys.exit("--streams must be in 1..4194304")
    rtp_len = a.frame_size - 14 - 20 - 8
    if rtp_len < 12:
        sys.exit("--frame-size too small for RTP")
    payload = bytes((0xD5 ^ (k & 0x7F)) for k in range(rtp_len - 12))
    cache = (payload, words_sum(payload) if len(payload) % 2 == 0 else None)
    if cache[1] is None:
        sys.exit("--frame-size must leave an even RTP payload")
    global UNTRACKED_PORT_OFFSET
    if a.untracked:
        UNTRACKED_PORT_OFFSET = 2
    rng = random.Random(a.seed)
    order = list(range(a.streams))
    limit = None
    if a.packets and a.packets < a.streams:
        order = rng.sample(order, a.packets)
    elif a.packets > a.streams:
        # More frames than streams (a capture the same size at every stream
        # count): whole passes over all streams, each in its own order.
        a.passes = -(-a.packets // a.streams)
        limit = a.packets
    n = 0
    with open(a.out, "wb") as f:
        # pcap global header: microsecond timestamps, Ethernet.
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for p in range(a.passes):
            rng.shuffle(order)
            for i in order[:None if limit is None else limit - n]:
                fr = frame(i, p, p * 160, rtp_len, cache)
                t = n * 20  # 20 us apart; the PMD ignores time stamps
                f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(fr), len(fr)))
                f.write(fr)
                n += 1
    print("%s: %d packets of %d bytes, %d streams, seed %d%s" %
          (a.out, n, a.frame_size, a.streams, a.seed, ", untracked" if a.untracked else ""))
    if a.verify:
        verify(a.out, a.verify)


def verify(path, count):
    from scapy.all import IP, UDP, PcapReader  # noqa: E402

    with PcapReader(path) as r:
        for k, p in enumerate(r):
            if k == count:
                break
            ip, udp = p[IP], p[UDP]
            want_ip, want_udp = ip.chksum, udp.chksum
            del ip.chksum
            del udp.chksum
            q = p.__class__(bytes(p))
            if q[IP].chksum != want_ip or q[UDP].chksum != want_udp:
                sys.exit("packet %d: bad checksum" % k)
    print("%s: first %d packets verified with scapy" % (path, count))


if __name__ == "__main__":
    main()
