#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the captures of the signalling-rate benchmark (run_sig_bench.sh).

  gen_sig_pcap.py --shape register|calls|flood|plain -n N OUT.pcap

  register  N users, each REGISTER (with the persistency tag) and its 200 OK
  calls     the N REGISTER + 200 pairs of "register" (sipkeep tracks the
            calls of registered users only), then N calls, one per user:
            INVITE (SDP) / 200 OK (SDP) / ACK / BYE / 200 OK
  flood     the N REGISTER + 200 pairs of "register", with 10 REGISTERs of
            random users (random names and access addresses, never answered)
            before each real pair
  plain     N pairs of UDP frames of about a REGISTER's and a 200's size, to a
            port that is not SIP: the reference (what reading and writing the
            capture costs; give N = frames / 2 of the shape it stands beside)

Plain struct packing (no scapy: 10^6 frames in seconds); IPv4 checksums are
computed, UDP checksums are 0 (none, allowed over IPv4). Access side
10.0.0.0/8, registrar and media at 192.0.2.10 / 192.0.2.20.
"""
import argparse
import random
import socket
import struct

PHONE_MAC = bytes.fromhex("02000000" "0a01")
CORE_MAC = bytes.fromhex("02000000" "0c01")
REG = "192.0.2.10"
PERSIST = "replaces, X-cisco-sessionpersist, X-cisco-callinfo, X-cisco-serviceuri"


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Writer:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.n = 0
        self.ipid = 0

    def udp(self, src, sport, dst, dport, payload, from_access):
        self.ipid = (self.ipid + 1) & 0xFFFF
        udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), self.ipid, 0, 64, 17, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        eth = (CORE_MAC + PHONE_MAC if from_access else PHONE_MAC + CORE_MAC) + b"\x08\x00"
        frame = eth + ip + udp
        t = self.n * 10  # 10 us apart
        self.f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(frame), len(frame)) + frame)
        self.n += 1

    def sip(self, src, dst, start, hdrs, body=b"", from_access=True):
        lines = [start] + hdrs
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append("Content-Length: %d" % len(body))
        msg = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        self.udp(src, 5060, dst, 5060, msg, from_access)


class Collect(Writer):
    """The frames in memory, in order, each with its side (True: from access)."""

    def __init__(self):
        self.n, self.ipid, self.recs, self.f, self.side = 0, 0, [], self, None

    def write(self, rec):
        self.recs.append((self.side, rec))

    def udp(self, src, sport, dst, dport, payload, from_access):
        self.side = from_access
        super().udp(src, sport, dst, dport, payload, from_access)


BURST = 32  # sipkeep's receive burst (SK_BURST)


def lockstep(recs, acc_path, core_path, loop=False):
    """Lay the frames out for a live worker that polls BURST frames from access, then BURST
    from core, and so on: slot k of each file holds BURST frames (filler where the order
    needs a gap), so a frame is read after every frame before it in RECS. With LOOP, both
    files get as many full slots, so that they stay in step when net_pcap replays them
    over and over (infinite_rx). Returns the frames written, filler included."""
    filler = {True: Collect(), False: Collect()}
    filler[True].udp("10.255.255.1", 9, "192.0.2.99", 9, b"filler", True)
    filler[False].udp("192.0.2.99", 9, "10.255.255.1", 9, b"filler", False)
    files = {True: [], False: []}
    side, room = True, BURST
    for s, rec in recs:
        while s != side:
            files[side] += [filler[side].recs[0][1]] * room
            side, room = not side, BURST
        files[side].append(rec)
        room -= 1
        if room == 0:
            side, room = not side, BURST
    if loop:
        slots = max(-(-len(f) // BURST) for f in files.values())
        for sd in files:
            files[sd] += [filler[sd].recs[0][1]] * (slots * BURST - len(files[sd]))
    for sd, path in ((True, acc_path), (False, core_path)):
        w = Writer(path)
        for rec in files[sd]:
            w.f.write(rec)
        w.f.close()
    return len(files[True]) + len(files[False])


def phone(i):
    return "10.%d.%d.%d" % (1 + (i >> 16), (i >> 8) & 0xFF, i & 0xFF)


def register(w, ip, user, cseq=1, answer=True, supported=PERSIST, request=True):
    hp = "%s:5060" % ip
    h = ["Via: SIP/2.0/UDP %s;branch=z9hG4bK-r%s-%d;rport" % (hp, user, cseq),
         "From: <sip:%s@example.com>;tag=r%d" % (user, cseq), "To: <sip:%s@example.com>" % user,
         "Call-ID: reg-%s" % user, "CSeq: %d REGISTER" % cseq, "Contact: <sip:%s@%s>" % (user, hp),
         "Expires: 3600", "Max-Forwards: 70", "Supported: %s" % supported]
    if request:
        w.sip(ip, REG, "REGISTER sip:example.com SIP/2.0", h)
    if answer:
        r = h[:6] + ["Expires: 3600"]
        r[2] += ";tag=registrar"
        w.sip(REG, ip, "SIP/2.0 200 OK", r, from_access=False)


def sdp(ip, port):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n"
            "a=rtpmap:0 PCMU/8000\r\n" % (ip, ip, port)).encode()


def call(w, i):
    ip, user = phone(i), "u%d" % i
    hp, rhp = "%s:5060" % ip, "%s:5060" % REG
    base = ["Via: SIP/2.0/UDP %s;branch=z9hG4bK-c%d-%%s;rport" % (hp, i),
            "From: <sip:%s@example.com>;tag=f%d" % (user, i), "To: <sip:bob@example.com>",
            "Call-ID: call-%d" % i]
    to_tagged = "To: <sip:bob@example.com>;tag=b%d" % i

    def hdrs(branch, cseq, tagged):
        return [base[0] % branch, base[1], to_tagged if tagged else base[2], base[3], cseq]
    inv = hdrs("1", "CSeq: 1 INVITE", False) + ["Contact: <sip:%s@%s>" % (user, hp)]
    w.sip(ip, REG, "INVITE sip:bob@example.com SIP/2.0", inv, sdp(ip, 4000))
    w.sip(REG, ip, "SIP/2.0 200 OK", hdrs("1", "CSeq: 1 INVITE", True) + ["Contact: <sip:bob@%s>" % rhp],
          sdp("192.0.2.20", 20000 + 2 * (i % 20000)), from_access=False)
    w.sip(ip, REG, "ACK sip:bob@%s SIP/2.0" % rhp, hdrs("2", "CSeq: 1 ACK", True))
    w.sip(ip, REG, "BYE sip:bob@%s SIP/2.0" % rhp, hdrs("3", "CSeq: 2 BYE", True))
    w.sip(REG, ip, "SIP/2.0 200 OK", hdrs("3", "CSeq: 2 BYE", True), from_access=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", choices=("register", "calls", "flood", "plain"), required=True)
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("out")
    a = ap.parse_args()
    if not 1 <= a.n <= 4000000:
        ap.error("-n: 1..4000000")
    rng = random.Random(a.seed)
    w = Writer(a.out)
    for i in range(a.n):
        if a.shape == "flood":
            for _ in range(10):
                register(w, "10.%d.%d.%d" % (rng.randrange(64, 128), rng.randrange(256), rng.randrange(1, 255)),
                         "x%08x" % rng.getrandbits(32), answer=False)
        if a.shape in ("register", "flood", "calls"):
            register(w, phone(i), "u%d" % i)
        elif a.shape != "calls":
            w.udp(phone(i), 5060, REG, 9999, b"x" * 420, True)
            w.udp(REG, 9999, phone(i), 5060, b"x" * 300, False)
    if a.shape == "calls":
        for i in range(a.n):
            call(w, i)
    w.f.close()
    print("%s: %d frames" % (a.out, w.n))


if __name__ == "__main__":
    main()
