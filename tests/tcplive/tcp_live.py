#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""SIP over TCP through sipkeep with real TCP stacks (issue 13, "Real TCP stacks").

sipp over TCP (-t t1) as the phone, in network namespace "access", and as the call
agent, in namespace "core"; sipkeep between them on two net_tap ports, as in
scripts/handover-demo.sh:

  access namespace                                       core namespace
  phone 10.1.0.5 (LTE), later 10.2.0.7 (Wi-Fi)           call agent 192.0.2.10
  access gateway 192.0.2.1/24                            route 10.0.0.0/8 via 192.0.2.1
  [ tapA ]==== port 0   sipkeep   port 1 ====[ tapC ]

Both kernels run real TCP: SYN, segmentation at the MSS, delayed ACKs, FIN. dumpcap
captures each TAP inside its namespace; the checks read the captures (TCP streams
reassembled here from the segments, by sequence number), sipp's exit status and
sipkeep's final counters (--stats-json).

Cases (one meson test each, suite 'tcplive'):
  tcp_call_with_callinfo_removal
      The phone registers over TCP without X-cisco-callinfo (a Cisco-sized multipart
      REGISTER: two segments), calls; the call agent sends Call-Info:
      <urn:x-cisco-remotecc:callinfo> in its 180, its 200 and three NOTIFYs (the
      first with its Call-Info line in the message's second segment, the second with
      it across the two segments), with an INFO of the phone's between them: messages
      after the rewritten ones, both ways; the phone hangs up. Checks:
      callinfo_removed 5; the phone's side of the connection has no remotecc value,
      and each message is the call
      agent's with every Call-Info line replaced by a pad line of the same length
      (the contract's length-preserving rewrite); both directions have the same length
      on both sides; no RST on either side; every request answered; BYE answered;
      sipp exits 0 on both sides; checksums right; `show users` says tcp.
  tcp_handover_new_connection
      The phone (sipp instance 1) registers over TCP from LTE and calls; RTP both ways
      (scripts/demo/rtpphone.py on both sides). LTE goes away (the address is
      removed: the old connection is left as a lost network leaves it, no FIN, no
      RST), Wi-Fi comes up, and a second sipp instance bound to the Wi-Fi address
      re-registers on a NEW TCP connection (same user, instance and Call-ID, CSeq 2)
      within persist_window_ms; it hangs up on that connection. Checks: the
      re-REGISTER's 2xx came on the new connection; handovers_committed 1;
      rtp_rewritten_downlink > 0 and rtp_rewritten_uplink > 0; the phone receives
      RTP on its Wi-Fi address; the call agent keeps receiving the phone's RTP from
      the LTE address after the commit; `show users` says tcp, from the Wi-Fi
      address; no RST; BYE answered on the new connection; sipp exits 0 everywhere.

The call agent of the handover is one sipp (server mode, two "calls" of one
scenario, tcplive/ho_core.xml): sipp answers on the socket a call was created from,
so the messages of the new connection (re-REGISTER, BYE) must belong to a second sipp
call. The first call ends after the ACK (-deadcall_wait 0: sipp forgets its Call-ID
at once) and the re-REGISTER then starts the second one, on the new connection. The
call agent's media is therefore rtpphone.py, not sipp's rtp_stream (which would stop
with the first call).

Offloads: DPDK's net_tap opens the TAP without IFF_VNET_HDR, so the kernel cannot
hand it TSO/GSO frames: it segments to the MTU (1500) itself and computes every
checksum before the frame reaches DPDK; what DPDK writes to a TAP arrives without
checksum offload and the receiving kernel verifies it. So no ethtool -K is needed;
the test checks that no frame on the SIP connections exceeds the MTU, so that a
kernel that changes this would be noticed.

Usage: tcp_live.py --sipkeep PATH [--sipkeepctl PATH] --case NAME [--keep]
Exit: 0 pass, 1 fail, 77 skipped (no root, /dev/net/tun, network namespaces, sipp,
tshark or dumpcap).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from sktest import checks
from sktest.checks import SKIP, Check
from sktest.daemon import Daemon

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO_DIR = os.path.join(HERE, "..", "..", "scripts", "demo")

IP_LTE = "10.1.0.5"
IP_WIFI = "10.2.0.7"
IP_GW = "192.0.2.1"
CORE_IP = "192.0.2.10"
CORE_NET = "192.0.2.0/24"
ACCESS_NET = "10.0.0.0/8"
SIP_PORT = 5060
PHONE_PORT = 5070  # the phone's TCP source port (sipp -p)
PHONE2_PORT = 5072  # the second phone instance's (the new connection)
RTP_PORT = 16384
CORE_RTP_PORT = 20000
USER = "alice"
DOMAIN = "example.com"
CALLEE = "2001"
WINDOW_MS = 3000
SILENCE_MS = 1000
CALLINFO = ("<urn:x-cisco-remotecc:callinfo>;security=NotAuthenticated;orientation=to;"
            "gci=1-4711;isVoip;call-instance=1")
SUPPORTED_FULL = ("replaces,join,sdp-anat,norefersub,resource-priority,extended-refer,"
                  "X-cisco-callinfo,X-cisco-serviceuri,X-cisco-escapecodes,"
                  "X-cisco-service-control,X-cisco-srtp-fallback,X-cisco-monrec,"
                  "X-cisco-config,X-cisco-sis-7.0.0,X-cisco-xsi-8.5.1,X-cisco-sessionpersist")
SUPPORTED_NO_CALLINFO = SUPPORTED_FULL.replace("X-cisco-callinfo,", "")
MTU = 1500
# An ended dialog is freed (dialogs_ended) this long after its BYE: short, and the
# test waits that long before stopping sipkeep.
LINGER_MS = 300


def note(msg):
    print("# " + msg, flush=True)


def skip(why):
    print("SKIP: " + why, flush=True)
    sys.exit(SKIP)


def prerequisites():
    if os.geteuid() != 0:
        skip("needs root (network namespaces, TAP interfaces)")
    if not os.path.exists("/dev/net/tun"):
        skip("no /dev/net/tun: TAP interfaces unavailable (modprobe tun, or give the "
             "container the device)")
    try:
        os.close(os.open("/dev/net/tun", os.O_RDWR))
    except OSError as e:
        skip("/dev/net/tun cannot be opened: %s" % e)
    for t in ("ip", "sipp", "tshark", "dumpcap"):
        if shutil.which(t) is None:
            skip("%s is not installed (scripts/install-deps.sh installs it)" % t)
    probe = "sktl-probe-%d" % os.getpid()
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        skip("cannot create network namespaces (ip netns add failed)")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)


def sh(*argv, check=True):
    r = subprocess.run(list(argv), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), r.returncode, r.stderr.strip()))
    return r


# ------------------------------------------------------------------ the network


class Net:
    """Two namespaces, the two TAP interfaces of sipkeep's ports moved into them."""

    def __init__(self, rid):
        self.rid = rid
        self.ns_a = "sktl-a-" + rid
        self.ns_c = "sktl-c-" + rid
        self.tap_a = "sktlA" + rid
        self.tap_c = "sktlC" + rid
        self.made = False

    def vdevs(self):
        return ["net_tap0,iface=" + self.tap_a, "net_tap1,iface=" + self.tap_c]

    def setup(self):
        sh("ip", "netns", "add", self.ns_a)
        sh("ip", "netns", "add", self.ns_c)
        self.made = True
        # The TAPs exist once sipkeep started its ports; DPDK keeps their descriptors.
        sh("ip", "link", "set", self.tap_a, "netns", self.ns_a)
        sh("ip", "link", "set", self.tap_c, "netns", self.ns_c)
        for ns in (self.ns_a, self.ns_c):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            # No reverse-path filter (the phone's address changes), no IPv6 chatter.
            sh("ip", "netns", "exec", ns, "sh", "-c",
               "echo 0 >/proc/sys/net/ipv4/conf/all/rp_filter; "
               "echo 0 >/proc/sys/net/ipv4/conf/default/rp_filter; "
               "echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6", check=False)
        sh("ip", "-n", self.ns_a, "link", "set", self.tap_a, "mtu", str(MTU), "up")
        sh("ip", "-n", self.ns_a, "addr", "add", IP_GW + "/24", "dev", self.tap_a)
        sh("ip", "-n", self.ns_a, "addr", "add", IP_LTE + "/24", "dev", self.tap_a)
        # The phone's traffic toward the core leaves from the phone's current address.
        sh("ip", "-n", self.ns_a, "route", "replace", CORE_NET, "dev", self.tap_a, "src", IP_LTE)
        sh("ip", "-n", self.ns_c, "link", "set", self.tap_c, "mtu", str(MTU), "up")
        sh("ip", "-n", self.ns_c, "addr", "add", CORE_IP + "/24", "dev", self.tap_c)
        sh("ip", "-n", self.ns_c, "route", "add", ACCESS_NET, "via", IP_GW)

    def lose_lte(self):
        # LTE gone: the address disappears, and with it the route that used it.
        sh("ip", "-n", self.ns_a, "addr", "del", IP_LTE + "/24", "dev", self.tap_a)

    def gain_wifi(self):
        sh("ip", "-n", self.ns_a, "addr", "add", IP_WIFI + "/24", "dev", self.tap_a)
        sh("ip", "-n", self.ns_a, "route", "replace", CORE_NET, "dev", self.tap_a, "src", IP_WIFI)

    def cleanup(self):
        if not self.made:
            return
        for ns in (self.ns_a, self.ns_c):
            sh("ip", "netns", "del", ns, check=False)
        for ifc in (self.tap_a, self.tap_c):
            sh("ip", "link", "del", ifc, check=False)


# --------------------------------------------------------------- the processes


class Procs:
    """Background processes of a run (sipp, dumpcap, rtpphone), stopped at the end."""

    def __init__(self, work):
        self.work = work
        self.procs = []

    def start(self, name, argv, ns=None):
        if ns is not None:
            argv = ["ip", "netns", "exec", ns] + argv
        out = open(os.path.join(self.work, name + ".out"), "w")
        p = subprocess.Popen(argv, cwd=self.work, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT)
        p.name = name
        self.procs.append(p)
        return p

    def wait(self, p, timeout):
        try:
            return p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            return None

    def stop(self, p, timeout=5):
        if p.poll() is None:
            p.send_signal(2)  # SIGINT: dumpcap finishes its file
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop_all(self):
        for p in self.procs:
            self.stop(p)


def start_capture(procs, ns, ifc, path):
    p = procs.start(os.path.basename(path), ["dumpcap", "-q", "-i", ifc, "-w", path], ns=ns)
    deadline = time.time() + 5
    while time.time() < deadline and not (os.path.exists(path) and os.path.getsize(path) > 0):
        time.sleep(0.05)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        raise RuntimeError("dumpcap on %s did not start" % ifc)
    return p


def wait_listen(ns, port, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = sh("ip", "netns", "exec", ns, "ss", "-Hltn", check=False)
        if (":%d " % port) in r.stdout:
            return True
        time.sleep(0.05)
    return False


def sipp_argv(scenario, local_ip, port, extra, sets, peer=None, name="sipp", calls=1):
    a = ["sipp", "-sf", scenario, "-t", "t1", "-i", local_ip, "-p", str(port), "-m", str(calls),
         "-nd", "-recv_timeout", "15000", "-timeout", "50", "-max_reconnect", "0",
         "-trace_err", "-error_file", name + "-errors.log", "-trace_msg", "-message_file",
         name + "-messages.log", "-trace_stat", "-stf", name + "-stat.csv"] + list(extra)
    for k, v in sets.items():
        a += ["-set", k, str(v)]
    if peer:
        a.append(peer)
    return a


def wait_event(events, name, timeout, proc=None):
    """The time a peer wrote "NAME TIME" into the EVENTS file; None after TIMEOUT s,
    or as soon as PROC (the peer that writes it) has exited without writing it."""
    deadline = time.time() + timeout
    while True:
        if os.path.exists(events):
            with open(events) as f:
                for line in f:
                    w = line.split()
                    if w and w[0] == name:
                        return float(w[1])
        if time.time() >= deadline or (proc is not None and proc.poll() is not None):
            return None
        time.sleep(0.02)


def fill(src, dst, subst):
    with open(src) as f:
        text = f.read()
    for k, v in subst.items():
        text = text.replace("@%s@" % k, str(v))
    with open(dst, "w") as f:
        f.write(text)
    return dst


# ------------------------------------------------------------ reading captures


def tshark(path, *args, timeout=120):
    r = subprocess.run(["tshark", "-n", "-r", path] + list(args), capture_output=True,
                       text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError("tshark on %s failed: %s" % (path, r.stderr[-500:]))
    return r.stdout


class Frame:
    """One frame of a capture, as tshark decoded it (checksums validated, TCP
    segments left as they are)."""

    __slots__ = ("t", "length", "src", "dst", "proto", "sport", "dport", "seq", "flags",
                 "payload", "analysis", "bad_checksum", "expert")


FRAME_FIELDS = ["frame.time_epoch", "frame.len", "ip.src", "ip.dst", "tcp.srcport",
                "tcp.dstport", "udp.srcport", "udp.dstport", "tcp.seq_raw", "tcp.flags",
                "tcp.payload", "tcp.analysis.flags", "tcp.analysis.window_update",
                "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status",
                "_ws.expert.message"]
_frames_cache = {}


def frames(path):
    """Every IPv4 frame of a capture, read once (one tshark run: each costs a second
    or more of CPU on a loaded machine)."""
    if path in _frames_cache:
        return _frames_cache[path]
    cmd = ["-Y", "ip && !icmp", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f",
           "-o", "tcp.desegment_tcp_streams:FALSE", "-o", "ip.check_checksum:TRUE",
           "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]
    for f in FRAME_FIELDS:
        cmd += ["-e", f]
    res = []
    for line in tshark(path, *cmd).splitlines():
        f = line.split("\t")
        if len(f) < len(FRAME_FIELDS) or not f[2]:
            continue
        x = Frame()
        x.t, x.length, x.src, x.dst = float(f[0]), int(f[1]), f[2], f[3]
        if f[4]:
            x.proto, x.sport, x.dport = "tcp", int(f[4]), int(f[5])
        elif f[6]:
            x.proto, x.sport, x.dport = "udp", int(f[6]), int(f[7])
        else:
            x.proto, x.sport, x.dport = "other", 0, 0
        x.seq = int(f[8]) if f[8] else 0
        x.flags = int(f[9], 16) if f[9] else 0
        x.payload = bytes.fromhex(f[10].replace(":", "")) if f[10] else b""
        x.analysis = bool(f[11]) and not f[12]
        x.bad_checksum = "0" in (f[13], f[14], f[15])  # 0: Bad, 1: Good, 2: Unverified
        x.expert = f[16]
        res.append(x)
    _frames_cache[path] = res
    return res


def sip_tcp(path):
    return [x for x in frames(path) if x.proto == "tcp" and SIP_PORT in (x.sport, x.dport)]


def dissected(path):
    """tshark's own reading, TCP reassembly on: (malformed or expert-error frames,
    SIP messages dissected)."""
    out = tshark(path, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E",
                 "aggregator=,", "-e", "_ws.malformed", "-e", "_ws.expert.severity",
                 "-e", "sip.CSeq.seq")
    bad = n_sip = 0
    for line in out.splitlines():
        f = line.split("\t") + ["", "", ""]
        if f[0] or "8388608" in f[1].split(","):  # 8388608: PI_ERROR
            bad += 1
        if f[2]:
            n_sip += len(f[2].split(","))
    return bad, n_sip


SYN, FIN, RST = 0x02, 0x01, 0x04


class Direction:
    """One direction of a TCP connection as a capture saw it: the byte stream
    (from the SYN's sequence number + 1, or the first segment's), where each byte
    came from, and its segments."""

    def __init__(self, key):
        self.key = key  # (src, sport, dst, dport)
        self.isn = None
        self.segs = []
        self.data = {}  # offset -> byte
        self.times = {}  # offset -> capture time of the first copy

    def add(self, s):
        self.segs.append(s)
        if s.flags & SYN:
            self.isn = s.seq
            return
        if not s.payload:
            return
        if self.isn is None:
            self.isn = (s.seq - 1) & 0xFFFFFFFF
        off = (s.seq - self.isn - 1) & 0xFFFFFFFF
        for i, b in enumerate(s.payload):
            if off + i not in self.data:
                self.data[off + i] = b
                self.times[off + i] = s.t

    def stream(self):
        """The bytes from offset 0, up to the first hole; and whether there was a hole."""
        out = bytearray()
        i = 0
        while i in self.data:
            out.append(self.data[i])
            i += 1
        return bytes(out), len(self.data) != i

    def syn(self):
        return any(s.flags & SYN for s in self.segs)

    def fin(self):
        return any(s.flags & FIN for s in self.segs)


def directions(path):
    dirs = {}
    for s in sip_tcp(path):
        key = (s.src, s.sport, s.dst, s.dport)
        dirs.setdefault(key, Direction(key)).add(s)
    return dirs


def sip_messages(stream):
    """Frame a SIP byte stream (Content-Length framing, CRLF keep-alives skipped):
    a list of (offset, message bytes); and the unframed rest."""
    msgs = []
    i = 0
    while i < len(stream):
        if stream[i:i + 2] == b"\r\n":
            i += 2
            continue
        end = stream.find(b"\r\n\r\n", i)
        if end < 0:
            break
        head = stream[i:end + 4]
        m = re.search(rb"\r\n(?:Content-Length|l)[ \t]*:[ \t]*(\d+)", head, re.I)
        if not m:
            break
        total = end + 4 - i + int(m.group(1))
        if i + total > len(stream):
            break
        msgs.append((i, stream[i:i + total]))
        i += total
    return msgs, stream[i:]


def hdr(msg, name):
    m = re.search(rb"\r\n" + name.encode() + rb"[ \t]*:[ \t]*([^\r\n]*)", msg, re.I)
    return m.group(1).decode("latin-1").strip() if m else None


def first_line(msg):
    return msg.split(b"\r\n", 1)[0].decode("latin-1")


def is_request(msg):
    return not msg.startswith(b"SIP/2.0 ")


def pad_model(msg):
    """The contract's length-preserving Call-Info removal for messages whose every
    Call-Info line holds only remotecc values: each such line becomes a pad line of
    its own length: 'X-Sipkeep-Pad:' + spaces + CRLF when it is >= 17 bytes long,
    'X:' + spaces + CRLF otherwise."""
    head_end = msg.find(b"\r\n\r\n") + 2
    lines = msg[:head_end].split(b"\r\n")[:-1]
    out = []
    for line in lines:
        if re.match(rb"(?i)call-info[ \t]*:", line) and b"x-cisco-remotecc" in line.lower():
            n = len(line) + 2
            name = b"X-Sipkeep-Pad:" if n >= 17 else b"X:"
            out.append(name + b" " * (n - len(name) - 2))
        else:
            out.append(line)
    return b"\r\n".join(out) + b"\r\n" + msg[head_end:]


def line_diff(got, want):
    """The lines where GOT and WANT differ (for a failed check's detail)."""
    g, w = got.split(b"\r\n"), want.split(b"\r\n")
    out = ["%d bytes, expected %d" % (len(got), len(want))]
    for i in range(max(len(g), len(w))):
        a = g[i] if i < len(g) else None
        b = w[i] if i < len(w) else None
        if a != b:
            out.append("line %d: got %r, expected %r" % (i, a, b))
    return "\n".join(out[:8])


def transactions(msgs_by_dir):
    """Requests (not ACK) and their final responses, by (Call-ID, CSeq): the
    requests without a final response in the opposite direction."""
    unanswered = []
    for (key, msgs) in msgs_by_dir.items():
        rev = (key[2], key[3], key[0], key[1])
        answers = {}
        for _, m in msgs_by_dir.get(rev, []):
            if not is_request(m):
                code = int(first_line(m).split()[1])
                if code >= 200:
                    answers[(hdr(m, "Call-ID"), hdr(m, "CSeq"))] = code
        for _, m in msgs:
            if is_request(m) and not first_line(m).startswith("ACK "):
                if (hdr(m, "Call-ID"), hdr(m, "CSeq")) not in answers:
                    unanswered.append(first_line(m))
    return unanswered


def rtp_packets(path, src=None, dst=None, sport=None, dport=None):
    """(time, src, sport, dst, dport) of the UDP packets that match."""
    return [(x.t, x.src, x.sport, x.dst, x.dport) for x in frames(path)
            if x.proto == "udp" and src in (None, x.src) and dst in (None, x.dst)
            and sport in (None, x.sport) and dport in (None, x.dport)]


# ------------------------------------------------------------------ the checks


def common_tcp_checks(c, work, access_pcap, core_pcap):
    """No RST, SYNs through, frames within the MTU, right checksums on what
    sipkeep sent; returns the directions of both captures."""
    for side, path in (("access", access_pcap), ("core", core_pcap)):
        segs = sip_tcp(path)
        c.eq(len([x for x in segs if x.flags & RST]), 0,
             "%s side: no RST on the SIP connections" % side)
        c.eq(len([x for x in segs if x.length > MTU + 14]), 0,
             "%s side: no TCP frame larger than the MTU (no TSO/GRO frames)" % side)
        notes = [x for x in segs if x.analysis]
        note("%s side: %d frames with TCP analysis notes (retransmissions, dup ACKs...; "
             "informational)" % (side, len(notes)))
        for x in notes[:10]:
            note("  %.6f %s:%d -> %s:%d flags 0x%03x, %d bytes: %s"
                 % (x.t, x.src, x.sport, x.dst, x.dport, x.flags, len(x.payload), x.expert))
        bad, _ = dissected(path)
        c.eq(bad, 0, "%s side: tshark finds no malformed frame and no expert error" % side)
    # What sipkeep transmitted: into the access namespace, frames to it; into core, to core.
    c.eq(len([x for x in frames(access_pcap) if x.dst.startswith("10.") and x.bad_checksum]),
         0, "access side: right IP/TCP/UDP checksums on the frames sipkeep sent")
    c.eq(len([x for x in frames(core_pcap) if x.dst == CORE_IP and x.bad_checksum]), 0,
         "core side: right IP/TCP/UDP checksums on the frames sipkeep sent")
    dir_a = directions(access_pcap)
    dir_c = directions(core_pcap)
    for key, d in dir_a.items():
        if d.syn() and key[3] == SIP_PORT:
            c.ok(key in dir_c and dir_c[key].syn(),
                 "SYN %s:%d -> %s:%d went through sipkeep" % key)
    for key, d in dir_c.items():
        if d.syn() and key[1] == SIP_PORT:
            c.ok(key in dir_a and dir_a[key].syn(),
                 "SYN-ACK %s:%d -> %s:%d went through sipkeep" % key)
    return dir_a, dir_c


def framed(c, dirs, side):
    res = {}
    for key, d in dirs.items():
        data, hole = d.stream()
        msgs, rest = sip_messages(data)
        res[key] = msgs
        if data:
            c.ok(not hole and not rest, "%s side %s:%d -> %s:%d: %d bytes, %d SIP messages, "
                 "all framed, no hole" % ((side,) + key + (len(data), len(msgs))),
                 "hole %s, %d bytes unframed: %r" % (hole, len(rest), rest[:80]))
    return res


def counters(stats):
    return stats.get("counters", {}) if stats else {}


def ctr_ok(c, ctr, name, cond, what):
    v = ctr.get(name)
    return c.ok(v is not None and cond(v), "counter %s %s" % (name, what),
                "got %s" % ("no such counter" if v is None else v))


def show_users(d):
    saved = checks.print_ok
    checks.print_ok = False  # Daemon.request's own checks: failures only
    try:
        return d.request("show users", timeout=3)
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        return {"error": repr(e)}
    finally:
        checks.print_ok = saved


def find_user(reply):
    """The user entry of USER in a `show users` reply (whatever its nesting)."""
    found = []

    def walk(x):
        if isinstance(x, dict):
            if any(USER in str(v) for k, v in x.items() if k in ("aor", "user")):
                found.append(x)
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(reply)
    return found[0] if found else None


def sipkeep_config(d_tmp, extra=""):
    return ("access_prefixes = %s\npersist_window_ms = %d\nmedia_silence_ms = %d\n"
            "dialog_linger_ms = %d\ncallinfo_policy = registered\n%s"
            % (ACCESS_NET, WINDOW_MS, SILENCE_MS, LINGER_MS, extra))


# ------------------------------------------------------------------- the cases


# Where the NOTIFYs' Call-Info lines start (byte offset in the message): the message
# starts a segment (nothing else is in flight when the call agent sends it), and a
# segment carries the MSS, 1448 bytes here (1460 less TCP timestamps). The line is
# about 120 bytes long: from 1388 it spans both 1448 and 1460.
CI_SECOND_SEGMENT = 1480
CI_ACROSS = 1388


def filler_len(ci_offset):
    """The X-Tcplive-Filler value length that puts the Call-Info line (right after
    the request line and the filler line) at CI_OFFSET."""
    request_line = "NOTIFY sip:%s@%s:%d;transport=tcp SIP/2.0\r\n" % (USER, IP_LTE, PHONE_PORT)
    return ci_offset - len(request_line) - len("X-Tcplive-Filler: \r\n")


def first_segment_end(d, off):
    """The end (stream offset) of the segment of direction D holding byte OFF."""
    for s in d.segs:
        so = (s.seq - d.isn - 1) & 0xFFFFFFFF
        if s.payload and so <= off < so + len(s.payload):
            return so + len(s.payload)
    return None


def case_callinfo(c, args, work, net, procs, daemon):
    ci_phone = os.path.join(HERE, "ci_phone.xml")
    ci_core = os.path.join(HERE, "ci_core.xml")
    access_pcap = os.path.join(work, "access.pcapng")
    core_pcap = os.path.join(work, "core.pcapng")
    start_capture(procs, net.ns_a, net.tap_a, access_pcap)
    start_capture(procs, net.ns_c, net.tap_c, core_pcap)

    core = procs.start("core-sipp", sipp_argv(
        ci_core, CORE_IP, SIP_PORT, ["-mp", "21000"],
        {"core_ip": CORE_IP, "callee": CALLEE, "user": USER, "domain": DOMAIN,
         "callinfo": CALLINFO, "filler1": "f" * filler_len(CI_SECOND_SEGMENT),
         "filler2": "f" * filler_len(CI_ACROSS)}, name="core"), ns=net.ns_c)
    if not wait_listen(net.ns_c, SIP_PORT):
        c.ok(False, "the call agent's sipp listens on TCP %d" % SIP_PORT)
        return
    phone = procs.start("phone-sipp", sipp_argv(
        ci_phone, IP_LTE, PHONE_PORT, ["-mp", "16500"],
        {"ip": IP_LTE, "core_ip": CORE_IP, "user": USER, "domain": DOMAIN, "callee": CALLEE,
         "supported": SUPPORTED_NO_CALLINFO, "rtp_port": RTP_PORT},
        peer="%s:%d" % (CORE_IP, SIP_PORT), name="phone"), ns=net.ns_a)
    # While the call is up: how sipkeep sees the user.
    users = None
    deadline = time.time() + 40
    while phone.poll() is None and time.time() < deadline:
        if users is None and os.path.exists(os.path.join(work, "phone-messages.log")):
            with open(os.path.join(work, "phone-messages.log"), errors="replace") as f:
                if "180 Ringing" in f.read():
                    users = show_users(daemon)
        time.sleep(0.05)
    phone_rc = procs.wait(phone, 10)
    core_rc = procs.wait(core, 10)
    time.sleep(0.3)
    c.eq(phone_rc, 0, "the phone's sipp: every transaction of its scenario done (exit 0)")
    c.eq(core_rc, 0, "the call agent's sipp: every transaction of its scenario done (exit 0)")
    with open(os.path.join(work, "show-users.json"), "w") as f:
        json.dump(users, f)
    u = find_user(users)
    c.ok(u is not None and u.get("transport") == "tcp",
         "show users during the call: %s registered on transport tcp" % USER, users)

    stats = stop_daemon(c, daemon, work)
    procs.stop_all()

    dir_a, dir_c = common_tcp_checks(c, work, access_pcap, core_pcap)
    to_phone = (CORE_IP, SIP_PORT, IP_LTE, PHONE_PORT)
    to_core = (IP_LTE, PHONE_PORT, CORE_IP, SIP_PORT)
    c.ok(to_phone in dir_a and to_core in dir_a and to_phone in dir_c and to_core in dir_c,
         "one connection %s:%d <-> %s:%d seen on both sides" % to_core)
    msgs_a = framed(c, dir_a, "access")
    msgs_c = framed(c, dir_c, "core")
    # tshark's SIP dissector (TCP reassembly on) reads the phone's side as SIP throughout.
    _, n_sip = dissected(access_pcap)
    c.eq(n_sip, sum(len(m) for m in msgs_a.values()),
         "access side: tshark dissects every SIP message of the connection")
    c.eq(transactions(msgs_a), [], "access side: every request answered (final response)")
    c.eq(transactions(msgs_c), [], "core side: every request answered (final response)")
    for key in (to_phone, to_core):
        la = len(dir_a[key].stream()[0]) if key in dir_a else -1
        lc = len(dir_c[key].stream()[0]) if key in dir_c else -2
        c.eq(la, lc, "%s:%d -> %s:%d: the same number of bytes on both sides "
             "(length-preserving, no seq/ack change)" % key)
    reg = [m for _, m in msgs_a.get(to_core, []) if first_line(m).startswith("REGISTER ")]
    c.ok(reg and len(reg[0]) > 1448,
         "the REGISTER is Cisco-sized (%d bytes: more than one segment)"
         % (len(reg[0]) if reg else 0))
    # Toward the phone: the call agent's messages, Call-Info replaced by pad lines.
    sent = [m for _, m in msgs_c.get(to_phone, [])]
    got = [m for _, m in msgs_a.get(to_phone, [])]
    with_ci = [m for m in sent if b"x-cisco-remotecc" in m.lower()]
    c.eq(len(with_ci), 5, "messages the call agent sent with remotecc Call-Info "
         "(180, 200, 3 NOTIFYs)")
    stream_a = dir_a[to_phone].stream()[0] if to_phone in dir_a else b""
    c.ok(b"remotecc" not in stream_a.lower(),
         "the phone's side of the connection carries no remotecc value")
    c.eq(len(got), len(sent), "as many messages reached the phone as the call agent sent")
    for i, (s, g) in enumerate(zip(sent, got)):
        want = pad_model(s)
        c.ok(g == want, "message %d to the phone (%s) is the call agent's with its "
             "Call-Info lines padded out" % (i, first_line(s)), line_diff(g, want))
    # Where the NOTIFYs' Call-Info lines were, in the segments the call agent sent.
    notifies = [m for m in sent if first_line(m).startswith("NOTIFY ")]
    if len(notifies) == 3 and to_phone in dir_c:
        d = dir_c[to_phone]
        data = d.stream()[0]
        where = []
        for m in notifies[:2]:
            off = data.find(m)
            ci = off + m.find(b"Call-Info:")
            ci_end = off + m.find(b"\r\n", m.find(b"Call-Info:")) + 2
            where.append((ci, ci_end, first_segment_end(d, off)))
        (ci, _, seg_end) = where[0]
        c.ok(seg_end is not None and ci >= seg_end,
             "NOTIFY 1: the Call-Info line is not in the message's first segment "
             "(the segment is held until the header block completes)", where[0])
        (ci, ci_end, seg_end) = where[1]
        c.ok(seg_end is not None and ci < seg_end < ci_end,
             "NOTIFY 2: the Call-Info line spans the message's first two segments", where[1])
    for side, msgs in (("access", msgs_a), ("core", msgs_c)):
        bye = [m for _, m in msgs.get(to_core, []) if first_line(m).startswith("BYE ")]
        ok200 = [m for _, m in msgs.get(to_phone, [])
                 if first_line(m).startswith("SIP/2.0 200")
                 and (hdr(m, "CSeq") or "").endswith("BYE")]
        c.ok(len(bye) == 1 and len(ok200) == 1, "%s side: the BYE and its 200 OK" % side)
        c.ok(to_core in (dir_a if side == "access" else dir_c)
             and (dir_a if side == "access" else dir_c)[to_core].fin(),
             "%s side: the phone closed the connection with FIN" % side)

    ctr = counters(stats)
    ctr_ok(c, ctr, "callinfo_removed", lambda v: v == 5, "= 5 (180, 200, 3 NOTIFYs)")
    ctr_ok(c, ctr, "callinfo_messages_rewritten", lambda v: v == 5, "= 5")
    n_msgs = sum(len(m) for m in msgs_c.values())
    ctr_ok(c, ctr, "tcp_messages", lambda v: v == n_msgs, "= %d (every message of the call, "
           "once)" % n_msgs)
    ctr_ok(c, ctr, "sip_messages", lambda v: v == n_msgs, "= %d" % n_msgs)
    ctr_ok(c, ctr, "tcp_streams_tracked", lambda v: v == 2, "= 2 (both directions)")
    ctr_ok(c, ctr, "tcp_streams_closed", lambda v: v == 2, "= 2 (FIN both ways)")
    ctr_ok(c, ctr, "tcp_segments_held", lambda v: v >= 2,
           ">= 2 (the first segments of NOTIFY 1 and 2, header blocks incomplete)")
    ctr_ok(c, ctr, "registrations_committed", lambda v: v == 1, "= 1")
    ctr_ok(c, ctr, "dialogs_created", lambda v: v == 1, "= 1")
    ctr_ok(c, ctr, "dialogs_ended", lambda v: v == 1, "= 1 (the BYE)")
    for name in ("tcp_fallback_buffer_full", "tcp_fallback_no_buffer", "tcp_fallback_hole",
                 "tcp_fallback_bad_framing", "tcp_held_released_unchanged",
                 "sip_parse_errors"):
        ctr_ok(c, ctr, name, lambda v: v == 0, "= 0")


def case_handover(c, args, work, net, procs, daemon):
    access_pcap = os.path.join(work, "access.pcapng")
    core_pcap = os.path.join(work, "core.pcapng")
    events = os.path.join(work, "events")
    audio = os.path.join(work, "audio.alaw")
    with open(audio, "wb") as f:
        f.write(b"\xd5" * 8000)
    talk_lte_ms, outage_ms, talk_after_ms = 2000, 1500, 2500
    # Phone 1 stays up (its connection open) until after the re-registration.
    hold_ms = talk_lte_ms + outage_ms + 1000
    subst = {"HOLD_MS": hold_ms, "TALK_AFTER_MS": talk_after_ms}
    ph1 = fill(os.path.join(HERE, "ho_phone1.xml"), os.path.join(work, "ho_phone1.xml"), subst)
    ph2 = fill(os.path.join(HERE, "ho_phone2.xml"), os.path.join(work, "ho_phone2.xml"), subst)
    core_xml = os.path.join(HERE, "ho_core.xml")
    start_capture(procs, net.ns_a, net.tap_a, access_pcap)
    start_capture(procs, net.ns_c, net.tap_c, core_pcap)

    # Both phone instances use one Call-ID (-cid_str without % is taken as it is), tags
    # and the call agent's To tag fixed: the second instance continues the first's dialog.
    cid = "sktl-%s@%s" % (net.rid, IP_LTE)
    common = {"user": USER, "domain": DOMAIN, "callee": CALLEE, "core_ip": CORE_IP,
              "ftag": "ph-%s-i1" % net.rid, "ctag": "ca-%s-inv" % net.rid, "ev": events}
    # Two calls of its scenario: the first connection's, then the new connection's.
    core = procs.start("core-sipp", sipp_argv(
        core_xml, CORE_IP, SIP_PORT, ["-mp", "21000", "-deadcall_wait", "0"],
        {k: common[k] for k in ("user", "domain", "callee", "core_ip", "ctag", "ev")},
        name="core", calls=2), ns=net.ns_c)
    if not wait_listen(net.ns_c, SIP_PORT):
        c.ok(False, "the call agent's sipp listens on TCP %d" % SIP_PORT)
        return
    phone1 = procs.start("phone1-sipp", sipp_argv(
        ph1, IP_LTE, PHONE_PORT, ["-mp", "16500", "-cid_str", cid],
        dict(common, ip=IP_LTE, supported=SUPPORTED_FULL, rtp_port=RTP_PORT),
        peer="%s:%d" % (CORE_IP, SIP_PORT), name="phone1"), ns=net.ns_a)

    t_up = wait_event(events, "callup", 15)
    c.ok(t_up is not None, "the call is up over TCP from LTE")
    if t_up is None:
        return
    rtp_phone = procs.start("rtpphone-phone", [
        "/usr/bin/python3", os.path.join(DEMO_DIR, "rtpphone.py"), "--port", str(RTP_PORT),
        "--remote", "%s:%d" % (CORE_IP, CORE_RTP_PORT), "--audio", audio, "--log",
        os.path.join(work, "rtp-phone.log"), "--stop-file", os.path.join(work, "rtp.stop"),
        "--max-seconds", "40"], ns=net.ns_a)
    rtp_core = procs.start("rtpphone-core", [
        "/usr/bin/python3", os.path.join(DEMO_DIR, "rtpphone.py"), "--port", str(CORE_RTP_PORT),
        "--remote", "%s:%d" % (IP_LTE, RTP_PORT), "--audio", audio, "--ssrc", "0x0CA11A6E",
        "--log", os.path.join(work, "rtp-core.log"), "--stop-file",
        os.path.join(work, "rtp.stop"), "--max-seconds", "40"], ns=net.ns_c)
    time.sleep(talk_lte_ms / 1000)
    net.lose_lte()
    t_lost = time.time()
    time.sleep(outage_ms / 1000)
    net.gain_wifi()
    phone2 = procs.start("phone2-sipp", sipp_argv(
        ph2, IP_WIFI, PHONE2_PORT, ["-mp", "16600", "-cid_str", cid],
        dict(common, ip=IP_WIFI, supported=SUPPORTED_FULL),
        peer="%s:%d" % (CORE_IP, SIP_PORT), name="phone2"), ns=net.ns_a)
    t_rereg = wait_event(events, "reregistered", 10)
    c.ok(t_rereg is not None and t_rereg - t_lost < WINDOW_MS / 1000,
         "re-registered from Wi-Fi on a new connection within the window (%s s after LTE went)"
         % ("%.2f" % (t_rereg - t_lost) if t_rereg else "never"))
    users = None
    if t_rereg is not None:
        time.sleep(0.5)
        users = show_users(daemon)
    phone2_rc = procs.wait(phone2, 20)
    open(os.path.join(work, "rtp.stop"), "w").close()
    phone1_rc = procs.wait(phone1, 15)
    core_rc = procs.wait(core, 15)
    procs.wait(rtp_phone, 5)
    procs.wait(rtp_core, 5)
    time.sleep(0.3)
    c.eq(phone1_rc, 0, "phone instance 1 (LTE connection): its scenario done (exit 0)")
    c.eq(phone2_rc, 0, "phone instance 2 (Wi-Fi, new connection): its scenario done (exit 0)")
    c.eq(core_rc, 0, "the call agent's sipp: both connections' scenarios done (exit 0)")
    with open(os.path.join(work, "show-users.json"), "w") as f:
        json.dump(users, f)
    u = find_user(users)
    c.ok(u is not None and u.get("transport") == "tcp" and IP_WIFI in json.dumps(u),
         "show users after the re-registration: %s on tcp, at %s" % (USER, IP_WIFI), users)

    stats = stop_daemon(c, daemon, work)
    procs.stop_all()

    dir_a, dir_c = common_tcp_checks(c, work, access_pcap, core_pcap)
    old_up = (IP_LTE, PHONE_PORT, CORE_IP, SIP_PORT)
    new_up = (IP_WIFI, PHONE2_PORT, CORE_IP, SIP_PORT)
    new_down = (CORE_IP, SIP_PORT, IP_WIFI, PHONE2_PORT)
    for side, dirs in (("access", dir_a), ("core", dir_c)):
        c.ok(old_up in dirs and dirs[old_up].syn(), "%s side: the LTE connection (SYN from "
             "%s:%d)" % (side, IP_LTE, PHONE_PORT))
        c.ok(new_up in dirs and dirs[new_up].syn(), "%s side: a new connection from Wi-Fi "
             "(SYN from %s:%d)" % (side, IP_WIFI, PHONE2_PORT))
    msgs_a = framed(c, dir_a, "access")
    msgs_c = framed(c, dir_c, "core")
    c.eq(transactions(msgs_c), [], "core side: every request answered (final response)")
    for side, msgs in (("access", msgs_a), ("core", msgs_c)):
        up = [m for _, m in msgs.get(new_up, [])]
        down = [m for _, m in msgs.get(new_down, [])]
        c.ok([first_line(m).split()[0] for m in up] == ["REGISTER", "BYE"]
             and all(hdr(m, "Call-ID") in ("reg///" + cid, "inv///" + cid) for m in up),
             "%s side: the new connection carries the re-REGISTER (same Call-ID) and the BYE"
             % side, [first_line(m) for m in up])
        c.ok([first_line(m) for m in down] == ["SIP/2.0 200 OK"] * 2
             and [hdr(m, "CSeq") for m in down] == ["2 REGISTER", "102 BYE"],
             "%s side: their 200 OKs came back on the new connection" % side,
             [(first_line(m), hdr(m, "CSeq")) for m in down])

    # Media: downlink toward the LTE address arrives on Wi-Fi; uplink from Wi-Fi reaches
    # the call agent from the LTE address.
    t_commit = None
    commits = [s.t for s in (dir_c[new_down].segs if new_down in dir_c else []) if s.payload]
    if commits:
        t_commit = commits[0]
    c.ok(t_commit is not None, "the re-REGISTER's 2xx seen on the core side")
    if t_commit is not None:
        down_wifi = rtp_packets(access_pcap, src=CORE_IP, sport=CORE_RTP_PORT, dst=IP_WIFI)
        c.ok(len([p for p in down_wifi if p[0] > t_commit]) > 25,
             "access side: RTP from the call agent to %s:%d after the commit (%d packets)"
             % (IP_WIFI, RTP_PORT, len(down_wifi)))
        up_old = rtp_packets(core_pcap, dst=CORE_IP, dport=CORE_RTP_PORT, src=IP_LTE)
        up_new = rtp_packets(core_pcap, dst=CORE_IP, dport=CORE_RTP_PORT, src=IP_WIFI)
        after = t_commit + 0.3
        c.ok(len([p for p in up_old if p[0] > after]) > 25,
             "core side: the phone's RTP still comes from %s after the commit" % IP_LTE)
        c.eq(len([p for p in up_new if p[0] > after]), 0,
             "core side: no RTP from %s after the commit" % IP_WIFI)
    rx_wifi = 0
    try:
        with open(os.path.join(work, "rtp-phone.log")) as f:
            rx_wifi = sum(1 for l in f if l.startswith("rx ") and l.split()[2] == IP_WIFI)
    except OSError:
        pass
    c.ok(rx_wifi > 25, "the phone received %d RTP packets on its Wi-Fi address" % rx_wifi)

    ctr = counters(stats)
    ctr_ok(c, ctr, "registrations_committed", lambda v: v == 2, "= 2 (LTE, then Wi-Fi)")
    ctr_ok(c, ctr, "handovers_committed", lambda v: v == 1, "= 1")
    ctr_ok(c, ctr, "rtp_rewritten_downlink", lambda v: v > 25, "> 25")
    ctr_ok(c, ctr, "rtp_rewritten_uplink", lambda v: v > 25, "> 25")
    ctr_ok(c, ctr, "sip_redirected", lambda v: v == 0, "= 0 (no signalling redirect over TCP)")
    n_msgs = sum(len(m) for m in msgs_c.values())
    ctr_ok(c, ctr, "tcp_streams_tracked", lambda v: v == 4, "= 4 (two connections)")
    ctr_ok(c, ctr, "tcp_messages", lambda v: v == n_msgs, "= %d (every message, once)" % n_msgs)
    ctr_ok(c, ctr, "dialogs_created", lambda v: v == 1, "= 1")
    ctr_ok(c, ctr, "dialogs_ended", lambda v: v == 1, "= 1 (the BYE on the new connection)")


def stop_daemon(c, daemon, work):
    time.sleep(2 * LINGER_MS / 1000)  # the dialog ended by the BYE freed
    alive = daemon.alive()
    c.ok(alive, "sipkeep alive until the end of the call",
         None if alive else daemon.output()[-2000:])
    rc = daemon.stop(timeout=30)
    c.eq(rc, 0, "sipkeep exits 0 on SIGTERM")
    with open(os.path.join(work, "sipkeep.log"), "w") as f:
        f.write(daemon.output())
    try:
        with open(daemon.stats_json) as f:
            stats = json.load(f)
        shutil.copy(daemon.stats_json, os.path.join(work, "stats.json"))
    except (OSError, ValueError):
        stats = None
    c.ok(stats is not None, "sipkeep wrote its final counters")
    return stats


CASES = {
    "tcp_call_with_callinfo_removal": case_callinfo,
    "tcp_handover_new_connection": case_handover,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sipkeep", required=True)
    ap.add_argument("--sipkeepctl")
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    prerequisites()

    rid = os.urandom(3).hex()
    c = Check(args.case)
    work = tempfile.mkdtemp(prefix="sktest-tcplive-%s-" % args.case)
    net = Net(rid)
    procs = Procs(work)
    daemon = Daemon.with_socket(os.path.abspath(args.sipkeep), args.sipkeepctl,
                                "tl" + rid, vdevs=net.vdevs(), cfg_extra=sipkeep_config(work))
    t0 = time.time()
    try:
        checks.print_ok = False  # Daemon's own checks while it starts: failures only
        daemon.start()
        checks.print_ok = True
        net.setup()
        CASES[args.case](c, args, work, net, procs, daemon)
    except Exception as e:  # noqa: BLE001 - a setup error is a failed check, with cleanup
        c.ok(False, "the run itself: %s: %s" % (type(e).__name__, e))
    finally:
        procs.stop_all()
        if daemon.proc is not None and daemon.alive():
            daemon.stop(timeout=30)
        daemon.cleanup()
        net.cleanup()
        left = [n for n in (net.ns_a, net.ns_c) if n in sh("ip", "netns", "list").stdout]
        left += [i for i in (net.tap_a, net.tap_c)
                 if sh("ip", "link", "show", i, check=False).returncode == 0]
        c.eq(left, [], "nothing left behind (namespaces, TAP interfaces)")
        note("%.1f s" % (time.time() - t0))
        if args.keep or c.failures:
            c.keep_dirs.append(work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
