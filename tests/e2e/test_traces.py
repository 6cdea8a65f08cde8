#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Replay every shared capture (TRACES/*.pcap, *.cap, *.pcapng) through sipkeep.

For each file, one block of lines:
  - Ethernet captures: the output equals the input record by record (bytes,
    lengths, timestamps, order);
  - Linux cooked / loopback / raw IP captures: the output is Ethernet with a
    synthetic header; its EtherType and L3 bytes match the input;
  - formats libpcap cannot read (e.g. netmon): refused, non-zero exit, with a
    message that names the file;
  - counters: rx/tx per side as the direction rule says (private addresses
    are access), tx_dropped 0, classification counters as the oracle says.
Nothing may be rewritten: callinfo_policy is pass and no capture carries a
session-persistence re-registration. Exit 77 (skip) without the folder.
"""

import glob
import os

from sktest import capture
from sktest.checks import Check, Workdir
from sktest.daemon import common_args, load_json, run_sipkeep, tail

PREFIXES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10"]
CONFIG = ("access_prefixes = " + ", ".join(PREFIXES) + "\n"
          "callinfo_policy = pass\n")
LINK_HDR = {capture.LT_ETHERNET: None, capture.LT_LINUX_SLL: 16, capture.LT_LINUX_SLL2: 20,
            capture.LT_NULL: 4, capture.LT_LOOP: 4, capture.LT_RAW: 0}


def l3_ethertype(lt, data):
    if lt == capture.LT_LINUX_SLL:
        return data[14:16]
    if lt == capture.LT_LINUX_SLL2:
        return data[0:2]
    if lt in (capture.LT_NULL, capture.LT_LOOP):
        fam = int.from_bytes(data[0:4], "big" if lt == capture.LT_LOOP else "little")
        if lt == capture.LT_NULL and fam > 0xFFFF:
            fam = int.from_bytes(data[0:4], "big")
        return b"\x08\x00" if fam == 2 else b"\x86\xdd"
    return b"\x86\xdd" if data and data[0] >> 4 == 6 else b"\x08\x00"


def one(ck, binary, path, wd):
    name = os.path.basename(path)
    out = os.path.join(wd, name + ".out.pcap")
    js = os.path.join(wd, name + ".json")
    conf = os.path.join(wd, "traces.conf")
    with open(conf, "w") as f:
        f.write(CONFIG)
    rc, text = run_sipkeep(binary, ["--replay", path, "--replay-out", out, "--config", conf,
                                    "--stats-json", js])
    kind = capture.capture_kind(path)
    if kind is None:
        with open(path, "rb") as f:
            magic = f.read(4)
        ck.ok(rc not in (0, None) and rc > 0 and "cannot read" in text and path in text,
              f"{name}: not pcap/pcapng (magic {magic!r}): refused with a message naming it",
              f"rc {rc}\n{tail(text)}")
        return
    lt, recs = capture.read_capture(path)
    if lt not in LINK_HDR:
        ck.ok(rc > 0 and "not supported" in text,
              f"{name}: link type {lt} refused as not supported", f"rc {rc}\n{tail(text)}")
        return
    ck.ok(rc == 0, f"{name}: replay of {len(recs)} frames (link type {lt}) exits 0",
          f"rc {rc}\n{tail(text)}")
    if rc != 0:
        return
    olt, got = capture.read_output(ck, name, out)
    stats = load_json(js)
    hdr = LINK_HDR[lt]
    if hdr is None:
        want = recs
        bad = []
        for i, (g, w) in enumerate(zip(got, want)):
            if g.data != w.data:
                bad.append(f"#{i} bytes")
            elif g.ts() != w.ts():
                bad.append(f"#{i} timestamp {g.sec}.{g.usec:06d} != {w.sec}.{w.usec:06d}")
            elif g.origlen != w.origlen:
                bad.append(f"#{i} original length")
        ck.ok(olt == capture.LT_ETHERNET and len(got) == len(want) and not bad,
              f"{name}: output == input, {len(recs)} frames byte-identical with their "
              "timestamps, in order", f"{len(got)} frames out; differing: {bad[:5]}")
        eth = [r.data for r in recs]
        skipped = 0
    else:
        usable = [r for r in recs if r.caplen >= max(hdr, 1)]
        skipped = len(recs) - len(usable)
        bad = []
        for i, (g, r) in enumerate(zip(got, usable)):
            if g.data[12:14] != l3_ethertype(lt, r.data):
                bad.append(f"#{i} EtherType {g.data[12:14].hex()}")
            elif g.data[14:] != r.data[hdr:]:
                bad.append(f"#{i} L3 bytes")
            elif g.ts() != r.ts():
                bad.append(f"#{i} timestamp {g.sec}.{g.usec:06d} != {r.sec}.{r.usec:06d}")
        ck.ok(olt == capture.LT_ETHERNET and len(got) == len(usable) and not bad,
              f"{name}: link type {lt} -> Ethernet: {len(usable)} frames, synthetic header "
              "with the right EtherType, L3 bytes and timestamps unchanged",
              f"{len(got)} out of {len(usable)}; differing: {bad[:5]}")
        # Expectations from the input: the synthetic header's MACs do not matter.
        eth = [bytes(12) + l3_ethertype(lt, r.data) + r.data[hdr:] for r in usable]
    exp_side = {"access": 0, "core": 0}
    for d in eth:
        exp_side[capture.replay_side(d, PREFIXES)] += 1
    exp = capture.expected_counters(eth)
    ports, ctr = stats["ports"], stats["counters"]
    got_side = {"access": ports["access"]["rx"], "core": ports["core"]["rx"]}
    ck.ok(got_side == exp_side and ports["core"]["tx"] == exp_side["access"]
          and ports["access"]["tx"] == exp_side["core"]
          and ports["access"]["tx_dropped"] == 0 and ports["core"]["tx_dropped"] == 0,
          f"{name}: rx/tx per side {exp_side}, crossed over, no tx_dropped",
          f"ports {ports}")
    got_cls = {c: ctr.get(c) for c in capture.CLASSES}
    ck.ok(got_cls == exp, f"{name}: classification counters "
          + " ".join(f"{c[7:]}={v}" for c, v in exp.items() if v),
          f"got {got_cls}")
    ck.ok(ctr.get("replay_alloc_failed") == 0 and ctr.get("replay_frames_skipped") == skipped,
          f"{name}: no allocation failure, {skipped} record(s) skipped")


def main():
    args = common_args(__doc__)
    ck = Check("traces")
    folder = args.traces
    if not folder or not os.path.isdir(folder):
        ck.skip(f"shared captures folder {folder!r} not found")
    files = sorted(p for ext in ("*.pcap", "*.cap", "*.pcapng")
                   for p in glob.glob(os.path.join(folder, ext)))
    if not files:
        ck.skip(f"no capture in {folder}")
    ck.note(f"{len(files)} capture(s) in {os.path.realpath(folder)}")
    with Workdir(ck, "traces") as wd:
        for path in files:
            print(f"## {os.path.basename(path)}", flush=True)
            one(ck, args.sipkeep, path, wd)
    ck.done()


if __name__ == "__main__":
    main()
