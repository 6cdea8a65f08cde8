# SPDX-License-Identifier: BSD-3-Clause
"""show tables on a running daemon (net_pcap ports): capacities follow the config, and
the in-use counts follow what came in: two users registered (REGISTER on access, 200 OK
on core, read in the same poll as in test_users.py) and a third REGISTER still waiting
for its answer. The same reply over DPDK telemetry (/sipkeep/tables), and sipkeepctl
prints it as a table."""

import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from scapy.all import IP, TCP, UDP, Ether, Raw, wrpcap

from sktest.checks import check
from sktest.daemon import Daemon, main
from test_telemetry import find_script, telemetry

REGISTRAR = "192.0.2.10"
CONFIG = {
    "max_users": 1000,
    "max_pending_registers": 500,
    "max_dialogs": 300,
    "max_streams": 200,
    "frag_max_flows": 64,
    "tcp_max_streams": 128,
    "tcp_buffers": 16,
    "tcp_buffer_bytes": 4096,
    # erin's cut REGISTER keeps its buffer for the whole test
    "tcp_hole_timeout_ms": 600000,
}


def message(first, ip, user, to_tag=""):
    hdrs = [first,
            "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s;rport" % (ip, user),
            "From: <sip:%s@example.com>;tag=f-%s" % (user, user),
            "To: <sip:%s@example.com>%s" % (user, to_tag),
            "Call-ID: reg-%s" % user, "CSeq: 1 REGISTER",
            "Contact: <sip:%s@%s:5060>" % (user, ip),
            "Expires: 3600", "Content-Length: 0", "", ""]
    return "\r\n".join(hdrs).encode()


def frames():
    eth_a = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    eth_c = Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01")
    access, core = [], []
    for user, ip in (("bob", "10.1.0.6"), ("carol", "10.1.0.7"), ("dave", "10.1.0.8")):
        access.append(eth_a / IP(src=ip, dst=REGISTRAR) / UDP(sport=5060, dport=5060)
                      / Raw(message("REGISTER sip:example.com SIP/2.0", ip, user)))
        if user != "dave":  # dave's REGISTER stays pending
            core.append(eth_c / IP(src=REGISTRAR, dst=ip) / UDP(sport=5060, dport=5060)
                        / Raw(message("SIP/2.0 200 OK", ip, user, ";tag=r")))
    # erin over TCP: the handshake opens both directions; her REGISTER stops half way,
    # so its first half waits in one of the worker's TCP buffers.
    erin = message("REGISTER sip:example.com SIP/2.0", "10.1.0.9", "erin")
    access.append(eth_a / IP(src="10.1.0.9", dst=REGISTRAR) / TCP(sport=40009, dport=5060, flags="S", seq=99))
    access.append(eth_a / IP(src="10.1.0.9", dst=REGISTRAR)
                  / TCP(sport=40009, dport=5060, flags="PA", seq=100, ack=501) / Raw(erin[:60]))
    core.append(eth_c / IP(src=REGISTRAR, dst="10.1.0.9") / TCP(sport=5060, dport=40009, flags="SA", seq=500, ack=100))
    return access, core


def by_name(reply):
    tables = reply.get("tables")
    if isinstance(tables, dict):  # telemetry's form of an array of objects: "0", "1", ...
        tables = [tables[k] for k in sorted(tables, key=int)]
    check(isinstance(tables, list), "a tables array: %r" % reply)
    return {t["name"]: t for t in tables}


def check_tables(tables, workers, what):
    want_cap = {
        "users": CONFIG["max_users"],
        "pending_registrations": CONFIG["max_pending_registers"],
        "dialogs": CONFIG["max_dialogs"],
        "media_flows": 2 * CONFIG["max_streams"],
        "ip_reassembly": workers * CONFIG["frag_max_flows"],
        "tcp_streams": workers * CONFIG["tcp_max_streams"],
        "tcp_buffers": workers * CONFIG["tcp_buffers"],
    }
    for name, cap in want_cap.items():
        check(name in tables, "%s: table %s listed: %r" % (what, name, sorted(tables)))
        check(tables[name]["capacity"] == cap, "%s: %s capacity %r, config says %d"
              % (what, name, tables[name]["capacity"], cap))
    want_use = {"users": 2, "pending_registrations": 1, "dialogs": 0, "media_flows": 0,
                "tcp_streams": 2, "tcp_buffers": 1}
    for name, n in want_use.items():
        check(tables[name]["in_use"] == n, "%s: %s in_use %r, expected %d"
              % (what, name, tables[name].get("in_use"), n))
    c = tables["contacts"]
    check(2 <= c["in_use"] <= c["capacity"] and c["capacity"] >= CONFIG["max_users"],
          "%s: contacts in use for the two users: %r" % (what, c))
    check(tables["tcp_buffers"]["bytes"] == workers * CONFIG["tcp_buffers"]
          * CONFIG["tcp_buffer_bytes"], "%s: tcp_buffers bytes %r" % (what, tables["tcp_buffers"]))
    for t in tables.values():
        check("bytes" not in t or t["bytes"] > 0, "%s: %s bytes > 0: %r" % (what, t["name"], t))


def run(sipkeep, sipkeepctl):
    cfg = "access_prefixes = 10.0.0.0/8\n" + "".join("%s = %d\n" % kv for kv in CONFIG.items())
    d = Daemon.with_socket(sipkeep, sipkeepctl, "tables", vdevs=[], cfg_extra=cfg)
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
            st = d.request("show stats")["counters"]
            reply = d.request("show tables")
            pending = {t["name"]: t for t in reply.get("tables", [])}.get(
                "pending_registrations", {}).get("in_use")
            if (users.get("users_active") == 2 and st.get("sip_messages", 0) >= 5 and pending
                    and st.get("frames_tcp_sip", 0) >= 3):
                break
            check(time.time() < deadline, "two users registered, one pending: %r %r %r"
                  % (users, st.get("sip_messages"), reply))
            time.sleep(0.1)

        check(reply.get("ok"), "show tables answers: %r" % reply)
        workers = reply["workers"]
        check(workers >= 1, "workers %r" % workers)
        tables = by_name(reply)
        check(tables["users"]["in_use"] == users["users_active"],
              "users in_use %r == show users' users_active %r"
              % (tables["users"]["in_use"], users["users_active"]))
        check_tables(tables, workers, "socket")
        check_tables(by_name(d.ctl_json("show", "tables")), workers, "sipkeepctl --json")

        r = d.ctl("show", "tables")
        check(r.returncode == 0, "sipkeepctl show tables: rc %d %r" % (r.returncode, r.stderr))
        lines = r.stdout.splitlines()
        check(lines and lines[0].split()[:4] == ["NAME", "CAPACITY", "IN_USE", "BYTES"],
              "sipkeepctl prints a table with a header: %r" % r.stdout[:300])
        row = next((l.split() for l in lines if l.startswith("users ")), None)
        check(row is not None and row[1:3] == ["1000", "2"], "users row: %r" % r.stdout)

        script = find_script()
        if script is None:
            print("note: dpdk-telemetry.py not found, /sipkeep/tables not checked")
        else:
            tel = telemetry(script, d.prefix, ["/", "/sipkeep/tables"])
            check("/sipkeep/tables" in tel["/"], "/sipkeep/tables registered: %r" % tel["/"])
            check_tables(by_name(tel["/sipkeep/tables"]), workers, "telemetry")
        d.stop_clean()
    finally:
        d.cleanup()


if __name__ == "__main__":
    main(run)
