#!/usr/bin/python3
"""SIP over TCP, message framing on the byte stream (issue 13, "Replay framing"), through
replay mode.

Each case builds its capture with sktest.tcpscen (TCP connections in a sipscen.Scenario),
replays it and checks: every output frame against the model (byte-identical, or the
length-preserving rewrite of the contract), direction by direction, timestamps kept;
tshark's reading of the output (checksums validated, no TCP analysis flag or expert info
the input did not have, as many SIP messages); the counters from --stats-json.
Usage: framing_cases.py SIPKEEP CASE
"""
from sktest.checks import check
from sktest.replay import run_case
from sktest.sipscen import Scenario, MEDIA
from sktest.tcpscen import (CallInfo, ICON, NO_FALLBACK, RCC, SUPPORTED_NO_CALLINFO, UCM_HP,
                            UCM_IP, TcpConn, cisco_register, counters, dialog_headers, header_block_len,
                            run_tcp, sdp, sip_message, tcp_register)

LTE = "10.1.0.5"


def tick(s, t):
    s.udp(t, "192.0.2.99", 9, "192.0.2.98", 9, b"tick", False)


def core_invite(conn, t, user, call_id, callinfo=(RCC,), drop=False, splits=None, media_port=20000):
    """INVITE from the registrar to the client of conn over conn (Call-Info with the values
    given), and the phone's 180. drop: the model expects the remotecc values removed."""
    ip, port = conn.addr["c"]
    php = Scenario.hostport(ip, port)
    h = dialog_headers("sip:bob@example.com", "sip:%s@example.com" % user, call_id, 1, "INVITE", UCM_HP, "u1",
                       contact="sip:bob@%s" % UCM_HP)
    if callinfo:
        h.append(CallInfo(list(callinfo)))
    start = "INVITE sip:%s@%s;transport=tcp SIP/2.0" % (user, php)
    body = sdp(MEDIA.ip if ":" not in ip else "2001:db8:c::20", media_port)
    msg = sip_message(start, h, body)
    _, t = conn.send(t, "s", msg, splits=splits, expect=sip_message(start, h, body, drop=drop))
    r = [x for x in h[:6] if isinstance(x, str)]
    r[2] += ";tag=p1"
    _, t = conn.send(t + 0.05, "c", sip_message("SIP/2.0 180 Ringing", r))
    return msg, t


# --- one message over several segments -------------------------------------------------------------

def split_register(sipkeep, splits, held):
    s = Scenario()
    c = TcpConn(s, LTE, 51000, UCM_IP, 5060)
    t = c.handshake(0.0)
    req, _ = cisco_register(LTE, 51000, UCM_IP, "alice", "reg-alice", 1)
    h = header_block_len(req)
    check(1500 <= len(req) <= 3000, "the Cisco REGISTER is %d bytes, its header block %d" % (len(req), h))
    t = tcp_register(c, t + 0.01, "alice", 1, splits=splits)
    # A call from core with remotecc Call-Info: alice registered with X-cisco-callinfo, so it passes.
    _, t = core_invite(c, t + 1.0, "alice", "call-1")
    c.close(t + 1.0)
    tick(s, t + 2.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, expect_sip=4, in_order=held == 0)
    counters(st, registrations_committed=1, sip_messages=4, tcp_messages=4, callinfo_removed=0,
             tcp_streams_tracked=2, tcp_streams_closed=2, tcp_segments_held=held, tcp_out_of_order=0,
             tcp_retransmissions=0, tcp_resynced=0, **NO_FALLBACK)
    return req


def case_register_split_in_two(sipkeep):
    """The Cisco REGISTER in two segments (the second one carries most of the body)."""
    split_register(sipkeep, [1000], held=0)


def case_register_split_in_three(sipkeep):
    """The Cisco REGISTER in three segments, the first one ending inside the header block (held
    until the header block completes: callinfo_policy is `registered`)."""
    split_register(sipkeep, [400, 1400], held=1)


def case_register_split_at_every_header_offset(sipkeep):
    """The same REGISTER split in two at every offset of its header block (1 .. H-1), one
    connection per offset (its own user, address and port), all in one capture: each REGISTER
    commits exactly once, each first segment is held until its header block completes."""
    s = Scenario()
    n, t = 0, 0.0
    while True:
        k = n + 1
        ip, port = "10.1.%d.%d" % (100 + k // 100, 100 + k % 100), 40000 + k
        req, _ = cisco_register(ip, port, UCM_IP, "u%04d" % k, "reg-u%04d" % k, 1)
        if k >= header_block_len(req):
            break
        c = TcpConn(s, ip, port, UCM_IP, 5060, isn_c=0x10000000 + 7919 * k, isn_s=0x70000000 + 104729 * k)
        t = c.handshake(t + 0.001)
        t = tcp_register(c, t + 0.001, "u%04d" % k, 1, splits=[k])
        n += 1
    check(n > 500, "%d offsets, one connection each" % n)
    tick(s, t + 1.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, expect_sip=2 * n, in_order=False)
    counters(st, registrations_committed=n, tcp_messages=2 * n, sip_messages=2 * n, tcp_segments_held=n,
             tcp_streams_tracked=2 * n, registrations_stale_response=0, tcp_retransmissions=0, tcp_out_of_order=0,
             **NO_FALLBACK)


# --- several messages, keep-alives -------------------------------------------------------------------

def case_two_messages_in_one_segment(sipkeep):
    """The registrar's 200 for the REGISTER and an INVITE to the phone in one segment; the phone's
    180 and 200 in one segment: every message is framed, the registration commits, the call is
    tracked from its INVITE to its BYE."""
    s = Scenario()
    c = TcpConn(s, LTE, 51000, UCM_IP, 5060)
    t = c.handshake(0.0)
    req, resp = cisco_register(LTE, 51000, UCM_IP, "alice", "reg-alice", 1)
    _, t = c.send(t + 0.01, "c", req, splits=[1000])
    php = Scenario.hostport(LTE, 51000)
    h = dialog_headers("sip:bob@example.com", "sip:alice@example.com", "call-1", 1, "INVITE", UCM_HP, "u1",
                       contact="sip:bob@%s" % UCM_HP)
    inv = sip_message("INVITE sip:alice@%s;transport=tcp SIP/2.0" % php, h, sdp(MEDIA.ip, 20000))
    _, t = c.send(t + 0.03, "s", resp + inv)
    r = list(h)
    r[2] += ";tag=p1"
    ringing = sip_message("SIP/2.0 180 Ringing", r[:6])
    ok = sip_message("SIP/2.0 200 OK", r[:6] + ["Contact: <sip:alice@%s;transport=tcp>" % php], sdp(LTE, 4000))
    _, t = c.send(t + 0.5, "c", ringing + ok)
    ack = dialog_headers("sip:bob@example.com", "sip:alice@example.com", "call-1", 1, "ACK", UCM_HP, "u1", "p1")
    _, t = c.send(t + 0.02, "s", sip_message("ACK sip:alice@%s;transport=tcp SIP/2.0" % php, ack))
    s.rtp(t + 0.1, t + 2.0, LTE, 4000, MEDIA.ip, 20000, 0x1111, True)
    s.rtp(t + 0.11, t + 2.0, MEDIA.ip, 20000, LTE, 4000, 0x2222, False)
    bye = dialog_headers("sip:alice@example.com", "sip:bob@example.com", "call-1", 2, "BYE", php, "p1", "u1")
    _, t = c.send(t + 2.1, "c", sip_message("BYE sip:bob@%s SIP/2.0" % UCM_HP, bye))
    _, t = c.send(t + 0.02, "s", sip_message("SIP/2.0 200 OK", bye[:5]))
    tick(s, t + 5.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, expect_sip=8)
    counters(st, registrations_committed=1, sip_messages=8, tcp_messages=8, dialogs_created=1, dialogs_ended=1,
             dialogs_unowned=0, tcp_segments_held=0, **NO_FALLBACK)


def case_keepalives_between_messages(sipkeep):
    """RFC 5626 keep-alives: a double-CRLF ping from the phone, the single-CRLF pong from the
    registrar (each a segment of its own), then a ping that the refresh REGISTER follows in the
    same segment. Three keep-alives skipped, both REGISTERs framed and committed."""
    s = Scenario()
    c = TcpConn(s, LTE, 51000, UCM_IP, 5060)
    t = c.handshake(0.0)
    t = tcp_register(c, t + 0.01, "alice", 1, splits=[1000])
    _, t = c.send(t + 1.0, "c", b"\r\n\r\n")
    _, t = c.send(t + 0.01, "s", b"\r\n")
    req, resp = cisco_register(LTE, 51000, UCM_IP, "alice", "reg-alice", 2)
    _, t = c.send(t + 1.0, "c", b"\r\n\r\n" + req, splits=[1004])
    _, t = c.send(t + 0.03, "s", resp)
    tick(s, t + 1.0)
    # (tshark does not decode a message after a ping in the same segment: no expected SIP count)
    inp, out, st, tmp = run_tcp(sipkeep, s)
    counters(st, tcp_keepalives=3, registrations_committed=2, tcp_messages=4, sip_messages=4, tcp_resynced=0,
             **NO_FALLBACK)


# --- retransmissions, reordering, loss -------------------------------------------------------------

def case_retransmitted_segment_applied_once(sipkeep):
    """The REGISTER's second segment sent twice, the registrar's 200 sent twice, then an OPTIONS
    whose second segment re-sends 100 bytes of the first (partly old): three retransmissions,
    each message framed once (no stale 2xx, sip_messages counts each message once)."""
    s = Scenario()
    c = TcpConn(s, LTE, 51000, UCM_IP, 5060)
    t = c.handshake(0.0)
    req, resp = cisco_register(LTE, 51000, UCM_IP, "alice", "reg-alice", 1)
    (p1, p2), t = c.send(t + 0.01, "c", req, splits=[1000], ack_after=None)
    c.segment(t + 0.2, "c", p2[0], length=p2[1])  # RTO: the tail again
    c.ack(t + 0.201, "s")
    (r1,), t = c.send(t + 0.25, "s", resp, ack_after=None)
    c.segment(t + 0.2, "s", r1[0], length=r1[1])
    c.ack(t + 0.201, "c")
    t += 0.3
    php = Scenario.hostport(LTE, 51000)
    h = dialog_headers("sip:alice@example.com", "sip:alice@example.com", "opt-1", 1, "OPTIONS", php, "o1")
    opt = sip_message("OPTIONS sip:%s SIP/2.0" % UCM_HP, h + ["Accept: application/sdp"])
    base = c.put("c", opt)
    c.segment(t + 1.0, "c", base, length=200)
    c.segment(t + 1.001, "c", base + 100, length=len(opt) - 100)
    c.deliver("c")
    c.ack(t + 1.002, "s")
    hr = list(h)
    hr[2] += ";tag=ucm"
    _, t = c.send(t + 1.01, "s", sip_message("SIP/2.0 200 OK", hr))
    tick(s, t + 1.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, in_order=False)
    counters(st, tcp_retransmissions=3, registrations_committed=1, registrations_stale_response=0, sip_messages=4,
             tcp_messages=4, tcp_out_of_order=0, **NO_FALLBACK)


def out_of_order(sipkeep, first_message):
    s = Scenario()
    c = TcpConn(s, LTE, 51000, UCM_IP, 5060)
    t = c.handshake(0.0)
    cseq = 1
    if first_message:
        t = tcp_register(c, t + 0.01, "alice", 1, splits=[1000])
        cseq = 2
    req, resp = cisco_register(LTE, 51000, UCM_IP, "alice", "reg-alice", cseq)
    base = c.put("c", req)
    c.segment(t + 0.01, "c", base + 500, length=len(req) - 500)
    c.segment(t + 0.0105, "c", base, length=500)
    c.deliver("c")
    c.ack(t + 0.011, "s")
    _, t = c.send(t + 0.05, "s", resp)
    tick(s, t + 1.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, expect_sip=2 * cseq)
    counters(st, tcp_out_of_order=1, registrations_committed=cseq, registrations_stale_response=0,
             sip_messages=2 * cseq, tcp_messages=2 * cseq, tcp_retransmissions=0, **NO_FALLBACK)


def case_out_of_order_pair(sipkeep):
    """After a first REGISTER and its 200, the refresh REGISTER's two segments (split inside the
    header block) arrive second first: the second is copied and forwarded at once, the message
    framed when the first arrives, the refresh commits once."""
    out_of_order(sipkeep, True)


def case_out_of_order_first_payload_after_syn(sipkeep):
    """The same pair as the connection's first payload, the handshake seen: the issue picks the
    connection up at SYN, so the segment at ISN+501 is out of order (not the stream's start) and
    the REGISTER is framed when the segment at ISN+1 arrives."""
    out_of_order(sipkeep, False)


def case_lost_segment_falls_back_and_resyncs(sipkeep):
    """The REGISTER's middle segment is never seen (lost on this path, never retransmitted): after
    tcp_hole_timeout_ms (2 s) the direction falls back (tcp_fallback_hole), its bytes pass
    untouched; the phone's next REGISTER starts a segment: picked up again (tcp_resynced),
    framed and committed."""
    s = Scenario()
    c = TcpConn(s, LTE, 51000, UCM_IP, 5060)
    t = c.handshake(0.0)
    req, resp = cisco_register(LTE, 51000, UCM_IP, "alice", "reg-alice", 1)
    check(header_block_len(req) < 1000, "the first segment holds the whole header block")
    base = c.put("c", req)
    c.segment(1.0, "c", base, length=1000)
    c.deliver("c", upto=1000)
    c.ack(1.001, "s")
    c.segment(1.002, "c", base + 1400, length=len(req) - 1400)  # 1000..1400 never seen
    c.ack(1.003, "s")  # dup ACK
    tick(s, 3.5)        # the hole is 2.5 s old
    req2, resp2 = cisco_register(LTE, 51000, UCM_IP, "alice", "reg-alice", 2)
    base2 = c.put("c", req2)
    c.segment(4.0, "c", base2, length=1000)
    c.segment(4.0005, "c", base2 + 1000, length=len(req2) - 1000)
    _, t = c.send(4.05, "s", resp2, ack_after=None)
    tick(s, t + 1.0)
    inp, out, st, tmp = run_tcp(sipkeep, s)
    counters(st, tcp_fallback_hole=1, tcp_resynced=1, registrations_committed=1, sip_messages=2, tcp_messages=2,
             tcp_fallback_buffer_full=0, tcp_fallback_no_buffer=0, tcp_fallback_bad_framing=0)


def case_rst_mid_message(sipkeep):
    """The phone resets the connection in the middle of a REGISTER (its first segment, which ends
    inside the header block, is held): the held segment leaves before the RST, the state ends
    (tcp_streams_closed); the phone reconnects from the same port with a new ISN and registers:
    framed from a clean state and committed once."""
    s = Scenario()
    c = TcpConn(s, LTE, 51000, UCM_IP, 5060, isn_c=0x11111111, isn_s=0x22222222)
    t = c.handshake(0.0)
    req, resp = cisco_register(LTE, 51000, UCM_IP, "alice", "reg-alice", 1)
    base = c.put("c", req)
    c.segment(t + 0.01, "c", base, length=400)
    c.rst(t + 0.02, "c")
    c2 = TcpConn(s, LTE, 51000, UCM_IP, 5060, isn_c=0x9999AAAA, isn_s=0x55556666)
    t = c2.handshake(t + 1.0)
    t = tcp_register(c2, t + 0.01, "alice", 2, splits=[1000])
    t = c2.close(t + 1.0)
    tick(s, t + 1.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, in_order=False)
    # A SYN opens its direction: both directions of each connection are tracked; the RST
    # ends both of the first, the FINs both of the second.
    counters(st, registrations_committed=1, sip_messages=2, tcp_messages=2, tcp_streams_tracked=4,
             tcp_streams_closed=4, tcp_segments_held=1, tcp_out_of_order=0, tcp_retransmissions=0, **NO_FALLBACK)


def case_idle_timeout_forgets_stream(sipkeep):
    """tcp_idle_timeout_ms = 5000: after a REGISTER and its 200 the connection is idle 8 s (other
    traffic moves the replay clock); both directions are forgotten (tcp_streams_expired), and
    the refresh on the same connection picks them up again mid-stream and commits."""
    s = Scenario()
    c = TcpConn(s, LTE, 51000, UCM_IP, 5060)
    t = c.handshake(0.0)
    t = tcp_register(c, t + 0.01, "alice", 1, splits=[1000])
    for k in range(1, 8):
        tick(s, t + k)
    t = tcp_register(c, t + 8.0, "alice", 2, splits=[1000])
    tick(s, t + 1.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, conf="tcp_idle_timeout_ms = 5000", expect_sip=4)
    counters(st, tcp_streams_expired=2, tcp_streams_tracked=4, registrations_committed=2, tcp_messages=4,
             sip_messages=4, **NO_FALLBACK)


# --- the other fallbacks, holds that time out, scanners -----------------------------------------------

def big_message(ip, port, n_bytes, cseq=1):
    """A MESSAGE from the phone with a text body of n_bytes."""
    hp = Scenario.hostport(ip, port)
    h = dialog_headers("sip:alice@example.com", "sip:bob@example.com", "msg-%d" % cseq, cseq, "MESSAGE", hp, "m1")
    return sip_message("MESSAGE sip:bob@example.com SIP/2.0", h, (b"x" * 78 + b"\r\n") * (n_bytes // 80),
                       "text/plain")


def case_buffer_full_falls_back_and_resyncs(sipkeep):
    """tcp_buffer_bytes = 4096: a 6 KB MESSAGE cut into three segments does not fit; the direction
    falls back (tcp_fallback_buffer_full), every byte passes untouched, and the REGISTER that
    starts the next segment is picked up again (tcp_resynced) and committed."""
    s = Scenario()
    c = TcpConn(s, LTE, 51000, UCM_IP, 5060)
    t = c.handshake(0.0)
    big = big_message(LTE, 51000, 6000)
    check(len(big) > 6000, "the MESSAGE is %d bytes" % len(big))
    _, t = c.send(t + 0.01, "c", big, splits=[1400, 2800, 4200, 5600])
    t = tcp_register(c, t + 0.5, "alice", 1, splits=[1000])
    tick(s, t + 1.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, conf="tcp_buffer_bytes = 4096")
    counters(st, tcp_fallback_buffer_full=1, tcp_resynced=1, registrations_committed=1, tcp_messages=2,
             sip_messages=2, tcp_fallback_no_buffer=0, tcp_fallback_hole=0, tcp_fallback_bad_framing=0)


def case_no_buffer_falls_back_and_resyncs(sipkeep):
    """tcp_buffers = 1: two phones' REGISTERs are cut at the same time; the first takes the only
    buffer and commits, the second falls back (tcp_fallback_no_buffer), passes untouched, and
    its retry (starting a segment, after the buffer is free) is picked up again and commits."""
    s = Scenario()
    a = TcpConn(s, LTE, 51000, UCM_IP, 5060)
    b = TcpConn(s, "10.1.0.6", 51001, UCM_IP, 5060)
    t = a.handshake(0.0)
    t = b.handshake(t + 0.01)
    ra, pa = cisco_register(LTE, 51000, UCM_IP, "alice", "reg-alice", 1)
    rb, pb = cisco_register("10.1.0.6", 51001, UCM_IP, "bob", "reg-bob", 1)
    oa, ob = a.put("c", ra), b.put("c", rb)
    a.segment(t + 0.01, "c", oa, length=1000)
    b.segment(t + 0.011, "c", ob, length=1000)
    a.segment(t + 0.012, "c", oa + 1000, length=len(ra) - 1000)
    b.segment(t + 0.013, "c", ob + 1000, length=len(rb) - 1000)
    a.deliver("c")
    b.deliver("c")
    a.ack(t + 0.014, "s")
    b.ack(t + 0.015, "s")
    _, t = a.send(t + 0.05, "s", pa)   # bob's REGISTER was not framed: the registrar answers only alice
    t = tcp_register(b, t + 1.0, "bob", 2, splits=[1000])
    tick(s, t + 1.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, conf="tcp_buffers = 1")
    counters(st, tcp_fallback_no_buffer=1, tcp_resynced=1, registrations_committed=2, tcp_messages=4,
             sip_messages=4, tcp_fallback_buffer_full=0, tcp_fallback_hole=0, tcp_fallback_bad_framing=0)


def case_missing_content_length_falls_back(sipkeep):
    """A request without Content-Length cannot be framed on a stream: tcp_fallback_bad_framing,
    the bytes pass untouched; the next REGISTER starts a segment: resynced and committed."""
    s = Scenario()
    c = TcpConn(s, LTE, 51000, UCM_IP, 5060)
    t = c.handshake(0.0)
    php = Scenario.hostport(LTE, 51000)
    h = dialog_headers("sip:alice@example.com", "sip:alice@example.com", "opt-1", 1, "OPTIONS", php, "o1")
    opt = sip_message("OPTIONS sip:%s SIP/2.0" % UCM_HP, h)
    opt = opt.replace(b"Content-Length: 0\r\n", b"")
    check(b"Content-Length" not in opt, "the OPTIONS has no Content-Length")
    _, t = c.send(t + 0.01, "c", opt)
    t = tcp_register(c, t + 0.5, "alice", 1, splits=[1000])
    tick(s, t + 1.0)
    inp, out, st, tmp = run_tcp(sipkeep, s)
    counters(st, tcp_fallback_bad_framing=1, tcp_resynced=1, registrations_committed=1, tcp_messages=2,
             tcp_fallback_buffer_full=0, tcp_fallback_no_buffer=0, tcp_fallback_hole=0)


def case_held_segment_released_unchanged_after_hole_timeout(sipkeep):
    """Core's INVITE with a remotecc Call-Info to a phone registered without X-cisco-callinfo; its
    first segment ends inside the header block and the rest never comes. The held segment
    leaves unchanged after tcp_hole_timeout_ms (tcp_held_released_unchanged), its timestamp
    kept; the direction falls back (tcp_fallback_hole); core's next INVITE, starting a segment,
    is picked up again and its remotecc value removed by the pad rule."""
    s = Scenario()
    c = TcpConn(s, LTE, 51000, UCM_IP, 5060)
    t = c.handshake(0.0)
    t = tcp_register(c, t + 0.01, "alice", 1, splits=[1000], supported=SUPPORTED_NO_CALLINFO)
    php = Scenario.hostport(LTE, 51000)
    h = dialog_headers("sip:bob@example.com", "sip:alice@example.com", "call-1", 1, "INVITE", UCM_HP, "u1",
                       contact="sip:bob@%s" % UCM_HP) + [CallInfo([RCC, ICON])]
    start = "INVITE sip:alice@%s;transport=tcp SIP/2.0" % php
    m1 = sip_message(start, h, sdp(MEDIA.ip, 20000))
    o1 = c.put("s", m1)  # the model: unchanged (the header block never completes)
    c.segment(t + 1.0, "s", o1, length=200)
    for k in range(1, 5):
        tick(s, t + 1.0 + k)   # the replay clock runs on: the hold times out at +2 s
    h2 = [x.replace("call-1", "call-2") if isinstance(x, str) else x for x in h]
    m2 = sip_message(start, h2, sdp(MEDIA.ip, 20002))
    _, t = c.send(t + 6.0, "s", m2, expect=sip_message(start, h2, sdp(MEDIA.ip, 20002), drop=True))
    tick(s, t + 1.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, in_order=False)
    counters(st, tcp_segments_held=1, tcp_held_released_unchanged=1, tcp_fallback_hole=1, tcp_resynced=1,
             callinfo_removed=1, callinfo_messages_rewritten=1, tcp_callinfo_missed=0, tcp_messages=3)


def case_scanner_over_tcp_counted_never_dropped(sipkeep):
    """scanner_action = drop: a tool's REGISTER and OPTIONS over TCP from access are counted
    (sip_scanner_matched) and never dropped: every segment leaves as it came."""
    s = Scenario()
    c = TcpConn(s, "10.66.0.9", 40001, UCM_IP, 5060)
    t = c.handshake(0.0)
    hp = Scenario.hostport("10.66.0.9", 40001)
    for i, (method, ua) in enumerate((("OPTIONS", "friendly-scanner"), ("REGISTER", "sipcli/v1.8"))):
        h = dialog_headers("sip:100@1.1.1.1", "sip:100@1.1.1.1", "scan-%d" % i, 1, method, hp, "f%d" % i)
        _, t = c.send(t + 0.5, "c", sip_message("%s sip:100@%s SIP/2.0" % (method, UCM_IP),
                                                h + ["User-Agent: %s" % ua]), splits=[60])
    t = c.close(t + 0.5)
    tick(s, t + 1.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, conf="scanner_action = drop", in_order=False)
    counters(st, sip_scanner_matched=2, sip_scanner_dropped=0, tcp_messages=2, **NO_FALLBACK)


# --- address families, encapsulation, TLS -------------------------------------------------------------

def case_ipv6_and_vlan_connection(sipkeep):
    """An IPv6 connection in VLAN 100 and an IPv4 one in VLAN 200; each phone registers without
    X-cisco-callinfo (REGISTER split inside its header block: held), then core's INVITE with a
    remotecc and an icon Call-Info value: the remotecc value goes by the pad rule, lengths and
    sequence numbers stay, checksums are right."""
    s = Scenario()
    c6 = TcpConn(s, "2001:db8:a:1::5", 51000, "2001:db8:c::10", 5060, vlan=100)
    c4 = TcpConn(s, "10.1.0.6", 51001, UCM_IP, 5060, vlan=200)
    t = 0.0
    for i, c in enumerate((c6, c4)):
        user = "p%d" % i
        t = c.handshake(t + 0.1)
        t = tcp_register(c, t + 0.01, user, 1, splits=[300], supported=SUPPORTED_NO_CALLINFO)
        _, t = core_invite(c, t + 0.5, user, "call-%d" % i, callinfo=(RCC, ICON), drop=True)
    tick(s, t + 1.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, expect_sip=8, in_order=False)
    counters(st, registrations_committed=2, callinfo_removed=2, callinfo_messages_rewritten=2, tcp_segments_held=2,
             tcp_streams_tracked=4, sip_messages=8, tcp_messages=8, **NO_FALLBACK)


def case_tls_port_passes_untouched_counted(sipkeep):
    """A connection to 5061 (sip_tls_port) carrying bytes that would be SIP with a remotecc
    Call-Info (callinfo_policy strip): every segment passes untouched and is counted in
    frames_tls; nothing is framed or tracked."""
    s = Scenario()
    c = TcpConn(s, LTE, 51000, UCM_IP, 5061)
    t = c.handshake(0.0)
    req, resp = cisco_register(LTE, 51000, UCM_IP, "alice", "reg-alice", 1)
    _, t = c.send(t + 0.01, "c", req, splits=[300])
    _, t = c.send(t + 0.03, "s", resp)
    h = dialog_headers("sip:bob@example.com", "sip:alice@example.com", "call-1", 1, "INVITE", UCM_HP, "u1")
    _, t = c.send(t + 0.5, "s", sip_message("INVITE sip:alice@10.1.0.5:51000 SIP/2.0", h + [CallInfo([RCC])],
                                            sdp(MEDIA.ip, 20000)), splits=[250])
    t = c.close(t + 1.0)
    n_tls = len(s.frames)
    tick(s, t + 1.0)
    inp, out, st, tmp = run_tcp(sipkeep, s, conf="callinfo_policy = strip", sip_ports=(5060, 5061))
    counters(st, frames_tls=n_tls, tcp_streams_tracked=0, sip_messages=0, tcp_messages=0, callinfo_removed=0,
             tcp_segments_held=0)


if __name__ == "__main__":
    run_case(globals())
