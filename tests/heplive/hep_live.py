#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A TLS phone keeps its call across an address change, sipkeep learning its
session from Kamailio's HEP mirror (issue 14, "Real peers").

  access namespace            sipkeep (root ns)            core namespace
  phone 10.1.0.5, later       [tapA] port 0 | port 1 [tapC] Kamailio TLS edge
  10.2.0.7 (tlsphone.py,                                   192.0.2.10:5061 (TLS),
  SIP over TLS; RTP:          hep_listen 198.51.100.1:9060 :5060 (UDP), siptrace HEPv3
  rtpphone.py)                  ^--- veth (management) --- 198.51.100.2
                                                           call agent: sipp UAS, UDP
                                                           192.0.2.10:5080; its media
                                                           rtpphone.py :20000

Kamailio runs the repository's example, examples/kamailio-tls/kamailio.cfg, with
the addresses passed by -A and a certificate this test makes (openssl). The phone is
tests/heplive/tlsphone.py (python ssl; Debian's sipp has no TLS): it verifies the
certificate, registers with X-cisco-sessionpersist, calls through Kamailio to the
call agent, and after its address moved re-registers over a NEW TLS connection,
then hangs up there. sipkeep's ports see only TLS records and RTP; the SIP reaches
it as HEP over the management veth.

Case hep_tls_handover (suite 'heplive'). Checks: Kamailio mirrored HEPv3 with the
decrypted REGISTERs from both addresses and their 200s, each with the auth key
(decoded here from a capture of the management veth: tshark 4.0 has no HEP
dissector); the TLS bytes are the same on both sides of sipkeep (records untouched,
no SIP in clear); downlink RTP reaches the new address after the commit, the call
agent keeps seeing the old one; the BYE is answered; `show users` says source hep,
transport tls, at the new address; counters (handovers_committed, dialogs, RTP
rewrites, hep_frames = what Kamailio sent, hep_applied = the phone's leg,
hep_side_unknown = the call agent's leg, no refusals or parse errors).
Without a HEP listener in this sipkeep (no hep_listen key) the pieces (TLS, HEP from
Kamailio, media through sipkeep) are still checked, then the case reports skipped.

Usage: hep_live.py --sipkeep PATH [--sipkeepctl PATH] --case NAME [--keep]
Exit: 0 pass, 1 fail, 77 skipped (no root, /dev/net/tun, namespaces, kamailio or its
tls module, sipp, tshark, dumpcap, openssl).
"""
import argparse
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tcplive"))

import tcp_live as tl  # noqa: E402 - the namespaces, processes and capture helpers
from tcp_live import CORE_IP, IP_LTE, IP_WIFI, USER, DOMAIN, CALLEE, RTP_PORT  # noqa: E402
from sktest import checks  # noqa: E402
from sktest.checks import SKIP, Check  # noqa: E402
from sktest.daemon import Daemon  # noqa: E402

EXAMPLE = os.path.join(HERE, "..", "..", "examples", "kamailio-tls", "kamailio.cfg")
DEMO_DIR = tl.DEMO_DIR
TLS_PORT = 5061
KAM_UDP_PORT = 5060
UAS_PORT = 5080
CORE_RTP_PORT = 20000
MGMT_ROOT = "198.51.100.1"
MGMT_CORE = "198.51.100.2"
HEP_PORT = 9060
HEP_AUTH_KEY = "heplive-key"
WINDOW_MS = 3000
KAM_MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules"


def prerequisites():
    tl.prerequisites()  # root, tun, namespaces, ip, sipp, tshark, dumpcap
    for t in ("kamailio", "openssl"):
        if shutil.which(t) is None:
            tl.skip("%s is not installed (scripts/install-deps.sh installs it)" % t)
    r = subprocess.run(["kamailio", "-c", "-f", EXAMPLE, "-A", 'TLS_CFG="/dev/null"'],
                       capture_output=True, text=True)
    if r.returncode != 0 and "tls.so" in r.stderr:
        tl.skip("kamailio's tls module is missing (package kamailio-tls-modules)")


def sipkeep_has_hep(sipkeep):
    r = subprocess.run([os.path.abspath(sipkeep), "--help"], capture_output=True, text=True)
    return "hep_listen" in r.stdout + r.stderr


class HepNet(tl.Net):
    """tcp_live's two namespaces, plus a management veth from the root namespace
    (sipkeep's control side) into the core namespace (Kamailio's HEP)."""

    def __init__(self, rid):
        super().__init__(rid)
        self.mg_root = "skhmR" + rid
        self.mg_core = "skhmC" + rid

    def setup_mgmt(self):
        # Before sipkeep starts: its HEP listener binds MGMT_ROOT.
        tl.sh("ip", "link", "add", self.mg_root, "type", "veth", "peer", "name", self.mg_core)
        self.made = True
        tl.sh("ip", "addr", "add", MGMT_ROOT + "/30", "dev", self.mg_root)
        tl.sh("ip", "link", "set", self.mg_root, "up")

    def setup(self):
        super().setup()
        tl.sh("ip", "link", "set", self.mg_core, "netns", self.ns_c)
        tl.sh("ip", "-n", self.ns_c, "addr", "add", MGMT_CORE + "/30", "dev", self.mg_core)
        tl.sh("ip", "-n", self.ns_c, "link", "set", self.mg_core, "up")

    def cleanup(self):
        super().cleanup()
        tl.sh("ip", "link", "del", self.mg_root, check=False)

    def leftovers(self):
        left = [n for n in (self.ns_a, self.ns_c) if n in tl.sh("ip", "netns", "list").stdout]
        return left + [i for i in (self.tap_a, self.tap_c, self.mg_root)
                       if tl.sh("ip", "link", "show", i, check=False).returncode == 0]


class Kamailio:
    """Kamailio in the core namespace, in its own process group: stopped with every
    child even when the test fails."""

    def __init__(self, work, ns):
        self.work, self.ns, self.proc = work, ns, None
        self.log = os.path.join(work, "kamailio.log")

    def start(self):
        key, cert = os.path.join(self.work, "edge.key"), os.path.join(self.work, "edge.pem")
        tl.sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
              "-out", cert, "-days", "2", "-subj", "/CN=edge.example.com",
              "-addext", "subjectAltName=DNS:edge.example.com")
        tls_cfg = os.path.join(self.work, "tls.cfg")
        with open(tls_cfg, "w") as f:
            f.write("[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\n"
                    "require_certificate = no\nprivate_key = %s\ncertificate = %s\n\n"
                    "[client:default]\nmethod = TLSv1.2+\nverify_certificate = no\n"
                    "require_certificate = no\n" % (key, cert))
        rundir = os.path.join(self.work, "kamailio-run")
        os.mkdir(rundir)
        defs = {"EDGE_IP": CORE_IP, "TLS_PORT": TLS_PORT, "UDP_PORT": KAM_UDP_PORT,
                "CALL_AGENT": '"sip:%s:%d"' % (CORE_IP, UAS_PORT), "HEP_SRC_IP": MGMT_CORE,
                "HEP_SOCK": '"sip:%s:%d"' % (MGMT_CORE, KAM_UDP_PORT),
                "HEP_URI": '"sip:%s:%d"' % (MGMT_ROOT, HEP_PORT), "TLS_CFG": '"%s"' % tls_cfg,
                "HEP_AUTH_KEY": '"%s"' % HEP_AUTH_KEY}
        argv = ["ip", "netns", "exec", self.ns, "kamailio", "-DD", "-E", "-f",
                os.path.abspath(EXAMPLE), "-Y", rundir, "-P", os.path.join(rundir, "pid"),
                "-m", "64", "-M", "8"]
        for k, v in defs.items():
            argv += ["-A", "%s=%s" % (k, v)]
        out = open(self.log, "w")
        self.proc = subprocess.Popen(argv, cwd=self.work, stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return cert

    def stop(self):
        if self.proc is None:
            return None
        rc = self.proc.poll()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(5)
                # Children outlive the main process briefly: the group must be empty.
                deadline = time.time() + 5
                while time.time() < deadline:
                    os.killpg(self.proc.pid, 0)
                    time.sleep(0.05)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        self.proc = None
        return rc


# ------------------------------------------------------------------ HEP decoding


def hep_messages(pcap):
    """The HEPv3 packets to HEP_PORT in a capture: dicts with src, dst ("ip:port"),
    proto (the IP protocol chunk: 17 UDP, 6 TCP; Kamailio marks its
    TLS copies 22), ptype (1 SIP) and the payload."""
    out = tl.tshark(pcap, "-Y", "udp.dstport == %d && !icmp" % HEP_PORT, "-T", "fields", "-e",
                    "ip.src", "-e", "udp.payload", "-e", "frame.time_epoch")
    res = []
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 2 or not f[1]:
            continue
        b = bytes.fromhex(f[1].replace(":", ""))
        if b[:4] != b"HEP3":
            res.append({"bad": True})
            continue
        total = struct.unpack("!H", b[4:6])[0]
        m, off = {"from": f[0], "t": float(f[2])}, 6
        ch = {}
        while off + 6 <= min(total, len(b)):
            _, typ, ln = struct.unpack("!HHH", b[off:off + 6])
            if ln < 6:
                break
            ch[typ] = b[off + 6:off + ln]
            off += ln
        ip = lambda v: ".".join(str(x) for x in v) if len(v) == 4 else v.hex()  # noqa: E731
        port = lambda v: struct.unpack("!H", v)[0] if len(v) == 2 else -1  # noqa: E731
        m["src"] = "%s:%d" % (ip(ch.get(3, b"")), port(ch.get(7, b"")))
        m["dst"] = "%s:%d" % (ip(ch.get(4, b"")), port(ch.get(8, b"")))
        m["proto"] = ch.get(2, b"\0")[0]
        m["ptype"] = ch.get(11, b"\0")[0]
        m["payload"] = ch.get(15, b"").decode("latin-1")
        m["auth"] = ch.get(14, b"").decode("latin-1")
        res.append(m)
    return res


def first(p):
    return p.split("\r\n", 1)[0]


def cseq(p):
    for l in p.split("\r\n"):
        if l.lower().startswith("cseq:"):
            return l.split(":", 1)[1].strip()
    return ""


# ------------------------------------------------------------------ the case


def case_tls_handover(c, args, work, net, procs, daemon, hep):
    access_pcap = os.path.join(work, "access.pcapng")
    core_pcap = os.path.join(work, "core.pcapng")
    mgmt_pcap = os.path.join(work, "mgmt.pcapng")
    events = os.path.join(work, "events")
    go = os.path.join(work, "go")
    audio = os.path.join(work, "audio.alaw")
    with open(audio, "wb") as f:
        f.write(b"\xd5" * 8000)
    tl.start_capture(procs, net.ns_a, net.tap_a, access_pcap)
    tl.start_capture(procs, net.ns_c, net.tap_c, core_pcap)
    tl.start_capture(procs, None, net.mg_root, mgmt_pcap)

    kam = Kamailio(work, net.ns_c)
    procs.kamailio = kam
    cert = kam.start()
    ok = tl.wait_listen(net.ns_c, TLS_PORT, timeout=10)
    c.ok(ok, "Kamailio (examples/kamailio-tls) listens on TLS %d" % TLS_PORT,
         None if ok else open(kam.log).read()[-2000:])
    if not ok:
        return
    uas = procs.start("core-sipp", [
        "sipp", "-sf", os.path.join(HERE, "core_uas.xml"), "-t", "u1", "-i", CORE_IP, "-p",
        str(UAS_PORT), "-m", "1", "-mp", "21000", "-nd", "-timeout", "50", "-trace_err",
        "-error_file", "core-errors.log", "-trace_msg", "-message_file", "core-messages.log",
        "-set", "rtp_ip", CORE_IP, "-set", "rtp_port", str(CORE_RTP_PORT)], ns=net.ns_c)
    cid = "skhl-%s" % net.rid
    phone = procs.start("tlsphone", [
        "/usr/bin/python3", os.path.join(HERE, "tlsphone.py"), "--ip-old", IP_LTE,
        "--ip-new", IP_WIFI, "--edge", "%s:%d" % (CORE_IP, TLS_PORT), "--user", USER,
        "--domain", DOMAIN, "--callee", CALLEE, "--events", events, "--go-file", go,
        "--ca", cert, "--call-id", cid, "--tag", "ph-" + net.rid, "--rtp-port",
        str(RTP_PORT), "--talk-after", "2.5"], ns=net.ns_a)

    t_up = tl.wait_event(events, "callup", 15, phone)
    c.ok(t_up is not None, "the phone registered over TLS and its call is up",
         None if t_up else open(os.path.join(work, "tlsphone.out")).read()[-1500:])
    if t_up is None:
        return
    rtp_opts = ["--audio", audio, "--stop-file", os.path.join(work, "rtp.stop"),
                "--max-seconds", "40"]
    rtp_phone = procs.start("rtpphone-phone", [
        "/usr/bin/python3", os.path.join(DEMO_DIR, "rtpphone.py"), "--port", str(RTP_PORT),
        "--remote", "%s:%d" % (CORE_IP, CORE_RTP_PORT), "--log",
        os.path.join(work, "rtp-phone.log")] + rtp_opts, ns=net.ns_a)
    rtp_core = procs.start("rtpphone-core", [
        "/usr/bin/python3", os.path.join(DEMO_DIR, "rtpphone.py"), "--port",
        str(CORE_RTP_PORT), "--remote", "%s:%d" % (IP_LTE, RTP_PORT), "--ssrc", "0x0CA11A6E",
        "--log", os.path.join(work, "rtp-core.log")] + rtp_opts, ns=net.ns_c)
    time.sleep(2.0)
    net.lose_lte()
    t_lost = time.time()
    time.sleep(1.0)
    net.gain_wifi()
    open(go, "w").close()
    t_rereg = tl.wait_event(events, "reregistered", 10, phone)
    c.ok(t_rereg is not None and t_rereg - t_lost < WINDOW_MS / 1000,
         "re-registered over a new TLS connection from %s within the window (%s s)"
         % (IP_WIFI, "%.2f" % (t_rereg - t_lost) if t_rereg else "never"))
    users = None
    if t_rereg is not None:
        time.sleep(0.5)
        users = tl.show_users(daemon)
    phone_rc = procs.wait(phone, 20)
    open(os.path.join(work, "rtp.stop"), "w").close()
    uas_rc = procs.wait(uas, 10)
    procs.wait(rtp_phone, 5)
    procs.wait(rtp_core, 5)
    c.eq(phone_rc, 0, "the TLS phone: every step answered 2xx, the BYE too (exit 0)")
    c.ok(tl.wait_event(events, "byeok", 0) is not None,
         "the BYE on the new connection answered 200")
    c.eq(uas_rc, 0, "the call agent's sipp: INVITE, ACK, BYE done (exit 0)")
    with open(os.path.join(work, "show-users.json"), "w") as f:
        json.dump(users, f)
    stats = tl.stop_daemon(c, daemon, work) if hep else None
    kam_rc = kam.stop()
    c.eq(kam_rc, None, "Kamailio ran until the end")
    time.sleep(0.5)  # dumpcap drops what it has not read yet when stopped
    procs.stop_all()

    # The mirror: Kamailio sent HEPv3 with the decrypted messages, real addresses.
    heps = hep_messages(mgmt_pcap)
    c.ok(heps and all(not m.get("bad") and m["from"] == MGMT_CORE for m in heps),
         "every packet to %s:%d is HEPv3 from %s (%d)" % (MGMT_ROOT, HEP_PORT, MGMT_CORE,
                                                          len(heps)))
    c.ok(all(m.get("auth") == HEP_AUTH_KEY for m in heps),
         "every HEP packet carries the auth key chunk (siptrace auth_key)")
    edge = "%s:%d" % (CORE_IP, TLS_PORT)
    for ip, cs in ((IP_LTE, "1 REGISTER"), (IP_WIFI, "2 REGISTER")):
        reg = [m for m in heps if m.get("dst") == edge and m["src"].startswith(ip + ":")
               and first(m["payload"]).startswith("REGISTER ") and cseq(m["payload"]) == cs
               and "X-cisco-sessionpersist" in m["payload"] and m["ptype"] == 1
               and m["proto"] == 22]
        ok200 = [m for m in heps if m.get("src") == edge and m["dst"].startswith(ip + ":")
                 and first(m["payload"]).startswith("SIP/2.0 200") and cseq(m["payload"]) == cs]
        c.ok(len(reg) >= 1 and len(ok200) >= 1,
             "HEP: the REGISTER (CSeq %s) received over TLS (protocol 22) from %s and its "
             "200 sent back"
             % (cs, ip), [(m.get("src"), m.get("dst"), first(m.get("payload", "")))
                          for m in heps][:12])
    inv = [m for m in heps if m.get("dst") == edge and first(m["payload"]).startswith("INVITE")
           and ("c=IN IP4 " + IP_LTE) in m["payload"]]
    c.ok(len(inv) >= 1, "HEP: the INVITE with the phone's SDP (c=%s)" % IP_LTE)

    # TLS: only records on sipkeep's ports, the same bytes on both sides.
    def tls_bytes(pcap):
        fr = [x for x in tl.frames(pcap) if x.proto == "tcp" and TLS_PORT in (x.sport, x.dport)]
        return sorted((x.src, x.sport, x.dst, x.dport, x.payload) for x in fr if x.payload)
    ta, tc = tls_bytes(access_pcap), tls_bytes(core_pcap)
    c.ok(len(ta) > 10 and ta == tc, "the TLS records pass sipkeep untouched (%d segments "
         "with data each side, identical)" % len(ta))
    c.ok(not any(b"SIP/2.0" in p[4] for p in ta), "no clear SIP on the TLS connections")

    if not hep:
        rx = sum(1 for l in open(os.path.join(work, "rtp-core.log")) if l.startswith("rx "))
        c.ok(rx > 25, "media through sipkeep's ports before the move (%d RTP at the call "
             "agent)" % rx)
        return
    commits = [m["t"] for m in heps if m.get("src") == edge
               and m["dst"].startswith(IP_WIFI + ":") and cseq(m["payload"]) == "2 REGISTER"
               and first(m["payload"]).startswith("SIP/2.0 200")]
    t_commit = commits[0] if commits else None  # when the mirrored 200 reached sipkeep
    c.ok(t_commit is not None, "the re-REGISTER's 200 was mirrored")
    if t_commit is not None:
        down_wifi = tl.rtp_packets(access_pcap, src=CORE_IP, sport=CORE_RTP_PORT, dst=IP_WIFI)
        if down_wifi:
            # Not a benchmark (one sample, a loaded machine): the delay from the mirrored
            # 200 to the first downlink packet on the new address, for the log.
            tl.note("mirrored 200 OK to the first RTP at %s: %.1f ms" % (
                IP_WIFI, (down_wifi[0][0] - t_commit) * 1000))
        c.ok(len([p for p in down_wifi if p[0] > t_commit]) > 25,
             "access side: RTP from the call agent to %s after the commit (%d packets)"
             % (IP_WIFI, len(down_wifi)))
        up_old = tl.rtp_packets(core_pcap, dst=CORE_IP, dport=CORE_RTP_PORT, src=IP_LTE)
        up_new = tl.rtp_packets(core_pcap, dst=CORE_IP, dport=CORE_RTP_PORT, src=IP_WIFI)
        after = t_commit + 0.3
        c.ok(len([p for p in up_old if p[0] > after]) > 25,
             "core side: the phone's RTP still comes from %s after the commit" % IP_LTE)
        c.eq(len([p for p in up_new if p[0] > after]), 0,
             "core side: no RTP from %s after the commit" % IP_WIFI)
    rx_wifi = sum(1 for l in open(os.path.join(work, "rtp-phone.log"))
                  if l.startswith("rx ") and l.split()[2] == IP_WIFI)
    c.ok(rx_wifi > 25, "the phone received %d RTP packets on its new address" % rx_wifi)
    u = tl.find_user(users)
    c.ok(u is not None and u.get("source") == "hep" and u.get("transport") == "tls"
         and IP_WIFI in json.dumps(u),
         "show users: %s learned from hep, transport tls, at %s" % (USER, IP_WIFI), users)
    ctr = tl.counters(stats)
    tl.ctr_ok(c, ctr, "handovers_committed", lambda v: v == 1, "= 1")
    tl.ctr_ok(c, ctr, "registrations_committed", lambda v: v == 2, "= 2 (both addresses)")
    tl.ctr_ok(c, ctr, "rtp_rewritten_downlink", lambda v: v > 25, "> 25")
    tl.ctr_ok(c, ctr, "rtp_rewritten_uplink", lambda v: v > 25, "> 25")
    tl.ctr_ok(c, ctr, "dialogs_created", lambda v: v == 1, "= 1")
    tl.ctr_ok(c, ctr, "dialogs_ended", lambda v: v == 1, "= 1 (the BYE, mirrored)")
    # Kamailio mirrors both legs: the TLS leg (phone and edge) is applied; the UDP leg
    # (edge and call agent, both in the core) has no access side and is ignored.
    access = lambda a: a.startswith("10.")  # noqa: E731 - ACCESS_NET, 10.0.0.0/8
    phone_leg = [m for m in heps if access(m["src"]) != access(m["dst"])]
    tl.ctr_ok(c, ctr, "hep_frames", lambda v: v == len(heps),
              "= %d (every HEP packet Kamailio sent)" % len(heps))
    tl.ctr_ok(c, ctr, "hep_applied", lambda v: v == len(phone_leg),
              "= %d (the phone's leg)" % len(phone_leg))
    tl.ctr_ok(c, ctr, "hep_side_unknown", lambda v: v == len(heps) - len(phone_leg),
              "= %d (the call agent's leg: core to core)" % (len(heps) - len(phone_leg)))
    for name in ("hep_source_refused", "hep_auth_refused", "hep_sip_parse_errors",
                 "hep_bad_length", "hep_truncated", "sip_messages", "tcp_messages"):
        tl.ctr_ok(c, ctr, name, lambda v: v == 0, "= 0 (no SIP in clear on the wire)"
                  if name in ("sip_messages", "tcp_messages") else "= 0")


CASES = {"hep_tls_handover": case_tls_handover}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sipkeep", required=True)
    ap.add_argument("--sipkeepctl")
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    prerequisites()
    hep = sipkeep_has_hep(args.sipkeep)

    rid = os.urandom(3).hex()
    c = Check(args.case)
    work = tempfile.mkdtemp(prefix="sktest-heplive-%s-" % args.case)
    os.chmod(work, 0o755)
    net = HepNet(rid)
    procs = tl.Procs(work)
    procs.kamailio = None
    extra = ("hep_listen = %s:%d\nhep_sources = %s/32\nhep_auth_key = %s\n"
             % (MGMT_ROOT, HEP_PORT, MGMT_CORE, HEP_AUTH_KEY) if hep else "")
    daemon = Daemon.with_socket(os.path.abspath(args.sipkeep), args.sipkeepctl,
                                "hl" + rid, vdevs=net.vdevs(),
                                cfg_extra=tl.sipkeep_config(work, extra))
    t0 = time.time()
    # meson's timeout sends SIGTERM: unwind through the cleanup below (Kamailio, peers,
    # namespaces) instead of dying with them left running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("SIGTERM"))
    try:
        net.setup_mgmt()
        checks.print_ok = False
        daemon.start()
        checks.print_ok = True
        net.setup()
        CASES[args.case](c, args, work, net, procs, daemon, hep)
    except Exception as e:  # noqa: BLE001 - a setup error is a failed check, with cleanup
        c.ok(False, "the run itself: %s: %s" % (type(e).__name__, e))
    finally:
        if procs.kamailio is not None:
            procs.kamailio.stop()
        procs.stop_all()
        if daemon.proc is not None and daemon.alive():
            daemon.stop(timeout=30)
        daemon.cleanup()
        net.cleanup()
        c.eq(net.leftovers(), [], "nothing left behind (namespaces, TAP and veth interfaces)")
        tl.note("%.1f s" % (time.time() - t0))
        if args.keep or c.failures:
            c.keep_dirs.append(work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if not hep and not c.failures:
        tl.skip("the pieces pass, but this sipkeep has no HEP listener (hep_listen): "
                "the handover from the mirror is not checked")
    c.done()


if __name__ == "__main__":
    main()
