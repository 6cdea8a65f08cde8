# SPDX-License-Identifier: BSD-3-Clause
"""Captures from a running sipkeep with dpdk-dumpcap (rte_pdump): sipkeep receives a
looping capture of SIP frames on its access port (net_pcap, infinite_rx); dpdk-dumpcap
attaches as a DPDK secondary process (--file-prefix of the daemon), captures 100 frames
from the access port into a pcapng; every captured frame is one of the frames sent, and
sipkeep goes on forwarding and exits cleanly afterwards.

A secondary process maps the primary's memory: that needs hugepages (an EAL started with
--no-huge has no shared memory a secondary can map: "Cannot get hugepage information").
The test mounts a hugetlbfs of its own and, as root, reserves the 2 MB pages it needs
for the run (nr_hugepages back to its old value at the end). It skips (77) only when no
hugepages can be had, or dpdk-dumpcap is missing."""

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from sktest import checks
from sktest.capture import read_capture
from sktest.checks import check
from sktest.daemon import Daemon, check_frames, main

DUMPCAP = "/usr/bin/dpdk-dumpcap"
NR_HUGEPAGES = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
FREE_HUGEPAGES = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
# The daemon (mbuf pool, tables, rings) and dumpcap's own pool and ring, with room.
PAGES_NEEDED = 160
N_CAPTURE = 100


def skip(why):
    print("SKIP: " + why)
    raise SystemExit(checks.SKIP)


def ip_csum(hdr):
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def sip_frame(i):
    """An OPTIONS from a phone on access to the registrar, UDP 5060."""
    payload = ("OPTIONS sip:registrar.example.com SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 10.1.0.%d:5060;branch=z9hG4bK-pdump-%d\r\n"
               "From: <sip:phone%d@example.com>;tag=p%d\r\n"
               "To: <sip:registrar.example.com>\r\n"
               "Call-ID: pdump-%d\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
               "Content-Length: 0\r\n\r\n" % (i + 1, i, i, i, i)).encode()
    udp = struct.pack("!HHHH", 5060, 5060, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                     bytes([10, 1, 0, i + 1]), bytes([192, 0, 2, 10]))
    ip = ip[:10] + struct.pack("!H", ip_csum(ip)) + ip[12:]
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + udp


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for n, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, n, len(fr), len(fr)) + fr)


def read_int(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


class Hugepages:
    """2 MB hugepages for one run: reserved if too few are free, a hugetlbfs of our own."""

    def __init__(self):
        self.old_nr = None
        self.mnt = tempfile.mkdtemp(prefix="skctl-pdump-huge-")
        self.mounted = False

    def reserve(self):
        free = read_int(FREE_HUGEPAGES)
        nr = read_int(NR_HUGEPAGES)
        if free is None or nr is None:
            skip("no 2 MB hugepages on this kernel (%s): a DPDK secondary process such as "
                 "dpdk-dumpcap cannot attach to an EAL without hugepages" % NR_HUGEPAGES)
        if free < PAGES_NEEDED:
            if os.getuid() != 0:
                skip("%d free 2 MB hugepages, %d needed, and not root to reserve more: "
                     "dpdk-dumpcap (a secondary process) cannot attach to --no-huge"
                     % (free, PAGES_NEEDED))
            try:
                with open(NR_HUGEPAGES, "w") as f:
                    f.write(str(nr + PAGES_NEEDED - free))
                self.old_nr = nr
            except OSError as e:
                skip("cannot reserve 2 MB hugepages (%s): %s" % (NR_HUGEPAGES, e))
            free = read_int(FREE_HUGEPAGES)
            if free is None or free < PAGES_NEEDED:
                skip("asked the kernel for %d more 2 MB hugepages, %s are free (memory "
                     "too fragmented?)" % (PAGES_NEEDED, free))
        r = subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "nodev",
                            self.mnt], capture_output=True, text=True)
        if r.returncode != 0:
            skip("cannot mount a hugetlbfs for the run: %s" % r.stderr.strip())
        self.mounted = True

    def release(self):
        if self.mounted:
            subprocess.run(["umount", self.mnt], capture_output=True)
        shutil.rmtree(self.mnt, ignore_errors=True)
        if self.old_nr is not None:
            try:
                with open(NR_HUGEPAGES, "w") as f:
                    f.write(str(self.old_nr))
            except OSError:
                pass


# Where the daemon's DPDK memory goes. dumpcap must map it at the same address; DPDK's
# default (4 GB up) falls in AddressSanitizer's shadow gap in an ASan build, and the
# address DPDK then takes may be where dumpcap's libraries are ("Cannot get a virtual
# area at requested address"). 32 TB is above ASan's shadow and below shared libraries.
BASE_VIRTADDR = "0x200000000000"


class HugeDaemon(Daemon):
    """Daemon.with_socket's command line, on hugepages instead of --no-huge."""

    def argv(self):
        a = super().argv()
        i = a.index("--no-huge")
        del a[i:i + 3]  # --no-huge -m 512
        return a[:1] + ["--huge-dir", self.huge_dir, "--base-virtaddr", BASE_VIRTADDR] + a[1:]


def counters(d):
    st = d.request("show stats")
    check(st.get("ok"), "show stats answers: %r" % st)
    return st


def access_rx(st):
    return st["ports"]["access"]["rx"]


def run(sipkeep, sipkeepctl):
    if not os.access(DUMPCAP, os.X_OK):
        skip("%s is missing (Debian package dpdk)" % DUMPCAP)
    frames = [sip_frame(i) for i in range(8)]
    d = Daemon.with_socket(sipkeep, sipkeepctl, "pdump", vdevs=[])
    d.__class__ = HugeDaemon
    huge = Hugepages()
    try:
        huge.reserve()
        d.huge_dir = huge.mnt
        a_in = os.path.join(d.tmp, "access-in.pcap")
        write_pcap(a_in, frames)
        # Access loops over the capture; core sends nothing and drops what it is given.
        d.vdevs = ["net_pcap0,rx_pcap=%s,infinite_rx=1" % a_in, "net_null1,no-rx=1"]
        d.start()
        before = access_rx(counters(d))

        out = os.path.join(d.tmp, "access.pcapng")
        cmd = [DUMPCAP, "--file-prefix=%s" % d.prefix, "-i", "net_pcap0",
               "-c", str(N_CAPTURE), "-w", out, "-q"]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            check(False, "dpdk-dumpcap captures %d frames within 60 s" % N_CAPTURE)
        check(r.returncode == 0, "dpdk-dumpcap exits 0 (got %d)" % r.returncode,
              "%s\nstdout: %s\nstderr: %s\ndaemon:\n%s"
              % (" ".join(cmd), r.stdout, r.stderr, d.output()[-3000:]))
        check(os.path.exists(out), "dpdk-dumpcap wrote %s" % out, r.stderr)
        _, recs = read_capture(out)
        check(len(recs) >= N_CAPTURE, "%d frames captured, expected at least %d"
              % (len(recs), N_CAPTURE), r.stderr)
        sent = set(frames)
        strange = [rec for rec in recs if rec.data not in sent]
        check(not strange, "every captured frame is one of the frames sent on access "
              "(%d of %d are not; first %r)" % (len(strange), len(recs),
                                                 strange[0].data[:64] if strange else b""))
        seen = {rec.data for rec in recs}
        check(len(seen) == len(frames), "the capture holds each of the %d frames sent "
              "(%d seen)" % (len(frames), len(seen)))

        # sipkeep goes on forwarding after the capture ended.
        mid = access_rx(counters(d))
        time.sleep(0.5)
        st = counters(d)
        check(access_rx(st) > mid > before,
              "access rx grows during and after the capture: %d, %d, %d"
              % (before, mid, access_rx(st)))
        check(st["ports"]["core"]["tx"] > 0, "frames forwarded to core: %r" % st["ports"])
        final = d.stop_clean()
        check_frames(final)
    finally:
        d.cleanup()
        huge.release()


if __name__ == "__main__":
    main(run)
