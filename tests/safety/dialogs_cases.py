#!/usr/bin/python3
"""Safety cases, dialogs area: dialog floods and who may claim a media address.

Each case builds its capture with tests/pylib/sktest/sipscen.py, replays it through
`sipkeep --replay`, and checks every output frame against an independent model
(tests/pylib/sktest/replay.py: Move, model, compare) and the counters of
--stats-json. Usage: dialogs_cases.py SIPKEEP CASE
"""
import os

from sktest import replay, sipscen
from sktest.checks import check, Failure
from sktest.replay import compare, ctr, end_checks, model, Move, run_replay
from sktest.sipscen import (MEDIA, PERSIST, REGISTRAR, WIFI, Endpoint, handover_scenario,
                            media_both_ways, Scenario)


# Two users behind one IP (a NAT, or two clients on one host), told apart by their SIP port.
SHARED_IP = "10.1.0.9"
VICTIM = Endpoint(SHARED_IP, 5060, 16384)
ATTACKER = Endpoint(SHARED_IP, 5062, 16384)
# The core media end of the victim's call (the attacker's call has MEDIA, 192.0.2.20:20000).
VICTIM_MEDIA = Endpoint("192.0.2.21", 5060, 30000)


def commit_of(frames, user, cseq):
    """Index of the 200 OK that commits USER's REGISTER with this CSeq."""
    for i, (t, raw) in enumerate(frames):
        if (raw.find(b"SIP/2.0 200 OK") >= 0 and (b"CSeq: %d REGISTER" % cseq) in raw
                and (b"<sip:%s@example.com>" % user.encode()) in raw):
            return i
    raise Failure("no 200 OK for %s's REGISTER CSeq %d in the capture" % (user, cseq))


def call(s, phone, user, call_id, tag, t_inv, t_answer, media, answer=True, trying=True):
    """A call from PHONE: INVITE with its SDP, 100 and 180 from core, then (if ANSWER) the 200
    with the core's SDP at t_answer and the ACK. Returns the INVITE's headers."""
    p_uri, c_uri = "sip:%s@example.com" % user, "sip:bob@example.com"
    php = Scenario.hostport(phone.ip, phone.sip_port)
    rhp = Scenario.hostport(REGISTRAR.ip, REGISTRAR.sip_port)
    inv = s.dialog_headers(p_uri, c_uri, call_id, 1, "INVITE", php, tag, contact="sip:%s@%s" % (user, php))
    s.sip(t_inv, phone, REGISTRAR, "INVITE sip:bob@example.com SIP/2.0", inv,
          Scenario.sdp(phone.ip, phone.rtp_port))
    if trying:
        s.sip(t_inv + 0.01, REGISTRAR, phone, "SIP/2.0 100 Trying", inv[:5], from_access=False)
    r = [h.replace("To: <%s>" % c_uri, "To: <%s>;tag=b-%s" % (c_uri, tag)) for h in inv[:5]]
    if answer:
        s.sip(t_inv + 0.03, REGISTRAR, phone, "SIP/2.0 180 Ringing", r, from_access=False)
        s.sip(t_answer, REGISTRAR, phone, "SIP/2.0 200 OK", r + ["Contact: <sip:bob@%s>" % rhp],
              Scenario.sdp(media.ip, media.rtp_port), from_access=False)
        ack = s.dialog_headers(p_uri, c_uri, call_id, 1, "ACK", php, tag, "b-" + tag)
        s.sip(t_answer + 0.02, phone, REGISTRAR, "ACK sip:bob@%s SIP/2.0" % rhp, ack)
    return inv


def cancel(s, phone, inv, t):
    """CANCEL of an unanswered INVITE, the 200 to it and the INVITE's 487."""
    c = [h.replace("INVITE", "CANCEL") if h.startswith("CSeq") else h for h in inv[:5]]
    s.sip(t, phone, REGISTRAR, "CANCEL sip:bob@example.com SIP/2.0", c)
    s.sip(t + 0.01, REGISTRAR, phone, "SIP/2.0 200 OK", c, from_access=False)
    s.sip(t + 0.02, REGISTRAR, phone, "SIP/2.0 487 Request Terminated", inv[:5], from_access=False)


def n_frames(frames, start, src, sport_in):
    """Frames after index START from SRC with a source port in SPORT_IN."""
    from scapy.all import Ether, IP, UDP
    n = 0
    for i, (t, raw) in enumerate(frames):
        if i <= start:
            continue
        p = Ether(raw)
        if IP in p and UDP in p and p[IP].src == src and p[UDP].sport in sport_in:
            n += 1
    return n


# --- item 7: dialog flood from one user --------------------------------------------------------

def case_dialog_flood_one_user_leaves_room_for_others(sipkeep):
    """A registered user sends 200 INVITEs nobody answers, into a dialog table of 64 (the default
    per-user cap is 32): another user's call set up right after is tracked and hands over."""
    n_flood, table, cap = 200, 64, 32
    s, old, new, flows = handover_scenario()
    flooder = Endpoint("10.3.0.5", 5060)
    s.register(0.05, flooder, REGISTRAR, "mallory", "reg-mallory", 1, PERSIST)
    for i in range(n_flood):
        fl = Endpoint(flooder.ip, 5060, 10000 + 2 * i)
        call(s, fl, "mallory", "flood-%d" % i, "f%d" % i, 0.2 + 0.003 * i, None, None, answer=False)
    check(n_flood > table, "the flood (%d INVITEs) exceeds the dialog table (%d)" % (n_flood, table))
    inp, out, st, tmp = run_replay(sipkeep, s, "max_dialogs = %d" % table)
    n = compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, replay.commit_index(inp, 2), flows)))
    check(n > 0, "the other user's media moved with its handover (%d frames rewritten)" % n)
    check(ctr(st, "dialogs_refused_user_early") == n_flood - cap,
          "INVITEs beyond the per-user cap refused and counted (%d)" % ctr(st, "dialogs_refused_user_early"))
    check(ctr(st, "dialogs_refused") == 0, "the dialog table never filled (dialogs_refused=%d)"
          % ctr(st, "dialogs_refused"))
    check(ctr(st, "dialogs_created") == cap + 1, "%d flood dialogs and the other user's call tracked (%d)"
          % (cap, ctr(st, "dialogs_created")))
    check(ctr(st, "handovers_committed") == 1, "the other user's handover committed")
    end_checks(os.path.join(tmp, "out.pcap"), st, expect_empty=False)


def case_early_dialog_cap_counts_only_unanswered(sipkeep):
    """At the default cap (max_early_dialogs_per_user = 32): answered calls free their place at
    once; a cancelled one keeps it while it lingers (dialog_linger_ms = 2000), then frees it."""
    cap = 32
    s = Scenario()
    phone = Endpoint(sipscen.LTE, 5060)
    s.register(0.0, phone, REGISTRAR, "alice", "reg-alice", 1, PERSIST)

    def inv(k, t, answer_at=None):
        ph = Endpoint(sipscen.LTE, 5060, 4000 + 10 * k)
        media = Endpoint(MEDIA.ip, 5060, 20000 + 10 * k)
        return call(s, ph, "alice", "c%d" % k, "t%d" % k, t, answer_at, media, answer=answer_at is not None)

    ringing = {}
    for k in range(1, cap + 1):  # c1, c2 answered at 2.0; the others ring
        ringing[k] = inv(k, 1.0 + 0.01 * k, 2.0 if k <= 2 else None)
    inv(101, 1.5)  # one unanswered INVITE too many: refused (1)
    inv(102, 2.5)  # c1 and c2 were answered at 2.0: room for two
    inv(103, 2.5)
    inv(104, 2.6)  # refused (2)
    cancel(s, phone, ringing[3], 3.0)
    inv(105, 3.1)  # c3 lingers until 5.0 and still counts: refused (3)
    s.udp(5.5, "192.0.2.99", 9, "192.0.2.98", 9, b"tick", False)
    inv(106, 6.0)  # c3 is gone: tracked
    s.udp(7.0, "192.0.2.99", 9, "192.0.2.98", 9, b"tick", False)
    inp, out, st, tmp = run_replay(sipkeep, s)
    compare(inp, out, lambda i, t, p: None)
    check(ctr(st, "dialogs_created") == cap + 3, "c1-c%d, c102, c103, c106 tracked (dialogs_created=%d)"
          % (cap, ctr(st, "dialogs_created")))
    check(ctr(st, "dialogs_refused_user_early") == 3, "c101, c104, c105 refused at the cap (%d)"
          % ctr(st, "dialogs_refused_user_early"))
    check(ctr(st, "dialogs_ended") == 1, "the cancelled c3 ended and was freed (%d)" % ctr(st, "dialogs_ended"))
    check(ctr(st, "streams_active") == 4, "the two answered calls have their RTP and RTCP flows (%d)"
          % ctr(st, "streams_active"))
    end_checks(os.path.join(tmp, "out.pcap"), st, expect_empty=False)


# --- item 3: a co-tenant pre-claims the victim's media port ----------------------------------

def cotenants(s):
    s.register(0.0, Endpoint(SHARED_IP, 5060), REGISTRAR, "victim", "reg-victim", 1, PERSIST)
    s.register(0.1, Endpoint(SHARED_IP, 5062), REGISTRAR, "mallory", "reg-mallory", 1, PERSIST)


def case_cotenant_declaring_first_never_gets_victims_downlink(sipkeep):
    """The issue's order: a user registered on the victim's IP (SIP port 5062) sets up a call with
    the victim's RTP port in its SDP first; the victim's call on that port comes later and is
    refused (the newcomer); the co-tenant moves: its own call's media follows it, the victim's
    downlink, from another core address, stays with the victim."""
    s = Scenario()
    cotenants(s)
    call(s, ATTACKER, "mallory", "call-x", "x1", 1.0, 1.1, MEDIA)
    call(s, VICTIM, "victim", "call-v", "v1", 2.0, 2.1, VICTIM_MEDIA)
    media_both_ways(s, SHARED_IP, 16384, VICTIM_MEDIA, 2.2, 12.0)
    # The core sends the co-tenant's call to the address it declared.
    s.rtp(1.2, 12.0, MEDIA.ip, 20000, SHARED_IP, 16384, 0x5555, False)
    s.rtp(1.5, 12.0, MEDIA.ip, 20001, SHARED_IP, 16385, 0x5555, False, interval=1.0, rtcp=True)
    # The co-tenant "moves" to Wi-Fi and sends its call's media from there.
    s.register(5.0, Endpoint(WIFI, 5062), REGISTRAR, "mallory", "reg-mallory", 2, PERSIST)
    s.rtp(5.2, 12.0, WIFI, 4010, MEDIA.ip, 20000, 0x6666, True)
    s.udp(14.0, "192.0.2.99", 9, "192.0.2.98", 9, b"tick", False)
    inp, out, st, tmp = run_replay(sipkeep, s)
    commit = commit_of(inp, "mallory", 2)
    mv = Move(SHARED_IP, 5062, WIFI, 5062, commit, [(16384, MEDIA.ip, 20000), (16385, MEDIA.ip, 20001)])
    n = compare(inp, out, model(mv))
    check(n > 0, "the co-tenant's own call moved with it (%d frames)" % n)
    n_victim = n_frames(inp, commit, VICTIM_MEDIA.ip, (30000, 30001))
    check(ctr(st, "downlink_other_core_source") == n_victim,
          "all %d downlink frames of the victim's call after the move passed unchanged, counted" % n_victim)
    check(ctr(st, "streams_address_claimed") == 1, "the victim's later media line refused, counted once")
    check(ctr(st, "streams_foreign_address") == 0 and ctr(st, "streams_refused") == 0,
          "no other refusal (foreign %d, refused %d)" % (ctr(st, "streams_foreign_address"),
                                                          ctr(st, "streams_refused")))
    check(ctr(st, "handovers_committed") == 1, "the co-tenant's handover committed")
    end_checks(os.path.join(tmp, "out.pcap"), st, expect_empty=False)


def case_first_declared_media_address_stays_with_its_dialog(sipkeep):
    """The victim offers IP:16384 and rings for 3 s; meanwhile a co-tenant on the same IP sets up a
    call declaring IP:16384 and is answered first. The address is the victim's (declared first):
    the co-tenant's media line is refused and counted, its "move" carries nothing, and the victim's
    call is tracked and hands over when the victim really moves."""
    s = Scenario()
    cotenants(s)
    call(s, VICTIM, "victim", "call-v", "v1", 1.0, 4.0, VICTIM_MEDIA)
    call(s, ATTACKER, "mallory", "call-x", "x1", 1.5, 1.6, MEDIA)
    s.rtp(1.7, 14.0, MEDIA.ip, 20000, SHARED_IP, 16384, 0x5555, False)
    media_both_ways(s, SHARED_IP, 16384, VICTIM_MEDIA, 4.1, 8.0)
    s.rtp(8.01, 14.0, VICTIM_MEDIA.ip, 30000, SHARED_IP, 16384, 0x2222, False)
    s.rtp(8.5, 14.0, VICTIM_MEDIA.ip, 30001, SHARED_IP, 16385, 0x2222, False, interval=1.0, rtcp=True)
    s.register(6.0, Endpoint(WIFI, 5062), REGISTRAR, "mallory", "reg-mallory", 2, PERSIST)
    victim_new = "10.1.0.77"
    s.register(10.0, Endpoint(victim_new, 5064), REGISTRAR, "victim", "reg-victim", 2, PERSIST)
    s.rtp(10.2, 14.0, victim_new, 4010, VICTIM_MEDIA.ip, 30000, 0x3333, True)
    s.rtp(10.3, 14.0, victim_new, 4011, VICTIM_MEDIA.ip, 30001, 0x3333, True, interval=1.0, rtcp=True)
    s.udp(16.0, "192.0.2.99", 9, "192.0.2.98", 9, b"tick", False)
    inp, out, st, tmp = run_replay(sipkeep, s)
    mv = Move(SHARED_IP, 5060, victim_new, 5064, commit_of(inp, "victim", 2),
              [(16384, VICTIM_MEDIA.ip, 30000), (16385, VICTIM_MEDIA.ip, 30001)])
    n = compare(inp, out, model(mv))
    check(n > 0, "the victim's media moved with its own handover (%d frames)" % n)
    check(ctr(st, "streams_address_claimed") == 1, "the co-tenant's media line refused, counted once")
    check(ctr(st, "streams_refused") == 0, "the victim's flows were not refused (streams_refused=%d)"
          % ctr(st, "streams_refused"))
    check(ctr(st, "handovers_committed") == 1, "one handover: the victim's; the co-tenant had no media to move")
    check(ctr(st, "rtp_latched") == 2, "the victim's new RTP and RTCP ports latched")
    end_checks(os.path.join(tmp, "out.pcap"), st, expect_empty=False)


# --- a port reused for the next call while the last one lingers ----------------------------------

def case_port_reused_within_linger_is_tracked(sipkeep):
    """A phone ends a call and places the next one from the same RTP port while the first still
    lingers for retransmissions: the new call's media is tracked (the ended call gives the
    address up) and hands over."""
    s = Scenario()
    lte, wifi = Endpoint(sipscen.LTE, 5060, 4000), Endpoint(WIFI, 5062, 4010)
    s.register(0.0, lte, REGISTRAR, "alice", "reg-alice", 1, PERSIST)
    call(s, lte, "alice", "first", "a1", 1.0, 1.1, MEDIA)
    media_both_ways(s, lte.ip, 4000, MEDIA, 1.2, 2.5)
    php = Scenario.hostport(lte.ip, lte.sip_port)
    bye = s.dialog_headers("sip:alice@example.com", "sip:bob@example.com", "first", 2, "BYE", php, "a1",
                           "b-a1")
    s.sip(2.6, lte, REGISTRAR, "BYE sip:bob@192.0.2.10:5060 SIP/2.0", bye)
    s.sip(2.65, REGISTRAR, lte, "SIP/2.0 200 OK", bye[:5], from_access=False)
    # The next call, 0.4 s later (the linger is 2 s here, 32 s by default), from the same port.
    call(s, lte, "alice", "second", "a2", 3.0, 3.1, VICTIM_MEDIA)
    media_both_ways(s, lte.ip, 4000, VICTIM_MEDIA, 3.2, 5.0)
    s.rtp(5.01, 12.0, VICTIM_MEDIA.ip, 30000, lte.ip, 4000, 0x2222, False)
    s.register(8.0, wifi, REGISTRAR, "alice", "reg-alice", 2, PERSIST)
    s.rtp(8.2, 12.0, wifi.ip, 4010, VICTIM_MEDIA.ip, 30000, 0x1111, True)
    s.udp(12.5, "192.0.2.99", 9, "192.0.2.98", 9, b"tick", False)
    inp, out, st, tmp = run_replay(sipkeep, s)
    mv = Move(lte.ip, 5060, wifi.ip, 5062, replay.commit_index(inp, 2), [(4000, VICTIM_MEDIA.ip, 30000)])
    n = compare(inp, out, model(mv))
    check(n > 0, "the second call's media moved with the handover (%d frames rewritten)" % n)
    check(ctr(st, "handovers_committed") == 1, "one handover committed")
    check(ctr(st, "streams_taken_from_ended") == 2,
          "the ended call gave up its RTP and RTCP addresses (%d)" % ctr(st, "streams_taken_from_ended"))
    check(ctr(st, "streams_refused") == 0, "no flow refused (%d)" % ctr(st, "streams_refused"))
    end_checks(os.path.join(tmp, "out.pcap"), st, expect_empty=False)


if __name__ == "__main__":
    replay.run_case(globals())
