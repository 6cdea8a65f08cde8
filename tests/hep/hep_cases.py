#!/usr/bin/python3
"""The HEP mirror (issue 14) through replay mode: UDP frames to hep_listen in the capture are
the mirror of a TLS edge; they are applied and do not leave. Each case builds its capture with
sktest.hepscen, replays it, and checks the frames that leave against the handover model and the
counters. Usage: hep_cases.py SIPKEEP CASE
"""
import os

from sktest.checks import check
from sktest.hepscen import HEP_LISTEN, HEP_SENDER, HepScenario, hep3, hep_commit_index, wire_only
from sktest.replay import compare, ctr, end_checks, model, Move, run_case, run_replay
from sktest.sipscen import LTE, MEDIA, PERSIST, WIFI, basic_call, Endpoint, media_both_ways

EDGE = Endpoint(HEP_SENDER, 5061)  # the TLS registrar/proxy that mirrors its SIP
OLD = Endpoint(LTE, 40001, 4000)  # the phone's TLS connection from LTE
NEW = Endpoint(WIFI, 40002, 4010)  # its new TLS connection from Wi-Fi
FLOWS = [(4000, MEDIA.ip, 20000), (4001, MEDIA.ip, 20001)]
CONF = "hep_listen = %s:%d\nhep_sources = %s/32" % (HEP_LISTEN[0], HEP_LISTEN[1], HEP_SENDER)
ATTACKER = "10.66.0.9"


def tls_handover(s, t_rereg=8.0, third_party=False):
    """A TLS phone registers, calls, goes silent on LTE at 5 s and re-registers from Wi-Fi over
    a new TLS connection: all its SIP is TLS on the wire and HEP from the edge."""
    basic_call(s, OLD, registrar=EDGE)
    media_both_ways(s, OLD.ip, 4000, MEDIA, 1.2, 5.0)
    t_bye = t_rereg + 7.0
    s.rtp(5.01, t_bye, MEDIA.ip, 20000, OLD.ip, 4000, 0x2222, False)
    s.register(t_rereg, NEW, EDGE, "alice", "reg-alice", 2, PERSIST)
    s.rtp(t_rereg + 0.2, t_bye, NEW.ip, 4010, MEDIA.ip, 20000, 0x3333, True)
    s.rtp(t_rereg + 0.3, t_bye, NEW.ip, 4011, MEDIA.ip, 20001, 0x3333, True, interval=1.0, rtcp=True)
    s.rtp(t_rereg + 0.4, t_bye, MEDIA.ip, 20001, OLD.ip, 4001, 0x2222, False, interval=1.0, rtcp=True)
    if third_party:
        s.rtp(t_rereg + 0.1, t_rereg + 2, ATTACKER, 4010, MEDIA.ip, 20000, 0x3333, True)
    bye = s.dialog_headers("sip:alice@example.com", "sip:bob@example.com", "call-1", 2, "BYE",
                           s.hostport(NEW.ip, NEW.sip_port), "a1", "b1")
    s.sip(t_bye, NEW, EDGE, "BYE sip:bob@%s SIP/2.0" % s.hostport(EDGE.ip, 5061), bye)
    s.sip(t_bye + 0.05, EDGE, NEW, "SIP/2.0 200 OK", bye[:5], from_access=False)
    s.register(t_bye + 1.0, NEW, EDGE, "alice", "reg-alice", 3, PERSIST, expires=0)
    s.udp(t_bye + 5.0, "192.0.2.99", 9, "192.0.2.98", 9, b"tick", False)


def replay(sipkeep, s, conf=CONF):
    inp, out, st, tmp = run_replay(sipkeep, s, conf)
    wire = wire_only(inp)
    check(len(wire) == len(inp) - s.n_hep, "the %d HEP frames are the mirror, not traffic" % s.n_hep)
    return inp, wire, out, st, tmp


def unchanged(i, t, p):
    return None


def case_tls_handover_learned_from_hep(sipkeep):
    """Everything the session needs comes from the mirror: the TLS records pass byte for byte,
    the media moves to Wi-Fi at the mirrored 200 OK and back to the old address uplink."""
    s = HepScenario()
    tls_handover(s, third_party=True)
    inp, wire, out, st, tmp = replay(sipkeep, s)
    n = compare(wire, out, model(Move(OLD.ip, 40001, NEW.ip, 40002, hep_commit_index(inp, 2), FLOWS)))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "the TLS user's media moved (%d frames)" % n)
    check(ctr(st, "frames_tls") > 0, "TLS records seen (frames_tls=%d) and passed untouched" % ctr(st, "frames_tls"))
    check(ctr(st, "hep_frames") == s.n_hep, "every HEP frame counted (%d)" % ctr(st, "hep_frames"))
    check(ctr(st, "hep_applied") == s.n_hep, "every mirrored message applied (%d)" % ctr(st, "hep_applied"))
    check(ctr(st, "registrations_committed") == 3, "3 REGISTERs committed from the mirror")
    check(ctr(st, "latch_refused") > 0, "the third party's media never latched")
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_outside_sources_ignored(sipkeep):
    """The same capture, with hep_sources not naming the edge: nothing is learned, nothing moves."""
    s = HepScenario()
    tls_handover(s)
    inp, wire, out, st, tmp = replay(sipkeep, s, "hep_listen = %s:%d\nhep_sources = 192.0.2.200/32"
                                     % HEP_LISTEN)
    compare(wire, out, unchanged)
    check(ctr(st, "hep_source_refused") == s.n_hep, "every HEP frame refused and counted (%d)"
          % ctr(st, "hep_source_refused"))
    check(ctr(st, "hep_applied") == 0 and ctr(st, "registrations_committed") == 0, "nothing learned")
    check(ctr(st, "handovers_committed") == 0, "nothing moved")
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_default_sources_accept_nothing(sipkeep):
    """hep_listen without hep_sources: the allowlist is empty, nothing is accepted."""
    s = HepScenario()
    tls_handover(s)
    inp, wire, out, st, tmp = replay(sipkeep, s, "hep_listen = %s:%d" % HEP_LISTEN)
    compare(wire, out, unchanged)
    check(ctr(st, "hep_source_refused") == s.n_hep, "every HEP frame refused (%d)" % ctr(st, "hep_source_refused"))
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_mirrored_twice_applied_once(sipkeep):
    """The edge mirrors each message twice (received and sent copies): applied once each."""
    s = HepScenario(copies=2)
    tls_handover(s)
    inp, wire, out, st, tmp = replay(sipkeep, s)
    n = compare(wire, out, model(Move(OLD.ip, 40001, NEW.ip, 40002, hep_commit_index(inp, 2), FLOWS)))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "the media moved once (%d frames)" % n)
    check(ctr(st, "hep_duplicates") == s.n_hep // 2, "every second copy counted as a duplicate (%d of %d)"
          % (ctr(st, "hep_duplicates"), s.n_hep))
    check(ctr(st, "hep_applied") == s.n_hep // 2, "each message applied once")
    check(ctr(st, "registrations_committed") == 3 and ctr(st, "registrations_stale_response") == 0,
          "3 REGISTERs committed, no second 200 seen as stale")
    check(ctr(st, "dialogs_created") == 1, "one dialog")
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_wire_and_mirror_applied_once(sipkeep):
    """SIP that crosses the wire in clear AND is mirrored: the wire copy applies, the mirror copy
    is a duplicate (and the other way round would be too)."""
    s = HepScenario(clear_too=True)
    tls_handover(s)
    inp, wire, out, st, tmp = replay(sipkeep, s, CONF + "\nsip_ports = 5060, 5061")
    n = compare(wire, out, model(Move(OLD.ip, 40001, NEW.ip, 40002, hep_commit_index(inp, 2), FLOWS)))
    check(n > 0, "the media moved (%d frames)" % n)
    check(ctr(st, "hep_duplicates") == s.n_hep, "every mirrored copy a duplicate (%d of %d)"
          % (ctr(st, "hep_duplicates"), s.n_hep))
    check(ctr(st, "hep_applied") == 0, "nothing applied twice")
    check(ctr(st, "registrations_committed") == 3 and ctr(st, "dialogs_created") == 1,
          "3 REGISTERs and 1 dialog, as without the mirror")
    check(ctr(st, "handovers_committed") == 1, "the handover committed once")
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_ok_mirrored_after_first_uplink_rtp(sipkeep):
    """The mirror delivers the committing 200 OK 300 ms late, after the first RTP from Wi-Fi:
    that early RTP passes unchanged, the moved stream latches on the first packet after the
    commit, and the third party's packets never latch."""
    s = HepScenario()
    s.delay_for["SIP/2.0 200 OK"] = 0.3
    tls_handover(s, third_party=True)
    inp, wire, out, st, tmp = replay(sipkeep, s)
    ci = hep_commit_index(inp, 2)
    check(any(t > 8.2 and b"\x00\x00\x33\x33" in raw for t, raw in wire[:ci + 1]),
          "uplink RTP from the new address came before the mirrored 200 OK")
    n = compare(wire, out, model(Move(OLD.ip, 40001, NEW.ip, 40002, ci, FLOWS)))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "the media moved (%d frames)" % n)
    check(ctr(st, "latch_refused") > 0, "the third party refused (latch_refused=%d)" % ctr(st, "latch_refused"))
    end_checks(os.path.join(tmp, "out.pcap"), st)


def case_forged_pair_from_non_allowed_source(sipkeep):
    """An access host sends a HEP REGISTER and 200 OK that would move alice to itself: its source
    is not in hep_sources, so nothing moves; its media is never latched."""
    s = HepScenario()
    basic_call(s, OLD, registrar=EDGE)
    media_both_ways(s, OLD.ip, 4000, MEDIA, 1.2, 12.0)
    reg = ["Via: SIP/2.0/TLS %s:40009;branch=z9hG4bK-f;rport" % ATTACKER,
           "From: <sip:alice@example.com>;tag=f1", "To: <sip:alice@example.com>", "Call-ID: reg-alice",
           "CSeq: 2 REGISTER", "Contact: <sip:alice@%s:40009>" % ATTACKER, "Expires: 3600",
           "Supported: " + PERSIST]
    for t, start, hdrs, src, dst in ((6.0, "REGISTER sip:example.com SIP/2.0", reg, (ATTACKER, 40009),
                                      (EDGE.ip, 5061)),
                                     (6.05, "SIP/2.0 200 OK", reg[:2] + [reg[2] + ";tag=x"] + reg[3:7],
                                      (EDGE.ip, 5061), (ATTACKER, 40009))):
        msg = ("\r\n".join([start] + hdrs + ["Content-Length: 0"]) + "\r\n\r\n").encode()
        s.hep_udp(t, hep3(src[0], src[1], dst[0], dst[1], msg), src=ATTACKER)
    s.rtp(6.2, 8.0, ATTACKER, 4000, MEDIA.ip, 20000, 0x3333, True)
    s.udp(20.0, "192.0.2.99", 9, "192.0.2.98", 9, b"tick", False)
    inp, wire, out, st, tmp = replay(sipkeep, s)
    compare(wire, out, unchanged)
    check(ctr(st, "hep_source_refused") == 2, "the forged pair refused (%d)" % ctr(st, "hep_source_refused"))
    check(ctr(st, "handovers_committed") == 0 and ctr(st, "registrations_committed") == 1,
          "only the real REGISTER committed, nothing moved")
    end_checks(os.path.join(tmp, "out.pcap"), st, expect_empty=False)


def case_wrong_auth_key(sipkeep):
    """hep_auth_key set; the edge sends another key: nothing learned, counted."""
    s = HepScenario(auth="not-the-key")
    tls_handover(s)
    inp, wire, out, st, tmp = replay(sipkeep, s, CONF + "\nhep_auth_key = s3cret")
    compare(wire, out, unchanged)
    check(ctr(st, "hep_auth_refused") == s.n_hep, "every frame refused (%d)" % ctr(st, "hep_auth_refused"))
    check(ctr(st, "registrations_committed") == 0, "nothing learned")


def case_right_auth_key(sipkeep):
    """The same with the right key: the handover is learned."""
    s = HepScenario(auth="s3cret")
    tls_handover(s)
    inp, wire, out, st, tmp = replay(sipkeep, s, CONF + "\nhep_auth_key = s3cret")
    n = compare(wire, out, model(Move(OLD.ip, 40001, NEW.ip, 40002, hep_commit_index(inp, 2), FLOWS)))
    check(n > 0 and ctr(st, "hep_auth_refused") == 0, "the media moved (%d frames)" % n)


def case_malformed_counted(sipkeep):
    """Malformed datagrams on hep_listen, each counted under its reason, none leaves; the call's
    mirror around them still works."""
    s = HepScenario()
    tls_handover(s)
    good = hep3(OLD.ip, 40001, EDGE.ip, 5061, b"OPTIONS sip:x SIP/2.0\r\n\r\n")
    bad = {
        "hep_truncated": good[:4],
        "hep_bad_magic": b"GET / HTTP/1.0\r\n\r\n",
        "hep_bad_length": good[:6] + b"\x00\x00\x00\x01\xff\xff" + good[12:],
        "hep_compressed": hep3(OLD.ip, 40001, EDGE.ip, 5061, None, extra=b"\x00\x00\x00\x10\x00\x08\x1f\x8b"),
        "hep_not_sip": hep3(OLD.ip, 40001, EDGE.ip, 5061, b"\x80\xc8", proto_type=5),
        "hep_no_payload": hep3(OLD.ip, 40001, EDGE.ip, 5061, b""),
        "hep_sip_parse_errors": hep3(OLD.ip, 40001, EDGE.ip, 5061, b"\x00\x01garbage"),
        "hep_side_unknown": hep3("192.0.2.1", 5061, EDGE.ip, 5061, b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TLS "
                                 b"a\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: z\r\nCSeq: 1 "
                                 b"OPTIONS\r\nContent-Length: 0\r\n\r\n"),
    }
    for i, (name, data) in enumerate(bad.items()):
        s.hep_udp(2.0 + 0.01 * i, data)
    inp, wire, out, st, tmp = replay(sipkeep, s)
    n = compare(wire, out, model(Move(OLD.ip, 40001, NEW.ip, 40002, hep_commit_index(inp, 2), FLOWS)))
    for name in bad:
        check(ctr(st, name) == 1, "%s counted once (%d)" % (name, ctr(st, name)))
    check(n > 0 and ctr(st, "handovers_committed") == 1, "the mirrored call still moved (%d frames)" % n)


if __name__ == "__main__":
    run_case(globals())
