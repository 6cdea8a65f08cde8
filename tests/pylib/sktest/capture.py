# SPDX-License-Identifier: BSD-3-Clause
"""Captures for sipkeep's tests, in pure Python (much faster than scapy's rdpcap on
large captures, and it keeps caplen/origlen/timestamps):

- Record, read_capture/read_output, write_pcap/write_pcapng;
- classify(): an independent oracle of the L2-L4 classification that the
  daemon's counters must match (written from the design, not from pkt_parse.c).
"""

import ipaddress
import os
import struct

# Link types as written in capture files (LINKTYPE_*), not the DLT_* of the host.
LT_NULL = 0
LT_ETHERNET = 1
LT_RAW = 101
LT_LOOP = 108
LT_LINUX_SLL = 113
LT_IEEE802_11 = 105
LT_LINUX_SLL2 = 276

CLASSES = ("frames_non_ip", "frames_l3_malformed", "frames_ip_other",
           "frames_ip_fragment", "frames_udp_other", "frames_sip", "frames_tcp_sip")


# ---------------------------------------------------------------- pcap

class Record:
    __slots__ = ("sec", "usec", "caplen", "origlen", "data")

    def __init__(self, sec, usec, data, origlen=None):
        self.sec = sec
        self.usec = usec  # microseconds (nanosecond files are converted on reading)
        self.data = bytes(data)
        self.caplen = len(self.data)
        self.origlen = self.caplen if origlen is None else origlen

    def ts(self):
        return (self.sec, self.usec)

    def __repr__(self):
        return f"Record({self.sec}.{self.usec:06d}, {self.caplen}/{self.origlen} bytes)"


PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", False),
    b"\xa1\xb2\xc3\xd4": (">", False),
    b"\x4d\x3c\xb2\xa1": ("<", True),
    b"\xa1\xb2\x3c\x4d": (">", True),
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


def capture_kind(path):
    """'pcap', 'pcapng', or None for formats libpcap does not read."""
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic in PCAP_MAGICS:
        return "pcap"
    if magic == PCAPNG_MAGIC:
        return "pcapng"
    return None


def read_capture(path):
    """Return (linktype, [Record]) of a pcap or pcapng file (first interface's link type)."""
    with open(path, "rb") as f:
        buf = f.read()
    magic = buf[:4]
    if magic in PCAP_MAGICS:
        return _read_pcap(buf)
    if magic == PCAPNG_MAGIC:
        return _read_pcapng(buf)
    raise ValueError(f"{path}: not a pcap/pcapng file (magic {magic.hex()})")


def _read_pcap(buf):
    e, nsec = PCAP_MAGICS[buf[:4]]
    _, _, _, _, _snap, linktype = struct.unpack(e + "HHiIII", buf[4:24])
    linktype &= 0x0fffffff  # upper bits: FCS length flags
    hdr = struct.Struct(e + "IIII")
    off, out = 24, []
    while off + 16 <= len(buf):
        sec, frac, caplen, origlen = hdr.unpack_from(buf, off)
        off += 16
        if off + caplen > len(buf):
            raise ValueError(f"record at {off - 16} runs past the end of the file")
        usec = frac // 1000 if nsec else frac
        out.append(Record(sec, usec, buf[off:off + caplen], origlen))
        off += caplen
    return linktype, out


def _read_pcapng(buf):
    off, out = 0, []
    e = "<"
    ifaces = []  # (linktype, ticks per second)
    while off + 12 <= len(buf):
        btype = struct.unpack_from(e + "I", buf, off)[0]
        if btype == 0x0A0D0D0A:
            bom = buf[off + 8:off + 12]
            e = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            ifaces = []
        blen = struct.unpack_from(e + "I", buf, off + 4)[0]
        body = buf[off + 8:off + blen - 4]
        if btype == 1:  # IDB
            lt = struct.unpack_from(e + "H", body, 0)[0]
            tsres = 1000000
            o = 8
            while o + 4 <= len(body):
                code, olen = struct.unpack_from(e + "HH", body, o)
                if code == 0:
                    break
                if code == 9 and olen >= 1:
                    v = body[o + 4]
                    tsres = 2 ** (v & 0x7f) if v & 0x80 else 10 ** v
                o += 4 + ((olen + 3) & ~3)
            ifaces.append((lt, tsres))
        elif btype == 6:  # EPB
            ifid, hi, lo, caplen, origlen = struct.unpack_from(e + "IIIII", body, 0)
            ticks = (hi << 32) | lo
            res = ifaces[ifid][1]
            sec, rem = divmod(ticks, res)
            out.append(Record(sec, rem * 1000000 // res, body[20:20 + caplen], origlen))
        elif btype == 3:  # SPB
            origlen = struct.unpack_from(e + "I", body, 0)[0]
            out.append(Record(0, 0, body[4:4 + origlen], origlen))
        off += blen
    return (ifaces[0][0] if ifaces else LT_ETHERNET), out


def read_output(ck, what, path):
    """read_capture for a file the daemon wrote: a missing or damaged file fails a check."""
    if not os.path.exists(path):
        ck.ok(False, f"{what}: {os.path.basename(path)} written")
        return None, []
    try:
        return read_capture(path)
    except (ValueError, struct.error, IndexError) as e:
        ck.ok(False, f"{what}: {os.path.basename(path)} is a readable capture", str(e))
        return None, []


def write_pcap(path, records, linktype=LT_ETHERNET, nsec=False, big_endian=False,
               snaplen=262144):
    """Classic pcap; nanosecond files store usec * 1000 + the record's extra ns (none)."""
    e = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nsec else 0xA1B2C3D4
    with open(path, "wb") as f:
        f.write(struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
        for r in records:
            frac = r.usec * 1000 + 789 if nsec else r.usec
            f.write(struct.pack(e + "IIII", r.sec, frac, r.caplen, r.origlen))
            f.write(r.data)


def write_pcapng(path, records, linktype=LT_ETHERNET):
    """Minimal pcapng: one section, one interface (microsecond resolution), EPBs."""
    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = len(body) + 12
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    with open(path, "wb") as f:
        f.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        f.write(block(1, struct.pack("<HHI", linktype, 0, 262144)))
        for r in records:
            ticks = r.sec * 1000000 + r.usec
            f.write(block(6, struct.pack("<IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF,
                                         r.caplen, r.origlen) + r.data))


# ---------------------------------------------------------------- oracle

def _u16(b, o):
    return (b[o] << 8) | b[o + 1]


def classify(frame, sip_ports=(5060,)):
    """What the L2-L4 classifier must make of an Ethernet frame.

    Returns (class counter name, ip_version, source address bytes or None,
    is_malformed). Written from the design: one optional 802.1Q tag; IPv4
    header and total length checked against the frame; IPv6 payload length
    checked; IPv6 hop-by-hop/routing/destination/AH skipped, a fragment header
    with offset or M set makes a fragment (an atomic fragment does not); UDP
    length between 8 and the IP payload; SIP when either port is a SIP port.
    """
    n = len(frame)
    if n < 14:
        return "frames_non_ip", 0, None
    et = _u16(frame, 12)
    off = 14
    if et == 0x8100:
        if n < 18:
            return "frames_non_ip", 0, None
        et = _u16(frame, 16)
        off = 18
    if et == 0x0800:
        if n < off + 20:
            return "frames_l3_malformed", 4, None
        ver, ihl = frame[off] >> 4, (frame[off] & 15) * 4
        total = _u16(frame, off + 2)
        if ver != 4 or ihl < 20 or total < ihl or off + total > n:
            return "frames_l3_malformed", 4, None
        src = frame[off + 12:off + 16]
        end = off + total
        if _u16(frame, off + 6) & 0x3FFF:
            return "frames_ip_fragment", 4, src
        if frame[off + 9] == 6:
            return _tcp(frame, off + ihl, end, sip_ports), 4, src
        if frame[off + 9] != 17:
            return "frames_ip_other", 4, src
        return _udp(frame, off + ihl, end, sip_ports), 4, src
    if et == 0x86DD:
        if n < off + 40 or frame[off] >> 4 != 6:
            return "frames_l3_malformed", 6, None
        end = off + 40 + _u16(frame, off + 4)
        if end > n:
            return "frames_l3_malformed", 6, None
        src = frame[off + 8:off + 24]
        nxt, o = frame[off + 6], off + 40
        for _ in range(8):
            if nxt in (0, 43, 60, 51):
                if o + 2 > end:
                    return "frames_l3_malformed", 6, None
                ln = (frame[o + 1] + 2) * 4 if nxt == 51 else (frame[o + 1] + 1) * 8
            elif nxt == 44:
                if o + 8 > end:
                    return "frames_l3_malformed", 6, None
                if _u16(frame, o + 2) & 0xFFF9:
                    return "frames_ip_fragment", 6, src
                ln = 8
            elif nxt == 17:
                return _udp(frame, o, end, sip_ports), 6, src
            elif nxt == 6:
                return _tcp(frame, o, end, sip_ports), 6, src
            else:
                return "frames_ip_other", 6, src
            if o + ln > end:
                return "frames_l3_malformed", 6, None
            nxt, o = frame[o], o + ln
        if nxt == 6:
            return _tcp(frame, o, end, sip_ports), 6, src
        if nxt not in (0, 43, 44, 51, 60):
            return ("frames_ip_other" if nxt != 17 else _udp(frame, o, end, sip_ports)), 6, src
        return "frames_l3_malformed", 6, None
    return "frames_non_ip", 0, None


def _udp(frame, o, end, sip_ports):
    if o + 8 > end:
        return "frames_l3_malformed"
    ulen = _u16(frame, o + 4)
    if ulen < 8 or o + ulen > end:
        return "frames_l3_malformed"
    if _u16(frame, o) in sip_ports or _u16(frame, o + 2) in sip_ports:
        return "frames_sip"
    return "frames_udp_other"


def _tcp(frame, o, end, sip_ports):
    """TCP: a header whose data offset fits is SIP over TCP on a SIP port, else other IP."""
    if o + 20 > end or (frame[o + 12] >> 4) * 4 < 20 or o + (frame[o + 12] >> 4) * 4 > end:
        return "frames_l3_malformed"
    if _u16(frame, o) in sip_ports or _u16(frame, o + 2) in sip_ports:
        return "frames_tcp_sip"
    return "frames_ip_other"


def l3_addrs(frame):
    """(source, destination) address bytes of an IPv4/IPv6 frame (one VLAN tag), or None."""
    off = 14
    if len(frame) >= 18 and _u16(frame, 12) == 0x8100:
        off = 18
    et = _u16(frame, off - 2) if len(frame) >= off else 0
    if et == 0x0800 and len(frame) >= off + 20:
        return frame[off + 12:off + 16], frame[off + 16:off + 20]
    if et == 0x86DD and len(frame) >= off + 40:
        return frame[off + 8:off + 24], frame[off + 24:off + 40]
    return None


def rss_queue(frame, n_queues, salt=0):
    """A queue for FRAME the way RSS on L3 would pick one: every frame between the
    same two addresses (fragments included) lands in the same queue."""
    import hashlib
    addrs = l3_addrs(frame)
    key = (addrs[0] + addrs[1]) if addrs else b"non-ip"
    return hashlib.sha1(bytes([salt]) + key).digest()[0] % n_queues


def replay_side(frame, prefixes, sip_ports=(5060,)):
    """Replay's direction rule: source IP inside access_prefixes = access, else core.

    Frames without a readable source (non-IP, malformed) come from core.
    """
    cls, ver, src = classify(frame, sip_ports)
    if ver == 0 or cls == "frames_l3_malformed" or src is None:
        return "core"
    addr = ipaddress.ip_address(bytes(src))
    for p in prefixes:
        net = ipaddress.ip_network(p, strict=False)
        if net.version == addr.version and addr in net:
            return "access"
    return "core"


def expected_counters(frames, sip_ports=(5060,)):
    exp = {c: 0 for c in CLASSES}
    for fr in frames:
        exp[classify(fr, sip_ports)[0]] += 1
    return exp
