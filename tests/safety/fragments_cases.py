#!/usr/bin/python3
"""IP fragments: floods, pool pinning, duplicates, small fragments, VLANs (issue 11, items 8-12).

Each case builds its capture here (tests/pylib/sktest/sipscen.py and scapy), replays it
through `sipkeep --replay` (or runs the daemon live on net_pcap vdevs) and checks what
came out against what went in: every input fragment leaves unchanged or inside a
correct reassembly, and the counters say why. Usage: fragments_cases.py SIPKEEP CASE
"""
import json
import os
import signal
import sys
import tempfile
import time

from scapy.all import Ether, IP, IPv6, UDP, Dot1Q, Raw
from scapy.layers.inet6 import IPv6ExtHdrFragment

from sktest import replay, sipscen
from sktest.checks import check
from sktest.daemon import Daemon, cleanup_runtime_dir
from sktest.replay import commit_index, ctr, end_checks, model, Move, run_replay
from sktest.sipscen import (CORE_MAC, LTE, MEDIA, PAD_SDP, PERSIST, PHONE_MAC, REGISTRAR, WIFI,
                            Endpoint, media_both_ways, Scenario)


CALLINFO = "Call-Info: <urn:x-cisco-remotecc:callinfo>"


# --- building fragments by hand -------------------------------------------------------------

def l2(from_access, vlan=None):
    eth = Ether(src=PHONE_MAC, dst=CORE_MAC) if from_access else Ether(src=CORE_MAC, dst=PHONE_MAC)
    return eth / Dot1Q(vlan=vlan) if vlan is not None else eth


def udp_bytes(src, dst, sport, dport, payload):
    """The UDP header + payload with a correct checksum, as it sits in the datagram."""
    ip = IPv6(src=src, dst=dst) if ":" in src else IP(src=src, dst=dst)
    p = ip / UDP(sport=sport, dport=dport) / Raw(payload)
    p = p.__class__(bytes(p))
    return bytes(p[UDP])


def fragments(src, dst, l4, ident, sizes=None, mtu=None, from_access=True, vlan=None, proto=17):
    """Frames carrying L4 bytes in fragments of SIZES data bytes (the last takes the rest),
    or of the largest multiple of 8 that fits MTU bytes of IP."""
    v6 = ":" in src
    if sizes is None:
        per = ((mtu - (48 if v6 else 20)) // 8) * 8
        sizes = [per] * ((len(l4) - 1) // per)
    out, off = [], 0
    for i in range(len(sizes) + 1):
        n = sizes[i] if i < len(sizes) else len(l4) - off
        chunk, more = l4[off:off + n], i < len(sizes)
        if v6:
            ip = IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(nh=proto, offset=off // 8, m=int(more), id=ident)
        else:
            ip = IP(src=src, dst=dst, id=ident, proto=proto, flags="MF" if more else 0, frag=off // 8)
        f = l2(from_access, vlan) / ip / Raw(chunk)
        out.append(f.__class__(bytes(f)))
        off += n
    return out


def add(s, t, frames, step=0.0):
    for i, f in enumerate(frames):
        s.frames.append((round(t + i * step, 6), f))


def sip_message(start, headers, body=b""):
    lines = [start] + headers
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def invite(phone_ip, call_id="call-1", extra=(), pad=PAD_SDP[:14]):
    php = Scenario.hostport(phone_ip, 5060)
    h = Scenario().dialog_headers("sip:alice@example.com", "sip:bob@example.com", call_id, 1, "INVITE",
                                  php, "a1", contact="sip:alice@%s" % php) + list(extra)
    return sip_message("INVITE sip:bob@example.com SIP/2.0", h, Scenario.sdp(phone_ip, 4000, pad))


def same_multiset(inp, out, rules=None, what="every frame"):
    """Output == input as a multiset of frames (rewritten by RULES where it says so)."""
    want = []
    for i, (t, raw) in enumerate(inp):
        rw = rules(i, t, Ether(raw)) if rules else None
        want.append(replay.expected_frame(raw, **rw) if rw else raw)
    got = [raw for t, raw in out]
    missing = len(want) - sum(min(want.count(x), got.count(x)) for x in set(want))
    check(len(got) == len(want) and sorted(got) == sorted(want),
          "%s comes out as it went in (%d in, %d out, %d missing or changed)" % (what, len(want), len(got), missing))


def flood_first_fragments(s, t0, t1, n, sources, dst=REGISTRAR.ip, pieces=1):
    """N datagrams that never complete: a first fragment alone (PIECES 1), or PIECES
    fragments of PIECES + 1, one middle fragment missing."""
    for k in range(n):
        src = sources[k % len(sources)]
        l4 = udp_bytes(src, dst, 5060, 5060, b"x" * (1000 * pieces + 200))
        frs = fragments(src, dst, l4, 0x4000 + k, sizes=[1000] * pieces)
        frs = frs[:1] if pieces == 1 else frs[:pieces - 1] + frs[pieces:]
        add(s, t0 + (t1 - t0) * k / n, frs, step=0.000001)


def spoofed(n):
    return ["10.9.%d.%d" % (1 + k // 250, 1 + k % 250) for k in range(n)]


def invite_handover_scenario(s, t_inv=1.0):
    """persist's fragmented INVITE case: the SDP is in the second fragment, then a handover."""
    old = Endpoint(LTE, 5060, 4000)
    s.register(0.0, old, REGISTRAR, "alice", "reg-alice", 1, PERSIST)
    php = Scenario.hostport(LTE, 5060)
    inv = s.dialog_headers("sip:alice@example.com", "sip:bob@example.com", "call-1", 1, "INVITE", php, "a1")
    s.sip(t_inv, old, REGISTRAR, "INVITE sip:bob@example.com SIP/2.0", inv, Scenario.sdp(LTE, 4000, PAD_SDP),
          frag=1400)
    r = [h.replace("To: <sip:bob@example.com>", "To: <sip:bob@example.com>;tag=b1") for h in inv]
    s.sip(t_inv + 0.1, REGISTRAR, old, "SIP/2.0 200 OK", r, Scenario.sdp(MEDIA.ip, 20000), from_access=False)
    media_both_ways(s, LTE, 4000, MEDIA, t_inv + 0.2, 4.0, rtcp=False)
    s.rtp(4.01, 9.0, MEDIA.ip, 20000, LTE, 4000, 0x2222, False)
    s.register(6.0, Endpoint(WIFI, 5062, 4010), REGISTRAR, "alice", "reg-alice", 2, PERSIST)
    s.rtp(6.2, 9.0, WIFI, 4010, MEDIA.ip, 20000, 0x3333, True)


def handover_after_flood(sipkeep, sources, n=1100):
    s = Scenario()
    flood_first_fragments(s, 0.45, 0.95, n, sources)
    invite_handover_scenario(s)
    inp, out, st, tmp = run_replay(sipkeep, s)
    rules = model(Move(LTE, 5060, WIFI, 5062, commit_index(inp, 2), [(4000, MEDIA.ip, 20000)]))
    check(ctr(st, "frag_reassembled") == 1, "the INVITE is reassembled under the flood (frag_reassembled=%d)"
          % ctr(st, "frag_reassembled"))
    check(ctr(st, "dialogs_created") == 1 and ctr(st, "handovers_committed") == 1,
          "its call is tracked and handed over (dialogs_created=%d, handovers_committed=%d)"
          % (ctr(st, "dialogs_created"), ctr(st, "handovers_committed")))
    check(ctr(st, "frag_passed_unreassembled") == n, "the %d flood fragments left unchanged, counted" % n)
    same_multiset(inp, out, rules)
    return st


# --- item 8: floods --------------------------------------------------------------------------

def case_flood_from_many_sources_evicts_oldest(sipkeep):
    """1,100 first fragments from 1,100 sources in 0.5 s fill the table (1,024): the oldest
    incomplete entries are evicted, so the fragmented INVITE right after still reassembles."""
    st = handover_after_flood(sipkeep, spoofed(1100))
    check(ctr(st, "frag_evicted") >= 1100 + 1 - 1024, "oldest entries evicted, counted (frag_evicted=%d)"
          % ctr(st, "frag_evicted"))


def case_flood_from_one_source_is_bounded(sipkeep):
    """One source's 1,100 incomplete datagrams: it holds frag_max_per_source (64) entries,
    the rest pass unheld and counted; nobody else's datagram is refused or evicted."""
    st = handover_after_flood(sipkeep, ["10.9.0.1"])
    check(ctr(st, "frag_source_limited") == 1100 - 64, "fragments over the per-source bound counted "
          "(frag_source_limited=%d)" % ctr(st, "frag_source_limited"))
    check(ctr(st, "frag_evicted") == 0, "no entry evicted: the table never filled")


# --- item 9: the pool ---------------------------------------------------------------------

def case_flood_never_starves_rtp_of_mbufs(sipkeep):
    """1,100 incomplete datagrams of 8 fragments each (8,800 mbufs, more than the replay
    pool) interleaved with a call's RTP: reassembly's hold is bounded, nothing is lost."""
    s = Scenario()
    s.rtp(0.0, 2.0, LTE, 4000, MEDIA.ip, 20000, 0x1111, True)
    s.rtp(0.01, 2.0, MEDIA.ip, 20000, LTE, 4000, 0x2222, False)
    flood_first_fragments(s, 0.1, 1.0, 1100, spoofed(1100), pieces=8)
    inp, out, st, tmp = run_replay(sipkeep, s)
    check(st["counters"].get("replay_alloc_failed", 0) == 0, "no frame lost for want of an mbuf "
          "(replay_alloc_failed=%d)" % st["counters"].get("replay_alloc_failed", 0))
    same_multiset(inp, out)
    check(st["counters"].get("frag_evicted", 0) > 0, "the hold is bounded by evicting the oldest "
          "(frag_evicted=%d)" % st["counters"].get("frag_evicted", 0))


LIVE_EAL = ["--no-huge", "-m", "512", "--no-pci", "--lcores", "0@0,1@1,2@1"]


def live_config(wd, extra=""):
    conf = os.path.join(wd, "live.conf")
    with open(conf, "w") as f:
        f.write("stats_interval_ms = 100\ncontrol_socket = %s\n%s" % (os.path.join(wd, "ctl.sock"), extra))
    return conf


def case_live_flood_two_workers_loses_nothing(sipkeep):
    """Live, 2 workers, default pool: each access queue gets 1,100 incomplete datagrams of
    8 fragments (17,600 offered to reassembly, more than the 16,383 mbufs) plus RTP, the
    core queues RTP: rx_nombuf stays 0 and every frame leaves."""
    wd = tempfile.mkdtemp(prefix="sk-frag-live-")
    prefix = "sk-frag-live-%d" % os.getpid()
    acc_in, core_in, acc_out, core_out, n_acc, n_core = [], [], [], [], 0, 0
    want_acc, want_core = [], []
    for q in range(2):
        s_acc, s_core = Scenario(), Scenario()
        ip = "10.1.0.%d" % (5 + q)
        s_acc.rtp(0.0, 4.0, ip, 4000, MEDIA.ip, 20000 + q, 0x1111, True)
        flood_first_fragments(s_acc, 0.1, 3.0, 1100, spoofed(1100), pieces=8)
        s_core.rtp(0.0, 4.0, MEDIA.ip, 20000 + q, ip, 4000, 0x2222, False)
        for tag, sc, ins, outs, want in (("access", s_acc, acc_in, acc_out, want_acc),
                                         ("core", s_core, core_in, core_out, want_core)):
            ins.append(os.path.join(wd, "%s-in%d.pcap" % (tag, q)))
            outs.append(os.path.join(wd, "%s-out%d.pcap" % (tag, q)))
            sc.write(ins[-1])
            want += [raw for t, raw in sipscen.read_frames(ins[-1])]
    n_acc, n_core = len(want_acc), len(want_core)
    js = os.path.join(wd, "stats.json")

    def port(i, rx, tx):
        return ["--vdev", ",".join(["net_pcap%d" % i] + ["rx_pcap=" + p for p in rx] + ["tx_pcap=" + p for p in tx])]

    args = (LIVE_EAL + ["--file-prefix", prefix] + port(0, acc_in, acc_out) + port(1, core_in, core_out)
            + ["--", "--config", live_config(wd), "--stats-json", js, "--workers", "2"])
    d = Daemon(sipkeep, args).start()
    done = d.wait_until(lambda p: p.get("access", {}).get("rx") == n_acc and p.get("core", {}).get("rx") == n_core,
                        timeout=45)
    time.sleep(0.5)
    rc = d.stop(signal.SIGTERM)
    cleanup_runtime_dir(prefix)
    text = d.output()
    sys.stdout.write("\n".join(l for l in text.splitlines() if "mbuf pool" in l or "capped" in l) + "\n")
    check(rc == 0 and os.path.exists(js), "the daemon ran and stopped cleanly (rc=%s)" % rc)
    st = json.load(open(js))
    ports = st["ports"]
    check(ports["access"].get("rx_nombuf", 0) == 0 and ports["core"].get("rx_nombuf", 0) == 0,
          "no rx_nombuf (access %d, core %d)" % (ports["access"].get("rx_nombuf", 0),
                                                 ports["core"].get("rx_nombuf", 0)))
    check(done, "every frame received: access %d, core %d" % (n_acc, n_core))
    check(ports["access"]["rx"] == n_acc and ports["core"]["tx"] == n_acc and ports["core"]["rx"] == n_core
          and ports["access"]["tx"] == n_core, "every frame received leaves on the other port "
          "(access rx %d core tx %d, core rx %d access tx %d)" % (ports["access"]["rx"], ports["core"]["tx"],
                                                                  ports["core"]["rx"], ports["access"]["tx"]))
    got_core = [r for p in core_out for t, r in sipscen.read_frames(p)]
    got_acc = [r for p in acc_out for t, r in sipscen.read_frames(p)]
    check(sorted(got_core) == sorted(want_acc) and sorted(got_acc) == sorted(want_core),
          "the output files hold every input frame, unchanged (%d + %d)" % (len(got_core), len(got_acc)))


def case_live_pool_too_small_is_refused(sipkeep):
    """A pool that cannot hold the rings of 2 workers is refused at startup, naming the numbers."""
    wd = tempfile.mkdtemp(prefix="sk-frag-live-")
    prefix = "sk-frag-small-%d" % os.getpid()
    args = (LIVE_EAL + ["--file-prefix", prefix, "--vdev", "net_null0", "--vdev", "net_null1", "--",
                        "--config", live_config(wd, "mbufs = 8191\n"), "--workers", "2"])
    d = Daemon(sipkeep, args).start()
    try:
        d.proc.wait(timeout=20)
    except Exception:
        pass
    rc = d.stop(signal.SIGTERM)
    cleanup_runtime_dir(prefix)
    text = d.output()
    msg = [l for l in text.splitlines() if "mbufs" in l]
    print("\n".join(msg))
    check(rc not in (0, None), "sipkeep refuses to start (rc=%s)" % rc)
    check(any("8191" in l and "rx_descriptors" in l and "raise 'mbufs'" in l for l in msg),
          "the error names the pool size, what it must hold and the keys to change")


# --- items 10, 11: every fragment leaves, unchanged or correctly reassembled -------------------

def case_duplicate_middle_fragment_every_fragment_leaves(sipkeep):
    """First, middle, middle again, last (and first, middle, last, middle again): every input
    fragment leaves unchanged, the INVITE is parsed once."""
    s = Scenario()
    ip = LTE
    for k, order in enumerate(([0, 1, 1, 2], [0, 1, 2, 1], [2, 1, 0, 1])):
        l4 = udp_bytes(ip, REGISTRAR.ip, 5060, 5060, invite(ip, "call-dup-%d" % k))
        frs = fragments(ip, REGISTRAR.ip, l4, 0x100 + k, sizes=[600, 600])
        check(len(frs) == 3, "INVITE %d in 3 fragments" % k)
        # 3 s apart: a duplicate coming after its datagram is held until frag_timeout_ms
        add(s, 1.0 + 3 * k, [frs[i] for i in order], step=0.001)
    inp, out, st, tmp = run_replay(sipkeep, s)
    check(ctr(st, "frag_reassembled") == 3 and ctr(st, "sip_messages") == 3,
          "each INVITE reassembled and parsed once (frag_reassembled=%d, sip_messages=%d)"
          % (ctr(st, "frag_reassembled"), ctr(st, "sip_messages")))
    same_multiset(inp, out)
    replay.compare(inp, out, lambda i, t, p: None)
    check(ctr(st, "frag_sent") == 10 and ctr(st, "frag_passed_unreassembled") == 2,
          "a duplicate before completion left with its datagram, the two after it on their own "
          "(frag_sent=%d, frag_passed_unreassembled=%d)" % (ctr(st, "frag_sent"), ctr(st, "frag_passed_unreassembled")))


def small_cases():
    """(name, frames builder) of SIP fragmented small: IPv4 40/48-byte first fragments,
    IPv6 at 1232, 1000 and 600 bytes."""
    v4, v6 = LTE, "2001:db8:a:1::5"
    reg6 = "2001:db8:c::10"
    out = []
    for size in (40, 48):
        out.append(("IPv4 first fragment of %d bytes" % size, v4, REGISTRAR.ip, dict(sizes=[size, 1000])))
    for mtu in (1232, 1000, 600):
        out.append(("IPv6 at %d bytes" % mtu, v6, reg6, dict(mtu=mtu)))
    return out


def small_scenario(extra):
    s, msgs = Scenario(), []
    for k, (name, src, dst, how) in enumerate(small_cases()):
        msg = invite(src, "call-small-%d" % k, extra)
        l4 = udp_bytes(src, dst, 5060, 5060, msg)
        frs = fragments(src, dst, l4, 0x200 + k, **how)
        check(len(frs) >= 2, "%s: %d fragments of a %d-byte INVITE" % (name, len(frs), len(msg)))
        add(s, 1.0 + k, frs, step=0.001)
        msgs.append((name, src, dst, msg, frs))
    return s, msgs


def case_small_fragments_unchanged_leave_as_they_came(sipkeep):
    """Small fragments of an INVITE that need no change: the originals leave, byte for byte."""
    s, msgs = small_scenario(())
    inp, out, st, tmp = run_replay(sipkeep, s, "callinfo_policy = strip\n")
    replay.compare(inp, out, lambda i, t, p: None)
    check(ctr(st, "frag_reassembled") == len(msgs) and ctr(st, "sip_messages") == len(msgs),
          "every INVITE reassembled and parsed (%d)" % ctr(st, "frag_reassembled"))
    check(ctr(st, "frag_split_failed") == 0, "nothing dropped or skipped")


def reassemble(frames):
    """Datagrams of the output (by IP ID), as (src, dst, UDP bytes, [(offset, len, MF)])."""
    by = {}
    for raw in frames:
        p = Ether(raw)
        if IP in p and (p[IP].flags.MF or p[IP].frag):
            key, off, more, data = p[IP].id, p[IP].frag * 8, bool(p[IP].flags.MF), bytes(p[IP].payload)
            src, dst = p[IP].src, p[IP].dst
        elif IPv6ExtHdrFragment in p:
            fh = p[IPv6ExtHdrFragment]
            key, off, more, data = fh.id, fh.offset * 8, bool(fh.m), bytes(fh.payload)
            src, dst = p[IPv6].src, p[IPv6].dst
        else:
            continue
        by.setdefault(key, (src, dst, []))[2].append((off, len(data), more, data))
    res = {}
    for key, (src, dst, pieces) in by.items():
        pieces.sort()
        buf, ok = b"", True
        for i, (off, n, more, data) in enumerate(pieces):
            ok &= off == len(buf) and more == (i < len(pieces) - 1)
            buf += data
        res[key] = (src, dst, buf if ok else None, [(o, n, m) for o, n, m, d in pieces])
    return res


def case_small_fragments_rewritten_along_their_boundaries(sipkeep):
    """Small fragments of INVITEs whose remotecc Call-Info must go (callinfo_policy strip):
    each leaves as a correct reassembly of the rewritten INVITE, on the original fragment
    boundaries (the last shorter), never dropped."""
    s, msgs = small_scenario((CALLINFO,))
    inp, out, st, tmp = run_replay(sipkeep, s, "callinfo_policy = strip\n")
    got = reassemble([raw for t, raw in out])
    check(ctr(st, "callinfo_removed") == len(msgs), "Call-Info removed from the %d INVITEs" % len(msgs))
    check(ctr(st, "frag_split_failed") == 0, "no rewrite skipped")
    for k, (name, src, dst, msg, frs) in enumerate(msgs):
        want = msg.replace((CALLINFO + "\r\n").encode(), b"")
        d = got.get(0x200 + k)
        check(d is not None and d[2] is not None, "%s: the output fragments reassemble" % name)
        u = UDP(d[2])
        check(bytes(u.payload) == want and u.len == len(d[2]), "%s: into the INVITE without its Call-Info" % name)
        ref = UDP(udp_bytes(src, dst, 5060, 5060, want))
        check(u.chksum == ref.chksum, "%s: UDP checksum right (0x%04x)" % (name, u.chksum))
        orig = [(o, n) for o, n, m in reassemble([bytes(f) for f in frs])[0x200 + k][3]]
        new = [(o, n) for o, n, m in d[3]]
        check([o for o, n in new] == [o for o, n in orig][:len(new)] and new[:-1] == orig[:len(new) - 1],
              "%s: same fragment boundaries (%s -> %s)" % (name, orig, new))
    end_checks(os.path.join(tmp, "out.pcap"), st, expect_empty=False)


# --- item 12: VLANs ----------------------------------------------------------------------------

def case_same_ip_id_in_two_vlans_not_merged(sipkeep):
    """Two INVITEs, same addresses and IP ID, one in VLAN 10 and one in VLAN 20, their
    fragments interleaved: each is reassembled on its own and comes out right."""
    s = Scenario()
    frs = {}
    for vlan in (10, 20):
        l4 = udp_bytes(LTE, REGISTRAR.ip, 5060, 5060, invite(LTE, "call-vlan-%d" % vlan))
        frs[vlan] = fragments(LTE, REGISTRAR.ip, l4, 0x777, sizes=[600, 600], vlan=vlan)
    add(s, 1.0, [f for pair in zip(frs[10], frs[20]) for f in pair], step=0.001)
    inp, out, st, tmp = run_replay(sipkeep, s)
    # A datagram leaves when complete: the VLANs' fragments come out one datagram after the other.
    same_multiset(inp, out)
    for vlan in (10, 20):
        check([raw for t, raw in out if Ether(raw)[Dot1Q].vlan == vlan] == [bytes(f) for f in frs[vlan]],
              "VLAN %d: its fragments leave unchanged, in their order" % vlan)
    check(ctr(st, "frag_reassembled") == 2 and ctr(st, "sip_messages") == 2 and ctr(st, "sip_parse_errors") == 0,
          "two datagrams reassembled, both parse (frag_reassembled=%d, sip_messages=%d, errors=%d)"
          % (ctr(st, "frag_reassembled"), ctr(st, "sip_messages"), ctr(st, "sip_parse_errors")))


if __name__ == "__main__":
    replay.run_case(globals())
