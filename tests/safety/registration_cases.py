#!/usr/bin/python3
"""Registration safety (issue 11, items 1, 5, 6, 15, 16, 17) through replay mode.

Who may commit a registration, who a device is, and which addresses are a
user's: each case builds its capture with sipscen, replays it and checks the
output frame by frame against the persist model (tests/persist) and the
counters from --stats-json. Usage: registration_cases.py SIPKEEP CASE
"""
import os

from sktest.checks import check
from sktest.replay import commit_index, compare, end_checks, model, Move, run_case, run_replay
from sktest.sipscen import (LTE, MEDIA, PERSIST, REGISTRAR, WIFI, basic_call, Endpoint,
                            handover_scenario, media_both_ways, Scenario)


ATTACKER = "10.66.0.9"
DEAD_CORE = Endpoint("192.0.2.66", 5060)  # a core address that never answers
RCC = "<urn:x-cisco-remotecc:callinfo>;security= NotAuthenticated;orientation= to;gci= 1-4711;isVoip"


def ctr(st, name):
    """A counter, or a failed check when this sipkeep does not have it."""
    v = st["counters"].get(name)
    check(v is not None, "counter %s exists" % name)
    return v


def register(s, t, src_ip, src_port, user, call_id, cseq, contacts, registrar=REGISTRAR, supported=PERSIST,
             expires=3600, via_port=None, rport=True, status=200, answer=True, answer_to=None, answer_after=0.05):
    """A REGISTER with the given Contact values (strings), sent from src_ip:src_port.
    The registrar answers to answer_to (ip, port); by default where RFC 3261/3581 says."""
    via_hp = Scenario.hostport(src_ip, via_port or src_port)
    hdrs = ["Via: SIP/2.0/UDP %s;branch=z9hG4bK-r-%s-%d-%d%s" % (via_hp, call_id, cseq, src_port,
                                                               ";rport" if rport else ""),
            "From: <sip:%s@example.com>;tag=rf-%s" % (user, call_id),
            "To: <sip:%s@example.com>" % user,
            "Call-ID: %s" % call_id,
            "CSeq: %d REGISTER" % cseq]
    if contacts:
        hdrs.append("Contact: %s" % ", ".join(contacts))
    if expires is not None:
        hdrs.append("Expires: %d" % expires)
    hdrs.append("Max-Forwards: 70")
    if supported:
        hdrs.append("Supported: %s" % supported)
    s.sip(t, Endpoint(src_ip, src_port), registrar, "REGISTER sip:example.com SIP/2.0", hdrs)
    if not answer:
        return
    if answer_to is None:
        answer_to = (src_ip, src_port if rport else (via_port or 5060))
    resp = [h for h in hdrs if not h.startswith(("Supported", "Max-Forwards"))]
    resp[2] = resp[2] + ";tag=registrar"
    reason = {200: "OK", 401: "Unauthorized", 403: "Forbidden"}.get(status, "Whatever")
    s.sip(t + answer_after, registrar, Endpoint(*answer_to), "SIP/2.0 %d %s" % (status, reason), resp,
          from_access=False)


def contact(user, ip, port, params=""):
    return "<sip:%s@%s>%s" % (user, Scenario.hostport(ip, port), params)


def unchanged(i, t, p):
    return None


def core_invite(s, t, to_ip, to_port, user, call_id, media_port, rtp_port, callinfo=True, answer_from=None):
    """A call from core to user at to_ip:to_port with a remotecc Call-Info; the phone answers from
    answer_from (ip, port; default the address called). Returns nothing: the frames are in s."""
    php = Scenario.hostport(to_ip, to_port)
    rhp = Scenario.hostport(REGISTRAR.ip, 5060)
    p_uri, c_uri = "sip:%s@example.com" % user, "sip:bob@example.com"
    inv = s.dialog_headers(c_uri, p_uri, call_id, 1, "INVITE", rhp, "c-" + call_id, contact="sip:bob@%s" % rhp)
    if callinfo:
        inv.append("Call-Info: " + RCC)
    s.sip(t, REGISTRAR, Endpoint(to_ip, to_port), "INVITE sip:%s@%s SIP/2.0" % (user, php), inv,
          Scenario.sdp(MEDIA.ip, media_port), from_access=False)
    r = [h.replace("To: <%s>" % p_uri, "To: <%s>;tag=p1" % p_uri) for h in inv[:5]]
    frm = Endpoint(*(answer_from or (to_ip, to_port)))
    s.sip(t + 0.1, frm, REGISTRAR, "SIP/2.0 200 OK", r + ["Contact: <sip:%s@%s>" % (user, php)],
          Scenario.sdp(to_ip, rtp_port))
    ack = s.dialog_headers(c_uri, p_uri, call_id, 1, "ACK", rhp, "c-" + call_id, "p1")
    s.sip(t + 0.12, REGISTRAR, Endpoint(to_ip, to_port), "ACK sip:%s@%s SIP/2.0" % (user, php), ack,
          from_access=False)


def tick(s, t):
    s.udp(t, "192.0.2.99", 9, "192.0.2.98", 9, b"tick", False)


# --- item 1: a planted REGISTER transaction ------------------------------------------------------

def case_planted_register_never_commits(sipkeep):
    """An access host sends a REGISTER for the victim's AOR with the victim's Call-ID and the next
    CSeq to a core address that never answers. The victim's real re-REGISTER from Wi-Fi is its own
    transaction, and the registrar's 200 (to Wi-Fi) moves the media there, never to the attacker."""
    s, old, new, flows = handover_scenario()
    register(s, 7.0, ATTACKER, 5060, "alice", "reg-alice", 2, [contact("alice", ATTACKER, 5060)],
             registrar=DEAD_CORE, answer=False)
    # The attacker then sends media toward the call's core address: never latched.
    s.rtp(8.25, 12.0, ATTACKER, 4010, MEDIA.ip, 20000, 0x3333, True)
    inp, out, st, tmp = run_replay(sipkeep, s)
    mv = Move(old.ip, 5060, new.ip, 5062, commit_index(inp, 2), flows)
    n = compare(inp, out, model(mv))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "the victim's media moved to Wi-Fi (%d frames)" % n)
    check(ctr(st, "latch_refused") > 100, "the attacker's media is never latched (latch_refused=%d)"
          % ctr(st, "latch_refused"))
    check(ctr(st, "registrations_committed") == 3, "the victim's 3 REGISTERs committed, not the planted one")
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_planted_register_rejected_does_not_block_victim(sipkeep):
    """The planted REGISTER goes to the real registrar, which challenges it (401 to the attacker)
    while the victim's own re-REGISTER with the same Call-ID and CSeq is under way: the 401 ends
    only the attacker's transaction and the victim's 200 still commits its move."""
    s, old, new, flows = handover_scenario()
    register(s, 7.99, ATTACKER, 5060, "alice", "reg-alice", 2, [contact("alice", ATTACKER, 5060)],
             status=401, answer_after=0.03)
    inp, out, st, tmp = run_replay(sipkeep, s)
    n = compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, commit_index(inp, 2), flows)))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "the victim's media moved (%d frames)" % n)
    check(ctr(st, "registrations_rejected") == 1, "the attacker's transaction alone was rejected")
    check(ctr(st, "registrations_stale_response") == 0, "the victim's 200 matched its own transaction")
    end_checks(os.path.join(tmp, "out.pcap"), st)


# --- item 5: shared line without +sip.instance --------------------------------------------------

def case_shared_line_refresh_is_not_a_handover(sipkeep):
    """A desk phone and a soft client register alice without +sip.instance, each with its own
    Call-ID. The desk phone talks; both refresh as usual: the soft client's refresh never moves
    the desk phone's call."""
    s = Scenario()
    desk, soft = Endpoint(LTE, 5060, 4000), Endpoint("10.3.0.8", 5062, 4100)
    register(s, 0.0, desk.ip, 5060, "alice", "desk-callid", 1, [contact("alice", desk.ip, 5060)])
    register(s, 0.5, soft.ip, 5062, "alice", "soft-callid", 1, [contact("alice", soft.ip, 5062)])
    basic_call(s, desk, supported=None)
    media_both_ways(s, desk.ip, 4000, MEDIA, 1.2, 14.0)
    register(s, 4.0, desk.ip, 5060, "alice", "desk-callid", 2, [contact("alice", desk.ip, 5060)])
    register(s, 8.0, soft.ip, 5062, "alice", "soft-callid", 2, [contact("alice", soft.ip, 5062)])
    register(s, 10.0, soft.ip, 5062, "alice", "soft-callid", 3, [contact("alice", soft.ip, 5062)])
    bye = s.dialog_headers("sip:alice@example.com", "sip:bob@example.com", "call-1", 2, "BYE",
                           Scenario.hostport(desk.ip, 5060), "a1", "b1")
    s.sip(14.0, desk, REGISTRAR, "BYE sip:bob@192.0.2.10:5060 SIP/2.0", bye)
    s.sip(14.05, REGISTRAR, desk, "SIP/2.0 200 OK", bye[:5], from_access=False)
    tick(s, 20.0)
    inp, out, st, tmp = run_replay(sipkeep, s)
    compare(inp, out, unchanged)
    check(ctr(st, "handovers_committed") == 0, "no handover: each device refreshed from where it is")
    check(ctr(st, "rtp_rewritten_downlink") == 0 and ctr(st, "sip_redirected") == 0, "nothing rewritten")
    check(ctr(st, "registrations_committed") == 5, "5 REGISTERs committed")
    check(st["counters"]["users_active"] == 2, "two devices of alice tracked (users_active=%d)"
          % st["counters"]["users_active"])
    end_checks(os.path.join(tmp, "out.pcap"), st)


# --- item 6: pending REGISTER flood ----------------------------------------------------------------

def flood(s, t0, t1, src_ip, n, registrar=DEAD_CORE):
    for i in range(n):
        t = t0 + (t1 - t0) * i / n
        register(s, round(t, 6), src_ip, 30000 + i % 20000, "rnd%05d" % i, "flood-%d" % i, 1,
                 [contact("rnd%05d" % i, src_ip, 5060)], registrar=registrar, answer=False)


def case_pending_flood_from_one_source_refuses_no_one_else(sipkeep):
    """One access host sends 400 REGISTERs for random AORs that are never answered (max_users = 64
    sizes today's pending table at 64). The victim's re-REGISTER from another address is still
    tracked and its handover commits; the flood is bounded per source and counted."""
    s, old, new, flows = handover_scenario()
    flood(s, 6.0, 7.5, ATTACKER, 400)
    inp, out, st, tmp = run_replay(sipkeep, s, "max_users = 64")
    n = compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, commit_index(inp, 2), flows)))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "the victim's handover committed (%d frames)" % n)
    check(ctr(st, "registrations_pending_refused") == 0, "no REGISTER refused for a full table")
    check(ctr(st, "registrations_pending_source_refused") == 400 - 256,
          "the flood is cut at max_pending_per_source (256): %d refused"
          % ctr(st, "registrations_pending_source_refused"))
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_pending_register_limits_and_timeout(sipkeep):
    """Small limits from the config: max_pending_registers 40, max_pending_per_source 16,
    register_timeout_ms 2000. Two flooding hosts hold 32 slots; the victim still gets one; the
    flood's transactions are forgotten after 2 s and counted."""
    s, old, new, flows = handover_scenario()
    flood(s, 6.0, 7.0, ATTACKER, 100)
    flood(s, 6.0, 7.0, "10.66.0.10", 100)
    inp, out, st, tmp = run_replay(sipkeep, s, "max_pending_registers = 40\nmax_pending_per_source = 16\n"
                                   "register_timeout_ms = 2000")
    n = compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, commit_index(inp, 2), flows)))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "the victim's handover committed (%d frames)" % n)
    check(ctr(st, "registrations_pending_source_refused") == 2 * (100 - 16), "84 refused from each flooder")
    check(ctr(st, "registrations_pending_expired") == 32, "the 32 flood transactions timed out (%d)"
          % ctr(st, "registrations_pending_expired"))
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_pending_flood_from_many_sources_evicts_the_oldest(sipkeep):
    """50 access hosts each send 12 unanswered REGISTERs for random AORs around the victim's
    re-REGISTER (600 in 2.2 s), more than max_pending_registers (40) and within each host's
    max_pending_per_source (16), so only the table's size bounds them. A full table forgets its
    oldest unanswered transaction: the victim's REGISTER, answered 50 ms later, still commits."""
    s, old, new, flows = handover_scenario()
    for i in range(50):
        flood(s, 6.0 + i * 2.2 / 12 / 50, 8.2 + i * 2.2 / 12 / 50, "10.67.%d.%d" % (i // 200, 1 + i % 200), 12)
    inp, out, st, tmp = run_replay(sipkeep, s, "max_pending_registers = 40\nmax_pending_per_source = 16")
    n = compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, commit_index(inp, 2), flows)))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "the victim's handover committed (%d frames)" % n)
    check(ctr(st, "registrations_pending_source_refused") == 0, "no host passed its own bound")
    check(ctr(st, "registrations_pending_refused") == 0, "no REGISTER refused")
    check(ctr(st, "registrations_pending_evicted") >= 600 - 40,
          "the flood's oldest transactions made room (%d evicted)" % ctr(st, "registrations_pending_evicted"))
    end_checks(os.path.join(tmp, "out.pcap"), st)

# --- item 15: REGISTER source port differs from the Contact port ---------------------------------

def cisco_case(sipkeep, rport):
    """A phone sends its REGISTERs from a high port (40000) with Contact :5060, and listens there.
    Core calls it at :5060 with a remotecc Call-Info (the phone registered X-cisco-callinfo): the
    Call-Info passes, the dialog is the phone's, and after the phone moves to Wi-Fi (REGISTER from
    40001, Contact WIFI:5060) its media and core's SIP to the old Contact follow."""
    s = Scenario()
    register(s, 0.0, LTE, 40000, "alice", "reg-alice", 1, [contact("alice", LTE, 5060)], via_port=5060, rport=rport)
    core_invite(s, 1.0, LTE, 5060, "alice", "call-1", 20000, 4000)
    media_both_ways(s, LTE, 4000, MEDIA, 1.2, 5.0)
    s.rtp(5.01, 15.0, MEDIA.ip, 20000, LTE, 4000, 0x2222, False)
    s.rtp(5.01, 15.0, MEDIA.ip, 20001, LTE, 4001, 0x2222, False, interval=1.0, rtcp=True)
    register(s, 8.0, WIFI, 40001, "alice", "reg-alice", 2, [contact("alice", WIFI, 5060)], via_port=5060,
             rport=rport)
    s.rtp(8.2, 15.0, WIFI, 4010, MEDIA.ip, 20000, 0x3333, True)
    s.rtp(8.3, 15.0, WIFI, 4011, MEDIA.ip, 20001, 0x3333, True, interval=1.0, rtcp=True)
    # Core's in-dialog request to the Contact the phone had: redirected to its new Contact.
    info = s.dialog_headers("sip:bob@example.com", "sip:alice@example.com", "call-1", 2, "INFO",
                            Scenario.hostport(REGISTRAR.ip, 5060), "c-call-1", "p1")
    s.sip(12.0, REGISTRAR, Endpoint(LTE, 5060), "INFO sip:alice@%s:5060 SIP/2.0" % LTE, info, from_access=False)
    bye = s.dialog_headers("sip:bob@example.com", "sip:alice@example.com", "call-1", 3, "BYE",
                           Scenario.hostport(REGISTRAR.ip, 5060), "c-call-1", "p1")
    s.sip(15.0, REGISTRAR, Endpoint(WIFI, 5060), "BYE sip:alice@%s:5060 SIP/2.0" % WIFI, bye, from_access=False)
    s.sip(15.05, Endpoint(WIFI, 5060), REGISTRAR, "SIP/2.0 200 OK", bye[:5])
    tick(s, 20.0)
    inp, out, st, tmp = run_replay(sipkeep, s, "callinfo_policy = registered")
    mv = Move(LTE, 5060, WIFI, 5060, commit_index(inp, 2), [(4000, MEDIA.ip, 20000), (4001, MEDIA.ip, 20001)])
    n = compare(inp, out, model(mv))
    check(ctr(st, "callinfo_removed") == 0, "the remotecc Call-Info to the phone's Contact passes")
    check(ctr(st, "dialogs_created") == 1 and ctr(st, "dialogs_unowned") == 0, "the call is the phone's")
    check(ctr(st, "handovers_committed") == 1 and n > 0, "the call moved (%d frames rewritten)" % n)
    check(ctr(st, "sip_redirected") == 1, "core's INFO to the old Contact went to the new Contact")
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_contact_port_differs_from_source_rport(sipkeep):
    cisco_case(sipkeep, rport=True)


def case_contact_port_differs_from_source_via_port(sipkeep):
    """The same without rport: the registrar answers to the Via port (5060), not the source port."""
    cisco_case(sipkeep, rport=False)


def case_contact_cannot_claim_cotenant_port(sipkeep):
    """Two users behind one IP: mallory's REGISTER names carol's address in its Contact. The
    address stays carol's: core's call to it keeps its remotecc Call-Info (carol registered
    X-cisco-callinfo, mallory did not) and the dialog is carol's."""
    s = Scenario()
    register(s, 0.0, LTE, 5060, "carol", "reg-carol", 1, [contact("carol", LTE, 5060)])
    register(s, 0.5, LTE, 5070, "mallory", "reg-mallory", 1, [contact("mallory", LTE, 5060)],
             supported="replaces")
    core_invite(s, 1.0, LTE, 5060, "carol", "call-1", 20000, 4000)
    tick(s, 5.0)
    inp, out, st, tmp = run_replay(sipkeep, s, "callinfo_policy = registered")
    compare(inp, out, unchanged)
    check(ctr(st, "contacts_foreign") == 1, "mallory's claim on carol's address refused and counted")
    check(ctr(st, "callinfo_removed") == 0 and ctr(st, "dialogs_created") == 1, "carol's call is carol's")
    end_checks(os.path.join(tmp, "out.pcap"), st, expect_empty=False)


# --- item 16: the contact table holds what users may keep -----------------------------------------

def case_contact_table_holds_every_address(sipkeep):
    """max_users = 16. Ten users each keep 4 signalling addresses (REGISTERs from 4 ports); an 11th
    user registers with X-cisco-callinfo and is called from core with a remotecc Call-Info: its
    address is in the table (the Call-Info passes, the dialog is owned) and nothing was refused."""
    s = Scenario()
    t = 0.0
    for u in range(10):
        ip = "10.1.1.%d" % (u + 1)
        for k in range(4):
            register(s, t, ip, 5060 + k, "u%d" % u, "reg-u%d" % u, k + 1, [contact("u%d" % u, ip, 5060 + k)])
            t += 0.1
    register(s, t, "10.1.2.1", 5060, "late", "reg-late", 1, [contact("late", "10.1.2.1", 5060)])
    core_invite(s, t + 1.0, "10.1.2.1", 5060, "late", "call-late", 20000, 4000)
    tick(s, t + 3.0)
    inp, out, st, tmp = run_replay(sipkeep, s, "max_users = 16\ncallinfo_policy = registered")
    compare(inp, out, unchanged)
    check(ctr(st, "registrations_committed") == 41, "41 REGISTERs committed")
    check(ctr(st, "contacts_refused") == 0, "no signalling address refused")
    check(ctr(st, "callinfo_removed") == 0, "the late user's remotecc Call-Info passes")
    check(ctr(st, "dialogs_created") == 1 and ctr(st, "dialogs_unowned") == 0, "the late user's call is tracked")
    end_checks(os.path.join(tmp, "out.pcap"), st, expect_empty=False)


# --- item 17: several Contacts in one REGISTER ----------------------------------------------------

def case_several_contacts_stale_removed_new_added(sipkeep):
    """The re-REGISTER from Wi-Fi removes the stale LTE binding and adds the new one in one
    message (Contact: <old>;expires=0, <new>): a handover, not an unregister."""
    s, old, new, flows = handover_scenario()
    # Replace the plain re-REGISTER (CSeq 2) with the two-Contact form.
    s.frames = [(t, f) for (t, f) in s.frames if b"CSeq: 2 REGISTER" not in bytes(f)]
    register(s, 8.0, WIFI, 5062, "alice", "reg-alice", 2,
             [contact("alice", LTE, 5060, ";expires=0"), contact("alice", WIFI, 5062)])
    inp, out, st, tmp = run_replay(sipkeep, s)
    n = compare(inp, out, model(Move(old.ip, 5060, new.ip, 5062, commit_index(inp, 2), flows)))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "the call moved (%d frames rewritten)" % n)
    check(ctr(st, "registrations_unregistered") == 1, "only the final Expires: 0 unregistered")
    end_checks(os.path.join(tmp, "out.pcap"), st)
    check(st["counters"]["users_active"] == 0, "user freed after its unregister and BYE")


def case_removing_one_binding_keeps_the_other(sipkeep):
    """A device registers two Contacts, then removes one (expires=0): it stays registered, so core's
    call to it keeps its remotecc Call-Info and is tracked; the last binding's removal unregisters."""
    s = Scenario()
    register(s, 0.0, LTE, 5060, "alice", "reg-alice", 1,
             [contact("alice", LTE, 5060), contact("alice", "alice.example.net", 5060)])
    register(s, 1.0, LTE, 5060, "alice", "reg-alice", 2, [contact("alice", "alice.example.net", 5060, ";expires=0")],
             expires=None)
    core_invite(s, 2.0, LTE, 5060, "alice", "call-1", 20000, 4000)
    register(s, 4.0, LTE, 5060, "alice", "reg-alice", 3, [contact("alice", LTE, 5060)], expires=0)
    tick(s, 6.0)
    inp, out, st, tmp = run_replay(sipkeep, s, "callinfo_policy = registered")
    compare(inp, out, unchanged)
    check(ctr(st, "callinfo_removed") == 0, "still registered after removing one binding: Call-Info passes")
    check(ctr(st, "dialogs_created") == 1, "the call is tracked")
    check(ctr(st, "registrations_unregistered") == 1, "removing the last binding unregisters")
    end_checks(os.path.join(tmp, "out.pcap"), st, expect_empty=False)


if __name__ == "__main__":
    run_case(globals())
