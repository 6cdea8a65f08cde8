"""Builds SIP + RTP call scenarios as captures for sipkeep's replay mode.

A Scenario is a list of (time, frame) pairs; helpers add REGISTER
transactions, calls with SDP offer/answer, RTP streams both ways and in-dialog
requests, the way a phone on an access network and a call agent on the core
side would send them. Everything is generated here: the tests need no capture
from elsewhere.
"""
import struct

from scapy.all import Ether, IP, IPv6, UDP, Dot1Q, Raw, wrpcap, rdpcap, fragment  # noqa: F401
from scapy.layers.inet6 import IPv6ExtHdrFragment  # noqa: F401

PHONE_MAC = "02:00:00:00:0a:01"
CORE_MAC = "02:00:00:00:0c:01"


def is_v6(addr):
    return ":" in addr


class Endpoint:
    def __init__(self, ip, sip_port=5060, rtp_port=None):
        self.ip = ip
        self.sip_port = sip_port
        self.rtp_port = rtp_port


class Scenario:
    def __init__(self, vlan=None):
        self.frames = []  # (t, scapy frame)
        self.vlan = vlan
        self.cseq = {}

    # -- frames -----------------------------------------------------------
    def udp(self, t, src, sport, dst, dport, payload, from_access, frag=None):
        ip = (IPv6(src=src, dst=dst) if is_v6(src) else IP(src=src, dst=dst, id=len(self.frames) & 0xFFFF))
        eth = Ether(src=PHONE_MAC, dst=CORE_MAC) if from_access else Ether(src=CORE_MAC, dst=PHONE_MAC)
        if self.vlan is not None:
            eth = eth / Dot1Q(vlan=self.vlan)
        frame = eth / ip / UDP(sport=sport, dport=dport) / Raw(payload)
        frame = frame.__class__(bytes(frame))  # fix checksums and lengths now
        if frag and len(payload) > frag:
            if is_v6(src):
                from scapy.layers.inet6 import fragment6
                eth, ip6 = frame.copy(), frame[IPv6].copy()
                eth.remove_payload() if self.vlan is None else eth[Dot1Q].remove_payload()
                ip6 = IPv6(src=ip6.src, dst=ip6.dst) / IPv6ExtHdrFragment(id=len(self.frames)) / ip6[UDP]
                pieces = [eth / p for p in fragment6(ip6, frag + 48)]
            else:
                pieces = fragment(frame, fragsize=frag)
            for p in pieces:
                p = p.__class__(bytes(p))
                self.frames.append((t, p))
            return frame
        self.frames.append((t, frame))
        return frame

    def write(self, path):
        self.frames.sort(key=lambda tf: tf[0])
        pkts = []
        for t, f in self.frames:
            f.time = t
            pkts.append(f)
        wrpcap(path, pkts)

    # -- SIP ----------------------------------------------------------------
    @staticmethod
    def hostport(ip, port):
        return ("[%s]:%d" % (ip, port)) if is_v6(ip) else ("%s:%d" % (ip, port))

    def sip(self, t, src, dst, start, headers, body=b"", from_access=True, content_type="application/sdp",
            frag=None):
        lines = [start] + headers
        if body:
            lines.append("Content-Type: " + content_type)
        lines.append("Content-Length: %d" % len(body))
        msg = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        return self.udp(t, src.ip, src.sip_port, dst.ip, dst.sip_port, msg, from_access, frag=frag)

    def register(self, t, phone, registrar, user, call_id, cseq, supported, status=200,
                 expires=3600, answer_after=0.05, instance=None, answer=True, request=True, answer_to=None,
                 body=b"", content_type=None, frag=None):
        contact = "<sip:%s@%s>" % (user, self.hostport(phone.ip, phone.sip_port))
        if instance:
            contact += ';+sip.instance="<urn:uuid:%s>"' % instance
        hdrs = [
            "Via: SIP/2.0/UDP %s;branch=z9hG4bK-reg-%d;rport" % (self.hostport(phone.ip, phone.sip_port), cseq),
            "From: <sip:%s@example.com>;tag=reg%d" % (user, cseq),
            "To: <sip:%s@example.com>" % user,
            "Call-ID: %s" % call_id,
            "CSeq: %d REGISTER" % cseq,
            "Contact: %s" % contact,
            "Expires: %d" % expires,
            "Max-Forwards: 70",
        ]
        if supported:
            hdrs.append("Supported: %s" % supported)
        if request:
            self.sip(t, phone, registrar, "REGISTER sip:example.com SIP/2.0", hdrs, body, content_type=content_type,
                     frag=frag)
        if answer:
            resp = [h for h in hdrs if not h.startswith(("Supported", "Max-Forwards"))]
            resp[2] = resp[2] + ";tag=registrar"
            reason = {200: "OK", 401: "Unauthorized", 403: "Forbidden"}.get(status, "Whatever")
            self.sip(t + answer_after, registrar, answer_to or phone, "SIP/2.0 %d %s" % (status, reason), resp,
                     from_access=False)

    @staticmethod
    def sdp(ip, port, extra=(), media="audio", more_media=()):
        fam = "IP6" if is_v6(ip) else "IP4"
        lines = ["v=0", "o=- 1 1 IN %s %s" % (fam, ip), "s=-", "c=IN %s %s" % (fam, ip), "t=0 0",
                 "m=%s %d RTP/AVP 0 8 101" % (media, port)] + list(extra)
        for m in more_media:
            lines += ["m=%s %d RTP/AVP 96" % (m[0], m[1])] + list(m[2] if len(m) > 2 else ())
        return ("\r\n".join(lines) + "\r\n").encode()

    def dialog_headers(self, caller_uri, callee_uri, call_id, cseq, method, via_hp, from_tag, to_tag=None,
                       contact=None):
        h = ["Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s-%d-%s" % (via_hp, call_id, cseq, method),
             "From: <%s>;tag=%s" % (caller_uri, from_tag),
             "To: <%s>%s" % (callee_uri, (";tag=" + to_tag) if to_tag else ""),
             "Call-ID: %s" % call_id,
             "CSeq: %d %s" % (cseq, method)]
        if contact:
            h.append("Contact: <%s>" % contact)
        return h

    def rtp(self, t0, t1, src_ip, sport, dst_ip, dport, ssrc, from_access, interval=0.02, pt=0, rtcp=False):
        t, seq = t0, 1
        while t < t1 - 1e-9:
            if rtcp:
                payload = struct.pack("!BBHI", 0x80, 200, 6, ssrc) + b"\0" * 20
            else:
                payload = struct.pack("!BBHII", 0x80, pt, seq & 0xFFFF, (seq * 160) & 0xFFFFFFFF, ssrc) + b"\xd5" * 160
            self.udp(round(t, 6), src_ip, sport, dst_ip, dport, payload, from_access)
            t += interval
            seq += 1


def read_frames(path):
    """(timestamp, bytes) of every record of a pcap file, without scapy (fast)."""
    out = []
    with open(path, "rb") as f:
        hdr = f.read(24)
        magic = struct.unpack("<I", hdr[:4])[0]
        endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            sec, frac, caplen, _ = struct.unpack(endian + "IIII", rec)
            out.append((sec + frac / (1e9 if nano else 1e6), f.read(caplen)))
    return out
