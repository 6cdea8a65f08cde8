# SPDX-License-Identifier: BSD-3-Clause
"""SIP over TCP as captures for sipkeep's replay mode (issue 13), and the checks of
what comes out.

- TcpConn: one TCP connection (client ip:port <-> server ip:port, IPv4 or IPv6,
  optional VLAN tag) whose frames go into a sipscen.Scenario, so that a capture
  can mix TCP signalling with the Scenario's UDP media. Handshake, messages sent
  whole or split (at offsets or into N segments), segments emitted by stream
  offset (so a test can reorder, duplicate or drop them), ACKs, FIN and RST;
  sequence/acknowledgement numbers and checksums are right. Each direction keeps
  the bytes sent AND the bytes the test expects sipkeep to forward for them (a
  length-preserving rewrite never moves a byte), so the expected output segment
  of any input segment is a slice of the expected stream.
- Cisco-shaped messages: a REGISTER with a multipart remotecc body (1.5-3 KB),
  requests and responses with `Call-Info: <urn:x-cisco-remotecc:...>` lines.
- The pad rule of the contract, modelled independently of sipkeep (pad_line,
  CallInfo.render_tcp): the expected bytes of a rewritten message.
- compare_streams(): every output frame against the model, per direction (a held
  segment may leave later than frames of other directions), timestamps kept.
- tshark_tcp_report(): what tshark makes of a capture with checksum validation
  on: bad checksums, malformed, TCP analysis flags, expert infos, SIP messages.
"""
import struct
import subprocess

from scapy.all import Ether, IP, IPv6, TCP, UDP, Dot1Q, Raw

from sktest.checks import Failure, check
from sktest.sipscen import CORE_MAC, PHONE_MAC, Scenario, is_v6

RCC = "<urn:x-cisco-remotecc:callinfo>;security= NotAuthenticated;orientation= to;gci= 1-4711;isVoip;call-instance= 1"
RCC2 = "<urn:X-Cisco-RemoteCC:hold>;x=1"
ICON = "<http://www.example.com/alice/photo.jpg>;purpose=icon"
INFO = "<http://www.example.com/alice/>;purpose=info"
CISCO_SUPPORTED = ("replaces,join,sdp-anat,norefersub,resource-priority,extended-refer,X-cisco-callinfo,"
                   "X-cisco-serviceuri,X-cisco-escapecodes,X-cisco-service-control,X-cisco-srtp-fallback,"
                   "X-cisco-monrec,X-cisco-config,X-cisco-sis-7.0.0,X-cisco-xsi-8.5.1,X-cisco-sessionpersist")
SUPPORTED_NO_CALLINFO = "replaces,join,norefersub,X-cisco-serviceuri,X-cisco-sessionpersist"


# ---- the pad rule (the contract), as an independent model ----------------------------------------

def pad_line(n):
    """A header line of exactly n bytes (CRLF included) that fills n removed bytes."""
    if n >= 17:
        return b"X-Sipkeep-Pad:" + b" " * (n - 16) + b"\r\n"
    if n < 4:
        raise ValueError("the contract says a removed count is always >= 4 (got %d)" % n)
    return b"X:" + b" " * (n - 4) + b"\r\n"


def is_remotecc(v):
    return "urn:x-cisco-remotecc:" in v.lower()


class CallInfo:
    """One Call-Info header line (its values, their separator, its name)."""

    def __init__(self, values, sep=", ", name="Call-Info: "):
        self.values, self.sep, self.name = list(values), sep, name

    def line(self):
        return (self.name + self.sep.join(self.values) + "\r\n").encode()

    def removed(self):
        return sum(1 for v in self.values if is_remotecc(v))

    def render_tcp(self, drop):
        """The line as sipkeep must forward it over TCP: same length."""
        orig = self.line()
        kept = [v for v in self.values if not is_remotecc(v)] if drop else self.values
        if len(kept) == len(self.values):
            return orig
        if not kept:
            return pad_line(len(orig))
        short = (self.name + self.sep.join(kept) + "\r\n").encode()
        return short + pad_line(len(orig) - len(short))


def sip_message(start, headers, body=b"", content_type="application/sdp", drop=False):
    """A SIP message; headers are strings or CallInfo lines. drop: the remotecc values go
    by the TCP pad rule (the message keeps its length)."""
    out = [(start + "\r\n").encode()]
    for h in headers:
        out.append(h.render_tcp(drop) if isinstance(h, CallInfo) else (h + "\r\n").encode())
    if body:
        out.append(("Content-Type: %s\r\n" % content_type).encode())
    out.append(("Content-Length: %d\r\n\r\n" % len(body)).encode())
    return b"".join(out) + body


def header_block_len(msg):
    return msg.index(b"\r\n\r\n") + 4


# ---- Cisco-shaped messages -------------------------------------------------------------------------

def remotecc_body(lines=24):
    xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<x-cisco-remotecc-request>\r\n"
           + "".join("<bulkregisterreq><contact all=\"true\"><register></register></contact>"
                     "<line>%d</line></bulkregisterreq>\r\n" % i for i in range(lines))
           + "</x-cisco-remotecc-request>\r\n")
    b = "uniqueBoundary"
    body = ("--%s\r\nContent-Type: application/x-cisco-remotecc-request+xml\r\nContent-Disposition: session;"
            "handling=required\r\n\r\n%s\r\n--%s--\r\n" % (b, xml, b)).encode()
    return body, "multipart/mixed; boundary=%s" % b


def cisco_register(phone_ip, phone_port, registrar_ip, user, call_id, cseq, supported=CISCO_SUPPORTED,
                   expires=3600, instance="00000000-0000-0000-0000-00aabbcc%04x", body_lines=12):
    """A Cisco REGISTER over TCP (multipart remotecc body) and the registrar's 200 OK for it."""
    hp = Scenario.hostport(phone_ip, phone_port)
    if "%" in instance:
        instance = instance % (sum(user.encode()) & 0xFFFF)
    hdrs = ["Via: SIP/2.0/TCP %s;branch=z9hG4bK-reg-%s-%d" % (hp, call_id, cseq),
            "From: <sip:%s@example.com>;tag=reg-%s" % (user, call_id),
            "To: <sip:%s@example.com>" % user,
            "Call-ID: %s" % call_id,
            "Max-Forwards: 70",
            "Date: Sat, 05 Dec 2026 10:00:00 GMT",
            "CSeq: %d REGISTER" % cseq,
            "User-Agent: Cisco-CP8865/14.2.1",
            "Contact: <sip:%s@%s;transport=tcp>;+sip.instance=\"<urn:uuid:%s>\";+u.sip!devicename.ccm.cisco.com="
            "\"SEP00AABBCC%04X\";+u.sip!model.ccm.cisco.com=\"36670\"" % (user, hp, instance,
                                                                         sum(user.encode()) & 0xFFFF),
            "Supported: %s" % supported,
            "Reason: SIP;cause=200;text=\"cisco-alarm:25 Name=SEP00AABBCC Load=sip8845_65.14-2-1\"",
            "Expires: %d" % expires]
    body, ctype = remotecc_body(body_lines)
    req = sip_message("REGISTER sip:%s SIP/2.0" % (("[%s]" % registrar_ip) if is_v6(registrar_ip) else registrar_ip),
                      hdrs, body, ctype)
    resp_h = [h for h in hdrs[:4]] + ["CSeq: %d REGISTER" % cseq, hdrs[8], "Expires: %d" % expires]
    resp_h[2] += ";tag=registrar"
    resp = sip_message("SIP/2.0 200 OK", resp_h)
    return req, resp


def dialog_headers(caller, callee, call_id, cseq, method, via_hp, ftag, ttag=None, contact=None, transport="TCP"):
    h = ["Via: SIP/2.0/%s %s;branch=z9hG4bK-%s-%d-%s" % (transport, via_hp, call_id, cseq, method),
         "From: <%s>;tag=%s" % (caller, ftag),
         "To: <%s>%s" % (callee, (";tag=" + ttag) if ttag else ""),
         "Call-ID: %s" % call_id,
         "CSeq: %d %s" % (cseq, method),
         "Max-Forwards: 70"]
    if contact:
        h.append("Contact: <%s;transport=tcp>" % contact)
    return h


# ---- frames ------------------------------------------------------------------------------------------

class TcpConn:
    """A TCP connection whose frames go into scen (a sipscen.Scenario). Sides: 'c' (client, the
    one that connects; on the access side unless client_from_access is False) and 's'."""

    def __init__(self, scen, client_ip, client_port, server_ip, server_port=5060, client_from_access=True,
                 vlan=None, isn_c=0x1000_0000, isn_s=0x7000_0000, window=65535):
        self.scen = scen
        self.addr = {"c": (client_ip, client_port), "s": (server_ip, server_port)}
        self.access = {"c": client_from_access, "s": not client_from_access}
        self.vlan = scen.vlan if vlan is None else vlan
        self.isn = {"c": isn_c & 0xFFFFFFFF, "s": isn_s & 0xFFFFFFFF}
        self.next = {"c": 0, "s": 0}          # next stream offset each side sends
        self.fin_sent = {"c": False, "s": False}
        self.syn_seen = False
        self.stream = {"c": bytearray(), "s": bytearray()}   # what each side sent
        self.expect = {"c": bytearray(), "s": bytearray()}   # what sipkeep must forward for it
        self.received = {"c": 0, "s": 0}      # what each side has received of the other's stream
        self.window = window
        scen.__dict__.setdefault("tcp_conns", []).append(self)

    @staticmethod
    def other(side):
        return "s" if side == "c" else "c"

    def key(self, side):
        """(src ip, src port, dst ip, dst port) of the segments SIDE sends."""
        return self.addr[side] + self.addr[self.other(side)]

    def seq_of(self, side, off):
        return (self.isn[side] + 1 + off) & 0xFFFFFFFF

    def offset_of(self, side, seq):
        return (seq - self.isn[side] - 1) & 0xFFFFFFFF

    def frame(self, t, side, seq, ack, flags, payload=b"", options=()):
        (sip, sport), (dip, dport) = self.addr[side], self.addr[self.other(side)]
        if is_v6(sip):
            ip = IPv6(src=sip, dst=dip)
        else:
            ip = IP(src=sip, dst=dip, id=len(self.scen.frames) & 0xFFFF, flags="DF")
        eth = Ether(src=PHONE_MAC, dst=CORE_MAC) if self.access[side] else Ether(src=CORE_MAC, dst=PHONE_MAC)
        if self.vlan is not None:
            eth = eth / Dot1Q(vlan=self.vlan)
        tcp = TCP(sport=sport, dport=dport, seq=seq, ack=ack if "A" in flags else 0, flags=flags,
                  window=self.window, options=list(options))
        f = eth / ip / tcp
        if payload:
            f = f / Raw(payload)
        f = f.__class__(bytes(f))
        self.scen.frames.append((round(t, 6), f))
        return f

    def ack_value(self, side):
        o = self.other(side)
        if not self.syn_seen:
            return 0
        return (self.isn[o] + 1 + self.received[side] + (1 if self.fin_sent[o] and self.received[side] >=
                                                         self.next[o] else 0)) & 0xFFFFFFFF

    # -- connection ------------------------------------------------------------------------------------
    def handshake(self, t, rtt=0.002):
        self.syn_seen = True
        mss = [("MSS", 1460 if not is_v6(self.addr["c"][0]) else 1440), ("SAckOK", b"")]
        self.frame(t, "c", self.isn["c"], 0, "S", options=mss)
        self.frame(t + rtt / 2, "s", self.isn["s"], self.seq_of("c", 0), "SA", options=mss)
        self.frame(t + rtt, "c", self.seq_of("c", 0), self.seq_of("s", 0), "A")
        return t + rtt

    def midstream(self):
        """No handshake in the capture: the connection was up before it started."""
        self.syn_seen = True

    # -- payload ---------------------------------------------------------------------------------------
    def put(self, side, msg, expect=None):
        """Append msg to SIDE's stream without sending it; returns its stream offset. expect: the
        bytes sipkeep must forward instead (same length; default msg)."""
        expect = msg if expect is None else expect
        if len(expect) != len(msg):
            raise ValueError("a TCP rewrite keeps the length (%d vs %d)" % (len(msg), len(expect)))
        off = self.next[side]
        self.stream[side] += msg
        self.expect[side] += expect
        self.next[side] += len(msg)
        return off

    def segment(self, t, side, off, data=None, length=None, flags="PA", ack=None):
        """Emit the segment of SIDE's stream at offset off (data: the stream's bytes there by
        default; length: how many). The receiver's view is not updated (see ack())."""
        if data is None:
            data = bytes(self.stream[side][off:off + (length if length is not None else len(self.stream[side]) - off)])
        elif bytes(self.stream[side][off:off + len(data)]) != data:
            raise ValueError("segment data is not the stream's bytes at offset %d" % off)
        return self.frame(t, side, self.seq_of(side, off), self.ack_value(side) if ack is None else ack, flags, data)

    def deliver(self, side, upto=None):
        """The other side has received SIDE's stream up to offset upto (default all sent)."""
        self.received[self.other(side)] = self.next[side] if upto is None else upto

    def ack(self, t, side):
        """A pure ACK from SIDE for what it has received."""
        return self.frame(t, side, self.seq_of(side, self.next[side] + (1 if self.fin_sent[side] else 0)),
                          self.ack_value(side), "A")

    @staticmethod
    def cuts(n_bytes, splits=None, n=None):
        if splits is None:
            n = n or 1
            splits = [n_bytes * k // n for k in range(1, n)]
        pts = [0] + sorted(splits) + [n_bytes]
        if any(b <= a for a, b in zip(pts, pts[1:])):
            raise ValueError("bad split points %r for %d bytes" % (splits, n_bytes))
        return list(zip(pts, pts[1:]))

    def send(self, t, side, msg, splits=None, n=None, expect=None, dt=0.0005, ack_after=0.001):
        """SIDE sends msg (split at the given offsets of msg, or into n segments), back to back;
        the other side ACKs it all ack_after later (None: no ACK). Returns the segments'
        (stream offset, length) and the time after the last frame."""
        base = self.put(side, msg, expect)
        pieces = []
        for i, (a, b) in enumerate(self.cuts(len(msg), splits, n)):
            self.segment(t + i * dt, side, base + a, length=b - a)
            pieces.append((base + a, b - a))
        t_end = t + (len(pieces) - 1) * dt
        self.deliver(side)
        if ack_after is not None:
            t_end += ack_after
            self.ack(t_end, self.other(side))
        return pieces, t_end

    def fin(self, t, side, ack_after=0.001):
        self.frame(t, side, self.seq_of(side, self.next[side]), self.ack_value(side), "FA")
        self.fin_sent[side] = True
        self.received[self.other(side)] = self.next[side]
        if ack_after is not None:
            self.ack(t + ack_after, self.other(side))

    def close(self, t):
        """FIN from the client, FIN from the server, last ACK."""
        self.fin(t, "c", ack_after=None)
        self.fin(t + 0.001, "s", ack_after=None)
        self.ack(t + 0.002, "c")
        return t + 0.002

    def rst(self, t, side):
        self.frame(t, side, self.seq_of(side, self.next[side]), self.ack_value(side), "RA")


# ---- reading frames without scapy -----------------------------------------------------------------

def l4(raw):
    """(proto, src ip bytes, sport, dst ip bytes, dport, l4 header offset, payload offset) or None."""
    off = 12
    et = struct.unpack("!H", raw[off:off + 2])[0]
    off += 2
    while et in (0x8100, 0x88A8):
        et = struct.unpack("!H", raw[off + 2:off + 4])[0]
        off += 4
    if et == 0x0800:
        ihl = (raw[off] & 0xF) * 4
        proto, src, dst = raw[off + 9], raw[off + 12:off + 16], raw[off + 16:off + 20]
        if struct.unpack("!H", raw[off + 6:off + 8])[0] & 0x3FFF:
            return None  # a fragment
        lo = off + ihl
    elif et == 0x86DD:
        proto, src, dst = raw[off + 6], raw[off + 8:off + 24], raw[off + 24:off + 40]
        lo = off + 40
    else:
        return None
    if proto == 6:
        sport, dport = struct.unpack("!HH", raw[lo:lo + 4])
        return 6, src, sport, dst, dport, lo, lo + (raw[lo + 12] >> 4) * 4
    if proto == 17:
        sport, dport = struct.unpack("!HH", raw[lo:lo + 4])
        return 17, src, sport, dst, dport, lo, lo + 8
    return None


def direction_key(raw):
    k = l4(raw)
    return None if k is None else k[:5]


def key_str(k):
    import socket
    if k is None:
        return "(not TCP/UDP)"
    fam = socket.AF_INET6 if len(k[1]) == 16 else socket.AF_INET
    return "%s %s:%d -> %s:%d" % ({6: "TCP", 17: "UDP"}[k[0]], socket.inet_ntop(fam, k[1]), k[2],
                                   socket.inet_ntop(fam, k[3]), k[4])


def tcp_payload(raw):
    k = l4(raw)
    return raw[k[6]:] if k and k[0] == 6 else b""


def _ipb(addr):
    import socket
    return socket.inet_pton(socket.AF_INET6 if is_v6(addr) else socket.AF_INET, addr)


def with_tcp_payload(raw, payload):
    """raw with its TCP payload replaced (same length) and the TCP checksum computed from scratch."""
    p = Ether(raw)
    p[TCP].remove_payload()
    p = p / Raw(payload)
    del p[TCP].chksum
    return bytes(p.__class__(bytes(p)))


def tcp_rules(scen):
    """A rules function for compare_streams: each TCP segment of a TcpConn of scen, with its
    payload replaced by the expected bytes of its stream slice; None when that is the input."""
    by_key = {}
    for c in getattr(scen, "tcp_conns", []):
        for side in ("c", "s"):
            (sip, sport), (dip, dport) = c.addr[side], c.addr[c.other(side)]
            by_key.setdefault((6, _ipb(sip), sport, _ipb(dip), dport), []).append((c, side))

    def rule(i, t, raw):
        k = l4(raw)
        if not k or k[0] != 6 or k[:5] not in by_key:
            return None
        data = raw[k[6]:]
        if not data:
            return None
        seq = struct.unpack("!I", raw[k[5] + 4:k[5] + 8])[0]
        # The same addresses and ports may carry several connections (one after the other):
        # the segment is the one whose stream has its bytes at its offset.
        for c, side in by_key[k[:5]]:
            off = c.offset_of(side, seq)
            if bytes(c.stream[side][off:off + len(data)]) == data:
                break
        else:
            raise Failure("frame %d: payload is no connection's bytes at its sequence number" % i)
        want = bytes(c.expect[side][off:off + len(data)])
        return None if want == data else with_tcp_payload(raw, want)
    return rule


def compare_streams(inp, out, *rules, in_order=False):
    """Every input frame's expected output (the first rule that gives one: bytes, a dict of UDP
    rewrites for replay.expected_frame, or None = unchanged) against the output, direction by
    direction, in order, timestamps kept. Returns the number of frames expected changed."""
    from sktest.replay import expected_frame
    n_dropped = 0
    for i, (t, raw) in enumerate(inp):
        for r in rules:
            if getattr(r, "drops", None) and i in r.drops:
                n_dropped += 1
    check(len(out) == len(inp) - n_dropped, "every frame comes out (%d in, %d out, %d dropped by the model)"
          % (len(inp), len(out), n_dropped))
    want_by, got_by = {}, {}
    changed = 0
    for i, (t, raw) in enumerate(inp):
        w = None
        for r in rules:
            w = r(i, t, raw) if getattr(r, "raw_rule", True) else r(i, t, Ether(raw))
            if w is not None:
                break
        if w is False:  # the model says this frame does not leave
            changed += 1
            continue
        if isinstance(w, dict):
            w = expected_frame(raw, **w) if w else None
        want = raw if w is None else w
        changed += 0 if w is None or w == raw else 1
        want_by.setdefault(direction_key(want), []).append((t, want, i))
    for j, (t, raw) in enumerate(out):
        got_by.setdefault(direction_key(raw), []).append((t, raw, j))
    if set(want_by) != set(got_by):
        for k in set(want_by) - set(got_by):
            print("     expected, not in the output: %s (%d frames)" % (key_str(k), len(want_by[k])))
        for k in set(got_by) - set(want_by):
            print("     in the output, not expected: %s (%d frames)" % (key_str(k), len(got_by[k])))
        check(False, "the output has the expected directions (%d)" % len(want_by))
    for k, wl in want_by.items():
        gl = got_by[k]
        if len(wl) != len(gl):
            check(False, "direction %s: %d frames expected, %d out" % (key_str(k), len(wl), len(gl)))
        for (t, w, i), (t2, g, j) in zip(wl, gl):
            if abs(t - t2) > 1e-6:
                raise Failure("input frame %d (output frame %d): timestamp %.6f became %.6f" % (i, j, t, t2))
            if w != g:
                print("input frame %d (output frame %d):\n  expected %r\n  got      %r"
                      % (i, j, tcp_payload(w)[:300] or Ether(w).summary(), tcp_payload(g)[:300] or Ether(g).summary()))
                a = next((x for x in range(min(len(w), len(g))) if w[x] != g[x]), None)
                raise Failure("input frame %d differs from the model (first difference at byte %s)" % (i, a))
    print("ok   %d frames match the model direction by direction, %d changed" % (len(inp), changed))
    if in_order:
        # No segment held: every frame leaves at once, in the order the frames came.
        want_keys = []
        for k, wl in want_by.items():
            want_keys += [(i, k) for (t, w, i) in wl]
        want_keys = [k for i, k in sorted(want_keys)]
        got_keys = [direction_key(raw) for t, raw in out]
        first = next((j for j, (a, b) in enumerate(zip(want_keys, got_keys)) if a != b), None)
        check(first is None, "every frame left in the order it came (first out of place: output frame %s)" % first)
    return changed


def drop_rule(indexes):
    """The input frames (by index) that the model says do not leave (a retransmission of a held
    segment: the held copy leaves instead)."""
    def r(i, t, raw):
        return False if i in r.drops else None
    r.drops = set(indexes)
    return r


def udp_rule(model_rules):
    """Adapt a sktest.replay model (scapy-frame rules) to compare_streams."""
    def r(i, t, p):
        if UDP not in p:
            return None
        return model_rules(i, t, p)
    r.raw_rule = False
    return r


def held_order(inp, out):
    """Output positions of the input frames (matched per direction): how many frames left
    later than a frame that came after them."""
    pos = {}
    seen = {}
    for j, (t, raw) in enumerate(out):
        k = direction_key(raw)
        seen.setdefault(k, []).append(j)
    n = {}
    for i, (t, raw) in enumerate(inp):
        k = direction_key(raw)
        pos[i] = seen.get(k, [None] * (n.get(k, 0) + 1))[n.get(k, 0)]
        n[k] = n.get(k, 0) + 1
    return sum(1 for i in range(len(inp) - 1) if pos[i] is not None and pos[i + 1] is not None
               and pos[i] > pos[i + 1])


# ---- tshark --------------------------------------------------------------------------------------------

EXPERT_WARN = 0x00600000  # PI_WARN
EXPERT_GROUPS = (0x01000000, 0x02000000, 0x07000000)  # PI_CHECKSUM, PI_SEQUENCE, PI_MALFORMED


def tshark_tcp_report(path, sip_ports=(5060,)):
    """What tshark makes of a capture, checksum validation on: per frame, the TCP analysis flags
    and expert infos; totals of bad checksums, malformed frames and SIP messages decoded."""
    args = ["tshark", "-n", "-r", path, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
            "-o", "udp.check_checksum:TRUE", "-o", "tcp.desegment_tcp_streams:TRUE",
            "-o", "tcp.reassemble_out_of_order:TRUE",
            "-o", "sip.desegment_headers:TRUE", "-o", "sip.desegment_body:TRUE"]
    for p in sip_ports:
        args += ["-d", "tcp.port==%d,sip" % p]
    fields = ["frame.number", "tcp.checksum.status", "ip.checksum.status", "udp.checksum.status",
              "_ws.malformed", "tcp.analysis.flags", "_ws.expert.message", "sip.Method", "sip.Status-Code",
              "_ws.expert.severity", "_ws.expert.group"]
    cmd = args + ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in fields:
        cmd += ["-e", f]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise Failure("tshark failed: " + proc.stderr[-800:])
    rep = {"bad": [], "malformed": [], "analysis": [], "expert": {}, "notes": {}, "sip": 0, "frames": 0}
    for line in proc.stdout.splitlines():
        f = line.split("\t")
        f += [""] * (len(fields) - len(f))
        rep["frames"] += 1
        num = int(f[0])
        # status values: 0 bad, 1 good, 2 unverified
        if any(s == "0" or "0" in s.split("|") for s in (f[1], f[2], f[3]) if s):
            rep["bad"].append(num)
        if f[4]:
            rep["malformed"].append(num)
        if f[5]:
            rep["analysis"].append(num)
        msgs, sev, grp = f[6].split("|"), f[9].split("|"), f[10].split("|")
        for m, sv, g in zip(msgs, sev, grp):
            if not m:
                continue
            # Warnings and errors, and every expert info of the sequence (TCP analysis),
            # checksum and malformed groups; notes such as "Unrecognised SIP header
            # (x-sipkeep-pad)" (the contract's pad line) are listed apart.
            if int(sv or 0) >= EXPERT_WARN or int(g or 0) in EXPERT_GROUPS:
                rep["expert"][m] = rep["expert"].get(m, 0) + 1
            else:
                rep["notes"][m] = rep["notes"].get(m, 0) + 1
        rep["sip"] += len([x for x in f[7].split("|") if x]) + len([x for x in f[8].split("|") if x])
    return rep


def _norm_expert(d):
    """Expert messages with their frame/segment specific numbers dropped."""
    import re
    out = {}
    for m, n in d.items():
        k = re.sub(r"\d+", "#", m)
        out[k] = out.get(k, 0) + n
    return out


def tshark_tcp_check(in_path, out_path, sip_ports=(5060,), expect_sip=None):
    """The output capture reads as valid SIP over TCP: no bad checksum, nothing malformed, no TCP
    analysis flag or expert info the input did not have, as many SIP messages as in the input."""
    ri = tshark_tcp_report(in_path, sip_ports)
    ro = tshark_tcp_report(out_path, sip_ports)
    check(not ro["bad"], "tshark (checksums validated): no bad IP/TCP/UDP checksum in the output (%s)"
          % (ro["bad"][:5] or "none"))
    check(not ri["bad"], "tshark: the input has no bad checksum either (the capture is right)")
    check(len(ro["malformed"]) <= len(ri["malformed"]),
          "tshark: no malformed frame the input did not have (%d in, %d out)" % (len(ri["malformed"]),
                                                                                 len(ro["malformed"])))
    check(len(ro["analysis"]) <= len(ri["analysis"]),
          "tshark: no TCP analysis flag the input did not have (%d in, %d out)" % (len(ri["analysis"]),
                                                                                 len(ro["analysis"])))
    ei, eo = _norm_expert(ri["expert"]), _norm_expert(ro["expert"])
    more = {k: (ei.get(k, 0), v) for k, v in eo.items() if v > ei.get(k, 0)}
    check(not more, "tshark: no expert info the input did not have (%s)" % (more or "none"))
    notes = {k: v for k, v in _norm_expert(ro["notes"]).items() if v > _norm_expert(ri["notes"]).get(k, 0)}
    if notes:
        print("#    tshark notes in the output only (not warnings): %s" % notes)
    check(ro["sip"] == ri["sip"], "tshark decodes as many SIP messages in the output as in the input (%d, %d)"
          % (ri["sip"], ro["sip"]))
    if expect_sip is not None:
        check(ri["sip"] == expect_sip, "tshark decodes the %d SIP messages sent (%d)" % (expect_sip, ri["sip"]))
    return ri, ro


# ---- a case's run ------------------------------------------------------------------------------------

def run_tcp(sipkeep, scen, conf="", rules=(), sip_ports=(5060,), expect_sip=None, in_order=True):
    """scen through replay mode; every output frame checked against the model (the TCP
    streams' expected bytes, then rules), tshark's view of the output against the input's.
    in_order: no segment is expected held, so the output must keep the input's order across
    directions too (False where the contract holds segments). Returns (inp, out, stats, tmp dir);
    stats["model_changed"] is the number of frames the model changed."""
    import os
    from sktest.replay import run_replay
    inp, out, st, tmp = run_replay(sipkeep, scen, conf)
    st["model_changed"] = compare_streams(inp, out, tcp_rules(scen), *rules, in_order=in_order)
    tshark_tcp_check(os.path.join(tmp, "in.pcap"), os.path.join(tmp, "out.pcap"), sip_ports, expect_sip)
    return inp, out, st, tmp


def counters(st, **want):
    """Each named counter has the value given (a callable: a predicate on it)."""
    for name, v in want.items():
        if name not in st["counters"]:
            raise Failure("no counter %s in --stats-json" % name)
        got = st["counters"][name]
        if callable(v):
            check(v(got), "%s = %d" % (name, got))
        else:
            check(got == v, "%s = %d (expected %d)" % (name, got, v))


NO_FALLBACK = dict(tcp_fallback_buffer_full=0, tcp_fallback_no_buffer=0, tcp_fallback_hole=0,
                   tcp_fallback_bad_framing=0, tcp_streams_table_full=0)


# ---- the standard network over TCP --------------------------------------------------------------------

UCM_IP = "192.0.2.10"
UCM_HP = "192.0.2.10:5060"


def tcp_register(conn, t, user, cseq, splits=None, supported=CISCO_SUPPORTED, expires=3600, call_id=None,
                 answer=True, status_after=0.03):
    """A Cisco REGISTER from the client of conn and the registrar's 200 on the same connection.
    Returns the time after the last frame."""
    ip, port = conn.addr["c"]
    req, resp = cisco_register(ip, port, conn.addr["s"][0], user, call_id or "reg-" + user, cseq,
                               supported=supported, expires=expires)
    _, t = conn.send(t, "c", req, splits=splits)
    if answer:
        _, t = conn.send(t + status_after, "s", resp)
    return t


def sdp(ip, port):
    return Scenario.sdp(ip, port)
