# SPDX-License-Identifier: BSD-3-Clause
"""The HEP listener on a running daemon (net_null ports): HEPv3 over UDP and over TCP
(a frame cut across two writes) registers TLS users, shown with "source": "hep" and
"transport": "tls"; a sender outside hep_sources, a cut datagram and a TCP stream that
is no HEP are refused and counted, and the daemon stays up and exits cleanly."""

import socket
import time

from sktest.checks import check
from sktest.daemon import Daemon, main
from sktest.hepscen import hep3

EDGE = "192.0.2.10"


def register_pair(user, ip, port, cseq=1):
    def msg(first, to_tag=""):
        return "\r\n".join([first, "Via: SIP/2.0/TLS %s:%d;branch=z9hG4bK-%s;rport" % (ip, port, user),
                            "From: <sip:%s@example.com>;tag=f" % user,
                            "To: <sip:%s@example.com>%s" % (user, to_tag), "Call-ID: reg-%s" % user,
                            "CSeq: %d REGISTER" % cseq,
                            "Contact: <sip:%s@%s:%d;transport=tls>" % (user, ip, port), "Expires: 3600",
                            "Content-Length: 0", "", ""]).encode()
    return (hep3(ip, port, EDGE, 5061, msg("REGISTER sip:example.com SIP/2.0")),
            hep3(EDGE, 5061, ip, port, msg("SIP/2.0 200 OK", ";tag=r")))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t.bind(("127.0.0.1", port))
        return port


def wait_for(d, pred, what, timeout=20):
    deadline = time.time() + timeout
    while True:
        v = d.request("show stats")["counters"]
        if pred(v):
            return v
        check(time.time() < deadline, "%s: %r" % (what, {k: x for k, x in v.items() if k.startswith("hep")}))
        time.sleep(0.1)


def run(sipkeep, sipkeepctl):
    port = free_port()
    d = Daemon.with_socket(sipkeep, sipkeepctl, "hep",
                           cfg_extra="access_prefixes = 10.0.0.0/8\nhep_listen = 127.0.0.1:%d\n"
                                     "hep_sources = 127.0.0.1/32\n" % port)
    try:
        d.start()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for frame in register_pair("alice", "10.1.0.5", 40001):
            u.sendto(frame, ("127.0.0.1", port))
        wait_for(d, lambda c: c["hep_applied"] == 2, "alice's pair applied over UDP")
        t = socket.create_connection(("127.0.0.1", port))
        reg, ok = register_pair("bob", "10.1.0.6", 40002)
        t.sendall(reg[:20])
        time.sleep(0.3)
        t.sendall(reg[20:] + ok)
        c = wait_for(d, lambda c: c["hep_applied"] == 4, "bob's pair applied over TCP")
        check(c["registrations_committed"] == 2, "both REGISTERs committed")
        users = {x["aor"]: x for x in d.request("show users")["users"]}
        for aor, contact in (("alice@example.com", "10.1.0.5:40001"), ("bob@example.com", "10.1.0.6:40002")):
            x = users.get(aor, {})
            check(x.get("source") == "hep" and x.get("transport") == "tls",
                  "%s learned from HEP over TLS: %r" % (aor, x))
            check(x.get("contact", "").endswith(contact), "%s's contact is its TLS connection: %r" % (aor, x))
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.bind(("127.0.0.2", 0))
        other.sendto(register_pair("mallory", "10.66.0.9", 40009)[0], ("127.0.0.1", port))
        u.sendto(b"HEP3\x00", ("127.0.0.1", port))
        c = wait_for(d, lambda c: c["hep_source_refused"] == 1 and c["hep_truncated"] == 1,
                     "the outsider and the cut datagram counted")
        bad = socket.create_connection(("127.0.0.1", port))
        bad.sendall(b"GET / HTTP/1.0\r\n\r\n")
        bad.settimeout(10)
        check(bad.recv(100) == b"", "a stream that is no HEP is closed")
        c = wait_for(d, lambda c: c["hep_tcp_closed_bad"] == 1, "the bad stream counted")
        check(c["hep_applied"] == 4 and c["registrations_committed"] == 2, "nothing else applied")
        for s in (u, t, other, bad):
            s.close()
        final = d.stop_clean()
        check(final["counters"]["hep_frames"] == 6, "6 HEP frames in all, the bad stream none (%d)" % final["counters"]["hep_frames"])
    finally:
        d.cleanup()


if __name__ == "__main__":
    main(run)
