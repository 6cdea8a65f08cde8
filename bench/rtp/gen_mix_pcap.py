#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write a site-mix capture for the passthrough benchmark (run_rtp_bench.sh MIX=1).

Traffic sipkeep does not track, between the users of gen_rtp_pcap.py's address
plan (so that the flow tables hold their streams while none of these frames is
in one) and servers on the core side. Per 100 frames, in a seeded random order:

  60  TCP downloads: two 1514-byte segments from a server's port 443 to a user's
      port 50000-59999, and the user's ACK (60 bytes with padding)
  20  QUIC on UDP 443: a 1292-byte frame from the server, a 92-byte one back
   8  DNS: a query to 192.0.2.53:53 and its answer
  10  RTP of no call: 214-byte G.711 frames to the user's port 40002 (no flow)
   2  ARP requests and replies (non-IP)

Every frame enters on the core port of the bench (net_pcap), whichever way it
goes on a real link: the fast path's checks are the same, the key it looks up
is the destination's. Checksums are valid. Plain struct packing, no scapy.

  gen_mix_pcap.py --streams N [--packets P] OUT.pcap
"""
import argparse
import random
import struct
import sys

from gen_rtp_pcap import ACCESS_MEDIA_PORT, core_media, csum_fold, ip4, old_access_ip, words_sum

SERVERS = 200
DNS_IP = ip4(192, 0, 2, 53)
CORE_MAC = bytes.fromhex("020000000002")
PHONE_MAC = bytes.fromhex("020000000001")


def server_ip(i):
    return ip4(198, 51, 100, 1 + i % SERVERS)


def eth(to_phone, ethertype=0x0800):
    dst, src = (PHONE_MAC, CORE_MAC) if to_phone else (CORE_MAC, PHONE_MAC)
    return dst + src + struct.pack("!H", ethertype)


def ipv4(src, dst, proto, l4, ident):
    iph = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + len(l4), ident & 0xFFFF, 0x4000, 64, proto, 0, src, dst)
    ics = (~csum_fold(words_sum(iph))) & 0xFFFF
    return iph[:10] + struct.pack("!H", ics) + iph[12:] + l4


def l4_csum(src, dst, proto, seg):
    s = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + proto + len(seg)
    c = (~csum_fold(s + words_sum(seg))) & 0xFFFF
    return c if c or proto != 17 else 0xFFFF


def udp(src, sport, dst, dport, payload, to_phone, ident):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    seg = seg[:6] + struct.pack("!H", l4_csum(src, dst, 17, seg)) + seg[8:]
    return eth(to_phone) + ipv4(src, dst, 17, seg, ident)


def tcp(src, sport, dst, dport, seq, ack, payload, to_phone, ident):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, 0x10, 65535, 0, 0) + payload
    seg = seg[:16] + struct.pack("!H", l4_csum(src, dst, 6, seg)) + seg[18:]
    return eth(to_phone) + ipv4(src, dst, 6, seg, ident)


def arp(i, reply):
    sha, tha = (PHONE_MAC, CORE_MAC) if reply else (CORE_MAC, b"\0" * 6)
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2 if reply else 1)
    body += sha + struct.pack("!I", server_ip(i)) + tha + struct.pack("!I", old_access_ip(i))
    frame = (b"\xff" * 6 if not reply else PHONE_MAC) + CORE_MAC + struct.pack("!H", 0x0806) + body
    return frame + b"\0" * (60 - len(frame))


def frames_for(slot, i, k):
    """The frames of slot SLOT (0..49 of a group of 100 frames) for user I, pass K."""
    user = old_access_ip(i)
    srv = server_ip(i)
    port = 50000 + i % 10000
    if slot < 20:  # TCP download: 2 segments and an ACK
        seq = 1 + k * 2920
        return [tcp(srv, 443, user, port, seq, 1, b"\x17" * 1460, True, k),
                tcp(srv, 443, user, port, seq + 1460, 1, b"\x17" * 1460, True, k + 1),
                tcp(user, port, srv, 443, 1, seq + 2920, b"\0" * 6, False, k)]
    if slot < 30:  # QUIC
        return [udp(srv, 443, user, port, b"\x43" + b"\x5a" * 1249, True, k),
                udp(user, port, srv, 443, b"\x43" + b"\x5a" * 49, False, k)]
    if slot < 34:  # DNS
        q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"
        a = q[:2] + b"\x81\x80" + q[4:6] + b"\x00\x01" + q[8:] + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\xc0\x00\x02\x01"
        return [udp(user, 33000 + i % 20000, DNS_IP, 53, q, False, k),
                udp(DNS_IP, 53, user, 33000 + i % 20000, a, True, k)]
    if slot < 44:  # RTP of no call
        src, sport = core_media(i)
        rtp = struct.pack("!BBHII", 0x80, 0, k & 0xFFFF, (k * 160) & 0xFFFFFFFF, 0x20000000 + i) + b"\xd5" * 160
        return [udp(src, sport, user, ACCESS_MEDIA_PORT + 2, rtp, True, k)]
    if slot < 45:  # ARP
        return [arp(i, False), arp(i, True)]
    return []


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=100000)
    ap.add_argument("--packets", type=int, default=0, help="frames (default: the streams, at least 10000)")
    ap.add_argument("--untracked", action="store_true", help="accepted for run_rtp_bench.sh; the mix is")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("out")
    a = ap.parse_args()
    if not 1 <= a.streams <= (1 << 22):
        sys.exit("--streams must be in 1..4194304")
    want = a.packets or max(a.streams, 10000)
    rng = random.Random(a.seed)
    # The slots of a group of 100 frames (45 slots give 100 frames: see frames_for).
    frames, k = [], 0
    while len(frames) < want:
        for slot in range(45):
            frames += frames_for(slot, rng.randrange(a.streams), k)
        k += 1
    frames = frames[:want]
    rng.shuffle(frames)
    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for n, fr in enumerate(frames):
            t = n * 20
            f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(fr), len(fr)))
            f.write(fr)
    kinds = {}
    for fr in frames:
        key = "arp" if fr[12:14] == b"\x08\x06" else {6: "tcp", 17: "udp"}[fr[23]]
        kinds[key] = kinds.get(key, 0) + 1
    print("%s: %d frames, site mix over %d users (%s), seed %d" %
          (a.out, len(frames), a.streams, ", ".join("%s %d" % kv for kv in sorted(kinds.items())), a.seed))


if __name__ == "__main__":
    main()
