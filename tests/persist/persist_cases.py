#!/usr/bin/python3
"""Call persistency scenarios through sipkeep's replay mode (docs/OVERVIEW.md section 1).

Each case builds a capture with sipscen, replays it, and checks the output
frame by frame against an independent model of what sipkeep must do: which
frames are rewritten, to what, with checksums recomputed from scratch by
scapy, and every other frame byte-identical. Counters are checked from
--stats-json. Usage: persist_cases.py SIPKEEP CASE
"""
import os
import tempfile

from scapy.all import Ether, IP, UDP

from sktest.checks import check
from sktest.replay import (Move, commit_index, compare, ctr, end_checks, fragment_key, model, moves_for,
                           run_case, run_replay)
from sktest.sipscen import (LTE, MEDIA, MEDIA6, NO_PERSIST, PAD_SDP, PERSIST, REGISTRAR, REGISTRAR6,
                            WIFI, Call, Endpoint, Scenario, User, basic_call, general_scenario,
                            handover_scenario, media_both_ways, read_frames)


# --- cases ---------------------------------------------------------------------------------

def case_handover_within_window(sipkeep):
    s, old, new, flows = handover_scenario()
    inp, out, st, tmp = run_replay(sipkeep, s)
    mv = Move(old.ip, 5060, new.ip, 5062, commit_index(inp, 2), flows)
    n = compare(inp, out, model(mv))
    check(ctr(st, "registrations_committed") == 3, "3 REGISTERs committed (incl. the unregister)")
    check(ctr(st, "users_suspended") == 1, "the user was suspended once when its uplink went silent")
    check(ctr(st, "handovers_committed") == 1, "one handover committed")
    check(ctr(st, "handovers_expired") == 0, "no window expired")
    check(ctr(st, "rtp_latched") == 2, "RTP and RTCP ports latched (4010 and 4011)")
    check(ctr(st, "sip_redirected") == 1, "the INFO from core to the old contact was redirected")
    check(ctr(st, "rtp_rewritten_downlink") + ctr(st, "rtp_rewritten_uplink") + ctr(st, "sip_redirected") == n,
          "rewrite counters add up to the %d rewritten frames" % n)
    check(ctr(st, "rtp_rewritten_uplink") > 0 and ctr(st, "rtp_rewritten_downlink") > 0, "media rewritten both ways")
    end_checks(os.path.join(tmp, "out.pcap"), st)
    check(st["counters"]["users_active"] == 0, "user freed after unregister and BYE")


def case_first_downlink_after_commit(sipkeep):
    """Handover latency in replay (issue 15, goal 4): a downlink RTP and RTCP frame right
    before the committing 200 OK go out untouched; the very next frames after it, 1 us
    later, already go to the new address. Packet by packet, not just "eventually"."""
    s, old, new, flows = handover_scenario()
    t_200 = 8.0 + 0.05  # handover_scenario's re-REGISTER at 8 s, its answer 50 ms later
    s.rtp(t_200 - 1e-6, t_200 - 5e-7, MEDIA.ip, 20000, old.ip, 4000, 0x2222, False)
    s.rtp(t_200 + 1e-6, t_200 + 1.5e-6, MEDIA.ip, 20000, old.ip, 4000, 0x2222, False)
    s.rtp(t_200 + 2e-6, t_200 + 2.5e-6, MEDIA.ip, 20001, old.ip, 4001, 0x2222, False, rtcp=True)
    inp, out, st, tmp = run_replay(sipkeep, s)
    ci = commit_index(inp, 2)
    check(abs(inp[ci][0] - t_200) < 1e-9, "the committing 200 OK is at %.6f s" % t_200)
    n = compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, ci, flows)))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "one handover committed")

    def down(frames, i):
        p = Ether(frames[i][1])
        return p[IP].src, p[UDP].sport, p[IP].dst, p[UDP].dport

    check(down(inp, ci - 1) == (MEDIA.ip, 20000, old.ip, 4000) and down(out, ci - 1) == down(inp, ci - 1),
          "the downlink RTP frame 1 us before the 200 OK goes out to the old address")
    check(down(inp, ci + 1) == (MEDIA.ip, 20000, old.ip, 4000) and down(out, ci + 1)[2] == new.ip,
          "the first downlink RTP frame after the 200 OK (1 us later) goes to %s" % new.ip)
    check(down(inp, ci + 2) == (MEDIA.ip, 20001, old.ip, 4001) and down(out, ci + 2)[2] == new.ip,
          "the first downlink RTCP frame after it too")
    end_checks(os.path.join(tmp, "out.pcap"), st)


# --- the commit on the fast path (armed commits, docs/PERSISTENCY.md) -------------------------

T_200 = 8.0 + 0.05  # handover_scenario's re-REGISTER at 8 s, its answer 50 ms later


def downlink(frames, i):
    p = Ether(frames[i][1])
    return p[IP].src, p[UDP].sport, p[IP].dst, p[UDP].dport


def index_at(frames, t, sip=False):
    """Index of the frame stamped T (with SIP: the SIP message stamped T; a 20 ms RTP stream may
    share its time)."""
    for i, (ts, raw) in enumerate(frames):
        if abs(ts - t) < 1e-9 and (not sip or b"SIP/2.0" in raw):
            return i
    raise AssertionError("no frame at %.6f" % t)


def with_frames_after_200():
    """handover_scenario, with a downlink RTP frame 1 us before the committing 200 OK and RTP and
    RTCP 1 and 2 us after it."""
    s, old, new, flows = handover_scenario()
    s.rtp(T_200 - 1e-6, T_200 - 5e-7, MEDIA.ip, 20000, old.ip, 4000, 0x2222, False)
    s.rtp(T_200 + 1e-6, T_200 + 1.5e-6, MEDIA.ip, 20000, old.ip, 4000, 0x2222, False)
    s.rtp(T_200 + 2e-6, T_200 + 2.5e-6, MEDIA.ip, 20001, old.ip, 4001, 0x2222, False, rtcp=True)
    return s, old, new, flows


def frames_of(s):
    path = os.path.join(tempfile.mkdtemp(prefix="sk-persist-"), "in.pcap")
    s.write(path)
    return read_frames(path)


def control_lag(inp, i_req, ci):
    """A --replay-control-lag N under which the control thread (which runs before the frames
    numbered k, from 1, with k % N == 1) applies the re-REGISTER (frame I_REQ, from 0) before the
    200 OK (frame CI) comes, and does not run again before the two frames after the 200 OK: a
    control thread that lags, and the live gap between the 200 OK and the tables."""
    for n in range(40, 2, -1):
        if any(k % n == 1 for k in range(i_req + 2, ci + 2)) and not any(k % n == 1 for k in (ci + 2, ci + 3)):
            return n
    raise AssertionError("no control lag fits this capture")


def case_first_downlink_after_commit_lagged(sipkeep):
    """Issue 15 goal 4, what replay alone hid: with the control thread N frames behind the
    worker, the frames right after the committing 200 OK are rewritten all the same, because
    the worker that forwarded the 200 OK published the armed move. The same capture with
    arming off (handover_arm_ms = 0, which is what main did before armed commits) sends both
    frames to the old address: the gap the live benchmark measured."""
    s, old, new, flows = with_frames_after_200()
    frames = frames_of(s)
    ci = index_at(frames, T_200, sip=True)
    i_req = next(i for i, (t, raw) in enumerate(frames) if raw.find(b"REGISTER sip:") >= 0 and b"CSeq: 2 " in raw)
    lag = control_lag(frames, i_req, ci)
    print("control lag: the control thread runs every %d frames (re-REGISTER frame %d, 200 OK frame %d)"
          % (lag, i_req, ci))
    inp, out, st, tmp = run_replay(sipkeep, s, args=("--replay-control-lag", str(lag)))
    check(abs(inp[ci][0] - T_200) < 1e-9, "the committing 200 OK is frame %d" % ci)
    n = compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, ci, flows)))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "one handover committed")
    check(ctr(st, "handovers_armed") == 1 and ctr(st, "handovers_fired") == 1,
          "the re-REGISTER was armed and the worker forwarding its 200 OK fired it")
    check(downlink(out, ci - 1) == downlink(inp, ci - 1), "the downlink frame before the 200 OK is untouched")
    check(downlink(out, ci + 1)[2] == new.ip and downlink(out, ci + 2)[2] == new.ip,
          "the downlink RTP and RTCP frames right after the 200 OK go to %s, the control thread %d frames behind"
          % (new.ip, lag))
    end_checks(os.path.join(tmp, "out.pcap"), st)

    inp, out, st, tmp = run_replay(sipkeep, s, conf_extra="handover_arm_ms = 0",
                                   args=("--replay-control-lag", str(lag)))
    check(ctr(st, "handovers_committed") == 1 and ctr(st, "handovers_armed") == 0 and
          ctr(st, "handovers_fired") == 0, "arming off: the control thread commits the handover later")
    check(downlink(out, ci + 1) == downlink(inp, ci + 1) and downlink(inp, ci + 1)[2] == old.ip and
          downlink(out, ci + 2) == downlink(inp, ci + 2),
          "arming off, same lag: the two frames after the 200 OK still go to the old address %s" % old.ip)


def register_answer(s, t, src, dst, cseq, status=200, from_access=False):
    """A 200 OK (or STATUS) to alice's REGISTER CSeq from SRC to DST (the scenario's headers)."""
    hdrs = [
        "Via: SIP/2.0/UDP %s;branch=z9hG4bK-reg-%d;rport" % (Scenario.hostport(dst.ip, dst.sip_port), cseq),
        "From: <sip:alice@example.com>;tag=reg%d" % cseq,
        "To: <sip:alice@example.com>;tag=registrar",
        "Call-ID: reg-alice",
        "CSeq: %d REGISTER" % cseq,
        "Contact: <sip:alice@%s>" % Scenario.hostport(dst.ip, dst.sip_port),
        "Expires: 3600",
    ]
    s.sip(t, src, dst, "SIP/2.0 %d %s" % (status, "OK" if status == 200 else "Whatever"), hdrs,
          from_access=from_access)


def not_fired_by(sipkeep, add_answer, what):
    """ADD_ANSWER puts a 2xx that must not commit 20 us before the real 200 OK, with a downlink
    frame 10 us before it: that frame leaves for the old address, and the real 200 OK commits."""
    s, old, new, flows = handover_scenario()
    add_answer(s, old, new)
    s.rtp(T_200 - 1e-5, T_200 - 9e-6, MEDIA.ip, 20000, old.ip, 4000, 0x2222, False)
    inp, out, st, tmp = run_replay(sipkeep, s)
    ci = index_at(inp, T_200, sip=True)
    n = compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, ci, flows)))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "the real 200 OK commits one handover")
    check(ctr(st, "handovers_fired") == 1, "only the real 200 OK fired the arm (%s did not)" % what)
    i = index_at(inp, T_200 - 1e-5)
    check(downlink(out, i) == downlink(inp, i) and downlink(inp, i)[2] == old.ip,
          "the downlink frame after %s goes to the old address" % what)
    end_checks(os.path.join(tmp, "out.pcap"), st)
    return st


def case_arm_forged_2xx_from_access(sipkeep):
    """A host on the access side sends the 200 OK the registrar would send (same Call-ID, CSeq,
    To, to the phone's new address): the worker fires only on answers from the core side."""
    not_fired_by(sipkeep, lambda s, old, new: register_answer(s, T_200 - 2e-5, Endpoint("10.66.6.6", 5060), new, 2,
                                                              from_access=True),
                 "a 200 OK forged from the access side")


def case_arm_2xx_other_cseq(sipkeep):
    """A 200 OK from core with the right Call-ID and To but CSeq 1 (a late answer to the first
    REGISTER) fires nothing and commits nothing."""
    st = not_fired_by(sipkeep, lambda s, old, new: register_answer(s, T_200 - 2e-5, REGISTRAR, new, 1),
                      "a 200 OK to another CSeq")
    check(ctr(st, "registrations_stale_response") == 1, "the other CSeq's 200 OK is counted stale")


def case_arm_replayed_200_after_commit(sipkeep):
    """The committing 200 OK again, 100 ms later: the arm fired once; the copy fires nothing
    and is counted stale."""
    s, old, new, flows = handover_scenario()
    register_answer(s, T_200 + 0.1, REGISTRAR, new, 2)
    inp, out, st, tmp = run_replay(sipkeep, s)
    ci = index_at(inp, T_200, sip=True)
    n = compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, ci, flows)))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "one handover committed")
    check(ctr(st, "handovers_fired") == 1 and ctr(st, "handovers_armed") == 1, "armed once, fired once")
    check(ctr(st, "registrations_stale_response") == 1, "the replayed 200 OK is counted stale")
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_arm_cancelled_on_401(sipkeep):
    """The re-REGISTER is answered 401: the arm is taken back unfired, nothing moves."""
    st = unchanged_case(sipkeep, {"status": 401}, "registrations_rejected", "re-REGISTER answered 401")
    check(ctr(st, "handovers_armed") == 1 and ctr(st, "handovers_arm_cancelled") == 1 and
          ctr(st, "handovers_fired") == 0, "armed, then cancelled by the 401, never fired")


def case_arm_times_out(sipkeep):
    """handover_arm_ms = 20 and the 200 OK comes 50 ms after the re-REGISTER: the arm is taken
    back at its deadline; the 200 OK still commits, the slow way (by the control thread)."""
    s, old, new, flows = handover_scenario()
    inp, out, st, tmp = run_replay(sipkeep, s, conf_extra="handover_arm_ms = 20")
    ci = index_at(inp, T_200, sip=True)
    n = compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, ci, flows)))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "one handover committed")
    check(ctr(st, "handovers_armed") == 1 and ctr(st, "handovers_arm_cancelled") == 1 and
          ctr(st, "handovers_fired") == 0, "armed, timed out, never fired")
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_arm_taken_back_by_new_flows(sipkeep):
    """Between the re-REGISTER and its 200 OK, a re-INVITE moves the call's media to new ports:
    the armed move lists the old flows, so the control thread takes the arm back before it
    retires them. The 200 OK fires nothing; the control thread commits the handover, and the
    new flows move."""
    s, old, new, flows = handover_scenario()
    php = Scenario.hostport(LTE, 5060)
    rei = s.dialog_headers("sip:alice@example.com", "sip:bob@example.com", "call-1", 5, "INVITE", php, "a1", "b1")
    s.sip(8.01, old, REGISTRAR, "INVITE sip:bob@192.0.2.10:5060 SIP/2.0", rei, Scenario.sdp(LTE, 4002))
    s.sip(8.02, REGISTRAR, old, "SIP/2.0 200 OK", rei, Scenario.sdp(MEDIA.ip, 20002), from_access=False)
    s.rtp(T_200 + 0.01, T_200 + 0.0105, MEDIA.ip, 20002, LTE, 4002, 0x2222, False)
    inp, out, st, tmp = run_replay(sipkeep, s)
    check(ctr(st, "handovers_armed") == 1 and ctr(st, "handovers_arm_cancelled") == 1 and
          ctr(st, "handovers_fired") == 0, "armed, taken back when the re-INVITE changed the flows, never fired")
    check(ctr(st, "handovers_committed") == 1, "the 200 OK still commits the handover")
    i = index_at(inp, T_200 + 0.01)
    check(downlink(inp, i) == (MEDIA.ip, 20002, LTE, 4002) and downlink(out, i)[2] == new.ip,
          "downlink on the re-INVITE's new flow after the 200 OK goes to %s" % new.ip)
    end_checks(os.path.join(tmp, "out.pcap"), st)


def unchanged_case(sipkeep, scen_kwargs, counter, what):
    s, old, new, flows = handover_scenario(**scen_kwargs)
    inp, out, st, tmp = run_replay(sipkeep, s)
    compare(inp, out, lambda i, t, p: None)
    check(ctr(st, "handovers_committed") == 0, "no handover committed (%s)" % what)
    check(ctr(st, "rtp_rewritten_downlink") == 0 and ctr(st, "rtp_rewritten_uplink") == 0, "nothing rewritten")
    if counter:
        check(ctr(st, counter) == 1, "%s counts it" % counter)
    end_checks(os.path.join(tmp, "out.pcap"), st)
    return st


def case_reregister_after_window(sipkeep):
    st = unchanged_case(sipkeep, {"t_rereg": 19.5}, "handovers_expired", "re-REGISTER after the window")
    check(ctr(st, "handovers_refused_window") == 1, "the late re-REGISTER is counted as refused")


def case_reregister_without_persist_tag(sipkeep):
    unchanged_case(sipkeep, {"supported_new": NO_PERSIST}, "handovers_refused_no_persist",
                   "re-REGISTER without X-cisco-sessionpersist")


def case_reregister_rejected_401(sipkeep):
    st = unchanged_case(sipkeep, {"status": 401}, "registrations_rejected", "re-REGISTER answered 401")


def case_reregister_rejected_403(sipkeep):
    unchanged_case(sipkeep, {"status": 403}, "registrations_rejected", "re-REGISTER answered 403")


def moved_case(sipkeep, scen_kwargs, extra_checks=None, new_sip_port=5062):
    s, old, new, flows = handover_scenario(**scen_kwargs)
    inp, out, st, tmp = run_replay(sipkeep, s)
    n = compare(inp, out, model(Move(old.ip, 5060, new.ip, new_sip_port, commit_index(inp, 2), flows)))
    check(n > 0, "frames rewritten after the handover")
    check(ctr(st, "handovers_committed") == 1, "one handover committed")
    check(ctr(st, "rtp_rewritten_downlink") + ctr(st, "rtp_rewritten_uplink") + ctr(st, "sip_redirected") == n,
          "rewrite counters add up to the %d rewritten frames" % n)
    if extra_checks:
        extra_checks(st, inp)
    end_checks(os.path.join(tmp, "out.pcap"), st)
    return st


def case_third_party_same_ssrc_never_latched(sipkeep):
    def more(st, inp):
        n3 = sum(1 for t, raw in inp if IP in Ether(raw) and Ether(raw)[IP].src == "10.9.9.9")
        check(n3 > 50 and ctr(st, "latch_refused") == n3,
              "all %d packets from the third address refused and passed unchanged (latch_refused=%d)"
              % (n3, ctr(st, "latch_refused")))
    moved_case(sipkeep, {"third_party": True}, more)


def case_new_port_same_as_old(sipkeep):
    moved_case(sipkeep, {"new_rtp_port": 4000})


def case_rtcp_mux(sipkeep):
    def more(st, inp):
        check(ctr(st, "rtp_latched") == 1, "one latch: RTCP rides on the RTP port")
    moved_case(sipkeep, {"rtcp_mux": True}, more)


def case_ipv6(sipkeep):
    moved_case(sipkeep, {"v6": True})


def case_vlan(sipkeep):
    moved_case(sipkeep, {"vlan": 42})


def case_late_200_stale_cseq(sipkeep):
    """A 200 OK for an older CSeq of the re-REGISTER's Call-ID commits nothing."""
    s, old, new, flows = handover_scenario(status=None)
    inp, out, st, tmp = run_replay(sipkeep, s)
    compare(inp, out, lambda i, t, p: None)
    check(ctr(st, "registrations_stale_response") == 1, "the stale 200 OK is counted")
    check(ctr(st, "handovers_committed") == 0, "and commits nothing")
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_several_supported_headers(sipkeep):
    """Supported split over several headers, compact form, odd case: the tag is still seen."""
    s, old, new, flows = handover_scenario(supported_new="replaces\r\nk: x-CISCO-sessionPERSIST\r\nSupported: timer")
    inp, out, st, tmp = run_replay(sipkeep, s)
    n = compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, commit_index(inp, 2), flows)))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "handover committed with the tag in a second header")
    end_checks(os.path.join(tmp, "out.pcap"), st)


def run_general(sipkeep, users, conf_extra="", **kw):
    s = general_scenario(users, **kw)
    inp, out, st, tmp = run_replay(sipkeep, s, conf_extra)
    n = compare(inp, out, model(*moves_for(users, inp)))
    return inp, st, n, tmp


def case_two_calls_one_user(sipkeep):
    users = [User("alice", LTE, WIFI, [Call("c1", 4000, 4010, 20000), Call("c2", 4100, 4110, 20100)])]
    inp, st, n, tmp = run_general(sipkeep, users)
    check(ctr(st, "handovers_committed") == 1, "one handover moved both calls")
    check(ctr(st, "rtp_latched") == 2, "the RTP port of each call latched separately")
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_two_users_at_once(sipkeep):
    users = [User("alice", LTE, WIFI, [Call("c1", 4000, 4010, 20000)]),
             User("carol", "10.1.0.6", "10.1.0.6", [Call("c2", 4000, 4000, 20100)], moves=False)]
    inp, st, n, tmp = run_general(sipkeep, users)
    check(ctr(st, "handovers_committed") == 1, "alice moved; carol, still talking, untouched")
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_user_called_from_core(sipkeep):
    users = [User("alice", LTE, WIFI, [Call("c1", 4000, 4010, 20000, from_core=True)])]
    inp, st, n, tmp = run_general(sipkeep, users)
    check(ctr(st, "handovers_committed") == 1 and n > 0, "the called user's media moved")
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_reinvite_changes_media(sipkeep):
    """A re-INVITE moves the call's media to new ports before the handover: the new ones move."""
    s, old, new, flows = handover_scenario()
    # At 3 s the phone re-INVITEs with RTP on 4002, the core answers with 20002; all media follows.
    php = Scenario.hostport(LTE, 5060)
    rei = s.dialog_headers("sip:alice@example.com", "sip:bob@example.com", "call-1", 5, "INVITE", php, "a1", "b1")
    s.sip(3.0, old, REGISTRAR, "INVITE sip:bob@192.0.2.10:5060 SIP/2.0", rei, Scenario.sdp(LTE, 4002))
    s.sip(3.05, REGISTRAR, old, "SIP/2.0 200 OK", rei, Scenario.sdp(MEDIA.ip, 20002), from_access=False)
    s.frames = [(t, f) for (t, f) in s.frames if not (t > 3.05 and UDP in f and
                (f[UDP].sport in (4000, 4001, 20000, 20001, 4010, 4011) or f[UDP].dport in (4000, 4001, 20000, 20001)))]
    s.rtp(3.1, 5.0, LTE, 4002, MEDIA.ip, 20002, 0x1111, True)
    s.rtp(3.11, 15.0, MEDIA.ip, 20002, LTE, 4002, 0x2222, False)
    s.rtp(8.2, 15.0, WIFI, 4012, MEDIA.ip, 20002, 0x3333, True)
    s.rtp(8.3, 15.0, MEDIA.ip, 20003, LTE, 4003, 0x2222, False, interval=1.0, rtcp=True)
    inp, out, st, tmp = run_replay(sipkeep, s)
    n = compare(inp, out, model(Move(LTE, 5060, WIFI, 5062, commit_index(inp, 2),
                                     [(4002, MEDIA.ip, 20002), (4003, MEDIA.ip, 20003)])))
    check(ctr(st, "handovers_committed") == 1 and ctr(st, "rtp_rewritten_uplink") > 0,
          "the re-INVITE's media moved (%d frames rewritten)" % n)
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_registration_expiry_frees_everything(sipkeep):
    """No unregister: the registration runs out (Expires 20) after the BYE; every table empties."""
    users = [User("alice", LTE, WIFI, [Call("c1", 4000, 4010, 20000)])]
    inp, st, n, tmp = run_general(sipkeep, users, expires=20)
    check(ctr(st, "registrations_expired") == 1, "the registration expired")
    check(st["counters"]["users_active"] == 0, "no user left")
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_dialogs_end_without_bye(sipkeep):
    """A refused INVITE (486), a CANCELled one and one never answered end without a BYE:
    the first two after the linger, the third after the early-dialog timeout (180 s) and
    the linger. Every dialog and flow is freed."""
    s = Scenario()
    phone = Endpoint(LTE, 5060, 4000)
    s.register(0.0, phone, REGISTRAR, "alice", "reg-alice", 1, PERSIST)
    php = Scenario.hostport(LTE, 5060)
    p_uri, c_uri = "sip:alice@example.com", "sip:bob@example.com"

    def invite(t, call_id, tag, port):
        h = s.dialog_headers(p_uri, c_uri, call_id, 1, "INVITE", php, tag, contact="sip:alice@%s" % php)
        s.sip(t, phone, REGISTRAR, "INVITE sip:bob@example.com SIP/2.0", h, Scenario.sdp(LTE, port))
        return h

    busy = invite(1.0, "call-busy", "a1", 4000)
    r = [x.replace("To: <%s>" % c_uri, "To: <%s>;tag=b1" % c_uri) for x in busy[:5]]
    s.sip(1.1, REGISTRAR, phone, "SIP/2.0 486 Busy Here", r, from_access=False)
    invite(2.0, "call-cancel", "a2", 4100)
    s.sip(2.5, phone, REGISTRAR, "CANCEL sip:bob@example.com SIP/2.0",
          s.dialog_headers(p_uri, c_uri, "call-cancel", 1, "CANCEL", php, "a2"))
    invite(3.0, "call-silent", "a3", 4200)
    # Replay time moves with the frames: one after the first two lingers, one after
    # the third's timeout (which starts its linger), one after that linger.
    for t in (10.0, 190.0, 195.0):
        s.udp(t, "192.0.2.99", 9, "192.0.2.98", 9, b"tick", False)
    inp, out, st, tmp = run_replay(sipkeep, s)
    check(ctr(st, "dialogs_created") == 3, "3 dialogs created (%d)" % ctr(st, "dialogs_created"))
    check(ctr(st, "dialogs_ended") == 3, "all 3 ended without a BYE (%d)" % ctr(st, "dialogs_ended"))
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_tables_full(sipkeep):
    """max_dialogs = 16: the 17th call is refused and counted; the 16 others keep working."""
    calls = [Call("c%02d" % i, 4000 + 10 * i, 6000 + 10 * i, 20000 + 10 * i) for i in range(17)]
    users = [User("alice", LTE, WIFI, calls)]
    s = general_scenario(users)
    inp, out, st, tmp = run_replay(sipkeep, s, "max_dialogs = 16")
    mv = moves_for(users, inp)[0]
    mv.flows = mv.flows[:32]  # the 17th call's two flows are not tracked
    n = compare(inp, out, model(mv))
    check(ctr(st, "dialogs_refused") == 1, "the 17th dialog refused and counted")
    check(ctr(st, "dialogs_created") == 16 and ctr(st, "handovers_committed") == 1,
          "16 dialogs tracked and moved")
    end_checks(os.path.join(tmp, "out.pcap"), st)


REMOTECC_XML = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<x-cisco-remotecc-request>\r\n"
                + "".join("<bulkregisterreq><contact all=\"true\"><register></register></contact>"
                          "<line>%d</line></bulkregisterreq>\r\n" % i for i in range(40))
                + "</x-cisco-remotecc-request>\r\n")


def multipart(xml):
    b = "uniqueBoundary"
    return ("--%s\r\nContent-Type: application/x-cisco-remotecc-request+xml\r\nContent-Disposition: session;"
            "handling=required\r\n\r\n%s\r\n--%s--\r\n" % (b, xml, b)).encode(), \
        "multipart/mixed; boundary=%s" % b


def frag_counts(st, inp):
    n_frags = sum(1 for t, raw in inp if fragment_key(Ether(raw)))
    check(n_frags > 0, "the capture has %d fragments" % n_frags)
    check(ctr(st, "frames_ip_fragment") == n_frags and ctr(st, "frag_sent") == n_frags,
          "all %d fragments reassembled and sent again as they came (frag_sent=%d)" % (n_frags, ctr(st, "frag_sent")))
    check(ctr(st, "frag_passed_unreassembled") == 0, "no fragment given up")


def case_fragmented_invite_sdp(sipkeep):
    """The INVITE's SDP is in the second fragment: the call is tracked only if it is reassembled."""
    s = Scenario()
    old, new = Endpoint(LTE, 5060, 4000), Endpoint(WIFI, 5062, 4010)
    s.register(0.0, old, REGISTRAR, "alice", "reg-alice", 1, PERSIST)
    php = Scenario.hostport(LTE, 5060)
    inv = s.dialog_headers("sip:alice@example.com", "sip:bob@example.com", "call-1", 1, "INVITE", php, "a1")
    s.sip(1.0, old, REGISTRAR, "INVITE sip:bob@example.com SIP/2.0", inv, Scenario.sdp(LTE, 4000, PAD_SDP),
          frag=1400)
    r = [h.replace("To: <sip:bob@example.com>", "To: <sip:bob@example.com>;tag=b1") for h in inv]
    s.sip(1.1, REGISTRAR, old, "SIP/2.0 200 OK", r, Scenario.sdp(MEDIA.ip, 20000, PAD_SDP), from_access=False,
          frag=1200)
    media_both_ways(s, LTE, 4000, MEDIA, 1.2, 4.0, rtcp=False)
    s.rtp(4.01, 9.0, MEDIA.ip, 20000, LTE, 4000, 0x2222, False)
    s.register(6.0, new, REGISTRAR, "alice", "reg-alice", 2, PERSIST)
    s.rtp(6.2, 9.0, WIFI, 4010, MEDIA.ip, 20000, 0x3333, True)
    inp, out, st, tmp = run_replay(sipkeep, s)
    n = compare(inp, out, model(Move(LTE, 5060, WIFI, 5062, commit_index(inp, 2), [(4000, MEDIA.ip, 20000)])))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "media of the fragmented INVITE moved")
    frag_counts(st, inp)
    end_checks(os.path.join(tmp, "out.pcap"), st, expect_empty=False)


def case_fragmented_register_multipart(sipkeep):
    """Cisco REGISTERs with a remotecc multipart body, larger than a datagram, both times."""
    s = Scenario()
    old, new = Endpoint(LTE, 5060, 4000), Endpoint(WIFI, 5062, 4010)
    body, ctype = multipart(REMOTECC_XML)
    check(len(body) > 2000, "the multipart body is %d bytes" % len(body))
    s.register(0.0, old, REGISTRAR, "alice", "reg-alice", 1, PERSIST, body=body, content_type=ctype, frag=1400)
    basic_call(s, old, supported=None)
    media_both_ways(s, LTE, 4000, MEDIA, 1.5, 4.0, rtcp=False)
    s.rtp(4.01, 9.0, MEDIA.ip, 20000, LTE, 4000, 0x2222, False)
    s.register(6.0, new, REGISTRAR, "alice", "reg-alice", 2, PERSIST, body=body, content_type=ctype, frag=1400)
    s.rtp(6.2, 9.0, WIFI, 4010, MEDIA.ip, 20000, 0x3333, True)
    inp, out, st, tmp = run_replay(sipkeep, s)
    n = compare(inp, out, model(Move(LTE, 5060, WIFI, 5062, commit_index(inp, 2), [(4000, MEDIA.ip, 20000)])))
    check(ctr(st, "registrations_committed") == 2 and ctr(st, "handovers_committed") == 1 and n > 0,
          "both fragmented REGISTERs committed, media moved")
    frag_counts(st, inp)
    end_checks(os.path.join(tmp, "out.pcap"), st, expect_empty=False)


def case_fragmented_ipv6_invite(sipkeep):
    """The same over IPv6 (fragment header after the IPv6 header)."""
    s = Scenario()
    old, new = Endpoint("2001:db8:a:1::5", 5060, 4000), Endpoint("2001:db8:a:2::7", 5062, 4010)
    s.register(0.0, old, REGISTRAR6, "alice", "reg-alice", 1, PERSIST)
    php = Scenario.hostport(old.ip, 5060)
    inv = s.dialog_headers("sip:alice@example.com", "sip:bob@example.com", "call-1", 1, "INVITE", php, "a1")
    s.sip(1.0, old, REGISTRAR6, "INVITE sip:bob@example.com SIP/2.0", inv, Scenario.sdp(old.ip, 4000, PAD_SDP),
          frag=1400)
    r = [h.replace("To: <sip:bob@example.com>", "To: <sip:bob@example.com>;tag=b1") for h in inv]
    s.sip(1.1, REGISTRAR6, old, "SIP/2.0 200 OK", r, Scenario.sdp(MEDIA6.ip, 20000), from_access=False)
    media_both_ways(s, old.ip, 4000, MEDIA6, 1.2, 4.0, rtcp=False)
    s.rtp(4.01, 9.0, MEDIA6.ip, 20000, old.ip, 4000, 0x2222, False)
    s.register(6.0, new, REGISTRAR6, "alice", "reg-alice", 2, PERSIST)
    s.rtp(6.2, 9.0, new.ip, 4010, MEDIA6.ip, 20000, 0x3333, True)
    inp, out, st, tmp = run_replay(sipkeep, s)
    n = compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, commit_index(inp, 2), [(4000, MEDIA6.ip, 20000)])))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "media of the fragmented IPv6 INVITE moved")
    frag_counts(st, inp)
    end_checks(os.path.join(tmp, "out.pcap"), st, expect_empty=False)


def case_sdp_cannot_claim_another_address(sipkeep):
    """A client declares a victim's address in its SDP, then moves: the victim's media stays put."""
    s = Scenario()
    attacker, victim = Endpoint(LTE, 5060, 4000), Endpoint("10.1.0.9", 5060, 4000)
    s.register(0.0, victim, REGISTRAR, "victim", "reg-victim", 1, PERSIST)
    s.register(0.1, attacker, REGISTRAR, "alice", "reg-alice", 1, PERSIST)
    php = Scenario.hostport(LTE, 5060)
    inv = s.dialog_headers("sip:alice@example.com", "sip:bob@example.com", "call-x", 1, "INVITE", php, "x1")
    s.sip(1.0, attacker, REGISTRAR, "INVITE sip:bob@example.com SIP/2.0", inv, Scenario.sdp(victim.ip, 4000))
    r = [h.replace("To: <sip:bob@example.com>", "To: <sip:bob@example.com>;tag=b1") for h in inv]
    s.sip(1.1, REGISTRAR, attacker, "SIP/2.0 200 OK", r, Scenario.sdp(MEDIA.ip, 20000), from_access=False)
    s.rtp(1.2, 9.0, MEDIA.ip, 20000, victim.ip, 4000, 0x2222, False)
    s.rtp(1.2, 3.0, victim.ip, 4000, MEDIA.ip, 20000, 0x1111, True)
    s.register(4.0, Endpoint(WIFI, 5062), REGISTRAR, "alice", "reg-alice", 2, PERSIST)
    s.rtp(4.2, 9.0, WIFI, 4010, MEDIA.ip, 20000, 0x3333, True)
    inp, out, st, tmp = run_replay(sipkeep, s)
    compare(inp, out, lambda i, t, p: None)
    check(ctr(st, "streams_foreign_address") == 1, "the foreign SDP address is refused and counted")
    check(ctr(st, "rtp_rewritten_downlink") == 0 and ctr(st, "rtp_rewritten_uplink") == 0,
          "nothing of the victim's media moved")
    end_checks(os.path.join(tmp, "out.pcap"), st, expect_empty=False)


if __name__ == "__main__":
    run_case(globals())
