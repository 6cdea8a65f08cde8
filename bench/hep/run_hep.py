#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""HEP mirror benchmark (not a test). Usage: bench/hep/run_hep.py BUILD_DIR [PAIRS]

1. SIP messages per second into the session logic on one control thread: PAIRS REGISTER/200
   pairs mirrored as HEP (taken by replay as the mirror: decode, allowlist, SIP parse, event,
   dedup, apply), next to the same messages as clear UDP SIP through replay's wire path
   (worker parse, event ring, apply) in the same invocation; both replays include reading the
   capture, so the ratio is the figure to quote.
2. Replay's packet count from a mirrored 200 OK to the first rewritten downlink packet, in
   the TLS handover of tests/hep (RTP every 20 ms each way).
"""
import json
import os
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
sys.path[:0] = [os.path.join(root, "tests", "pylib"), os.path.join(root, "tests", "hep")]

from scapy.all import Ether, IP, UDP  # noqa: E402

from sktest.hepscen import HEP_LISTEN, HEP_SENDER, HepScenario, hep3, hep_commit_index, wire_only  # noqa: E402
from sktest.sipscen import Scenario, read_frames  # noqa: E402
import hep_cases  # noqa: E402

CONF = ("access_prefixes = 10.0.0.0/8\nmax_users = 40000\nhep_listen = %s:%d\nhep_sources = %s/32\n"
        % (HEP_LISTEN[0], HEP_LISTEN[1], HEP_SENDER))


def pair(i):
    ip = "10.%d.%d.%d" % (1 + i // 65536, (i // 256) % 256, i % 256)
    user = "u%06d" % i

    def msg(first, tag=""):
        return "\r\n".join([first, "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%d;rport" % (ip, i),
                            "From: <sip:%s@example.com>;tag=f%d" % (user, i),
                            "To: <sip:%s@example.com>%s" % (user, tag), "Call-ID: reg-%d" % i,
                            "CSeq: 1 REGISTER", "Contact: <sip:%s@%s:5060>" % (user, ip),
                            "Expires: 3600", "Content-Length: 0", "", ""]).encode()
    return ip, msg("REGISTER sip:example.com SIP/2.0"), msg("SIP/2.0 200 OK", ";tag=r")


def replay(sipkeep, scen, tmp, name):
    inp, out, st, conf = (os.path.join(tmp, name + x) for x in (".pcap", "-out.pcap", ".json", ".conf"))
    scen.write(inp)
    with open(conf, "w") as f:
        f.write(CONF)
    t0 = time.perf_counter()
    subprocess.run([sipkeep, "--replay", inp, "--replay-out", out, "--config", conf, "--stats-json", st],
                   check=True, capture_output=True)
    dt = time.perf_counter() - t0
    with open(st) as f:
        return dt, json.load(f)["counters"], inp, out


def main():
    build = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    sipkeep = os.path.join(build, "control", "sipkeep")
    tmp = tempfile.mkdtemp(prefix="sk-bench-hep-")
    wire, mirror = Scenario(), Scenario()
    for i in range(n):
        ip, reg, ok = pair(i)
        t = i * 0.0001
        wire.udp(t, ip, 5060, HEP_SENDER, 5060, reg, True)
        wire.udp(t + 0.00005, HEP_SENDER, 5060, ip, 5060, ok, False)
        mirror.udp(t, HEP_SENDER, 9061, HEP_LISTEN[0], HEP_LISTEN[1], hep3(ip, 5060, HEP_SENDER, 5060, reg, proto=17),
                   False)
        mirror.udp(t + 0.00005, HEP_SENDER, 9061, HEP_LISTEN[0], HEP_LISTEN[1],
                   hep3(HEP_SENDER, 5060, ip, 5060, ok, proto=17), False)
    empty = Scenario()
    empty.udp(0.0, "192.0.2.99", 9, "192.0.2.98", 9, b"tick", False)
    t0, _, _, _ = replay(sipkeep, empty, tmp, "empty")
    tw, cw, _, _ = replay(sipkeep, wire, tmp, "wire")
    th, ch, _, _ = replay(sipkeep, mirror, tmp, "hep")
    # Start-up and shutdown (EAL, tables) measured on a one-frame capture, taken off both.
    tw, th = tw - t0, th - t0
    assert cw["registrations_committed"] == n and ch["registrations_committed"] == n, (cw, ch)
    assert ch["hep_applied"] == 2 * n
    print("%d SIP messages (%d REGISTER/200 pairs), one control thread, replay run less its"
          " start-up (%.2f s):" % (2 * n, n, t0))
    print("  wire (UDP SIP, worker + event ring):  %.2f s  %8.0f msg/s" % (tw, 2 * n / tw))
    print("  HEP mirror (decode + same session):  %.2f s  %8.0f msg/s" % (th, 2 * n / th))
    print("  ratio HEP / wire: %.2f" % ((2 * n / th) / (2 * n / tw)))
    s = HepScenario()
    hep_cases.tls_handover(s)
    _, c, inp, out = replay(sipkeep, s, tmp, "handover")
    assert c["handovers_committed"] == 1
    ci = hep_commit_index(read_frames(inp), 2)
    outs = read_frames(out)
    first = None
    for i in range(ci + 1, len(outs)):
        p = Ether(outs[i][1])
        if UDP in p and p[IP].dst == hep_cases.NEW.ip and p[IP].src == hep_cases.MEDIA.ip:
            first = i
            break
    assert len(outs) == len(wire_only(read_frames(inp)))
    print("mirrored 200 OK to the first rewritten downlink packet: %d wire packet(s) after it"
          " (%.1f ms of capture time)" % (first - ci, (outs[first][0] - outs[ci][0]) * 1000 if ci >= 0 else 0))


if __name__ == "__main__":
    main()
