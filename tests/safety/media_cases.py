#!/usr/bin/python3
"""Who gets the media: latching, moved users on stale addresses, held calls (issue 11, items
2, 4 and 14), through sipkeep's replay mode.

Each case builds its capture with tests/pylib/sktest/sipscen.py, replays it, and checks every
output frame against a model of what sipkeep must do (written here, independent of its
code), and the counters from --stats-json. Usage: media_cases.py SIPKEEP CASE
"""
import os
import struct

from scapy.all import Ether, IP, IPv6, UDP

from sktest import replay
from sktest.checks import check, Failure
from sktest.replay import commit_index, compare, ctr, end_checks, model, Move, run_replay
from sktest.sipscen import (LTE, MEDIA, PERSIST, REGISTRAR, WIFI, basic_call, Endpoint,
                            media_both_ways, Scenario)


NEIGHBOUR_PORT = 5000  # another host behind the victim's new NAT IP


def ssrc_of(p):
    """The SSRC as the issue defines it: RTP bytes 8-11, RTCP (type 192-223) the sender's at 4-7."""
    b = bytes(p[UDP].payload)
    if len(b) < 8 or b[0] >> 6 != 2:
        return 0
    if 192 <= b[1] <= 223:
        return struct.unpack("!I", b[4:8])[0]
    return struct.unpack("!I", b[8:12])[0] if len(b) >= 12 else 0


class SsrcMove(Move):
    """A move where a port whose packets carry the stream's known SSRC outranks one whose
    packets do not: the first port latches (tentatively unless its SSRC is the known one), a
    port with the known SSRC takes a tentative latch, a confirmed latch is never taken. The
    known SSRC is what the SDP address sent before the move."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.known = {}      # (core ip, core port) -> SSRC seen from the SDP address
        self.confirmed = {}  # (core ip, core port) -> bool
        self.relatched = 0
        self.refused = 0

    def rule(self, i, p):
        if UDP not in p:
            return None
        ip = p[IP] if IP in p else p[IPv6]
        u = p[UDP]
        for (aport, cip, cport) in self.flows:
            key = (cip, cport)
            if i <= self.commit_index:
                if ip.src == self.old_ip and u.sport == aport and ip.dst == cip and u.dport == cport:
                    self.known[key] = ssrc_of(p)
                continue
            if ip.src == cip and u.sport == cport and ip.dst == self.old_ip and u.dport == aport:
                return {"dst": self.new_ip, "dport": self.latched.get(key)}
            if ip.dst == cip and u.dport == cport and ip.src == self.new_ip:
                known = self.known.get(key) not in (None, 0) and ssrc_of(p) == self.known[key]
                if key not in self.latched:
                    self.latched[key], self.confirmed[key] = u.sport, known
                elif self.latched[key] == u.sport:
                    self.confirmed[key] = self.confirmed[key] or known
                elif known and not self.confirmed[key]:
                    self.latched[key], self.confirmed[key] = u.sport, True
                    self.relatched += 1
                else:
                    self.refused += 1
                    return None
                return {"src": self.old_ip, "sport": aport}
        if i > self.commit_index and ip.dst == self.old_ip and u.dport == self.old_sip_port and u.sport == 5060:
            return {"dst": self.new_ip, "dport": self.new_sip_port}
        return None


def bye_and_unregister(s, phone_now, t_bye, user="alice", call_id="call-1", tag="a1", cseq=3):
    bye = s.dialog_headers("sip:%s@example.com" % user, "sip:bob@example.com", call_id, 2, "BYE",
                           Scenario.hostport(phone_now.ip, phone_now.sip_port), tag, "b1")
    s.sip(t_bye, phone_now, REGISTRAR, "BYE sip:bob@192.0.2.10:5060 SIP/2.0", bye)
    s.sip(t_bye + 0.05, REGISTRAR, phone_now, "SIP/2.0 200 OK", bye[:5], from_access=False)
    s.register(t_bye + 1.0, phone_now, REGISTRAR, user, "reg-" + user, cseq, PERSIST, expires=0)


def tick(s, t):
    s.udp(t, "192.0.2.99", 9, "192.0.2.98", 9, b"tick", False)


# --- item 2: a host behind the same NAT IP takes the latch ------------------------------------

def neighbour_scenario(rtcp_mux=False, victim_rtcp_first=False):
    """The victim talks from LTE (SSRC 0x1111), loses it at 5 s and re-registers from Wi-Fi at
    8 s. A second host behind the same public IP sends first (SSRC 0x9999) to the victim's
    core-side addresses, then the victim, with its own SSRC, from 4010."""
    s = Scenario()
    old, new = Endpoint(LTE, 5060, 4000), Endpoint(WIFI, 5062, 4010)
    extra = ("a=rtcp-mux",) if rtcp_mux else ()
    basic_call(s, old, sdp_extra=extra, core_sdp_extra=extra)
    rtcp_a, rtcp_c = (4000, 20000) if rtcp_mux else (4001, 20001)
    media_both_ways(s, LTE, 4000, MEDIA, 1.2, 5.0, phone_rtcp=rtcp_a, media_rtcp=rtcp_c)
    s.rtp(5.01, 15.0, MEDIA.ip, 20000, LTE, 4000, 0x2222, False)
    s.rtp(5.3, 15.0, MEDIA.ip, rtcp_c, LTE, rtcp_a, 0x2222, False, interval=1.0, rtcp=True)
    s.register(8.0, new, REGISTRAR, "alice", "reg-alice", 2, PERSIST)
    # The neighbour: one packet first, then on and off for the rest of the call.
    s.rtp(8.1, 15.0, WIFI, NEIGHBOUR_PORT, MEDIA.ip, 20000, 0x9999, True, interval=0.1)
    if not rtcp_mux:
        s.rtp(8.11, 15.0, WIFI, NEIGHBOUR_PORT + 1, MEDIA.ip, 20001, 0x9999, True, interval=1.0, rtcp=True)
    # The victim, with the SSRC it had before the move (RTCP first with rtcp-mux).
    if victim_rtcp_first:
        s.rtp(8.2, 15.0, WIFI, 4010, MEDIA.ip, 20000, 0x1111, True, interval=1.0, rtcp=True)
        s.rtp(8.5, 15.0, WIFI, 4010, MEDIA.ip, 20000, 0x1111, True)
    else:
        s.rtp(8.2, 15.0, WIFI, 4010, MEDIA.ip, 20000, 0x1111, True)
        if not rtcp_mux:
            s.rtp(8.3, 15.0, WIFI, 4011, MEDIA.ip, 20001, 0x1111, True, interval=1.0, rtcp=True)
    bye_and_unregister(s, new, 15.0)
    tick(s, 20.0)
    flows = [(4000, MEDIA.ip, 20000)] + ([] if rtcp_mux else [(4001, MEDIA.ip, 20001)])
    return s, old, new, flows


def run_neighbour(sipkeep, **kw):
    s, old, new, flows = neighbour_scenario(**kw)
    inp, out, st, tmp = run_replay(sipkeep, s)
    mv = SsrcMove(old.ip, 5060, new.ip, 5062, commit_index(inp, 2), flows)
    n = compare(inp, out, model(mv))
    check(all(mv.latched[(c, p)] == 4000 + (p - 20000) + 10 for (a, c, p) in flows),
          "the model gives every stream to the victim's port (%s)" % mv.latched)
    check(ctr(st, "rtp_latched") == len(flows), "%d first latch(es)" % len(flows))
    check(ctr(st, "rtp_relatched") == len(flows) == mv.relatched,
          "the victim's known SSRC re-latched %d stream(s) (rtp_relatched=%d)" % (len(flows), ctr(st, "rtp_relatched")))
    check(ctr(st, "latch_refused") == mv.refused and mv.refused > 20,
          "the neighbour's later packets refused and passed unchanged (%d)" % ctr(st, "latch_refused"))
    check(ctr(st, "rtp_rewritten_downlink") + ctr(st, "rtp_rewritten_uplink") + ctr(st, "sip_redirected") == n,
          "rewrite counters add up to the %d rewritten frames" % n)
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_nat_neighbour_known_ssrc_takes_latch(sipkeep):
    """A host on the victim's new NAT IP sends first: it latches only tentatively; the
    victim's packets, which carry the stream's SSRC, take RTP and RTCP back, for good."""
    run_neighbour(sipkeep)


def case_nat_neighbour_rtcp_mux_sender_ssrc(sipkeep):
    """rtcp-mux: the victim's first packet after the move is RTCP on the RTP port; its sender
    SSRC (bytes 4-7) is the stream's, so it re-latches as RTP would."""
    run_neighbour(sipkeep, rtcp_mux=True, victim_rtcp_first=True)


def case_known_ssrc_follows_confirmed_port(sipkeep):
    """Two moves. After the first, the phone confirms its port with its old SSRC, then
    restarts RTP with a new SSRC there: that is the stream's SSRC now. After the second move a
    neighbour sends first; the phone's new SSRC still outranks it."""
    s = Scenario()
    old, new, third = Endpoint(LTE, 5060, 4000), Endpoint(WIFI, 5062, 4010), Endpoint("10.3.0.4", 5064, 4020)
    basic_call(s, old)
    s.rtp(1.2, 5.0, LTE, 4000, MEDIA.ip, 20000, 0x1111, True)
    s.rtp(1.21, 25.0, MEDIA.ip, 20000, LTE, 4000, 0x2222, False)
    s.register(6.0, new, REGISTRAR, "alice", "reg-alice", 2, PERSIST)
    s.rtp(6.2, 8.0, WIFI, 4010, MEDIA.ip, 20000, 0x1111, True)
    s.rtp(8.0, 12.0, WIFI, 4010, MEDIA.ip, 20000, 0x5555, True)
    s.register(15.0, third, REGISTRAR, "alice", "reg-alice", 3, PERSIST)
    s.rtp(15.1, 25.0, third.ip, NEIGHBOUR_PORT, MEDIA.ip, 20000, 0x9999, True, interval=0.1)
    s.rtp(15.2, 25.0, third.ip, 4020, MEDIA.ip, 20000, 0x5555, True)
    bye_and_unregister(s, third, 25.0, cseq=4)
    tick(s, 30.0)
    inp, out, st, tmp = run_replay(sipkeep, s)
    c2, c3 = commit_index(inp, 2), commit_index(inp, 3)
    first = SsrcMove(LTE, 5060, WIFI, 5062, c2, [(4000, MEDIA.ip, 20000)])
    second = SsrcMove(LTE, 5060, third.ip, 5064, c3, [(4000, MEDIA.ip, 20000)])
    second.known[(MEDIA.ip, 20000)] = 0x5555  # what the confirmed port carried last

    def rules(i, t, p):
        return model(second)(i, t, p) if i > c3 else model(first)(i, t, p)
    n = compare(inp, out, rules)
    check(second.latched[(MEDIA.ip, 20000)] == 4020 and second.relatched == 1,
          "the model gives the second move's stream to the phone's port")
    check(ctr(st, "handovers_committed") == 2 and ctr(st, "rtp_relatched") == 1,
          "two moves; the second re-latched once (rtp_relatched=%d)" % ctr(st, "rtp_relatched"))
    check(ctr(st, "latch_refused") == second.refused, "the neighbour refused (%d)" % ctr(st, "latch_refused"))
    check(n > 0, "%d frames rewritten" % n)
    end_checks(os.path.join(tmp, "out.pcap"), st)


# --- item 4: moving onto another user's old media address -------------------------------------

B_OLD, B_NEW = "10.3.0.8", "10.4.0.9"


def stale_address_scenario(b_moves):
    """Carol talks from B_OLD:16384. Alice talks from LTE:4000, loses LTE at 5 s and comes back
    at 8 s on B_OLD (now hers), sending from port 16384 too. Carol either moved away to B_NEW
    at 6 s (b_moves) or just went silent at 5 s, her call still up."""
    s = Scenario()
    alice, alice_new = Endpoint(LTE, 5060, 4000), Endpoint(B_OLD, 5062, 16384)
    carol, carol_new = Endpoint(B_OLD, 5060, 16384), Endpoint(B_NEW, 5062, 16500)
    media_a, media_c = Endpoint(MEDIA.ip, 5060, 20000), Endpoint(MEDIA.ip, 5060, 20100)
    basic_call(s, alice, t_reg=0.0, t_inv=1.0, media=media_a)
    basic_call(s, carol, user="carol", call_id="call-c", t_reg=0.1, t_inv=1.3, media=media_c, tag="c1")
    s.rtp(1.5, 5.0, LTE, 4000, MEDIA.ip, 20000, 0x1111, True)
    s.rtp(1.51, 15.0, MEDIA.ip, 20000, LTE, 4000, 0x2222, False)
    s.rtp(1.6, 5.0, B_OLD, 16384, MEDIA.ip, 20100, 0x7777, True)
    s.rtp(1.61, 15.0, MEDIA.ip, 20100, B_OLD, 16384, 0x8888, False)
    if b_moves:
        s.register(6.0, carol_new, REGISTRAR, "carol", "reg-carol", 2, PERSIST)
        s.rtp(6.2, 15.0, B_NEW, 16500, MEDIA.ip, 20100, 0x7777, True)
    s.register(8.0, alice_new, REGISTRAR, "alice", "reg-alice", 2, PERSIST)
    s.rtp(8.2, 15.0, B_OLD, 16384, MEDIA.ip, 20000, 0x1111, True)
    bye_and_unregister(s, alice_new, 15.0)
    bye_and_unregister(s, carol_new if b_moves else carol, 15.2, user="carol", call_id="call-c", tag="c1")
    tick(s, 20.0)
    return s


def check_alice_moved(inp, out, st, moves):
    n = compare(inp, out, model(*moves))
    alice = moves[0]
    check(alice.latched.get((MEDIA.ip, 20000)) == 16384,
          "alice's uplink from %s:16384 latched and rewritten back to %s:4000" % (B_OLD, LTE))
    up = sum(1 for t, raw in out if IP in Ether(raw) and Ether(raw)[IP].src == LTE and Ether(raw)[UDP].dport == 20000
             and t > 8.0)
    check(up > 300, "%d of alice's uplink frames after the move reach the core as %s:4000" % (up, LTE))
    down = sum(1 for t, raw in out if IP in Ether(raw) and Ether(raw)[IP].dst == B_OLD and Ether(raw)[UDP].sport == 20000
               and Ether(raw)[UDP].dport == 16384)
    check(down > 300, "%d of alice's downlink frames go to %s:16384, where she listens" % (down, B_OLD))
    return n


def case_mover_onto_moved_users_old_address(sipkeep):
    """Carol moved away; Alice then moves onto Carol's old IP and RTP port: Alice's uplink is
    hers (matched by its destination, not Carol's stale flow) and both calls keep working."""
    s = stale_address_scenario(b_moves=True)
    inp, out, st, tmp = run_replay(sipkeep, s)
    alice = Move(LTE, 5060, B_OLD, 5062, commit_index_of(inp, "alice"), [(4000, MEDIA.ip, 20000)])
    carol = Move(B_OLD, 5060, B_NEW, 5062, commit_index_of(inp, "carol"), [(16384, MEDIA.ip, 20100)])
    check_alice_moved(inp, out, st, [alice, carol])
    check(carol.latched.get((MEDIA.ip, 20100)) == 16500, "carol's stream still follows carol")
    check(ctr(st, "handovers_committed") == 2 and ctr(st, "rtp_latched") == 2, "two moves, two latches")
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_mover_onto_silent_users_address(sipkeep):
    """Carol's phone went away without a word (her call is still up); Alice moves onto its IP
    and RTP port. Alice's media is hers, and it does not keep Carol's call looking alive."""
    s = stale_address_scenario(b_moves=False)
    inp, out, st, tmp = run_replay(sipkeep, s)
    alice = Move(LTE, 5060, B_OLD, 5062, commit_index_of(inp, "alice"), [(4000, MEDIA.ip, 20000)])
    check_alice_moved(inp, out, st, [alice])
    check(ctr(st, "handovers_committed") == 1, "alice moved")
    check(ctr(st, "users_suspended") == 2 and ctr(st, "users_resumed") == 0,
          "carol is suspended (her silence is not masked by alice's media); users_suspended=%d users_resumed=%d"
          % (ctr(st, "users_suspended"), ctr(st, "users_resumed")))
    end_checks(os.path.join(tmp, "out.pcap"), st)


def commit_index_of(frames, user):
    for i, (t, raw) in enumerate(frames):
        if b"SIP/2.0 200 OK" in raw and b"CSeq: 2 REGISTER" in raw and b"<sip:%s@" % user.encode() in raw:
            return i
    raise Failure("no 200 OK for %s's re-REGISTER" % user)


# --- item 14: held calls, and a release ends only the calls it concerns -----------------------

def reinvite(s, t, from_core, sdp_phone_dir, sdp_core_dir, cseq, phone_port=4000, media_port=20000,
             call_id="call-1", tag="a1"):
    """A re-INVITE in the call and its 200 OK (each side's SDP with the given direction)."""
    old = Endpoint(LTE, 5060, phone_port)
    php, rhp = Scenario.hostport(LTE, 5060), Scenario.hostport(REGISTRAR.ip, 5060)
    phone_sdp = Scenario.sdp(LTE, phone_port, ("a=" + sdp_phone_dir,))
    core_sdp = Scenario.sdp(MEDIA.ip, media_port, ("a=" + sdp_core_dir,))
    if from_core:
        h = s.dialog_headers("sip:bob@example.com", "sip:alice@example.com", call_id, cseq, "INVITE", rhp, "b1", tag)
        s.sip(t, REGISTRAR, old, "INVITE sip:alice@%s SIP/2.0" % php, h, core_sdp, from_access=False)
        s.sip(t + 0.05, old, REGISTRAR, "SIP/2.0 200 OK", h, phone_sdp)
    else:
        h = s.dialog_headers("sip:alice@example.com", "sip:bob@example.com", call_id, cseq, "INVITE", php, tag, "b1")
        s.sip(t, old, REGISTRAR, "INVITE sip:bob@%s SIP/2.0" % rhp, h, phone_sdp)
        s.sip(t + 0.05, REGISTRAR, old, "SIP/2.0 200 OK", h, core_sdp, from_access=False)


def held_call(sipkeep, from_core, phone_dir, core_dir):
    """Talk 1.2-3 s; on hold 3-28 s (more than media_silence_ms + persist_window_ms, 14 s), the
    phone sending nothing; off hold at 28 s, talk again; LTE lost at 31 s; re-REGISTER from
    Wi-Fi at 34 s: the handover is genuine and within its window."""
    s = Scenario()
    old, new = Endpoint(LTE, 5060, 4000), Endpoint(WIFI, 5062, 4010)
    basic_call(s, old)
    s.rtp(1.2, 3.0, LTE, 4000, MEDIA.ip, 20000, 0x1111, True)
    s.rtp(1.21, 45.0, MEDIA.ip, 20000, LTE, 4000, 0x2222, False)  # music on hold, then talk
    reinvite(s, 3.0, from_core, phone_dir, core_dir, 2)
    reinvite(s, 28.0, from_core, "sendrecv", "sendrecv", 3)
    s.rtp(28.3, 31.0, LTE, 4000, MEDIA.ip, 20000, 0x1111, True)
    s.register(34.0, new, REGISTRAR, "alice", "reg-alice", 2, PERSIST)
    s.rtp(34.2, 45.0, WIFI, 4010, MEDIA.ip, 20000, 0x1111, True)
    bye_and_unregister(s, new, 45.0)
    tick(s, 50.0)
    inp, out, st, tmp = run_replay(sipkeep, s)
    n = compare(inp, out, model(Move(LTE, 5060, WIFI, 5062, commit_index(inp, 2),
                                     [(4000, MEDIA.ip, 20000), (4001, MEDIA.ip, 20001)])))
    check(ctr(st, "users_suspended") == 1,
          "suspended once, when LTE was lost: not on hold, not right after it (users_suspended=%d)"
          % ctr(st, "users_suspended"))
    check(ctr(st, "handovers_expired") == 0, "no window ran out (handovers_expired=%d)" % ctr(st, "handovers_expired"))
    check(ctr(st, "handovers_committed") == 1 and ctr(st, "handovers_refused_window") == 0 and n > 0,
          "the handover after the hold committed and moved the call (%d frames rewritten)" % n)
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_held_by_core_sendonly_not_judged(sipkeep):
    """The far end holds (a=sendonly, the phone answers recvonly): the phone's silence is not
    a lost network."""
    held_call(sipkeep, True, "recvonly", "sendonly")


def case_held_by_phone_inactive_not_judged(sipkeep):
    """The phone holds with a=inactive (answered inactive): not judged by silence either."""
    held_call(sipkeep, False, "inactive", "inactive")


def case_call_after_release_moves_afresh(sipkeep):
    """Call 1's window runs out (released; the call itself stays up, core still sending to the
    old address). The phone, back on the same address, makes call 2, then loses LTE and
    re-registers from Wi-Fi: call 2 moves; call 1 stays released."""
    s = Scenario()
    old, new = Endpoint(LTE, 5060, 4000), Endpoint(WIFI, 5062, 4110)
    basic_call(s, old)
    s.rtp(1.2, 5.0, LTE, 4000, MEDIA.ip, 20000, 0x1111, True)
    s.rtp(1.21, 45.0, MEDIA.ip, 20000, LTE, 4000, 0x2222, False)
    # Released at about 5 + 2 + 12 = 19 s. Call 2 at 22 s.
    media2 = Endpoint(MEDIA.ip, 5060, 20100)
    basic_call(s, Endpoint(LTE, 5060, 4100), call_id="call-2", t_inv=22.0, supported=None, media=media2, tag="a2")
    s.rtp(22.2, 26.0, LTE, 4100, MEDIA.ip, 20100, 0x4444, True)
    s.rtp(22.21, 40.0, MEDIA.ip, 20100, LTE, 4100, 0x6666, False)
    s.register(29.0, new, REGISTRAR, "alice", "reg-alice", 2, PERSIST)
    s.rtp(29.2, 40.0, WIFI, 4110, MEDIA.ip, 20100, 0x4444, True)
    bye = s.dialog_headers("sip:alice@example.com", "sip:bob@example.com", "call-2", 2, "BYE",
                           Scenario.hostport(WIFI, 5062), "a2", "b1")
    s.sip(40.0, new, REGISTRAR, "BYE sip:bob@192.0.2.10:5060 SIP/2.0", bye)
    s.sip(40.05, REGISTRAR, new, "SIP/2.0 200 OK", bye[:5], from_access=False)
    bye_and_unregister(s, new, 45.0)
    tick(s, 50.0)
    inp, out, st, tmp = run_replay(sipkeep, s)
    n = compare(inp, out, model(Move(LTE, 5060, WIFI, 5062, commit_index(inp, 2),
                                     [(4100, MEDIA.ip, 20100), (4101, MEDIA.ip, 20101)])))
    check(ctr(st, "handovers_expired") == 1, "call 1's window ran out once")
    check(ctr(st, "users_suspended") == 2, "suspended twice: call 1's loss, then call 2's")
    check(ctr(st, "handovers_committed") == 1 and ctr(st, "handovers_refused_window") == 0 and n > 0,
          "call 2's genuine handover committed (%d frames rewritten); call 1 not moved" % n)
    end_checks(os.path.join(tmp, "out.pcap"), st)


if __name__ == "__main__":
    replay.run_case(globals())
