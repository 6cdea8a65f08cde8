#!/usr/bin/python3
"""SIP over TCP, everything the UDP path does (issue 13, "Replay behaviour"), through replay
mode: the REGISTER commit rule on the connection, dialogs and SDP media learning in both call
directions, the handover to a new connection from a new address (media over UDP moves), and
the Call-Info policy with the length-preserving rewrite of the contract.

Expected output: the TCP streams' expected bytes (the rewritten messages rendered by an
independent model of the pad rule, sktest.tcpscen.CallInfo.render_tcp) and, for UDP media,
the handover model of sktest.replay (Move); compared direction by direction. tshark reads
the output as valid SIP over TCP (checksums validated, no new TCP analysis warning).
Usage: behaviour_cases.py SIPKEEP CASE
"""
from sktest.checks import check
from sktest.replay import Move, commit_index, model, run_case
from sktest.sipscen import MEDIA, Scenario, media_both_ways
from sktest.tcpscen import (CallInfo, CISCO_SUPPORTED, ICON, INFO, NO_FALLBACK, RCC, RCC2, SUPPORTED_NO_CALLINFO,
                            UCM_HP, UCM_IP, TcpConn, counters, dialog_headers, drop_rule, run_tcp, sdp, sip_message,
                            tcp_register, udp_rule)

LTE = "10.1.0.5"
WIFI = "10.2.0.7"


def tick(s, t):
    s.udp(t, "192.0.2.99", 9, "192.0.2.98", 9, b"tick", False)


def phone_call(c, t, user, call_id, rtp_port, media_port, tag="a1"):
    """A call from the phone over connection c: INVITE (SDP), 100, 180, 200 (SDP), ACK."""
    php = Scenario.hostport(*c.addr["c"])
    pu, bu = "sip:%s@example.com" % user, "sip:bob@example.com"
    inv = dialog_headers(pu, bu, call_id, 1, "INVITE", php, tag, contact="sip:%s@%s" % (user, php))
    _, t = c.send(t, "c", sip_message("INVITE sip:bob@example.com SIP/2.0", inv, sdp(c.addr["c"][0], rtp_port)))
    _, t = c.send(t + 0.02, "s", sip_message("SIP/2.0 100 Trying", inv[:5]))
    r = list(inv[:5])
    r[2] += ";tag=b1"
    _, t = c.send(t + 0.05, "s", sip_message("SIP/2.0 180 Ringing", r))
    _, t = c.send(t + 0.1, "s", sip_message("SIP/2.0 200 OK", r + ["Contact: <sip:bob@%s;transport=tcp>" % UCM_HP],
                                            sdp(MEDIA.ip, media_port)))
    ack = dialog_headers(pu, bu, call_id, 1, "ACK", php, tag, "b1")
    _, t = c.send(t + 0.02, "c", sip_message("ACK sip:bob@%s;transport=tcp SIP/2.0" % UCM_HP, ack))
    return {"from": pu, "to": bu, "ftag": tag, "ttag": "b1"}, t


def core_call(c, t, user, call_id, rtp_port, media_port, tag="c1", callinfo=None, drop=False, splits=None):
    """A call from core to the phone over c: INVITE (SDP, optional Call-Info), 180, 200 (SDP), ACK.
    Returns the dialog and the time after it."""
    php = Scenario.hostport(*c.addr["c"])
    pu, bu = "sip:%s@example.com" % user, "sip:bob@example.com"
    inv = dialog_headers(bu, pu, call_id, 1, "INVITE", UCM_HP, tag, contact="sip:bob@%s" % UCM_HP)
    if callinfo is not None:
        inv.append(callinfo)
    start = "INVITE sip:%s@%s;transport=tcp SIP/2.0" % (user, php)
    body = sdp(MEDIA.ip, media_port)
    _, t = c.send(t, "s", sip_message(start, inv, body), splits=splits,
                  expect=sip_message(start, inv, body, drop=drop))
    r = list(inv[:5])
    r[2] += ";tag=p1"
    _, t = c.send(t + 0.05, "c", sip_message("SIP/2.0 180 Ringing", r))
    _, t = c.send(t + 0.1, "c", sip_message("SIP/2.0 200 OK", r + ["Contact: <sip:%s@%s;transport=tcp>" % (user, php)],
                                            sdp(c.addr["c"][0], rtp_port)))
    ack = dialog_headers(bu, pu, call_id, 1, "ACK", UCM_HP, tag, "p1")
    _, t = c.send(t + 0.02, "s", sip_message("ACK sip:%s@%s;transport=tcp SIP/2.0" % (user, php), ack))
    return {"from": bu, "to": pu, "ftag": tag, "ttag": "p1"}, t


def bye_from_phone(c, t, d, call_id, cseq=2):
    php = Scenario.hostport(*c.addr["c"])
    if d["from"].startswith("sip:bob"):
        h = dialog_headers(d["to"], d["from"], call_id, cseq, "BYE", php, d["ttag"], d["ftag"])
    else:
        h = dialog_headers(d["from"], d["to"], call_id, cseq, "BYE", php, d["ftag"], d["ttag"])
    _, t = c.send(t, "c", sip_message("BYE sip:bob@%s;transport=tcp SIP/2.0" % UCM_HP, h))
    _, t = c.send(t + 0.03, "s", sip_message("SIP/2.0 200 OK", h[:5]))
    return t


# --- handover --------------------------------------------------------------------------------------------

def handover(sipkeep, t_rereg, calls=("phone",)):
    """The phone registers over TCP from LTE (port 51000), calls (over that connection; media
    over UDP), loses LTE at 5 s (media stops; core keeps sending to the LTE address), opens a
    new connection from Wi-Fi (port 52000) at t_rereg and re-registers on it (same Call-ID,
    next CSeq, X-cisco-sessionpersist). Returns the run and the flows."""
    s = Scenario()
    old = TcpConn(s, LTE, 51000, UCM_IP, 5060, isn_c=0x01000000, isn_s=0x05000000)
    t = old.handshake(0.0)
    t = tcp_register(old, t + 0.01, "alice", 1, splits=[1000])
    dialogs, flows, ports = [], [], []
    for k, who in enumerate(calls):
        rtp, mport = 4000 + 2 * k, 20000 + 2 * k
        if who == "phone":
            d, t = phone_call(old, 1.0 + 0.3 * k, "alice", "call-%d" % k, rtp, mport, tag="a%d" % k)
        else:
            d, t = core_call(old, 1.0 + 0.3 * k, "alice", "call-%d" % k, rtp, mport, tag="c%d" % k)
        dialogs.append(d)
        flows += [(rtp, MEDIA.ip, mport), (rtp + 1, MEDIA.ip, mport + 1)]
        ports.append((rtp, mport))
    t_bye = t_rereg + 7.0
    for k, (rtp, mport) in enumerate(ports):
        media = type(MEDIA)(MEDIA.ip, 5060, mport)
        media_both_ways(s, LTE, rtp, media, 1.6, 5.0, ssrc_up=0x1000 + k, ssrc_down=0x2000 + k)
        # The core keeps sending to the old address while the phone is away.
        s.rtp(5.01, t_bye, MEDIA.ip, mport, LTE, rtp, 0x2000 + k, False)
        s.rtp(5.41, t_bye, MEDIA.ip, mport + 1, LTE, rtp + 1, 0x2000 + k, False, interval=1.0, rtcp=True)
    new = TcpConn(s, WIFI, 52000, UCM_IP, 5060, isn_c=0x0A000000, isn_s=0x0B000000)
    t = new.handshake(t_rereg - 0.01)
    t = tcp_register(new, t_rereg, "alice", 2, splits=[1000])
    for k, (rtp, mport) in enumerate(ports):
        s.rtp(t_rereg + 0.2, t_bye, WIFI, 4100 + 2 * k, MEDIA.ip, mport, 0x3000 + k, True)
        s.rtp(t_rereg + 0.3, t_bye, WIFI, 4101 + 2 * k, MEDIA.ip, mport + 1, 0x3000 + k, True, interval=1.0,
              rtcp=True)
    t = t_bye
    for k, d in enumerate(dialogs):
        t = bye_from_phone(new, t + 0.1, d, "call-%d" % k)
    t = tcp_register(new, t + 1.0, "alice", 3, splits=[1000], expires=0)
    new.close(t + 0.5)
    tick(s, t + 5.0)
    return s, flows


def case_handover_over_tcp_within_window(sipkeep):
    """The re-REGISTER on the new connection from Wi-Fi commits (its 2xx on that connection)
    within persist_window_ms: the UDP media moves (downlink to Wi-Fi, uplink from Wi-Fi
    rewritten to the old address), exactly as the model says, from the frame after the 2xx."""
    s, flows = handover(sipkeep, 8.0)
    s.frames.sort(key=lambda tf: tf[0])  # as Scenario.write does: the model needs the input's indexes
    mv = Move(LTE, 51000, WIFI, 52000, commit_index([(t, bytes(f)) for t, f in s.frames], 2), flows)
    inp, out, st, tmp = run_tcp(sipkeep, s, rules=[udp_rule(model(mv))])
    check(len(mv.latched) == 2, "the model latched the Wi-Fi RTP and RTCP ports")
    counters(st, registrations_committed=3, users_suspended=1, handovers_committed=1, handovers_expired=0,
             rtp_latched=2, sip_redirected=0, rtp_rewritten_downlink=lambda v: v > 100,
             rtp_rewritten_uplink=lambda v: v > 100, dialogs_created=1, dialogs_ended=1, tcp_streams_tracked=4,
             **NO_FALLBACK)
    n = st["model_changed"]
    check(st["counters"]["rtp_rewritten_downlink"] + st["counters"]["rtp_rewritten_uplink"] == n,
          "the rewrite counters add up to the %d frames the model rewrote" % n)
    check(st["counters"]["dialogs_active"] == 0 and st["counters"]["streams_active"] == 0, "tables back to empty")


def case_handover_over_tcp_after_window(sipkeep):
    """The same re-REGISTER 14.5 s after the media stopped (persist_window_ms 12000): committed,
    nothing moves, every frame leaves as it came."""
    s, flows = handover(sipkeep, 19.5)
    inp, out, st, tmp = run_tcp(sipkeep, s)
    counters(st, registrations_committed=3, handovers_committed=0, handovers_refused_window=1, handovers_expired=1,
             rtp_rewritten_downlink=0, rtp_rewritten_uplink=0, sip_redirected=0, **NO_FALLBACK)


def case_call_learned_both_directions_over_tcp(sipkeep):
    """Two calls over the phone's TCP connection, one from the phone and one from core: both
    dialogs are tracked and both SDP offers/answers learned, shown by the handover moving the
    media of both calls (four UDP flows) when the phone re-registers from Wi-Fi."""
    s, flows = handover(sipkeep, 8.0, calls=("phone", "core"))
    s.frames.sort(key=lambda tf: tf[0])
    mv = Move(LTE, 51000, WIFI, 52000, commit_index([(t, bytes(f)) for t, f in s.frames], 2), flows)
    inp, out, st, tmp = run_tcp(sipkeep, s, rules=[udp_rule(model(mv))])
    check(len(mv.latched) == 4, "the model latched four Wi-Fi flows (%d)" % len(mv.latched))
    counters(st, dialogs_created=2, dialogs_unowned=0, dialogs_ended=2, handovers_committed=1, rtp_latched=4,
             sip_redirected=0, **NO_FALLBACK)
    n = st["model_changed"]
    check(st["counters"]["rtp_rewritten_downlink"] + st["counters"]["rtp_rewritten_uplink"] == n,
          "the rewrite counters add up to the %d frames the model rewrote (both calls' media)" % n)


# --- Call-Info --------------------------------------------------------------------------------------------

def callinfo_setup(supported=SUPPORTED_NO_CALLINFO):
    s = Scenario()
    c = TcpConn(s, LTE, 51000, UCM_IP, 5060)
    t = c.handshake(0.0)
    t = tcp_register(c, t + 0.01, "alice", 1, splits=[1000], supported=supported)
    return s, c, t


def split_at(msg, needle, delta):
    i = msg.index(needle)
    return [i + delta]


def core_invite_split(c, t, ci, where, drop=True):
    """core_call with its INVITE split at where(msg) (a list of offsets)."""
    php = Scenario.hostport(*c.addr["c"])
    inv = dialog_headers("sip:bob@example.com", "sip:alice@example.com", "call-1", 1, "INVITE", UCM_HP, "c1",
                         contact="sip:bob@%s" % UCM_HP) + [ci]
    msg = sip_message("INVITE sip:alice@%s;transport=tcp SIP/2.0" % php, inv, sdp(MEDIA.ip, 20000))
    return core_call(c, t, "alice", "call-1", 4000, 20000, callinfo=ci, drop=drop, splits=where(msg))


def case_callinfo_removed_header_in_second_segment(sipkeep):
    """Core's INVITE to a phone registered without X-cisco-callinfo; its first segment ends in
    the line before `Call-Info: <remotecc>, <icon>`, which is in the second segment. The first
    segment is held until the header block completes; the line becomes `Call-Info: <icon>` and
    a pad line of the removed length; nothing else changes."""
    s, c, t = callinfo_setup()
    d, t = core_invite_split(c, t + 1.0, CallInfo([RCC, ICON]), lambda m: split_at(m, b"Call-Info:", -7))
    t = bye_from_phone(c, t + 1.0, d, "call-1")
    tick(s, t + 3.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, expect_sip=8, in_order=False)
    counters(st, callinfo_removed=1, callinfo_messages_rewritten=1, tcp_segments_held=1, tcp_held_released_unchanged=0,
             sip_messages=8, tcp_messages=8, dialogs_created=1, dialogs_ended=1, **NO_FALLBACK)


def case_callinfo_removed_header_spans_segment_boundary(sipkeep):
    """The same INVITE split inside the remotecc value of the Call-Info line (both segments
    change), then an UPDATE whose only Call-Info value is remotecc, split inside it: that line
    becomes a pad line of its length."""
    s, c, t = callinfo_setup()
    d, t = core_invite_split(c, t + 1.0, CallInfo([RCC, ICON]), lambda m: split_at(m, b"remotecc", 5))
    php = Scenario.hostport(*c.addr["c"])
    h = dialog_headers(d["from"], d["to"], "call-1", 2, "UPDATE", UCM_HP, d["ftag"], d["ttag"]) + [CallInfo([RCC])]
    start = "UPDATE sip:alice@%s;transport=tcp SIP/2.0" % php
    upd = sip_message(start, h)
    _, t = c.send(t + 1.0, "s", upd, splits=split_at(upd, b"Call-Info:", 12), expect=sip_message(start, h, drop=True))
    _, t = c.send(t + 0.05, "c", sip_message("SIP/2.0 200 OK", [x for x in h[:5]]))
    t = bye_from_phone(c, t + 1.0, d, "call-1", cseq=3)
    tick(s, t + 3.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, expect_sip=10, in_order=False)
    counters(st, callinfo_removed=2, callinfo_messages_rewritten=2, tcp_segments_held=2, tcp_held_released_unchanged=0,
             sip_messages=10, tcp_messages=10, **NO_FALLBACK)


def case_callinfo_removal_then_more_messages_both_ways(sipkeep):
    """After the rewritten INVITE (Call-Info split across segments), more messages both ways on
    the same connection, some with remotecc Call-Info of their own (from the phone: a 180 and a
    REFER; from core: an INFO with the remotecc value between two others): each is rewritten by
    the pad rule, the rest byte-identical; no sequence or acknowledgement number changes; the
    dialog runs to its BYE."""
    s, c, t = callinfo_setup()
    php = Scenario.hostport(*c.addr["c"])
    pu, bu = "sip:alice@example.com", "sip:bob@example.com"
    inv = dialog_headers(bu, pu, "call-1", 1, "INVITE", UCM_HP, "c1", contact="sip:bob@%s" % UCM_HP)
    inv.append(CallInfo([ICON, RCC]))
    start = "INVITE sip:alice@%s;transport=tcp SIP/2.0" % php
    m = sip_message(start, inv, sdp(MEDIA.ip, 20000))
    _, t = c.send(t + 1.0, "s", m, splits=split_at(m, b"remotecc", -3) + [len(m) - 40],
                  expect=sip_message(start, inv, sdp(MEDIA.ip, 20000), drop=True))
    r = list(inv[:5])
    r[2] += ";tag=p1"
    rr = r + [CallInfo([RCC2])]
    _, t = c.send(t + 0.05, "c", sip_message("SIP/2.0 180 Ringing", rr),
                  expect=sip_message("SIP/2.0 180 Ringing", rr, drop=True))
    _, t = c.send(t + 0.1, "c", sip_message("SIP/2.0 200 OK", r + ["Contact: <sip:alice@%s;transport=tcp>" % php],
                                            sdp(LTE, 4000)))
    ack = dialog_headers(bu, pu, "call-1", 1, "ACK", UCM_HP, "c1", "p1")
    _, t = c.send(t + 0.02, "s", sip_message("ACK sip:alice@%s;transport=tcp SIP/2.0" % php, ack))
    media_both_ways(s, LTE, 4000, MEDIA, t + 0.1, t + 3.0, rtcp=False)
    info = dialog_headers(bu, pu, "call-1", 2, "INFO", UCM_HP, "c1", "p1") + [CallInfo([ICON, RCC, INFO])]
    ist = "INFO sip:alice@%s;transport=tcp SIP/2.0" % php
    im = sip_message(ist, info)
    _, t = c.send(t + 1.0, "s", im, splits=split_at(im, b"Call-Info:", 40), expect=sip_message(ist, info, drop=True))
    _, t = c.send(t + 0.03, "c", sip_message("SIP/2.0 200 OK", info[:5]))
    refer = dialog_headers(pu, bu, "call-1", 1, "REFER", php, "p1", "c1") + [CallInfo([RCC2], name="Call-Info:")]
    rst_ = "REFER sip:bob@%s;transport=tcp SIP/2.0" % UCM_HP
    _, t = c.send(t + 0.5, "c", sip_message(rst_, refer), expect=sip_message(rst_, refer, drop=True))
    _, t = c.send(t + 0.03, "s", sip_message("SIP/2.0 202 Accepted", refer[:5]))
    t = bye_from_phone(c, t + 2.0, {"from": bu, "to": pu, "ftag": "c1", "ttag": "p1"}, "call-1", cseq=2)
    tick(s, t + 3.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, expect_sip=12, in_order=False)
    counters(st, callinfo_removed=4, callinfo_messages_rewritten=4, sip_messages=12, tcp_messages=12,
             dialogs_created=1, dialogs_ended=1, tcp_retransmissions=0, tcp_out_of_order=0, **NO_FALLBACK)


def case_callinfo_rewritten_retransmission_identical(sipkeep):
    """The INVITE with the Call-Info split across its two segments; the second segment is sent
    again, then the whole message again in one segment (a coalesced retransmission): both
    retransmissions leave rewritten exactly like the original bytes, the message is applied
    once."""
    s, c, t = callinfo_setup()
    php = Scenario.hostport(*c.addr["c"])
    pu, bu = "sip:alice@example.com", "sip:bob@example.com"
    inv = dialog_headers(bu, pu, "call-1", 1, "INVITE", UCM_HP, "c1", contact="sip:bob@%s" % UCM_HP)
    inv.append(CallInfo([RCC, ICON]))
    start = "INVITE sip:alice@%s;transport=tcp SIP/2.0" % php
    m = sip_message(start, inv, sdp(MEDIA.ip, 20000))
    (s1, s2), t = c.send(t + 1.0, "s", m, splits=split_at(m, b"remotecc", 10), ack_after=None,
                         expect=sip_message(start, inv, sdp(MEDIA.ip, 20000), drop=True))
    c.segment(t + 0.2, "s", s2[0], length=s2[1])
    c.segment(t + 0.6, "s", s1[0], length=s1[1] + s2[1])
    c.ack(t + 0.601, "c")
    r = list(inv[:5])
    r[2] += ";tag=p1"
    _, t = c.send(t + 0.7, "c", sip_message("SIP/2.0 180 Ringing", r))
    _, t = c.send(t + 0.1, "c", sip_message("SIP/2.0 200 OK", r + ["Contact: <sip:alice@%s;transport=tcp>" % php],
                                            sdp(LTE, 4000)))
    ack = dialog_headers(bu, pu, "call-1", 1, "ACK", UCM_HP, "c1", "p1")
    _, t = c.send(t + 0.02, "s", sip_message("ACK sip:alice@%s;transport=tcp SIP/2.0" % php, ack))
    t = bye_from_phone(c, t + 1.0, {"from": bu, "to": pu, "ftag": "c1", "ttag": "p1"}, "call-1", cseq=2)
    tick(s, t + 3.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, in_order=False)
    counters(st, tcp_retransmissions=2, tcp_retransmissions_rewritten=2, callinfo_removed=1,
             callinfo_messages_rewritten=1, sip_messages=8, tcp_messages=8, dialogs_created=1, dialogs_ended=1,
             **NO_FALLBACK)


def case_callinfo_held_segment_retransmitted_leaves_once(sipkeep):
    """Core's INVITE, cut in the line before its Call-Info: the first segment is held; core sends
    it again before the rest comes. The duplicate is dropped (tcp_held_duplicates_dropped), the
    held copy leaves once, then the rewritten second segment; the message is applied once."""
    s, c, t = callinfo_setup()
    php = Scenario.hostport(*c.addr["c"])
    pu, bu = "sip:alice@example.com", "sip:bob@example.com"
    inv = dialog_headers(bu, pu, "call-1", 1, "INVITE", UCM_HP, "c1", contact="sip:bob@%s" % UCM_HP)
    inv.append(CallInfo([RCC, ICON]))
    start = "INVITE sip:alice@%s;transport=tcp SIP/2.0" % php
    m = sip_message(start, inv, sdp(MEDIA.ip, 20000))
    base = c.put("s", m, expect=sip_message(start, inv, sdp(MEDIA.ip, 20000), drop=True))
    cut = m.index(b"Call-Info:") - 7
    c.segment(t + 1.0, "s", base, length=cut)
    dup_t = round(t + 1.2, 6)
    c.segment(dup_t, "s", base, length=cut)
    c.segment(t + 1.3, "s", base + cut, length=len(m) - cut)
    c.deliver("s")
    c.ack(t + 1.301, "c")
    t += 1.4
    r = list(inv[:5])
    r[2] += ";tag=p1"
    _, t = c.send(t, "c", sip_message("SIP/2.0 180 Ringing", r))
    t = bye_from_phone(c, t + 1.0, {"from": bu, "to": pu, "ftag": "c1", "ttag": "p1"}, "call-1", cseq=2)
    tick(s, t + 3.0)
    s.frames.sort(key=lambda tf: tf[0])
    dup = [i for i, (ft, f) in enumerate(s.frames) if abs(ft - dup_t) < 1e-9]
    check(len(dup) == 1, "the duplicate is input frame %s" % dup)
    inp, out, st, tmp = run_tcp(sipkeep, s, rules=[drop_rule(dup)], in_order=False)
    counters(st, tcp_held_duplicates_dropped=1, tcp_segments_held=1, callinfo_removed=1, callinfo_messages_rewritten=1,
             sip_messages=6, tcp_messages=6, dialogs_created=1, dialogs_ended=1, **NO_FALLBACK)


def case_callinfo_allowed_endpoint_untouched(sipkeep):
    """The phone registered over TCP with X-cisco-callinfo (its REGISTER split inside the header
    block): core's INVITE with the remotecc Call-Info split across segments and the phone's 180
    with a remotecc value leave byte-identical (held segments released unchanged, in order)."""
    s = Scenario()
    c = TcpConn(s, LTE, 51000, UCM_IP, 5060)
    t = c.handshake(0.0)
    t = tcp_register(c, t + 0.01, "alice", 1, splits=[300, 1000], supported=CISCO_SUPPORTED)
    d, t = core_invite_split(c, t + 1.0, CallInfo([RCC, ICON]), lambda m: split_at(m, b"remotecc", 5), drop=False)
    h = dialog_headers(d["to"], d["from"], "call-1", 1, "INFO", Scenario.hostport(LTE, 51000), "p1", "c1")
    _, t = c.send(t + 0.5, "c", sip_message("INFO sip:bob@%s SIP/2.0" % UCM_HP, h + [CallInfo([RCC2])]))
    _, t = c.send(t + 0.03, "s", sip_message("SIP/2.0 200 OK", h[:5]))
    t = bye_from_phone(c, t + 1.0, d, "call-1", cseq=2)
    tick(s, t + 3.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, expect_sip=10, in_order=False)
    counters(st, callinfo_removed=0, callinfo_messages_rewritten=0, tcp_segments_held=2, registrations_committed=1,
             dialogs_created=1, sip_messages=10, tcp_messages=10, **NO_FALLBACK)


# --- media ---------------------------------------------------------------------------------------------------

def case_register_over_tcp_then_media_over_udp(sipkeep):
    """Registered and called over TCP, media over UDP (the tables are shared): the uplink goes
    silent for 2.5 s (the user is suspended) and comes back from the same address (resumed); a
    refresh REGISTER on the same connection commits; nothing is moved or rewritten."""
    s = Scenario()
    c = TcpConn(s, LTE, 51000, UCM_IP, 5060)
    t = c.handshake(0.0)
    t = tcp_register(c, t + 0.01, "alice", 1, splits=[1000])
    d, t = phone_call(c, 1.0, "alice", "call-1", 4000, 20000)
    s.rtp(1.5, 4.0, LTE, 4000, MEDIA.ip, 20000, 0x1111, True)
    s.rtp(1.51, 12.0, MEDIA.ip, 20000, LTE, 4000, 0x2222, False)
    s.rtp(6.5, 12.0, LTE, 4000, MEDIA.ip, 20000, 0x1111, True)
    t = tcp_register(c, 8.0, "alice", 2, splits=[1000])
    t = bye_from_phone(c, 12.0, d, "call-1")
    t = tcp_register(c, t + 1.0, "alice", 3, splits=[1000], expires=0)
    c.close(t + 0.5)
    tick(s, t + 5.0)
    inp, out, st, tmp = run_tcp(sipkeep, s)
    counters(st, registrations_committed=3, users_suspended=1, users_resumed=1, handovers_committed=0,
             rtp_rewritten_downlink=0, rtp_rewritten_uplink=0, dialogs_created=1, dialogs_ended=1,
             registrations_unregistered=1, **NO_FALLBACK)
    check(st["counters"]["dialogs_active"] == 0 and st["counters"]["streams_active"] == 0, "tables back to empty")


if __name__ == "__main__":
    run_case(globals())
