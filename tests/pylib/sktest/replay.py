# SPDX-License-Identifier: BSD-3-Clause
"""A scenario (sktest.sipscen) through sipkeep's replay mode, and the checks of its
output: frame by frame against an independent model of what sipkeep must do
(Move, model, compare), checksums by tshark, counters from --stats-json.
run_case() is the command line of every case file: SCRIPT SIPKEEP CASE."""

import json
import os
import subprocess
import sys
import tempfile

from scapy.all import Ether, IP, IPv6, UDP
from scapy.layers.inet6 import IPv6ExtHdrFragment

from sktest import sipscen
from sktest.checks import Failure, check
from sktest.sipscen import MEDIA

ACCESS_PREFIXES = "10.0.0.0/8, 2001:db8:a::/48"


def run_replay(sipkeep, scen, conf_extra="", args=()):
    tmp = tempfile.mkdtemp(prefix="sk-persist-")
    inp, out, stats, conf = (os.path.join(tmp, n) for n in ("in.pcap", "out.pcap", "stats.json", "sk.conf"))
    scen.write(inp)
    with open(conf, "w") as f:
        f.write("access_prefixes = %s\npersist_window_ms = 12000\nmedia_silence_ms = 2000\n"
                "dialog_linger_ms = 2000\n%s\n" % (ACCESS_PREFIXES, conf_extra))
    proc = subprocess.run([sipkeep, "--replay", inp, "--replay-out", out, "--config", conf,
                           "--stats-json", stats] + list(args), capture_output=True, text=True, timeout=120)
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
    if name not in st["counters"]:
        raise Failure("no counter %s in --stats-json" % name)
    return st["counters"][name]


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
