# SPDX-License-Identifier: BSD-3-Clause
"""show users on a running daemon (net_pcap ports): users that registered over TCP and
over UDP are listed with the transport of their committed REGISTER.

The REGISTERs come in on access and the registrar's 200 OKs on core, read in the same
poll: the worker takes the access burst first, so each REGISTER is pending before its
answer arrives. The TCP REGISTER is cut into two segments after a SYN."""

import os
import time

from scapy.all import IP, TCP, UDP, Ether, Raw, wrpcap

from sktest.checks import check
from sktest.daemon import Daemon, check_frames, main

PHONE_TCP, PHONE_UDP, REGISTRAR = "10.1.0.5", "10.1.0.6", "192.0.2.10"


def message(first, transport, ip, port, user, cseq, to_tag=""):
    hdrs = [first,
            "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK-%s-%d;rport" % (transport, ip, port, user, cseq),
            "From: <sip:%s@example.com>;tag=f-%s" % (user, user),
            "To: <sip:%s@example.com>%s" % (user, to_tag),
            "Call-ID: reg-%s" % user, "CSeq: %d REGISTER" % cseq,
            "Contact: <sip:%s@%s:%d;transport=%s>;+sip.instance=\"<urn:uuid:%s>\""
            % (user, ip, port, transport.lower(), user),
            "Expires: 3600", "Supported: X-cisco-sessionpersist",
            "User-Agent: Cisco-CP8865/14.1.1", "Content-Length: 0", "", ""]
    return "\r\n".join(hdrs).encode()


def frames():
    eth_a = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    eth_c = Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01")
    reg_tcp = message("REGISTER sip:example.com SIP/2.0", "TCP", PHONE_TCP, 40001, "alice", 1)
    ok_tcp = message("SIP/2.0 200 OK", "TCP", PHONE_TCP, 40001, "alice", 1, ";tag=r")
    reg_udp = message("REGISTER sip:example.com SIP/2.0", "UDP", PHONE_UDP, 5060, "bob", 1)
    ok_udp = message("SIP/2.0 200 OK", "UDP", PHONE_UDP, 5060, "bob", 1, ";tag=r")
    tcp_a = eth_a / IP(src=PHONE_TCP, dst=REGISTRAR)
    tcp_c = eth_c / IP(src=REGISTRAR, dst=PHONE_TCP)
    access = [tcp_a / TCP(sport=40001, dport=5060, flags="S", seq=999),
              tcp_a / TCP(sport=40001, dport=5060, flags="PA", seq=1000, ack=5001) / Raw(reg_tcp[:200]),
              tcp_a / TCP(sport=40001, dport=5060, flags="PA", seq=1200, ack=5001) / Raw(reg_tcp[200:]),
              eth_a / IP(src=PHONE_UDP, dst=REGISTRAR) / UDP(sport=5060, dport=5060) / Raw(reg_udp)]
    core = [tcp_c / TCP(sport=5060, dport=40001, flags="SA", seq=5000, ack=1000),
            tcp_c / TCP(sport=5060, dport=40001, flags="PA", seq=5001, ack=1000 + len(reg_tcp)) / Raw(ok_tcp),
            eth_c / IP(src=REGISTRAR, dst=PHONE_UDP) / UDP(sport=5060, dport=5060) / Raw(ok_udp)]
    return access, core


def run(sipkeep, sipkeepctl):
    d = Daemon.with_socket(sipkeep, sipkeepctl, "users", vdevs=[],
                           cfg_extra="access_prefixes = 10.0.0.0/8\n")
    try:
        access, core = frames()
        a_in, c_in = os.path.join(d.tmp, "access-in.pcap"), os.path.join(d.tmp, "core-in.pcap")
        wrpcap(a_in, access)
        wrpcap(c_in, core)
        d.vdevs = ["net_pcap0,rx_pcap=%s,tx_pcap=%s" % (a_in, os.path.join(d.tmp, "a-out.pcap")),
                   "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (c_in, os.path.join(d.tmp, "c-out.pcap"))]
        d.start()
        deadline = time.time() + 30
        while True:
            users = d.request("show users")
            if users.get("users_active") == 2:
                break
            check(time.time() < deadline, "both users registered: %r" % users)
            time.sleep(0.1)
        by_aor = {u["aor"]: u for u in users["users"]}
        check(by_aor["alice@example.com"]["transport"] == "tcp",
              "alice registered over TCP: %r" % by_aor["alice@example.com"])
        check(by_aor["bob@example.com"]["transport"] == "udp",
              "bob registered over UDP: %r" % by_aor["bob@example.com"])
        check(by_aor["alice@example.com"]["contact"].endswith(":40001"),
              "alice's contact is her connection's address: %r" % by_aor["alice@example.com"]["contact"])
        st = d.request("show stats")["counters"]
        check(st["tcp_messages"] == 2 and st["frames_tcp_sip"] == 5,
              "2 messages framed from 5 TCP segments: %r" % {k: v for k, v in st.items() if "tcp" in k})
        final = d.stop_clean()
        check_frames(final, no_drops=True)
    finally:
        d.cleanup()


if __name__ == "__main__":
    main(run)
