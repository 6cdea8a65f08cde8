#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Replay mode end to end: sipkeep --replay IN --replay-out OUT --config C --stats-json S.

Cases (--case):
  mix        generated traffic mix (mix.py): output == input record by record
             (bytes, caplen, origlen, timestamps, order); per-port and
             classification counters == what the generator knows
  linktypes  Linux cooked (v1, v2), BSD loopback (both byte orders), raw IP:
             Ethernet out with a synthetic header, L3 bytes unchanged
  formats    nanosecond pcap, big-endian pcap, pcapng, an empty capture,
             snap-length-truncated records
  errors     missing input, unknown link type, bad config (exit 2, FILE:LINE),
             --replay without --replay-out, unwritable output
  jumbo      frames larger than one mbuf (chained): forwarded whole, counted
             by what they are
  huge       frames of 60000 and 80000 bytes (GRO/TSO captures): no crash,
             forwarded whole
  lostfrag   fragments whose siblings never arrive: forwarded all the same
             (fail open), with their own timestamps, in order
"""

import os
import struct

from sktest import capture
from sktest.capture import Record
from sktest.checks import Check, Workdir
from sktest.daemon import common_args, load_json, run_sipkeep, tail


def compare_records(ck, what, got, want):
    """Output records == input records: bytes, lengths, timestamps, order."""
    ck.eq(len(got), len(want), f"{what}: output has as many frames as the input")
    diffs = []
    for i, (g, w) in enumerate(zip(got, want)):
        if g.data != w.data:
            diffs.append(f"#{i} bytes differ ({g.caplen} vs {w.caplen} bytes)")
        elif g.ts() != w.ts():
            diffs.append(f"#{i} timestamp {g.sec}.{g.usec:06d} != {w.sec}.{w.usec:06d}")
        elif g.origlen != w.origlen:
            diffs.append(f"#{i} original length {g.origlen} != {w.origlen}")
    ck.ok(not diffs, f"{what}: every frame byte-identical, same timestamp and length, in order",
          "; ".join(diffs[:8]))


def compare_records_as_set(ck, what, got, want):
    """Output records == input records (bytes, lengths, own timestamps), in any order."""
    ck.eq(len(got), len(want), f"{what}: output has as many frames as the input")
    key = lambda r: (r.data, r.ts(), r.origlen)  # noqa: E731
    ck.ok(sorted(map(key, got)) == sorted(map(key, want)),
          f"{what}: every frame byte-identical, with its own timestamp and length")


def check_counters(ck, what, stats, exp_side, exp_cls, skipped=0):
    ports = stats.get("ports", {})
    ctr = stats.get("counters", {})
    n_access, n_core = exp_side.get("access", 0), exp_side.get("core", 0)
    ck.eq(ports.get("access", {}).get("rx"), n_access, f"{what}: access rx")
    ck.eq(ports.get("core", {}).get("tx"), n_access, f"{what}: core tx (= access rx)")
    ck.eq(ports.get("core", {}).get("rx"), n_core, f"{what}: core rx")
    ck.eq(ports.get("access", {}).get("tx"), n_core, f"{what}: access tx (= core rx)")
    ck.eq(ports.get("access", {}).get("tx_dropped"), 0, f"{what}: access tx_dropped")
    ck.eq(ports.get("core", {}).get("tx_dropped"), 0, f"{what}: core tx_dropped")
    for c in capture.CLASSES:
        ck.eq(ctr.get(c), exp_cls.get(c, 0), f"{what}: {c}")
    ck.eq(ctr.get("replay_alloc_failed"), 0, f"{what}: replay_alloc_failed")
    ck.eq(ctr.get("replay_frames_skipped"), skipped, f"{what}: replay_frames_skipped")
    ck.eq(stats.get("mode"), "replay", f"{what}: stats say mode replay")


def replay(ck, binary, wd, tag, records_in, linktype=capture.LT_ETHERNET, config=None,
           writer=capture.write_pcap, **wargs):
    """Write the capture, replay it; return (rc, output text, out records, stats)."""
    inp = os.path.join(wd, f"{tag}-in.pcap")
    out = os.path.join(wd, f"{tag}-out.pcap")
    js = os.path.join(wd, f"{tag}-stats.json")
    writer(inp, records_in, linktype, **wargs)
    args = ["--replay", inp, "--replay-out", out, "--stats-json", js]
    if config is not None:
        conf = os.path.join(wd, f"{tag}.conf")
        with open(conf, "w") as f:
            f.write(config)
        args += ["--config", conf]
    rc, text = run_sipkeep(binary, args)
    if not ck.ok(rc == 0, f"{tag}: sipkeep --replay exits 0", f"rc {rc}\n{tail(text)}"):
        ck.note(f"{tag}: the checks of its output are skipped")
        return rc, text, None, None
    stats = {}
    lt, got = capture.read_output(ck, tag, out)
    ck.eq(lt, capture.LT_ETHERNET, f"{tag}: output capture is Ethernet")
    if os.path.exists(js):
        stats = load_json(js)
    else:
        ck.ok(False, f"{tag}: --stats-json file written")
    return rc, text, got, stats


def check_mix(ck, got, stats, recs, exp_side, exp_cls):
    compare_records(ck, "mix", got, recs)
    check_counters(ck, "mix", stats, exp_side, exp_cls)
    ctr = stats.get("counters", {})
    ck.note(f"mix: SIP layer counted sip_messages={ctr.get('sip_messages')} "
            f"sip_parse_errors={ctr.get('sip_parse_errors')} "
            f"sip_keepalives={ctr.get('sip_keepalives')} (not checked here)")
    workers = stats.get("workers", [])
    ck.ok(len(workers) == 1 and all(workers[0].get(c) == exp_cls[c] for c in capture.CLASSES),
          "mix: one replay worker, its own counters equal the totals")


def case_mix(ck, binary):
    import mix

    frames = mix.build_mix()
    recs = mix.records(frames)
    # The generator's labels and the independent oracle must agree, or the test is wrong.
    wrong = []
    for fr in frames:
        cls = capture.classify(fr.data, mix.SIP_PORTS)[0]
        side = capture.replay_side(fr.data, mix.ACCESS_PREFIXES, mix.SIP_PORTS)
        if (cls, side) != (fr.cls, fr.side):
            wrong.append(f"{fr.name}: label {fr.cls}/{fr.side}, oracle {cls}/{side}")
    ck.ok(not wrong, f"mix: generator labels agree with the oracle for {len(frames)} frames",
          "; ".join(wrong))
    exp_side = {"access": sum(f.side == "access" for f in frames),
                "core": sum(f.side == "core" for f in frames)}
    exp_cls = {c: sum(f.cls == c for f in frames) for c in capture.CLASSES}
    ck.note(f"mix: {len(frames)} frames, {exp_side}, {exp_cls}")
    with Workdir(ck, "replay-mix") as wd:
        _, text, got, stats = replay(ck, binary, wd, "mix", recs, config=mix.CONFIG)
        if stats is not None:
            check_mix(ck, got, stats, recs, exp_side, exp_cls)

        # Same capture without a config: everything is core, SIP only on 5060.
        _, _, got, stats = replay(ck, binary, wd, "mix-noconf", recs)
        if stats is None:
            return
        compare_records(ck, "mix without config", got, recs)
        exp_cls = capture.expected_counters([f.data for f in frames], (5060,))
        check_counters(ck, "mix without config", stats, {"core": len(frames)}, exp_cls)
        ck.ok(exp_cls["frames_sip"] == sum(f.cls == "frames_sip" for f in frames) - 1,
              "mix without config: the 5080 frame is no longer SIP (oracle)")


# Link-layer headers for the non-Ethernet link types.
def sll(proto):
    return struct.pack(">HHH8sH", 0, 1, 6, bytes.fromhex("020000000a020000"), proto)


def sll2(proto):
    return struct.pack(">HHIHBB8s", proto, 0, 3, 1, 0, 6, bytes.fromhex("020000000a020000"))


def case_linktypes(ck, binary):
    import mix

    # Untagged IP frames of the mix; fragments are left to the mix and lostfrag cases
    # (held for reassembly, they would make this case about something else).
    frames = [f for f in mix.build_mix()
              if f.data[12:14] in (b"\x08\x00", b"\x86\xdd") and len(f.data) > 14
              and f.cls != "frames_ip_fragment"]
    l3 = [(f.data[12:14], f.data[14:]) for f in frames]
    arp = next(f for f in mix.build_mix() if f.name == "ARP request").data
    variants = [
        ("linux-sll", capture.LT_LINUX_SLL, lambda et, p: sll(int.from_bytes(et, "big")) + p),
        ("linux-sll2", capture.LT_LINUX_SLL2, lambda et, p: sll2(int.from_bytes(et, "big")) + p),
        ("null-le", capture.LT_NULL,
         lambda et, p: struct.pack("<I", 2 if et == b"\x08\x00" else 10) + p),
        ("null-swapped", capture.LT_NULL,
         lambda et, p: struct.pack(">I", 2 if et == b"\x08\x00" else 30) + p),
        ("loop", capture.LT_LOOP,
         lambda et, p: struct.pack(">I", 2 if et == b"\x08\x00" else 24) + p),
        ("raw", capture.LT_RAW, lambda et, p: p),
    ]
    with Workdir(ck, "replay-linktypes") as wd:
        for tag, lt, wrap in variants:
            recs = [Record(r.sec, r.usec, wrap(et, p))
                    for r, (et, p) in zip(mix.records(frames), l3)]
            want_l3 = list(l3)
            hdr = len(wrap(b"\x08\x00", b""))
            extra = []
            if lt in (capture.LT_LINUX_SLL, capture.LT_LINUX_SLL2):
                # Not IP: ARP under a cooked header keeps its EtherType.
                extra.append(Record(1700000200, 1, wrap(b"\x08\x06", arp[14:])))
                want_l3.append((b"\x08\x06", arp[14:]))
            # A record shorter than its link header: nothing to forward, counted.
            skipped = 0
            if hdr > 0:
                extra.append(Record(1700000300, 2, wrap(b"\x08\x00", b"")[:hdr - 1]))
                skipped = 1
            recs += extra
            _, text, got, stats = replay(ck, binary, wd, tag, recs, lt,
                                         config=mix.CONFIG)
            if stats is None:
                continue
            ck.eq(len(got), len(want_l3), f"{tag}: one Ethernet frame per usable record")
            bad = []
            for i, (g, (et, p)) in enumerate(zip(got, want_l3)):
                if g.data[12:14] != et or g.data[14:] != p:
                    bad.append(f"#{i}: EtherType {g.data[12:14].hex()} / L3 differs")
                elif g.ts() != recs[i].ts():
                    bad.append(f"#{i}: timestamp differs")
                elif g.origlen != recs[i].origlen - hdr + 14:
                    bad.append(f"#{i}: original length {g.origlen}")
            ck.ok(not bad, f"{tag}: synthetic Ethernet header with the right EtherType, L3 bytes "
                  "and timestamps unchanged", "; ".join(bad[:6]))
            # Expectations from the input: the synthetic header's MACs do not matter.
            eth = [bytes(12) + et + p for et, p in want_l3]
            exp_cls = capture.expected_counters(eth, mix.SIP_PORTS)
            exp_side = {"access": 0, "core": 0}
            for d in eth:
                exp_side[capture.replay_side(d, mix.ACCESS_PREFIXES, mix.SIP_PORTS)] += 1
            check_counters(ck, tag, stats, exp_side, exp_cls, skipped)


def case_formats(ck, binary):
    import mix

    frames = mix.build_mix()[:20]
    recs = mix.records(frames)
    with Workdir(ck, "replay-formats") as wd:
        for tag, kw in (("nanosecond", {"nsec": True}), ("big-endian", {"big_endian": True})):
            _, _, got, stats = replay(ck, binary, wd, tag, recs, **kw)
            if stats is None:
                continue
            compare_records(ck, f"{tag} pcap", got, recs)
            ck.eq(stats.get("ports", {}).get("core", {}).get("rx"), len(recs),
                  f"{tag} pcap: every frame received")
        _, _, got, stats = replay(ck, binary, wd, "pcapng", recs, writer=capture.write_pcapng)
        if stats is not None:
            compare_records(ck, "pcapng", got, recs)

        _, text, got, stats = replay(ck, binary, wd, "empty", [])
        if stats is not None:
            ck.eq(len(got), 0, "empty capture: empty output")
            ck.eq(stats.get("ports", {}).get("core", {}).get("rx"), 0, "empty capture: rx 0")

        # Captured with a 96-byte snap length: the frames are cut, the original length stays.
        cut = [Record(r.sec, r.usec, r.data[:96], len(r.data)) for r in recs]
        _, _, got, stats = replay(ck, binary, wd, "snaplen", cut, config=mix.CONFIG, snaplen=96)
        if stats is None:
            return
        compare_records(ck, "snaplen 96", got, cut)
        exp = capture.expected_counters([r.data for r in cut], mix.SIP_PORTS)
        ctr = stats.get("counters", {})
        ck.ok(all(ctr.get(c) == exp[c] for c in capture.CLASSES),
              "snaplen 96: counters match the oracle on the cut frames",
              f"{ {c: ctr.get(c) for c in capture.CLASSES} } vs {exp}")


def case_errors(ck, binary):
    import mix

    with Workdir(ck, "replay-errors") as wd:
        good = os.path.join(wd, "good.pcap")
        capture.write_pcap(good, mix.records(mix.build_mix()[:3]))
        out = os.path.join(wd, "out.pcap")

        missing = os.path.join(wd, "missing.pcap")
        rc, text = run_sipkeep(binary, ["--replay", missing, "--replay-out", out])
        ck.ok(rc not in (0, None) and rc > 0, "missing input: non-zero exit", f"rc {rc}")
        ck.ok(missing in text, "missing input: the message names the file", tail(text))

        wifi = os.path.join(wd, "wifi.pcap")
        capture.write_pcap(wifi, [Record(1, 0, b"\x08\x00" + bytes(30))], capture.LT_IEEE802_11)
        rc, text = run_sipkeep(binary, ["--replay", wifi, "--replay-out", out])
        ck.ok(rc > 0, "802.11 link type: non-zero exit", f"rc {rc}")
        ck.ok("link type" in text and "not supported" in text and wifi in text,
              "802.11 link type: 'link type ... not supported' naming the file", tail(text))

        conf = os.path.join(wd, "bad.conf")
        with open(conf, "w") as f:
            f.write("# comment\naccess_prefixes = 10.0.0.0/8\nmedia_silence_ms = fast\n")
        rc, text = run_sipkeep(binary, ["--replay", good, "--replay-out", out, "--config", conf])
        ck.eq(rc, 2, "bad config: exit code 2")
        ck.ok(f"{conf}:3:" in text and "media_silence_ms" in text,
              "bad config: message names FILE:3 and the key", tail(text))

        rc, text = run_sipkeep(binary, ["--replay", good, "--replay-out", out, "--config",
                                        os.path.join(wd, "nope.conf")])
        ck.eq(rc, 2, "missing config file: exit code 2")
        ck.ok("nope.conf" in text, "missing config file: message names it", tail(text))

        rc, text = run_sipkeep(binary, ["--replay", good])
        ck.eq(rc, 2, "--replay without --replay-out: exit code 2")
        ck.ok("--replay-out" in text, "--replay without --replay-out: message says so",
              tail(text))

        rc, text = run_sipkeep(binary, ["--replay", good, "--replay-out", out, "--bogus"])
        ck.eq(rc, 2, "unknown option: exit code 2")
        ck.ok("--bogus" in text, "unknown option: message names it", tail(text))

        rc, text = run_sipkeep(binary, ["--replay", good, "--replay-out",
                                        os.path.join(wd, "no", "such", "dir", "o.pcap")])
        ck.ok(rc > 0, "unwritable output: non-zero exit", f"rc {rc}")
        ck.ok("cannot write" in text, "unwritable output: 'cannot write' message", tail(text))

        rc, text = run_sipkeep(binary, ["--replay", good, "--replay-out", out, "--stats-json",
                                        os.path.join(wd, "no", "such", "s.json")])
        ck.ok(rc > 0, "unwritable --stats-json: non-zero exit", f"rc {rc}")

        rc, text = run_sipkeep(binary, ["--help"])
        ck.ok(rc == 0 and "--replay" in text and "access_prefixes" in text,
              "--help: exit 0, usage lists --replay and the config keys")


def case_jumbo(ck, binary):
    import mix

    frames = mix.jumbo_frames()
    recs = mix.records(frames)
    exp_side = {"access": sum(f.side == "access" for f in frames),
                "core": sum(f.side == "core" for f in frames)}
    exp_cls = {c: sum(f.cls == c for f in frames) for c in capture.CLASSES}
    ck.ok(all(capture.classify(f.data, mix.SIP_PORTS)[0] == f.cls for f in frames),
          "jumbo: generator labels agree with the oracle")
    with Workdir(ck, "replay-jumbo") as wd:
        _, _, got, stats = replay(ck, binary, wd, "jumbo", recs, config=mix.CONFIG)
        if stats is None:
            return
        compare_records(ck, "jumbo", got, recs)
        check_counters(ck, "jumbo", stats, exp_side, exp_cls)


def case_huge(ck, binary):
    import mix

    frames = mix.huge_frames()
    recs = mix.records(frames)
    exp_side = {"access": sum(f.side == "access" for f in frames),
                "core": sum(f.side == "core" for f in frames)}
    exp_cls = {c: sum(f.cls == c for f in frames) for c in capture.CLASSES}
    with Workdir(ck, "replay-huge") as wd:
        rc, text, got, stats = replay(ck, binary, wd, "huge", recs, config=mix.CONFIG)
        ck.ok(rc is not None and rc >= 0, "huge: no crash", f"rc {rc}")
        if stats is None:
            return
        compare_records(ck, "huge", got, recs)
        check_counters(ck, "huge", stats, exp_side, exp_cls)


def case_lostfrag(ck, binary):
    import mix

    frames = mix.lost_fragments()
    recs = mix.lost_fragment_records(frames)
    exp_side = {"access": sum(f.side == "access" for f in frames),
                "core": sum(f.side == "core" for f in frames)}
    exp_cls = {c: sum(f.cls == c for f in frames) for c in capture.CLASSES}
    with Workdir(ck, "replay-lostfrag") as wd:
        _, _, got, stats = replay(ck, binary, wd, "lostfrag", recs, config=mix.CONFIG)
        if stats is None:
            return
        ck.ok(sorted(g.data for g in got) == sorted(r.data for r in recs),
              "lostfrag: every frame forwarded, the orphan fragments included (fail open)",
              f"{len(got)} of {len(recs)} frames out")
        # Orphans leave when reassembly gives up on them (processing order), each
        # with its own input timestamp.
        compare_records_as_set(ck, "lostfrag", got, recs)
        check_counters(ck, "lostfrag", stats, exp_side, exp_cls)


CASES = {"mix": case_mix, "linktypes": case_linktypes, "formats": case_formats,
         "errors": case_errors, "jumbo": case_jumbo, "huge": case_huge,
         "lostfrag": case_lostfrag}


def main():
    args = common_args(__doc__)
    ck = Check(f"replay {args.case}")
    todo = CASES if args.case == "all" else {args.case: CASES[args.case]}
    for name, fn in todo.items():
        print(f"## replay case {name}", flush=True)
        fn(ck, args.sipkeep)
    ck.done()


if __name__ == "__main__":
    main()
