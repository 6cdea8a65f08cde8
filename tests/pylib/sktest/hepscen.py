"""HEP (HEPv3) frames and TLS-phone scenarios for sipkeep's replay mode.

hep3() builds one HEPv3 frame the way Kamailio's siptrace, OpenSIPS or
Asterisk send it. HepScenario is a sipscen.Scenario whose SIP between a TLS
phone and its TLS edge goes on the wire as opaque TLS records (TCP to
sip_tls_port) and, decrypted, as HEP from the edge to sipkeep's hep_listen:
the shape a packet box sees in front of a TLS endpoint that mirrors its
signalling. The live tests may build their HEP with hep3() too.
"""
import os
import socket
import struct

from scapy.all import Ether, IP, IPv6, TCP, UDP, Raw  # noqa: F401

from sktest.sipscen import CORE_MAC, PHONE_MAC, Scenario, is_v6

HEP_LISTEN = ("192.0.2.60", 9060)
HEP_SENDER = "192.0.2.10"  # the TLS edge (also the registrar of sipscen.REGISTRAR)
TLS_PORT = 5061


def chunk(ctype, data, vendor=0):
    return struct.pack("!HHH", vendor, ctype, len(data) + 6) + data


def hep3(src, sport, dst, dport, payload, proto=6, auth=None, capture_id=2001, ts=(1700000000, 0),
         proto_type=1, extra=b""):
    """One HEPv3 frame carrying PAYLOAD (bytes; None: no payload chunk) seen from src:sport to
    dst:dport; EXTRA: more chunks before the payload."""
    v6 = is_v6(src)
    def pack(a):
        return socket.inet_pton(socket.AF_INET6 if v6 else socket.AF_INET, a)

    body = chunk(1, bytes([10 if v6 else 2])) + chunk(2, bytes([proto]))
    body += chunk(5 if v6 else 3, pack(src)) + chunk(6 if v6 else 4, pack(dst))
    body += chunk(7, struct.pack("!H", sport)) + chunk(8, struct.pack("!H", dport))
    body += chunk(9, struct.pack("!I", ts[0])) + chunk(10, struct.pack("!I", ts[1]))
    body += chunk(11, bytes([proto_type])) + chunk(12, struct.pack("!I", capture_id))
    if auth is not None:
        body += chunk(14, auth.encode() if isinstance(auth, str) else auth)
    body += extra + (chunk(15, payload) if payload is not None else b"")
    return b"HEP3" + struct.pack("!H", len(body) + 6) + body


class HepScenario(Scenario):
    """SIP to or from TLS_PORT becomes a TLS record on the wire plus its HEP mirror.

    mirror_delay: how long after the wire record the mirror copy arrives; copies: HEP copies
    of each message (2: a proxy mirroring what it received and what it sent); clear_too: the SIP
    also crosses the wire in clear (UDP), as for a proxy that mirrors UDP signalling;
    hep_from: the HEP sender; auth: the auth key chunk (None: none)."""

    def __init__(self, mirror_delay=0.002, copies=1, clear_too=False, hep_from=HEP_SENDER, auth=None):
        super().__init__()
        self.mirror_delay, self.copies, self.clear_too = mirror_delay, copies, clear_too
        self.hep_from, self.auth = hep_from, auth
        self.tcp_seq = {}
        self.delay_for = {}  # first line -> mirror delay for it
        self.n_hep = 0

    def hep_udp(self, t, payload, src=None):
        """A UDP datagram to hep_listen (HEP or anything else)."""
        self.udp(t, src or self.hep_from, 9061, HEP_LISTEN[0], HEP_LISTEN[1], payload, False)
        self.n_hep += 1

    def tls_record(self, t, src, sport, dst, dport, n, from_access):
        """Opaque TLS application data on the wire (what sipkeep must pass untouched)."""
        key = (src, sport, dst, dport)
        seq = self.tcp_seq.get(key, 1000)
        rec = b"\x17\x03\x03" + struct.pack("!H", n) + os.urandom(n)
        self.tcp_seq[key] = seq + len(rec)
        ip = IPv6(src=src, dst=dst) if is_v6(src) else IP(src=src, dst=dst)
        eth = Ether(src=PHONE_MAC, dst=CORE_MAC) if from_access else Ether(src=CORE_MAC, dst=PHONE_MAC)
        f = eth / ip / TCP(sport=sport, dport=dport, flags="PA", seq=seq, ack=1) / Raw(rec)
        self.frames.append((t, f.__class__(bytes(f))))

    def sip(self, t, src, dst, start, headers, body=b"", from_access=True, content_type="application/sdp",
            frag=None):
        if TLS_PORT not in (src.sip_port, dst.sip_port):
            return super().sip(t, src, dst, start, headers, body, from_access, content_type, frag)
        lines = [start] + headers
        if body:
            lines.append("Content-Type: " + content_type)
        lines.append("Content-Length: %d" % len(body))
        msg = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        if self.clear_too:
            self.udp(t, src.ip, src.sip_port, dst.ip, dst.sip_port, msg, from_access)
        else:
            self.tls_record(t, src.ip, src.sip_port, dst.ip, dst.sip_port, len(msg) + 24, from_access)
        delay = self.delay_for.get(start, self.mirror_delay)
        for c in range(self.copies):
            self.hep_udp(round(t + delay + 0.0005 * c, 6),
                         hep3(src.ip, src.sip_port, dst.ip, dst.sip_port, msg, auth=self.auth))
        return None


def wire_only(frames):
    """The frames of a capture that leave: all but those to hep_listen."""
    out = []
    for t, raw in frames:
        p = Ether(raw)
        if UDP in p and IP in p and p[IP].dst == HEP_LISTEN[0] and p[UDP].dport == HEP_LISTEN[1]:
            continue
        out.append((t, raw))
    return out


def hep_commit_index(frames, cseq):
    """Index, among the wire frames, of the last frame before the mirrored 200 OK that commits the
    REGISTER with this CSeq (-1: before every frame)."""
    n = -1
    for t, raw in frames:
        p = Ether(raw)
        if UDP in p and IP in p and p[IP].dst == HEP_LISTEN[0] and p[UDP].dport == HEP_LISTEN[1]:
            if b"SIP/2.0 200 OK" in raw and (b"CSeq: %d REGISTER" % cseq) in raw:
                return n
            continue
        n += 1
    raise AssertionError("no mirrored 200 OK for REGISTER CSeq %d" % cseq)
