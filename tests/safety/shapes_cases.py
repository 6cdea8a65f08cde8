#!/usr/bin/python3
"""Real phones and real networks, and replay mode's input files (issue 11, items 13, 18-21).

- scanner signatures: what real users send is never taken for a scanner; the
  tools' own User-Agent product names are counted, and dropped only when the
  operator says so, and only in requests from access;
- QinQ: SIP under two VLAN tags is parsed, so the Call-Info policy applies,
  and every frame keeps its tags;
- replay: a capture cut mid-record, the last frame's event, a pcapng with
  interfaces of several link types.

Every case builds its capture here (scapy frames, pcap/pcapng written by hand),
replays it and checks the output frame by frame against a model, and the
counters of --stats-json. Usage: shapes_cases.py SIPKEEP CASE
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

from scapy.all import Ether, IP, UDP, Dot1Q, Raw, fragment

from sktest import replay, sipscen
from sktest.checks import check
from sktest.sipscen import Endpoint, Scenario

UCM = Endpoint("192.0.2.10", 5060)
RAJESH = Endpoint("10.1.0.5", 5060, 4000)
ACME = Endpoint("10.1.0.6", 5060, 4002)
SCANNER = Endpoint("10.9.9.9", 5070)
RCC = "<urn:x-cisco-remotecc:callinfo>;security= NotAuthenticated;orientation= to;gci= 1-4711;isVoip"
ICON = "<http://www.example.com/photo.jpg>;purpose=icon"


def ctr(st, name):
    """A counter, or None when the binary does not have it (today's main)."""
    return st.get("counters", {}).get(name)


def sip_msg(start, headers, body=b""):
    lines = [start] + list(headers)
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def req_headers(method, src, dst, call_id, cseq=1, from_hdr=None, ua=None, to_tag=None):
    hp = Scenario.hostport(src.ip, src.sip_port)
    h = ["Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s-%d" % (hp, call_id, cseq),
         "From: %s;tag=f-%s" % (from_hdr or "<sip:u@example.com>", call_id),
         "To: <sip:bob@example.com>%s" % (";tag=" + to_tag if to_tag else ""),
         "Call-ID: %s" % call_id, "CSeq: %d %s" % (cseq, method), "Max-Forwards: 70"]
    if ua is not None:
        h.append("User-Agent: %s" % ua)
    return h


def run_file(sipkeep, inp, conf_extra="", tag="run"):
    """Replay INP as it is; returns (rc, stderr, output frames or None, stats or None)."""
    d = os.path.dirname(inp)
    out, stats, conf = (os.path.join(d, "%s-%s" % (tag, n)) for n in ("out.pcap", "stats.json", "sk.conf"))
    with open(conf, "w") as f:
        f.write("access_prefixes = %s\n%s\n" % (replay.ACCESS_PREFIXES, conf_extra))
    proc = subprocess.run([sipkeep, "--replay", inp, "--replay-out", out, "--config", conf,
                           "--stats-json", stats], capture_output=True, text=True, timeout=120)
    sys.stdout.write(proc.stderr[-2000:])
    frames = sipscen.read_frames(out) if os.path.exists(out) and proc.returncode == 0 else None
    st = None
    if os.path.exists(stats) and proc.returncode == 0:
        with open(stats) as f:
            st = json.load(f)
    return proc.returncode, proc.stderr, frames, st


# --- 13: scanner signatures ---------------------------------------------------------------------

def real_users():
    """Rajesh Tiwari's call and Acme's REGISTER: both contain a default signature as a substring."""
    s = Scenario()
    # The soft client registers with its own User-Agent.
    reg = req_headers("REGISTER", ACME, UCM, "reg-acme", ua="Acme SIPClient/2.1")
    reg.append("Contact: <sip:acme@%s>" % Scenario.hostport(ACME.ip, ACME.sip_port))
    s.sip(0.0, ACME, UCM, "REGISTER sip:example.com SIP/2.0", reg)
    resp = [h for h in reg if not h.startswith(("Max-Forwards", "User-Agent"))]
    s.sip(0.05, UCM, ACME, "SIP/2.0 200 OK", resp, from_access=False)
    frm = '"Rajesh Tiwari" <sip:rajesh@example.com>'
    inv = req_headers("INVITE", RAJESH, UCM, "call-rajesh", from_hdr=frm, ua="Cisco-CP8865/14.1.1")
    s.sip(1.0, RAJESH, UCM, "INVITE sip:bob@example.com SIP/2.0", inv,
          Scenario.sdp(RAJESH.ip, RAJESH.rtp_port))
    ring = [h for h in inv[:5]]
    ring[2] += ";tag=b1"
    s.sip(1.1, UCM, RAJESH, "SIP/2.0 180 Ringing", ring + ["Server: Cisco-CUCM14.0"], from_access=False)
    # A phone whose product name only begins like a tool's.
    opt = req_headers("OPTIONS", ACME, UCM, "opt-acme", ua="iWarp-Phone/3.0 (sipvicious-compatible)")
    s.sip(2.0, ACME, UCM, "OPTIONS sip:example.com SIP/2.0", opt)
    return s


def case_scanner_guesses_never_drop_real_users(sipkeep):
    """Item 13: no caseless substring of From or User-Agent drops a real user's traffic."""
    s = real_users()
    for extra in ("", "scanner_action = drop"):
        inp, out, st, tmp = replay.run_replay(sipkeep, s, extra)
        what = extra or "default config"
        check(len(out) == len(inp) == 5, "%s: all 5 frames forwarded (%d of %d)" % (what, len(out), len(inp)))
        check([o[1] for o in out] == [i[1] for i in inp], "%s: byte-identical" % what)
        check(ctr(st, "sip_scanner_dropped") == 0, "%s: sip_scanner_dropped = 0" % what)
        check(ctr(st, "sip_scanner_matched") == 0, "%s: sip_scanner_matched = 0" % what)


def tools():
    """Requests the real tools send from access, with their default User-Agents."""
    s = Scenario()
    uas = ["friendly-scanner", "sipcli/v1.8", "pplsip", "VaxSIPUserAgent/3.1", "sundayddr"]
    for i, ua in enumerate(uas):
        h = req_headers("REGISTER" if i % 2 else "OPTIONS", SCANNER, UCM, "scan-%d" % i,
                        from_hdr="<sip:100@1.1.1.1>", ua=ua)
        s.sip(1.0 + i, SCANNER, UCM, "%s sip:100@%s SIP/2.0" % ("REGISTER" if i % 2 else "OPTIONS", UCM.ip), h)
    return s, len(uas)


def case_scanner_tools_counted_not_dropped_by_default(sipkeep):
    """Item 13: by default a tool's request is counted and forwarded: dropping is the operator's call."""
    s, n = tools()
    inp, out, st, tmp = replay.run_replay(sipkeep, s)
    check(len(out) == len(inp) == n, "all %d scanner requests forwarded by default (%d out)" % (n, len(out)))
    check([o[1] for o in out] == [i[1] for i in inp], "byte-identical")
    check(ctr(st, "sip_scanner_matched") == n, "sip_scanner_matched = %d (%s)" % (n, ctr(st, "sip_scanner_matched")))
    check(ctr(st, "sip_scanner_dropped") == 0, "sip_scanner_dropped = 0")


def case_scanner_drop_only_tool_requests_from_access(sipkeep):
    """Item 13: with scanner_action = drop, only requests from access naming a tool are dropped."""
    s, n = tools()
    # Core's traffic with the same strings is never judged: a request and a response.
    h = req_headers("OPTIONS", UCM, SCANNER, "core-opt", ua="friendly-scanner")
    s.sip(10.0, UCM, SCANNER, "OPTIONS sip:x@%s SIP/2.0" % SCANNER.ip, h, from_access=False)
    r = req_headers("OPTIONS", SCANNER, UCM, "scan-0", ua="sipcli/v1.8")
    s.sip(10.1, UCM, SCANNER, "SIP/2.0 200 OK", r[:5] + ["User-Agent: sipcli/v1.8"], from_access=False)
    # A response from access (a phone answering) with a tool's name: not a request.
    s.sip(10.2, SCANNER, UCM, "SIP/2.0 200 OK", h[:5] + ["User-Agent: friendly-scanner"])
    # The real users are still there.
    for t, f in real_users().frames:
        s.frames.append((t + 20, f))
    inp, out, st, tmp = replay.run_replay(sipkeep, s, "scanner_action = drop")
    keep = inp[n:]
    check(len(out) == len(keep), "%d tool requests dropped, %d other frames forwarded (%d out)"
          % (n, len(keep), len(out)))
    check([o[1] for o in out] == [k[1] for k in keep], "the frames forwarded are the others, byte-identical")
    check(ctr(st, "sip_scanner_matched") == n and ctr(st, "sip_scanner_dropped") == n,
          "sip_scanner_matched = sip_scanner_dropped = %d" % n)


# --- 18: QinQ -------------------------------------------------------------------------------------

TPIDS = [(0x88a8, "802.1ad+802.1Q"), (0x8100, "802.1Q twice"), (0x9100, "0x9100+802.1Q")]


def qinq(outer, vid_out, vid_in, src, sport, dst, dport, payload, from_access):
    mac_a, mac_c = sipscen.PHONE_MAC, sipscen.CORE_MAC
    eth = Ether(src=mac_a, dst=mac_c, type=outer) if from_access else Ether(src=mac_c, dst=mac_a, type=outer)
    f = eth / Dot1Q(vlan=vid_out, type=0x8100) / Dot1Q(vlan=vid_in) / IP(src=src, dst=dst, id=7) / \
        UDP(sport=sport, dport=dport) / Raw(payload)
    return Ether(bytes(f))


def case_qinq_sip_gets_callinfo_policy(sipkeep):
    """Item 18: SIP under two VLAN tags is parsed: a phone registers, remotecc is stripped for the
    unregistered phone and kept for the registered one; every frame keeps its tags."""
    s = Scenario()
    model = []  # (t, input frame, expected output frame)
    for k, (tpid, name) in enumerate(TPIDS):
        t0 = 10.0 * k
        reg_phone = Endpoint("10.2.%d.5" % k, 5060)
        unreg_phone = Endpoint("10.2.%d.8" % k, 5060)
        vo, vi = 100 + k, 200 + k
        hp = Scenario.hostport(reg_phone.ip, 5060)
        reg = ["Via: SIP/2.0/UDP %s;branch=z9hG4bK-r%d;rport" % (hp, k),
               "From: <sip:q%d@example.com>;tag=r%d" % (k, k), "To: <sip:q%d@example.com>" % k,
               "Call-ID: qreg-%d" % k, "CSeq: 1 REGISTER", "Contact: <sip:q%d@%s>" % (k, hp), "Expires: 3600",
               "Supported: replaces, X-cisco-callinfo"]
        ok = reg[:4] + ["CSeq: 1 REGISTER", reg[5], reg[6]]
        ok[2] += ";tag=registrar"
        frames = [(t0, qinq(tpid, vo, vi, reg_phone.ip, 5060, UCM.ip, 5060,
                            sip_msg("REGISTER sip:example.com SIP/2.0", reg), True), None),
                  (t0 + 0.05, qinq(tpid, vo, vi, UCM.ip, 5060, reg_phone.ip, 5060,
                                   sip_msg("SIP/2.0 200 OK", ok), False), None)]
        for j, (phone, strip) in enumerate(((reg_phone, False), (unreg_phone, True))):
            h = req_headers("INVITE", UCM, phone, "qinv-%d-%d" % (k, j))
            with_ci = h[:3] + ["Call-Info: " + RCC + ", " + ICON] + h[3:]
            without = h[:3] + ["Call-Info: " + ICON] + h[3:]
            start = "INVITE sip:x@%s SIP/2.0" % Scenario.hostport(phone.ip, 5060)
            body = Scenario.sdp(UCM.ip, 20000)
            f = qinq(tpid, vo, vi, UCM.ip, 5060, phone.ip, 5060, sip_msg(start, with_ci, body), False)
            want = qinq(tpid, vo, vi, UCM.ip, 5060, phone.ip, 5060, sip_msg(start, without, body), False) \
                if strip else None
            frames.append((t0 + 1 + j, f, want))
        # Media under the same tags: forwarded as it came.
        frames.append((t0 + 3, qinq(tpid, vo, vi, reg_phone.ip, 4000, UCM.ip, 20000, b"\x80\x00" + bytes(170),
                                    True), None))
        for t, f, want in frames:
            s.frames.append((t, f))
            model.append((t, bytes(f), bytes(want) if want is not None else bytes(f), name))
    inp, out, st, tmp = replay.run_replay(sipkeep, s, "callinfo_policy = registered")
    check(len(out) == len(model), "every frame comes out (%d of %d)" % (len(out), len(model)))
    for i, ((t, raw), (mt, mraw, mwant, name)) in enumerate(zip(out, model)):
        if raw != mwant:
            print("frame %d (%s): expected %s\n  got %s" % (i, name, Ether(mwant).summary(), Ether(raw).summary()))
            check(False, "frame %d (%s) matches the model: remotecc stripped for the unregistered phone "
                  "only, tags kept, lengths and checksums right" % (i, name))
    print("ok   %d frames match the model" % len(model))
    check(ctr(st, "callinfo_removed") == len(TPIDS), "callinfo_removed = %d (%s)"
          % (len(TPIDS), ctr(st, "callinfo_removed")))
    check(ctr(st, "registrations_committed") == len(TPIDS), "each phone registered through QinQ (%s)"
          % ctr(st, "registrations_committed"))
    check(ctr(st, "frames_non_ip") == 0, "no QinQ frame counted as non-IP")
    check(ctr(st, "frames_sip") == 4 * len(TPIDS), "frames_sip = %d" % (4 * len(TPIDS)))


# --- 19-21: replay input files ----------------------------------------------------------------------

def write_pcap(path, frames, cut=None):
    """Classic pcap of (t, bytes); CUT: keep only that many bytes of the file."""
    buf = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    for t, data in frames:
        sec, usec = int(t), int(round((t - int(t)) * 1e6))
        buf += struct.pack("<IIII", sec, usec, len(data), len(data)) + data
    with open(path, "wb") as f:
        f.write(bytes(buf[:cut] if cut is not None else buf))


def ng_block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def ng_idb(linktype, tsresol=None):
    opts = b""
    if tsresol is not None:
        opts = struct.pack("<HHB3x", 9, 1, tsresol) + struct.pack("<HH", 0, 0)
    return ng_block(1, struct.pack("<HHI", linktype, 0, 262144) + opts)


def ng_epb(ifid, ticks, data):
    return ng_block(6, struct.pack("<IIIII", ifid, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data)) + data)


def ng_shb():
    return ng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def reg_pair(phone, user, t):
    """REGISTER from PHONE and the registrar's 200: [(t, bytes)]."""
    s = Scenario()
    s.register(t, phone, sipscen.REGISTRAR, user, "reg-" + user, 1, sipscen.PERSIST)
    s.frames.sort(key=lambda tf: tf[0])
    return [(t, bytes(f)) for t, f in s.frames]


def case_replay_last_event_applied(sipkeep):
    """Item 20: a capture of only REGISTER + 200 commits the registration before the counters."""
    with tempfile.TemporaryDirectory(prefix="sk-shapes-") as d:
        inp = os.path.join(d, "in.pcap")
        write_pcap(inp, reg_pair(RAJESH, "rajesh", 1.0))
        rc, err, out, st = run_file(sipkeep, inp)
        check(rc == 0, "replay exits 0")
        check(len(out) == 2, "both frames forwarded")
        check(ctr(st, "registrations_committed") == 1, "registrations_committed = 1 (%s)"
              % ctr(st, "registrations_committed"))
        check(ctr(st, "users_active") == 1, "users_active = 1 (%s)" % ctr(st, "users_active"))


def case_replay_cut_capture_keeps_what_was_read(sipkeep):
    """Item 19: tcpdump killed mid-record: every whole record is replayed, the held fragment flushed,
    the cut reported, exit 0; a capture cut inside its first record exits non-zero."""
    frames = reg_pair(RAJESH, "rajesh", 1.0)
    # A fragmented SIP message whose last fragment never came: its first fragment is held.
    big = Ether(src=sipscen.PHONE_MAC, dst=sipscen.CORE_MAC) / IP(src=ACME.ip, dst=UCM.ip, id=4242) / \
        UDP(sport=5060, dport=5060) / Raw(b"OPTIONS sip:x SIP/2.0\r\n" + b"X-Pad: " + b"p" * 1400 + b"\r\n\r\n")
    pieces = fragment(Ether(bytes(big)), fragsize=800)
    first = bytes(pieces[0])
    frames.append((2.0, first))
    rtp = Ether(src=sipscen.PHONE_MAC, dst=sipscen.CORE_MAC) / IP(src=RAJESH.ip, dst=sipscen.MEDIA.ip) / \
        UDP(sport=4000, dport=20000) / Raw(b"\x80\x00" + bytes(170))
    frames.append((2.1, bytes(rtp)))
    # The last record: its header says 214 bytes, 30 are there.
    frames.append((2.2, bytes(rtp)))
    with tempfile.TemporaryDirectory(prefix="sk-shapes-") as d:
        inp = os.path.join(d, "cut.pcap")
        full = 24 + sum(16 + len(f) for _, f in frames)
        write_pcap(inp, frames, cut=full - len(frames[-1][1]) + 30)
        rc, err, out, st = run_file(sipkeep, inp)
        check(rc == 0, "a capture cut mid-record: exit 0 (rc %d)" % rc)
        check("cut short" in err, "the cut is reported")
        whole = frames[:-1]
        check(out is not None and sorted(o[1] for o in out) == sorted(f for _, f in whole),
              "every whole record forwarded byte-identical, the held fragment included (%s of %d)"
              % (None if out is None else len(out), len(whole)))
        check(ctr(st, "registrations_committed") == 1, "the registration before the cut is applied")
        # pcapng cut in the middle of a block: the same.
        ng = ng_shb() + ng_idb(1) + b"".join(ng_epb(0, int(t * 1e6), f) for t, f in frames)
        inp2 = os.path.join(d, "cut.pcapng")
        with open(inp2, "wb") as f:
            f.write(ng[:-40])
        rc, err, out, st = run_file(sipkeep, inp2, tag="ng")
        check(rc == 0 and out is not None and len(out) == len(whole),
              "pcapng cut mid-block: exit 0, the whole blocks replayed (rc %d)" % rc)
        # Nothing whole at all: an error.
        inp3 = os.path.join(d, "nothing.pcap")
        write_pcap(inp3, frames[:1], cut=24 + 16 + 10)
        rc, err, out, st = run_file(sipkeep, inp3, tag="nothing")
        check(rc != 0, "cut inside the first record: nothing could be read, non-zero exit (rc %d)" % rc)
        check("cut short" in err, "and the message says where")


def sll(proto, l3):
    return struct.pack(">HHH8sH", 0, 1, 6, bytes.fromhex("020000000a020000"), proto) + l3


def case_pcapng_mixed_interfaces_replayed(sipkeep):
    """Item 21: a pcapng with an Ethernet and a Linux-cooked interface (and an 802.11 one) replays
    both of the first, counts the frames of the third, and exits 0."""
    reg = reg_pair(RAJESH, "rajesh", 1.0)
    rtp = Ether(src=sipscen.PHONE_MAC, dst=sipscen.CORE_MAC) / IP(src=RAJESH.ip, dst=sipscen.MEDIA.ip) / \
        UDP(sport=4000, dport=20000) / Raw(b"\x80\x00" + bytes(170))
    rtp = bytes(rtp)
    wifi = b"\x08\x02" + bytes(30)
    # REGISTER seen on the cooked interface (nanosecond clock), its 200 on the Ethernet one.
    blocks = [ng_shb(), ng_idb(1), ng_idb(113, tsresol=9), ng_idb(105)]
    recs = [  # (iface, t, data)
        (1, reg[0][0], sll(0x0800, reg[0][1][14:])),
        (2, 1.01, wifi),
        (0, reg[1][0], reg[1][1]),
        (0, 2.0, rtp),
        (1, 2.5, sll(0x0800, rtp[14:])),
        (2, 3.0, wifi),
    ]
    for ifid, t, data in recs:
        ticks = int(round(t * 1e9)) + 123 if ifid == 1 else int(round(t * 1e6))
        blocks.append(ng_epb(ifid, ticks, data))
    with tempfile.TemporaryDirectory(prefix="sk-shapes-") as d:
        inp = os.path.join(d, "mixed.pcapng")
        with open(inp, "wb") as f:
            f.write(b"".join(blocks))
        rc, err, out, st = run_file(sipkeep, inp)
        check(rc == 0, "mixed pcapng: exit 0 (rc %d)" % rc)
        want = [(t, data if ifid == 0 else None, data) for ifid, t, data in recs if ifid != 2]
        check(out is not None and len(out) == len(want), "one frame out per Ethernet or cooked record (%s of %d)"
              % (None if out is None else len(out), len(want)))
        for i, ((t, raw), (wt, eth, data)) in enumerate(zip(out, want)):
            if eth is not None:
                check(raw == eth, "frame %d (Ethernet interface) byte-identical" % i)
            else:
                check(raw[12:14] == data[14:16] and raw[14:] == data[16:],
                      "frame %d (cooked interface): same EtherType and L3 bytes" % i)
            check(abs(t - wt) < 2e-6, "frame %d keeps its timestamp (%f vs %f)" % (i, t, wt))
        check(ctr(st, "replay_frames_unsupported_link") == 2, "replay_frames_unsupported_link = 2 (%s)"
              % ctr(st, "replay_frames_unsupported_link"))
        check(ctr(st, "registrations_committed") == 1, "REGISTER on one interface, 200 on the other: committed")
        # Only interfaces replay cannot read: refused, as a pcap of that link type is.
        inp2 = os.path.join(d, "wifi.pcapng")
        with open(inp2, "wb") as f:
            f.write(ng_shb() + ng_idb(105) + ng_epb(0, 10**6, wifi))
        rc, err, out, st = run_file(sipkeep, inp2, tag="wifi")
        check(rc != 0 and "not supported" in err, "a pcapng with only 802.11: non-zero exit, 'not supported'")


if __name__ == "__main__":
    replay.run_case(globals())
