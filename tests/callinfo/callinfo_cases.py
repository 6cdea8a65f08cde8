#!/usr/bin/python3
"""Call-Info policy (docs/OVERVIEW.md section 2) through replay mode, byte by byte.

Three phones on the access side: one registered with X-cisco-callinfo, one
registered without it, one never registered. The call agent sends them (and
they send) messages with remotecc and other Call-Info values, in every shape
the brief names. For each policy the expected output message is rendered
independently (the same message built without the values that must go),
turned into a frame with lengths and checksums computed by scapy, and
compared with what sipkeep sent. tshark must see no bad checksum and no
malformed packet. Usage: callinfo_cases.py SIPKEEP POLICY CASE
"""
import json
import os
import subprocess
import sys
import tempfile

from scapy.all import Ether, IP, IPv6, UDP, Raw, Dot1Q

from sktest import checks, replay, sipscen
from sktest.sipscen import Endpoint, Scenario

UCM = Endpoint("192.0.2.10", 5060)
UCM6 = Endpoint("2001:db8:c::10", 5060)
WITH = Endpoint("10.1.0.5", 5060, 4000)
WITHOUT = Endpoint("10.1.0.6", 5060, 4002)
UNREG = Endpoint("10.1.0.8", 5060, 4004)
WITH6 = Endpoint("2001:db8:a:1::5", 5060, 4000)
WITHOUT6 = Endpoint("2001:db8:a:1::6", 5060, 4002)

RCC = "<urn:x-cisco-remotecc:callinfo>;security= NotAuthenticated;orientation= to;gci= 1-4711;isVoip;call-instance= 1"
RCC2 = "<urn:X-Cisco-RemoteCC:hold>;x=1"
ICON = "<http://www.example.com/alice/photo.jpg>;purpose=icon"
INFO = "<http://www.example.com/alice/>;purpose=info"


class CI:
    """One Call-Info header line: its values and how they are separated/folded."""

    def __init__(self, values, sep=", ", name="Call-Info: "):
        self.values, self.sep, self.name = values, sep, name

    def render(self, drop):
        kept = [v for v in self.values if not (drop and "remotecc" in v.lower())]
        return (self.name + self.sep.join(kept)) if kept else None


def message(start, headers, cis, body=b"", drop=False, ctype="application/sdp"):
    lines = [start] + headers[:3]
    for ci in cis:
        r = ci.render(drop)
        if r is not None:
            lines.append(r)
    lines += headers[3:]
    if body:
        lines.append("Content-Type: " + ctype)
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def hdrs(caller, callee, call_id, cseq, method, via, ftag, ttag=None):
    return ["Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s-%d" % (via, call_id, cseq),
            "From: <%s>;tag=%s" % (caller, ftag),
            "To: <%s>%s" % (callee, ";tag=" + ttag if ttag else ""),
            "Call-ID: %s" % call_id, "CSeq: %d %s" % (cseq, method), "Max-Forwards: 70"]


class Msg:
    def __init__(self, t, src, dst, start, headers, cis, body=b"", from_access=False, frag=None):
        self.t, self.src, self.dst, self.start, self.headers = t, src, dst, start, headers
        self.cis, self.body, self.from_access, self.frag = cis, body, from_access, frag

    def payload(self, drop):
        return message(self.start, self.headers, self.cis, self.body, drop)


def scenario(msgs, vlan=None, v6=False):
    s = Scenario(vlan=vlan)
    ucm = UCM6 if v6 else UCM
    with_, without = (WITH6, WITHOUT6) if v6 else (WITH, WITHOUT)
    s.register(0.0, with_, ucm, "with", "reg-with", 1, "replaces, X-cisco-callinfo, X-cisco-sessionpersist")
    s.register(0.1, without, ucm, "without", "reg-without", 1, "replaces, X-cisco-sessionpersist")
    for m in msgs:
        s.udp(m.t, m.src.ip, m.src.sip_port, m.dst.ip, m.dst.sip_port, m.payload(False), m.from_access,
              frag=m.frag)
    return s


def phone_msgs(phone, ucm, t0, big_sdp=False, frag=None):
    """The messages of one call between the UCM and PHONE that carry Call-Info."""
    user = {WITH.ip: "with", WITHOUT.ip: "without", UNREG.ip: "unreg"}.get(phone.ip, "p6")
    pu, bu = "sip:%s@example.com" % user, "sip:bob@example.com"
    uhp, php = Scenario.hostport(ucm.ip, 5060), Scenario.hostport(phone.ip, 5060)
    sdp_extra = sipscen.PAD_SDP if big_sdp else ()
    cid = "ci-%s-%d" % (user, int(t0 * 10))
    out = []
    # Initial INVITE from the UCM to the phone, Call-Info with several values on one line.
    out.append(Msg(t0, ucm, phone, "INVITE sip:%s@%s SIP/2.0" % (user, php), hdrs(bu, pu, cid, 1, "INVITE", uhp, "u1"),
                   [CI([RCC, ICON])], Scenario.sdp(ucm.ip if ":" in ucm.ip else "192.0.2.20", 20000, sdp_extra),
                   frag=frag))
    # 180 from the phone (not touched by anything but the policy on Call-Info from it).
    out.append(Msg(t0 + 0.05, phone, ucm, "SIP/2.0 180 Ringing", hdrs(bu, pu, cid, 1, "INVITE", uhp, "u1", "p1"),
                   [CI([RCC2])], from_access=True))
    # re-INVITE from the UCM with a folded remotecc header and an info value on its own line.
    out.append(Msg(t0 + 1.0, ucm, phone, "INVITE sip:%s@%s SIP/2.0" % (user, php),
                   hdrs(bu, pu, cid, 2, "INVITE", uhp, "u1", "p1"),
                   [CI([RCC.replace(";orientation", ";\r\n orientation")]), CI([INFO])],
                   Scenario.sdp("192.0.2.20", 20000)))
    # UPDATE with the remotecc value between two others.
    out.append(Msg(t0 + 2.0, ucm, phone, "UPDATE sip:%s@%s SIP/2.0" % (user, php),
                   hdrs(bu, pu, cid, 3, "UPDATE", uhp, "u1", "p1"), [CI([ICON, RCC, INFO], sep=" ,\t")]))
    # A call from the phone: 180 and 200 from the UCM carry Call-Info, compact name, two lines.
    cid2 = cid + "-out"
    out.append(Msg(t0 + 3.0, ucm, phone, "SIP/2.0 180 Ringing", hdrs(pu, bu, cid2, 1, "INVITE", php, "p2", "u2"),
                   [CI([RCC], name="Call-Info:"), CI([RCC2, RCC])]))
    out.append(Msg(t0 + 3.5, ucm, phone, "SIP/2.0 200 OK", hdrs(pu, bu, cid2, 1, "INVITE", php, "p2", "u2"),
                   [CI([INFO, RCC2])], Scenario.sdp("192.0.2.20", 20002)))
    # A request from the phone with remotecc Call-Info (feature activation).
    out.append(Msg(t0 + 4.0, phone, ucm, "REFER sip:bob@%s SIP/2.0" % uhp, hdrs(pu, bu, cid2, 2, "REFER", php, "p2", "u2"),
                   [CI([RCC2])], from_access=True))
    return out


def wants_drop(policy, phone):
    if policy == "pass":
        return False
    if policy == "strip":
        return True
    return phone.ip not in (WITH.ip, WITH6.ip)


def expected_frames(inp_frames, msgs, policy):
    """Model: each input frame whose payload is one of MSGS with Call-Info to drop is rebuilt."""
    by_payload = {}
    for m in msgs:
        phone = m.src if m.from_access else m.dst
        by_payload[m.payload(False)] = m.payload(wants_drop(policy, phone))
    out = []
    for t, raw in inp_frames:
        p = Ether(raw)
        if UDP in p and bytes(p[UDP].payload) in by_payload and not replay.fragment_key(p):
            new = by_payload[bytes(p[UDP].payload)]
            if new != bytes(p[UDP].payload):
                p[UDP].remove_payload()
                p = p / Raw(new)
                ip = p[IP] if IP in p else p[IPv6]
                if IP in p:
                    del ip.len, ip.chksum
                else:
                    del ip.plen
                del p[UDP].len, p[UDP].chksum
                raw = bytes(p.__class__(bytes(p)))
        out.append((t, raw))
    return out


def run(sipkeep, policy, msgs, vlan=None, v6=False):
    s = scenario(msgs, vlan=vlan, v6=v6)
    inp, out, st, tmp = replay.run_replay(sipkeep, s, "callinfo_policy = %s" % policy)
    return inp, out, st, tmp


def count_removed(msgs, policy):
    n = 0
    for m in msgs:
        phone = m.src if m.from_access else m.dst
        if wants_drop(policy, phone):
            n += sum(1 for ci in m.cis for v in ci.values if "remotecc" in v.lower())
    return n


def run_case(sipkeep, policy, msgs, vlan=None, v6=False, fragmented=False):
    inp, out, st, tmp = run(sipkeep, policy, msgs, vlan, v6)
    want = expected_frames(inp, msgs, policy)
    checks.check(len(out) == len(want), "every frame comes out (%d)" % len(out))
    if not fragmented:
        for i, ((t, w), (t2, o)) in enumerate(zip(want, out)):
            if w != o:
                print("frame %d expected:\n%r\ngot:\n%r" % (i, Ether(w)[UDP].payload.load[:400],
                                                             Ether(o)[UDP].payload.load[:400]))
                raise checks.Failure("frame %d differs from the expected message" % i)
        print("ok   %d frames byte-identical to the expected ones" % len(out))
    n = count_removed(msgs, policy)
    checks.check(replay.ctr(st, "callinfo_removed") == n, "callinfo_removed = %d (expected %d)" % (replay.ctr(st, "callinfo_removed"), n))
    bad = replay.tshark_checksums(os.path.join(tmp, "out.pcap"))
    checks.check(not bad, "tshark: no bad checksum, no malformed packet (%s)" % (bad[:5] or "none"))
    return inp, out, st, tmp


def all_phones(t0=1.0, **kw):
    return phone_msgs(WITH, UCM, t0, **kw) + phone_msgs(WITHOUT, UCM, t0 + 5, **kw) + phone_msgs(UNREG, UCM, t0 + 10, **kw)


def case_all_shapes(sipkeep, policy):
    run_case(sipkeep, policy, all_phones())


def case_vlan(sipkeep, policy):
    run_case(sipkeep, policy, all_phones(), vlan=7)


def case_ipv6(sipkeep, policy):
    run_case(sipkeep, policy, phone_msgs(WITH6, UCM6, 1.0) + phone_msgs(WITHOUT6, UCM6, 6.0), v6=True)


def case_fragmented_invite(sipkeep, policy):
    """INVITEs too large for a datagram: reassembled, rewritten, fragmented again."""
    msgs = phone_msgs(WITH, UCM, 1.0, big_sdp=True, frag=1400) + phone_msgs(WITHOUT, UCM, 6.0, big_sdp=True, frag=1400)
    inp, out, st, tmp = run_case(sipkeep, policy, msgs, fragmented=True)
    # Reassemble what came out and compare the SIP messages with the expected ones.
    from scapy.all import defragment
    got = [bytes(p[UDP].payload) for p in defragment([Ether(raw) for t, raw in out]) if UDP in p and p[UDP].dport == 5060 or (UDP in p and p[UDP].sport == 5060)]
    for m in msgs:
        phone = m.src if m.from_access else m.dst
        want = m.payload(wants_drop(policy, phone))
        checks.check(want in got, "%s ... to %s arrives as expected (%d bytes)" % (m.start[:20], phone.ip, len(want)))
    checks.check(replay.ctr(st, "frag_reassembled") == 2, "both INVITEs reassembled")


CASES = {k[5:]: v for k, v in dict(globals()).items() if k.startswith("case_")}

if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[3] not in CASES or sys.argv[2] not in ("registered", "pass", "strip"):
        sys.exit("usage: callinfo_cases.py SIPKEEP registered|pass|strip CASE (%s)" % ", ".join(sorted(CASES)))
    try:
        CASES[sys.argv[3]](sys.argv[1], sys.argv[2])
    except checks.Failure as e:
        print("FAILED: %s" % e)
        sys.exit(1)
    print("PASS %s %s" % (sys.argv[2], sys.argv[3]))
