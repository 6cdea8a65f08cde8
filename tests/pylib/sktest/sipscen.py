"""Builds SIP + RTP call scenarios as captures for sipkeep's replay mode.

A Scenario is a list of (time, frame) pairs; helpers add REGISTER
transactions, calls with SDP offer/answer, RTP streams both ways and in-dialog
requests, the way a phone on an access network and a call agent on the core
side would send them. Everything is generated here: the tests need no capture
from elsewhere. Below the builder: the addresses and the standard scenarios
(a basic call, a handover, several users with several calls) the replay and
live cases share.
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


# ---- the standard network: a registrar and a media end on the core side, a phone
# that moves from LTE to Wi-Fi on the access side.

REGISTRAR = Endpoint("192.0.2.10", 5060)
MEDIA = Endpoint("192.0.2.20", 5060, 20000)
REGISTRAR6 = Endpoint("2001:db8:c::10", 5060)
MEDIA6 = Endpoint("2001:db8:c::20", 5060, 20000)
PERSIST = "replaces, X-cisco-sessionpersist, X-cisco-callinfo, X-cisco-serviceuri"
NO_PERSIST = "replaces, X-cisco-callinfo"
LTE = "10.1.0.5"
WIFI = "10.2.0.7"
# SDP lines that make an INVITE or its answer too big for one frame.
PAD_SDP = tuple("a=x-cisco-pad%02d:%s" % (i, "z" * 60) for i in range(45))


def basic_call(s, phone, user="alice", call_id="call-1", t_reg=0.0, t_inv=1.0, supported=PERSIST,
               media=MEDIA, registrar=REGISTRAR, sdp_extra=(), core_sdp_extra=(), instance=None,
               from_core=False, tag="a1"):
    """REGISTER + call set-up (caller = phone unless from_core). Returns the dialog's tags."""
    if supported is not None:
        s.register(t_reg, phone, registrar, user, "reg-" + user, 1, supported, instance=instance)
    p_uri, c_uri = "sip:%s@example.com" % user, "sip:bob@example.com"
    php = Scenario.hostport(phone.ip, phone.sip_port)
    rhp = Scenario.hostport(registrar.ip, registrar.sip_port)
    phone_sdp = Scenario.sdp(phone.ip, phone.rtp_port, sdp_extra)
    core_sdp = Scenario.sdp(media.ip, media.rtp_port, core_sdp_extra)
    if not from_core:
        inv = s.dialog_headers(p_uri, c_uri, call_id, 1, "INVITE", php, tag, contact="sip:%s@%s" % (user, php))
        s.sip(t_inv, phone, registrar, "INVITE sip:bob@example.com SIP/2.0", inv, phone_sdp)
        r = [h.replace("To: <%s>" % c_uri, "To: <%s>;tag=b1" % c_uri) for h in inv[:5]]
        s.sip(t_inv + 0.02, registrar, phone, "SIP/2.0 100 Trying", inv[:5], from_access=False)
        s.sip(t_inv + 0.05, registrar, phone, "SIP/2.0 180 Ringing", r, from_access=False)
        s.sip(t_inv + 0.1, registrar, phone, "SIP/2.0 200 OK", r + ["Contact: <sip:bob@%s>" % rhp],
              core_sdp, from_access=False)
        ack = s.dialog_headers(p_uri, c_uri, call_id, 1, "ACK", php, tag, "b1")
        s.sip(t_inv + 0.12, phone, registrar, "ACK sip:bob@%s SIP/2.0" % rhp, ack)
        return {"caller": p_uri, "callee": c_uri, "ftag": tag, "ttag": "b1", "phone_is_caller": True}
    inv = s.dialog_headers(c_uri, p_uri, call_id, 1, "INVITE", rhp, tag, contact="sip:bob@%s" % rhp)
    s.sip(t_inv, registrar, phone, "INVITE sip:%s@%s SIP/2.0" % (user, php), inv, core_sdp, from_access=False)
    r = [h.replace("To: <%s>" % p_uri, "To: <%s>;tag=b1" % p_uri) for h in inv[:5]]
    s.sip(t_inv + 0.05, phone, registrar, "SIP/2.0 180 Ringing", r)
    s.sip(t_inv + 0.1, phone, registrar, "SIP/2.0 200 OK", r + ["Contact: <sip:%s@%s>" % (user, php)], phone_sdp)
    ack = s.dialog_headers(c_uri, p_uri, call_id, 1, "ACK", rhp, tag, "b1")
    s.sip(t_inv + 0.12, registrar, phone, "ACK sip:%s@%s SIP/2.0" % (user, php), ack, from_access=False)
    return {"caller": c_uri, "callee": p_uri, "ftag": tag, "ttag": "b1", "phone_is_caller": False}


def media_both_ways(s, phone_ip, phone_port, media, t0, t1, ssrc_up=0x1111, ssrc_down=0x2222,
                    rtcp=True, phone_rtcp=None, media_rtcp=None):
    s.rtp(t0, t1, phone_ip, phone_port, media.ip, media.rtp_port, ssrc_up, True)
    s.rtp(t0 + 0.01, t1, media.ip, media.rtp_port, phone_ip, phone_port, ssrc_down, False)
    if rtcp:
        s.rtp(t0 + 0.5, t1, phone_ip, phone_rtcp or phone_port + 1, media.ip, media_rtcp or media.rtp_port + 1,
              ssrc_up, True, interval=1.0, rtcp=True)
        s.rtp(t0 + 0.7, t1, media.ip, media_rtcp or media.rtp_port + 1, phone_ip, phone_rtcp or phone_port + 1,
              ssrc_down, False, interval=1.0, rtcp=True)


def handover_scenario(supported_new=PERSIST, t_rereg=8.0, status=200, third_party=False,
                      vlan=None, v6=False, rtcp_mux=False, new_rtp_port=4010):
    """One call, the phone goes silent at 5 s (LTE lost) and re-registers from Wi-Fi at t_rereg."""
    s = Scenario(vlan=vlan)
    reg, media = (REGISTRAR6, MEDIA6) if v6 else (REGISTRAR, MEDIA)
    old = Endpoint("2001:db8:a:1::5" if v6 else LTE, 5060, 4000)
    new = Endpoint("2001:db8:a:2::7" if v6 else WIFI, 5062, new_rtp_port)
    extra = ("a=rtcp-mux",) if rtcp_mux else ()
    tags = basic_call(s, old, registrar=reg, media=media, sdp_extra=extra, core_sdp_extra=extra)
    rtcp_port = 4000 if rtcp_mux else 4001
    media_both_ways(s, old.ip, 4000, media, 1.2, 5.0, phone_rtcp=rtcp_port,
                    media_rtcp=20000 if rtcp_mux else 20001)
    # The core keeps sending to the old address while the phone is away.
    t_bye = t_rereg + 7.0
    s.rtp(5.01, t_bye, media.ip, 20000, old.ip, 4000, 0x2222, False, interval=0.02, pt=0)
    if status is None:
        # The re-REGISTER gets no answer of its own; a late 200 OK for CSeq 1 shows up instead.
        s.register(t_rereg, new, reg, "alice", "reg-alice", 2, supported_new, answer=False)
        s.register(t_rereg + 0.05, old, reg, "alice", "reg-alice", 1, None, answer=True, request=False,
                   answer_to=new)
    else:
        s.register(t_rereg, new, reg, "alice", "reg-alice", 2, supported_new, status=status)
    s.rtp(t_rereg + 0.2, t_bye, new.ip, new.rtp_port, media.ip, 20000, 0x3333, True)
    if not rtcp_mux:
        s.rtp(t_rereg + 0.3, t_bye, new.ip, new.rtp_port + 1, media.ip, 20001, 0x3333, True, interval=1.0,
              rtcp=True)
        s.rtp(t_rereg + 0.4, t_bye, media.ip, 20001, old.ip, 4001, 0x2222, False, interval=1.0, rtcp=True)
    if third_party:
        # Same SSRC as the phone, from an address nobody registered: never latched.
        s.rtp(t_rereg + 0.1, t_rereg + 2, "10.9.9.9", 4010, media.ip, 20000, 0x3333, True)
    # In-dialog request from core to the old contact (after the move: redirected).
    hdrs = s.dialog_headers("sip:bob@example.com", "sip:alice@example.com", "call-1", 2, "INFO",
                            Scenario.hostport(reg.ip, 5060), "b1", "a1")
    s.sip(t_bye - 1.0, reg, old, "INFO sip:alice@%s SIP/2.0" % Scenario.hostport(old.ip, 5060), hdrs,
          from_access=False)
    bye = s.dialog_headers("sip:alice@example.com", "sip:bob@example.com", "call-1", 2, "BYE",
                           Scenario.hostport(new.ip, 5062), "a1", "b1")
    s.sip(t_bye, new, reg, "BYE sip:bob@%s SIP/2.0" % Scenario.hostport(reg.ip, 5060), bye)
    s.sip(t_bye + 0.05, reg, new, "SIP/2.0 200 OK", bye[:5], from_access=False)
    # Unregister, and a last frame later than every linger and timer.
    s.register(t_bye + 1.0, new, reg, "alice", "reg-alice", 3, supported_new, expires=0)
    s.udp(t_bye + 5.0, "192.0.2.99", 9, "192.0.2.98", 9, b"tick", False)
    flows = [(4000, media.ip, 20000)] + ([] if rtcp_mux else [(4001, media.ip, 20001)])
    return s, old, new, flows


class Call:
    def __init__(self, call_id, old_rtp, new_rtp, media_port, from_core=False):
        self.call_id, self.old_rtp, self.new_rtp = call_id, old_rtp, new_rtp
        self.media_port, self.from_core = media_port, from_core


class User:
    def __init__(self, name, old_ip, new_ip, calls, moves=True, new_sip_port=5062):
        self.name, self.old_ip, self.new_ip, self.calls, self.moves = name, old_ip, new_ip, calls, moves
        self.new_sip_port = new_sip_port


def general_scenario(users, t_rereg=8.0, expires=3600, hold_sdp_port=None):
    """Several users, several calls each; users with moves=True lose media at 5 s and re-register
    from their new address at t_rereg; the others keep talking from where they are."""
    s = Scenario()
    t_bye = t_rereg + 7.0
    for ui, u in enumerate(users):
        old = Endpoint(u.old_ip, 5060, None)
        new = Endpoint(u.new_ip, u.new_sip_port, None)
        s.register(0.1 * ui, old, REGISTRAR, u.name, "reg-" + u.name, 1, PERSIST, expires=expires)
        for ci, c in enumerate(u.calls):
            media = Endpoint(MEDIA.ip, 5060, c.media_port)
            phone = Endpoint(u.old_ip, 5060, c.old_rtp)
            basic_call(s, phone, user=u.name, call_id=c.call_id, supported=None, media=media,
                       t_inv=1.0 + 0.2 * ci + 0.05 * ui, from_core=c.from_core, tag="t-" + c.call_id)
            t_stop = 5.0 if u.moves else t_bye
            media_both_ways(s, u.old_ip, c.old_rtp, media, 1.5, t_stop, ssrc_up=0x1000 + ci,
                            ssrc_down=0x2000 + ci)
            if u.moves:
                s.rtp(5.01, t_bye, MEDIA.ip, c.media_port, u.old_ip, c.old_rtp, 0x2000 + ci, False)
                s.rtp(t_rereg + 0.2, t_bye, u.new_ip, c.new_rtp, MEDIA.ip, c.media_port, 0x3000 + ci, True)
            caller, callee = ("sip:bob@example.com", "sip:%s@example.com" % u.name) if c.from_core else \
                ("sip:%s@example.com" % u.name, "sip:bob@example.com")
            ftag, ttag = "t-" + c.call_id, "b1"
            src = new if u.moves else old
            hp = Scenario.hostport(src.ip, src.sip_port)
            if c.from_core:
                bye = s.dialog_headers(callee, caller, c.call_id, 2, "BYE", hp, ttag, ftag)
                bye[1], bye[2] = "From: <%s>;tag=%s" % (callee, ttag), "To: <%s>;tag=%s" % (caller, ftag)
            else:
                bye = s.dialog_headers(caller, callee, c.call_id, 2, "BYE", hp, ftag, ttag)
            s.sip(t_bye + 0.01 * ci, src, REGISTRAR, "BYE sip:bob@192.0.2.10:5060 SIP/2.0", bye)
            s.sip(t_bye + 0.01 * ci + 0.05, REGISTRAR, src, "SIP/2.0 200 OK", bye[:5], from_access=False)
        if u.moves:
            s.register(t_rereg + 0.01 * ui, new, REGISTRAR, u.name, "reg-" + u.name, 2, PERSIST, expires=expires)
        if expires == 3600:
            s.register(t_bye + 1.0 + 0.01 * ui, new if u.moves else old, REGISTRAR, u.name, "reg-" + u.name, 3,
                       PERSIST, expires=0)
    s.udp(max(t_bye + 5.0, t_rereg + expires + 2.0), "192.0.2.99", 9, "192.0.2.98", 9, b"tick", False)
    return s
