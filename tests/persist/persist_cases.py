#!/usr/bin/python3
"""Call persistency scenarios through sipkeep's replay mode (DESIGN.md section 1).

Each case builds a capture with sipscen, replays it, and checks the output
frame by frame against an independent model of what sipkeep must do: which
frames are rewritten, to what, with checksums recomputed from scratch by
scapy, and every other frame byte-identical. Counters are checked from
--stats-json. Usage: persist_cases.py SIPKEEP CASE
"""
import json
import os
import subprocess
import sys
import tempfile

from scapy.all import Ether, IP, IPv6, UDP
from scapy.layers.inet6 import IPv6ExtHdrFragment

import sipscen
from sipscen import Endpoint, Scenario

ACCESS_PREFIXES = "10.0.0.0/8, 2001:db8:a::/48"
REGISTRAR = Endpoint("192.0.2.10", 5060)
MEDIA = Endpoint("192.0.2.20", 5060, 20000)
REGISTRAR6 = Endpoint("2001:db8:c::10", 5060)
MEDIA6 = Endpoint("2001:db8:c::20", 5060, 20000)
PERSIST = "replaces, X-cisco-sessionpersist, X-cisco-callinfo, X-cisco-serviceuri"
NO_PERSIST = "replaces, X-cisco-callinfo"


class Failure(Exception):
    pass


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        raise Failure(what)


def run_replay(sipkeep, scen, conf_extra=""):
    tmp = tempfile.mkdtemp(prefix="sk-persist-")
    inp, out, stats, conf = (os.path.join(tmp, n) for n in ("in.pcap", "out.pcap", "stats.json", "sk.conf"))
    scen.write(inp)
    with open(conf, "w") as f:
        f.write("access_prefixes = %s\npersist_window_ms = 12000\nmedia_silence_ms = 2000\n"
                "dialog_linger_ms = 2000\n%s\n" % (ACCESS_PREFIXES, conf_extra))
    proc = subprocess.run([sipkeep, "--replay", inp, "--replay-out", out, "--config", conf,
                           "--stats-json", stats], capture_output=True, text=True, timeout=120)
    sys.stdout.write(proc.stderr[-3000:])
    check(proc.returncode == 0, "sipkeep --replay exits 0")
    with open(stats) as f:
        st = json.load(f)
    return sipscen.read_frames(inp), sipscen.read_frames(out), st, tmp


def expected_frame(raw, src=None, sport=None, dst=None, dport=None):
    """The frame with new addresses/ports and checksums computed from scratch."""
    p = Ether(raw)
    ip = p[IP] if IP in p else p[IPv6]
    if src:
        ip.src = src
    if dst:
        ip.dst = dst
    if sport:
        p[UDP].sport = sport
    if dport:
        p[UDP].dport = dport
    if IP in p:
        del p[IP].chksum
    if p[UDP].chksum != 0 or IPv6 in p:
        del p[UDP].chksum
    return bytes(p.__class__(bytes(p)))


def fragment_key(p):
    if IP in p and (p[IP].flags.MF or p[IP].frag):
        return (p[IP].src, p[IP].dst, p[IP].id)
    if IPv6ExtHdrFragment in p:
        return (p[IPv6].src, p[IPv6].dst, p[IPv6ExtHdrFragment].id)
    return None


def compare(inp, out, rules):
    """rules(i, t, scapy_frame) -> dict of rewrites or None (unchanged). Returns rewrite count."""
    check(len(out) == len(inp), "every frame comes out (%d in, %d out)" % (len(inp), len(out)))
    n_rewritten = 0
    # Every frame keeps its input timestamp (fragments held for reassembly too).
    for i, ((t, raw), (t2, raw2)) in enumerate(zip(inp, out)):
        if abs(t - t2) > 1e-6:
            raise Failure("frame %d: timestamp %f became %f" % (i, t, t2))
        rw = rules(i, t, Ether(raw))
        want = expected_frame(raw, **rw) if rw else raw
        if want != raw2:
            print("frame %d at %.3f: expected %s\n  got %s" % (i, t, Ether(want).summary(), Ether(raw2).summary()))
            raise Failure("frame %d differs from the model" % i)
        n_rewritten += 1 if rw else 0
    print("ok   %d frames match the model, %d rewritten" % (len(inp), n_rewritten))
    return n_rewritten


def tshark_checksums(path):
    """Frames tshark flags with a bad IP or UDP checksum, validation switched on."""
    proc = subprocess.run(["tshark", "-n", "-r", path, "-o", "ip.check_checksum:TRUE", "-o",
                           "udp.check_checksum:TRUE", "-Y",
                           "ip.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\" || _ws.malformed",
                           "-T", "fields", "-e", "frame.number"],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise Failure("tshark failed: " + proc.stderr[-500:])
    return [l for l in proc.stdout.split() if l]


def ctr(st, name):
    return st["counters"][name]


# --- scenario pieces -------------------------------------------------------------------------

def basic_call(s, phone, user="alice", call_id="call-1", t_reg=0.0, t_inv=1.0, supported=PERSIST,
               media=MEDIA, registrar=REGISTRAR, sdp_extra=(), core_sdp_extra=(), instance=None,
               from_core=False, tag="a1"):
    """REGISTER + call set-up (caller = phone unless from_core). Returns the dialog's tags."""
    if supported is not None:
        s.register(t_reg, phone, registrar, user, "reg-" + user, 1, supported, instance=instance)
    p_uri, c_uri = "sip:%s@example.com" % user, "sip:bob@example.com"
    php = Scenario.hostport(phone.ip, phone.sip_port)
    rhp = Scenario.hostport(registrar.ip, registrar.sip_port)
    phone_sdp = Scenario.sdp(phone.ip, phone.rtp_port, sdp_extra)
    core_sdp = Scenario.sdp(media.ip, media.rtp_port, core_sdp_extra)
    if not from_core:
        inv = s.dialog_headers(p_uri, c_uri, call_id, 1, "INVITE", php, tag, contact="sip:%s@%s" % (user, php))
        s.sip(t_inv, phone, registrar, "INVITE sip:bob@example.com SIP/2.0", inv, phone_sdp)
        r = [h.replace("To: <%s>" % c_uri, "To: <%s>;tag=b1" % c_uri) for h in inv[:5]]
        s.sip(t_inv + 0.02, registrar, phone, "SIP/2.0 100 Trying", inv[:5], from_access=False)
        s.sip(t_inv + 0.05, registrar, phone, "SIP/2.0 180 Ringing", r, from_access=False)
        s.sip(t_inv + 0.1, registrar, phone, "SIP/2.0 200 OK", r + ["Contact: <sip:bob@%s>" % rhp],
              core_sdp, from_access=False)
        ack = s.dialog_headers(p_uri, c_uri, call_id, 1, "ACK", php, tag, "b1")
        s.sip(t_inv + 0.12, phone, registrar, "ACK sip:bob@%s SIP/2.0" % rhp, ack)
        return {"caller": p_uri, "callee": c_uri, "ftag": tag, "ttag": "b1", "phone_is_caller": True}
    inv = s.dialog_headers(c_uri, p_uri, call_id, 1, "INVITE", rhp, tag, contact="sip:bob@%s" % rhp)
    s.sip(t_inv, registrar, phone, "INVITE sip:%s@%s SIP/2.0" % (user, php), inv, core_sdp, from_access=False)
    r = [h.replace("To: <%s>" % p_uri, "To: <%s>;tag=b1" % p_uri) for h in inv[:5]]
    s.sip(t_inv + 0.05, phone, registrar, "SIP/2.0 180 Ringing", r)
    s.sip(t_inv + 0.1, phone, registrar, "SIP/2.0 200 OK", r + ["Contact: <sip:%s@%s>" % (user, php)], phone_sdp)
    ack = s.dialog_headers(c_uri, p_uri, call_id, 1, "ACK", rhp, tag, "b1")
    s.sip(t_inv + 0.12, registrar, phone, "ACK sip:%s@%s SIP/2.0" % (user, php), ack, from_access=False)
    return {"caller": c_uri, "callee": p_uri, "ftag": tag, "ttag": "b1", "phone_is_caller": False}


def media_both_ways(s, phone_ip, phone_port, media, t0, t1, ssrc_up=0x1111, ssrc_down=0x2222,
                    rtcp=True, phone_rtcp=None, media_rtcp=None):
    s.rtp(t0, t1, phone_ip, phone_port, media.ip, media.rtp_port, ssrc_up, True)
    s.rtp(t0 + 0.01, t1, media.ip, media.rtp_port, phone_ip, phone_port, ssrc_down, False)
    if rtcp:
        s.rtp(t0 + 0.5, t1, phone_ip, phone_rtcp or phone_port + 1, media.ip, media_rtcp or media.rtp_port + 1,
              ssrc_up, True, interval=1.0, rtcp=True)
        s.rtp(t0 + 0.7, t1, media.ip, media_rtcp or media.rtp_port + 1, phone_ip, phone_rtcp or phone_port + 1,
              ssrc_down, False, interval=1.0, rtcp=True)


class Move:
    """What a committed handover must do, as a model independent of sipkeep's code."""

    def __init__(self, old_ip, old_sip_port, new_ip, new_sip_port, commit_index, flows):
        # flows: list of (old access port, core ip, core port)
        self.old_ip, self.old_sip_port = old_ip, old_sip_port
        self.new_ip, self.new_sip_port = new_ip, new_sip_port
        self.commit_index = commit_index
        self.flows = flows
        self.latched = {}

    def rule(self, i, p):
        if UDP not in p or i <= self.commit_index:
            return None
        ip = p[IP] if IP in p else p[IPv6]
        u = p[UDP]
        for (aport, cip, cport) in self.flows:
            if ip.src == cip and u.sport == cport and ip.dst == self.old_ip and u.dport == aport:
                return {"dst": self.new_ip, "dport": self.latched.get((cip, cport))}
            if ip.dst == cip and u.dport == cport and ip.src == self.new_ip:
                key = (cip, cport)
                if key not in self.latched:
                    self.latched[key] = u.sport
                if self.latched[key] == u.sport:
                    return {"src": self.old_ip, "sport": aport}
                return None
        if ip.dst == self.old_ip and u.dport == self.old_sip_port and u.sport == 5060:
            return {"dst": self.new_ip, "dport": self.new_sip_port}
        return None


def model(*moves):
    def rules(i, t, p):
        for m in moves:
            r = m.rule(i, p)
            if r:
                return {k: v for k, v in r.items() if v is not None}
        return None
    return rules


def commit_index(frames, cseq):
    """Index of the 200 OK that commits the REGISTER with this CSeq."""
    for i, (t, raw) in enumerate(frames):
        if b"SIP/2.0 200 OK" in raw and (b"CSeq: %d REGISTER" % cseq) in raw:
            return i
    raise Failure("no 200 OK for REGISTER CSeq %d in the capture" % cseq)


def end_checks(out_path, st, expect_empty=True):
    bad = tshark_checksums(out_path)
    check(not bad, "tshark: no bad IP/UDP checksum, no malformed packet (%s)" % (bad[:5] or "none"))
    if expect_empty:
        c = st["counters"]
        check(c["dialogs_active"] == 0 and c["streams_active"] == 0,
              "tables back to empty: dialogs_active=%d streams_active=%d" % (c["dialogs_active"], c["streams_active"]))


LTE = "10.1.0.5"
WIFI = "10.2.0.7"


def handover_scenario(supported_new=PERSIST, t_rereg=8.0, status=200, third_party=False,
                      vlan=None, v6=False, rtcp_mux=False, new_rtp_port=4010):
    """One call, the phone goes silent at 5 s (LTE lost) and re-registers from Wi-Fi at t_rereg."""
    s = Scenario(vlan=vlan)
    reg, media = (REGISTRAR6, MEDIA6) if v6 else (REGISTRAR, MEDIA)
    old = Endpoint("2001:db8:a:1::5" if v6 else LTE, 5060, 4000)
    new = Endpoint("2001:db8:a:2::7" if v6 else WIFI, 5062, new_rtp_port)
    extra = ("a=rtcp-mux",) if rtcp_mux else ()
    tags = basic_call(s, old, registrar=reg, media=media, sdp_extra=extra, core_sdp_extra=extra)
    rtcp_port = 4000 if rtcp_mux else 4001
    media_both_ways(s, old.ip, 4000, media, 1.2, 5.0, phone_rtcp=rtcp_port,
                    media_rtcp=20000 if rtcp_mux else 20001)
    # The core keeps sending to the old address while the phone is away.
    t_bye = t_rereg + 7.0
    s.rtp(5.01, t_bye, media.ip, 20000, old.ip, 4000, 0x2222, False, interval=0.02, pt=0)
    if status is None:
        # The re-REGISTER gets no answer of its own; a late 200 OK for CSeq 1 shows up instead.
        s.register(t_rereg, new, reg, "alice", "reg-alice", 2, supported_new, answer=False)
        s.register(t_rereg + 0.05, old, reg, "alice", "reg-alice", 1, None, answer=True, request=False,
                   answer_to=new)
    else:
        s.register(t_rereg, new, reg, "alice", "reg-alice", 2, supported_new, status=status)
    s.rtp(t_rereg + 0.2, t_bye, new.ip, new.rtp_port, media.ip, 20000, 0x3333, True)
    if not rtcp_mux:
        s.rtp(t_rereg + 0.3, t_bye, new.ip, new.rtp_port + 1, media.ip, 20001, 0x3333, True, interval=1.0,
              rtcp=True)
        s.rtp(t_rereg + 0.4, t_bye, media.ip, 20001, old.ip, 4001, 0x2222, False, interval=1.0, rtcp=True)
    if third_party:
        # Same SSRC as the phone, from an address nobody registered: never latched.
        s.rtp(t_rereg + 0.1, t_rereg + 2, "10.9.9.9", 4010, media.ip, 20000, 0x3333, True)
    # In-dialog request from core to the old contact (after the move: redirected).
    hdrs = s.dialog_headers("sip:bob@example.com", "sip:alice@example.com", "call-1", 2, "INFO",
                            Scenario.hostport(reg.ip, 5060), "b1", "a1")
    s.sip(t_bye - 1.0, reg, old, "INFO sip:alice@%s SIP/2.0" % Scenario.hostport(old.ip, 5060), hdrs,
          from_access=False)
    bye = s.dialog_headers("sip:alice@example.com", "sip:bob@example.com", "call-1", 2, "BYE",
                           Scenario.hostport(new.ip, 5062), "a1", "b1")
    s.sip(t_bye, new, reg, "BYE sip:bob@%s SIP/2.0" % Scenario.hostport(reg.ip, 5060), bye)
    s.sip(t_bye + 0.05, reg, new, "SIP/2.0 200 OK", bye[:5], from_access=False)
    # Unregister, and a last frame later than every linger and timer.
    s.register(t_bye + 1.0, new, reg, "alice", "reg-alice", 3, supported_new, expires=0)
    s.udp(t_bye + 5.0, "192.0.2.99", 9, "192.0.2.98", 9, b"tick", False)
    flows = [(4000, media.ip, 20000)] + ([] if rtcp_mux else [(4001, media.ip, 20001)])
    return s, old, new, flows


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


class Call:
    def __init__(self, call_id, old_rtp, new_rtp, media_port, from_core=False):
        self.call_id, self.old_rtp, self.new_rtp = call_id, old_rtp, new_rtp
        self.media_port, self.from_core = media_port, from_core


class User:
    def __init__(self, name, old_ip, new_ip, calls, moves=True, new_sip_port=5062):
        self.name, self.old_ip, self.new_ip, self.calls, self.moves = name, old_ip, new_ip, calls, moves
        self.new_sip_port = new_sip_port


def general_scenario(users, t_rereg=8.0, expires=3600, hold_sdp_port=None):
    """Several users, several calls each; users with moves=True lose media at 5 s and re-register
    from their new address at t_rereg; the others keep talking from where they are."""
    s = Scenario()
    t_bye = t_rereg + 7.0
    for ui, u in enumerate(users):
        old = Endpoint(u.old_ip, 5060, None)
        new = Endpoint(u.new_ip, u.new_sip_port, None)
        s.register(0.1 * ui, old, REGISTRAR, u.name, "reg-" + u.name, 1, PERSIST, expires=expires)
        for ci, c in enumerate(u.calls):
            media = Endpoint(MEDIA.ip, 5060, c.media_port)
            phone = Endpoint(u.old_ip, 5060, c.old_rtp)
            basic_call(s, phone, user=u.name, call_id=c.call_id, supported=None, media=media,
                       t_inv=1.0 + 0.2 * ci + 0.05 * ui, from_core=c.from_core, tag="t-" + c.call_id)
            t_stop = 5.0 if u.moves else t_bye
            media_both_ways(s, u.old_ip, c.old_rtp, media, 1.5, t_stop, ssrc_up=0x1000 + ci,
                            ssrc_down=0x2000 + ci)
            if u.moves:
                s.rtp(5.01, t_bye, MEDIA.ip, c.media_port, u.old_ip, c.old_rtp, 0x2000 + ci, False)
                s.rtp(t_rereg + 0.2, t_bye, u.new_ip, c.new_rtp, MEDIA.ip, c.media_port, 0x3000 + ci, True)
            caller, callee = ("sip:bob@example.com", "sip:%s@example.com" % u.name) if c.from_core else \
                ("sip:%s@example.com" % u.name, "sip:bob@example.com")
            ftag, ttag = "t-" + c.call_id, "b1"
            src = new if u.moves else old
            hp = Scenario.hostport(src.ip, src.sip_port)
            if c.from_core:
                bye = s.dialog_headers(callee, caller, c.call_id, 2, "BYE", hp, ttag, ftag)
                bye[1], bye[2] = "From: <%s>;tag=%s" % (callee, ttag), "To: <%s>;tag=%s" % (caller, ftag)
            else:
                bye = s.dialog_headers(caller, callee, c.call_id, 2, "BYE", hp, ftag, ttag)
            s.sip(t_bye + 0.01 * ci, src, REGISTRAR, "BYE sip:bob@192.0.2.10:5060 SIP/2.0", bye)
            s.sip(t_bye + 0.01 * ci + 0.05, REGISTRAR, src, "SIP/2.0 200 OK", bye[:5], from_access=False)
        if u.moves:
            s.register(t_rereg + 0.01 * ui, new, REGISTRAR, u.name, "reg-" + u.name, 2, PERSIST, expires=expires)
        if expires == 3600:
            s.register(t_bye + 1.0 + 0.01 * ui, new if u.moves else old, REGISTRAR, u.name, "reg-" + u.name, 3,
                       PERSIST, expires=0)
    s.udp(max(t_bye + 5.0, t_rereg + expires + 2.0), "192.0.2.99", 9, "192.0.2.98", 9, b"tick", False)
    return s


def moves_for(users, inp):
    out = []
    for u in users:
        if not u.moves:
            continue
        idx = None
        for i, (t, raw) in enumerate(inp):
            if b"SIP/2.0 200 OK" in raw and b"CSeq: 2 REGISTER" in raw and (u.new_ip.encode() in raw):
                idx = i
        flows = []
        for c in u.calls:
            flows += [(c.old_rtp, MEDIA.ip, c.media_port), (c.old_rtp + 1, MEDIA.ip, c.media_port + 1)]
        out.append(Move(u.old_ip, 5060, u.new_ip, u.new_sip_port, idx, flows))
    return out


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


PAD_SDP = tuple("a=x-cisco-pad%02d:%s" % (i, "z" * 60) for i in range(45))
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



def run_case(namespace):
    """The command line of every case file: SCRIPT SIPKEEP CASE runs NAMESPACE's case_CASE."""
    cases = {k[5:]: v for k, v in namespace.items() if k.startswith("case_")}
    script = os.path.basename(namespace.get("__file__", sys.argv[0]))
    if len(sys.argv) != 3 or sys.argv[2] not in cases:
        sys.exit("usage: %s SIPKEEP CASE (%s)" % (script, ", ".join(sorted(cases))))
    try:
        cases[sys.argv[2]](sys.argv[1])
    except Failure as e:
        print("FAILED: %s" % e)
        sys.exit(1)
    print("PASS %s" % sys.argv[2])


if __name__ == "__main__":
    run_case(globals())
