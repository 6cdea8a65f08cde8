#!/usr/bin/python3
"""SIP on the fast path, through replay mode: what is dropped, detected and counted.

- requests whose User-Agent names a known SIP scanner are counted, and dropped
  with scanner_action = drop (the shapes safety cases test what is never matched);
- with sip_detect = any, SIP on a port outside sip_ports is found and tracked;
- malformed SIP is forwarded unchanged and counted by reason, by name.
Usage: sippath_cases.py SIPKEEP CASE
"""
import sys

from scapy.all import Ether, UDP

from sktest import checks, replay, sipscen
from sktest.sipscen import Endpoint, Scenario

PHONE = Endpoint("10.1.0.5", 5060, 4000)
CORE = Endpoint("192.0.2.10", 5060)


def options(ua, from_user="alice"):
    return ["Via: SIP/2.0/UDP 10.1.0.5:5060;branch=z9hG4bK-%s" % ua[:6].replace(" ", "x"),
            "From: <sip:%s@example.com>;tag=1" % from_user, "To: <sip:100@example.com>",
            "Call-ID: scan-%s" % ua.replace(" ", "-"), "CSeq: 1 OPTIONS", "User-Agent: %s" % ua]


def case_scanner_dropped(sipkeep):
    s = Scenario()
    for i, ua in enumerate(["friendly-scanner", "sipvicious 0.3.4", "Cisco-CP8865/14.1.1", "SIPCLI/v1.8"]):
        s.sip(1.0 + i, PHONE, CORE, "OPTIONS sip:100@example.com SIP/2.0", options(ua))
    # The From is never judged: only the User-Agent's product names are.
    s.sip(6.0, PHONE, CORE, "OPTIONS sip:100@example.com SIP/2.0", options("Mozilla", from_user="sipvicious"))
    inp, out, st, tmp = replay.run_replay(sipkeep, s, "scanner_action = drop")
    checks.check(len(inp) == 5 and len(out) == 2, "3 of 5 messages dropped, the Cisco phone's and the "
             "Mozilla one passed (%d out)" % len(out))
    checks.check([o[1] for o in out] == [inp[2][1], inp[4][1]], "the ones forwarded are byte-identical")
    checks.check(replay.ctr(st, "sip_scanner_matched") == 3, "sip_scanner_matched = 3")
    checks.check(replay.ctr(st, "sip_scanner_dropped") == 3, "sip_scanner_dropped = 3")
    # By default they are counted, not dropped.
    inp, out, st, tmp = replay.run_replay(sipkeep, s)
    checks.check(len(out) == 5 and [o[1] for o in out] == [i[1] for i in inp], "default: all forwarded unchanged")
    checks.check(replay.ctr(st, "sip_scanner_matched") == 3 and replay.ctr(st, "sip_scanner_dropped") == 0,
             "default: sip_scanner_matched = 3, sip_scanner_dropped = 0")


def case_scanner_signatures_configurable(sipkeep):
    s = Scenario()
    s.sip(1.0, PHONE, CORE, "OPTIONS sip:100@example.com SIP/2.0", options("friendly-scanner"))
    s.sip(2.0, PHONE, CORE, "OPTIONS sip:100@example.com SIP/2.0", options("EvilDialer 2.0"))
    inp, out, st, tmp = replay.run_replay(sipkeep, s, "scanner_signatures = evildialer, nothing-else\n"
                                      "scanner_action = drop")
    checks.check(len(out) == 1 and out[0][1] == inp[0][1], "custom list: only EvilDialer dropped (case-insensitive)")
    inp, out, st, tmp = replay.run_replay(sipkeep, s, "scanner_signatures = none\nscanner_action = drop")
    checks.check(len(out) == 2 and replay.ctr(st, "sip_scanner_dropped") == 0, "none: nothing dropped")


def case_sip_detect_any(sipkeep):
    """A registrar on port 5080, not in sip_ports: with sip_detect = any the user is tracked."""
    def run(detect):
        s = Scenario()
        phone, reg = Endpoint("10.1.0.5", 5080, 4000), Endpoint("192.0.2.10", 5080)
        s.register(0.0, phone, reg, "alice", "reg-a", 1, sipscen.PERSIST)
        s.udp(1.0, "10.1.0.5", 4000, "192.0.2.20", 20000, b"\x80\x00" + b"\x00" * 170, True)
        return replay.run_replay(sipkeep, s, "sip_detect = %s" % detect)
    inp, out, st, tmp = run("ports")
    checks.check(replay.ctr(st, "sip_messages") == 0 and replay.ctr(st, "registrations_committed") == 0,
             "sip_detect = ports: port 5080 is not SIP")
    inp, out, st, tmp = run("any")
    checks.check(replay.ctr(st, "sip_detected_other_port") == 2 and replay.ctr(st, "registrations_committed") == 1,
             "sip_detect = any: REGISTER and 200 found on 5080, registration committed")
    checks.check(replay.ctr(st, "sip_messages") == 2, "and parsed; the RTP-like frame was not taken for SIP")
    checks.check([r for t, r in out] == [r for t, r in inp], "every frame forwarded unchanged")


MALFORMED = {
    "bad_start_line": b"INVITE\r\nVia: x\r\n\r\n",
    "bad_version": b"INVITE sip:a@b SIP/3.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n",
    "content_length_beyond": (b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
                              b"To: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 900\r\n\r\nv=0\r\n"),
    "missing_header": b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 OPTIONS\r\n\r\n",
    "truncated": b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n",
    "binary": bytes(range(256)) * 3,
}


def case_malformed_passes_counted(sipkeep):
    s = Scenario()
    for i, (name, payload) in enumerate(sorted(MALFORMED.items())):
        s.udp(1.0 + i, PHONE.ip, 5060, CORE.ip, 5060, payload, True)
    s.udp(9.0, PHONE.ip, 5060, CORE.ip, 5060, b"\r\n\r\n", True)  # RFC 5626 keep-alive
    inp, out, st, tmp = replay.run_replay(sipkeep, s)
    checks.check([r for t, r in out] == [r for t, r in inp], "all %d frames forwarded byte-identical" % len(inp))
    checks.check(replay.ctr(st, "sip_parse_errors") == len(MALFORMED), "sip_parse_errors = %d" % len(MALFORMED))
    checks.check(replay.ctr(st, "sip_keepalives") == 1, "the keep-alive is a keep-alive, not an error")
    reasons = st["sip_parse_error_reasons"]
    print("     reasons: %s" % {k: v for k, v in reasons.items() if v})
    checks.check(sum(reasons.values()) == len(MALFORMED), "every error has a reason")
    checks.check(reasons.get("content_length_beyond", reasons.get("content_length_beyond_packet", 0)) == 1,
             "Content-Length beyond packet counted by name")


CASES = {k[5:]: v for k, v in dict(globals()).items() if k.startswith("case_")}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        sys.exit("usage: sippath_cases.py SIPKEEP CASE (%s)" % ", ".join(sorted(CASES)))
    try:
        CASES[sys.argv[2]](sys.argv[1])
    except checks.Failure as e:
        print("FAILED: %s" % e)
        sys.exit(1)
    print("PASS %s" % sys.argv[2])
