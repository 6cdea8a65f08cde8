# SPDX-License-Identifier: BSD-3-Clause
"""The control socket on net_pcap ports: known frame counts in, counters and show ports
follow, and at the end every frame received on one side left on the other, none dropped."""

import os
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from sktest.checks import check
from sktest.daemon import Daemon, check_frames, main


def ip_csum(hdr):
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def udp_frame(i, src, dst):
    payload = b"sipkeep ctl test %06d" % i
    udp = struct.pack("!HHHH", 40000 + i % 1000, 9999, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                     bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack("!H", ip_csum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + udp


def arp_frame(i):
    eth = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x03" + b"\x08\x06"
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, b"\x02\x00\x00\x00\x00\x03",
                      bytes([10, 0, 0, i % 250 + 1]), b"\x00" * 6, bytes([10, 0, 0, 254]))
    return eth + arp


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for n, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + n // 1000, (n % 1000) * 1000,
                                len(fr), len(fr)))
            f.write(fr)


def count_pcap(path):
    n = 0
    with open(path, "rb") as f:
        f.read(24)
        while True:
            h = f.read(16)
            if len(h) < 16:
                return n
            _, _, incl, _ = struct.unpack("<IIII", h)
            f.read(incl)
            n += 1


def run(sipkeep, sipkeepctl):
    d = Daemon.with_socket(sipkeep, sipkeepctl, "pcap", vdevs=[])
    n_access, n_core = 3000, 2000
    try:
        a_in, c_in = os.path.join(d.tmp, "access-in.pcap"), os.path.join(d.tmp, "core-in.pcap")
        a_out, c_out = os.path.join(d.tmp, "access-out.pcap"), os.path.join(d.tmp, "core-out.pcap")
        write_pcap(a_in, [arp_frame(i) if i % 10 == 0 else udp_frame(i, [10, 1, 0, 2], [10, 2, 0, 1])
                          for i in range(n_access)])
        write_pcap(c_in, [udp_frame(i, [10, 2, 0, 1], [10, 1, 0, 2]) for i in range(n_core)])
        d.vdevs = ["net_pcap0,rx_pcap=%s,tx_pcap=%s" % (a_in, a_out),
                   "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (c_in, c_out)]
        d.start()

        # The captures are read once: wait until every frame went through.
        deadline = time.time() + 30
        while True:
            st = d.request("show stats")
            if (st["ports"]["access"]["rx"] == n_access and st["ports"]["core"]["rx"] == n_core
                    and st["ports"]["core"]["tx"] == n_access
                    and st["ports"]["access"]["tx"] == n_core):
                break
            check(time.time() < deadline, "frames did not all pass: %r" % st["ports"])
            time.sleep(0.1)
        check_frames(st, no_drops=True)
        c = st["counters"]
        check(c["frames_non_ip"] == n_access // 10, "frames_non_ip %d" % c["frames_non_ip"])
        check(c["frames_udp_other"] == n_access - n_access // 10 + n_core,
              "frames_udp_other %d" % c["frames_udp_other"])

        ports = d.ctl_json("show", "ports")["ports"]
        check([p["driver"] for p in ports] == ["net_pcap", "net_pcap"], "drivers %r" % ports)
        check(ports[0]["stats"]["ipackets"] == n_access and ports[1]["stats"]["ipackets"] == n_core,
              "NIC counters %r" % [p["stats"] for p in ports])
        w = d.ctl_json("show", "workers")["workers"]
        check(sum(x["rx"] for x in w) == n_access + n_core, "workers rx %r" % w)
        check(d.ctl("show", "stats").returncode == 0, "sipkeepctl show stats")
        check(d.ctl_json("set", "callinfo_policy", "strip")["value"] == "strip", "set")

        final = d.stop_clean()
        check_frames(final, no_drops=True)
        check(final["ports"]["access"]["rx"] == n_access, "final access rx")
        check(count_pcap(c_out) == n_access and count_pcap(a_out) == n_core,
              "output captures hold %d and %d frames" % (count_pcap(c_out), count_pcap(a_out)))
    finally:
        d.cleanup()


if __name__ == "__main__":
    main(run)
