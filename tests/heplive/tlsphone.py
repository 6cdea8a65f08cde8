#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A SIP phone over TLS for tests/heplive (sipp in Debian has no TLS).

It registers (X-cisco-sessionpersist, +sip.instance) over one TLS connection from
--ip-old, calls --callee and ACKs the 200 along its Record-Route set, then says
"callup" in the events file. When --go-file appears (the test has moved the phone's
address), it opens a NEW TLS connection from --ip-new, re-registers there (same
Call-ID and instance, next CSeq), says "reregistered", talks --talk-after seconds,
hangs up on the new connection and says "byeok" when the BYE is answered. The old
connection is never closed before that: a lost network leaves it so.

The server certificate is verified against --ca (the test's own certificate).
Exit 0 when every step got its 2xx, 1 otherwise (the reason on stderr).
"""
import argparse
import os
import socket
import ssl
import sys
import time


def event(path, name):
    with open(path, "a") as f:
        f.write("%s %.6f\n" % (name, time.time()))


class Conn:
    def __init__(self, ctx, local_ip, local_port, edge):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        raw.bind((local_ip, local_port))
        raw.settimeout(15)
        raw.connect(edge)
        self.s = ctx.wrap_socket(raw, server_hostname="edge.example.com")
        self.local = (local_ip, self.s.getsockname()[1])
        self.buf = b""

    def send(self, msg):
        self.s.sendall(msg.encode())

    def recv(self):
        """The next SIP message: (first line, headers as (name, value) list, body)."""
        while b"\r\n\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise RuntimeError("the edge closed the TLS connection")
            self.buf += d
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        hdrs = [(k.strip().lower(), v.strip()) for k, v in
                (l.split(":", 1) for l in lines[1:] if ":" in l)]
        clen = int(dict(hdrs).get("content-length", "0"))
        while len(rest) < clen:
            d = self.s.recv(65536)
            if not d:
                raise RuntimeError("the edge closed the TLS connection mid-body")
            rest += d
        self.buf = rest[clen:]
        return lines[0], hdrs, rest[:clen]

    def final(self, cseq):
        """The final response to the request with CSeq CSEQ (skipping 1xx)."""
        while True:
            first, hdrs, body = self.recv()
            d = dict(hdrs)
            if first.startswith("SIP/2.0 ") and d.get("cseq") == cseq:
                code = int(first.split()[1])
                if code >= 200:
                    return code, hdrs, body


def request(conn, a, method, ruri, cseq, tag, call_id, extra="", body="", to_tag=None,
            routes=()):
    lip, lport = conn.local
    msg = ["%s %s SIP/2.0" % (method, ruri),
           "Via: SIP/2.0/TLS %s:%d;branch=z9hG4bK%s;rport" % (lip, lport, os.urandom(6).hex()),
           "Max-Forwards: 70"]
    msg += ["Route: %s" % r for r in routes]
    to = "<sip:%s@%s>" % (a.user if method == "REGISTER" else a.callee, a.domain)
    msg += ["From: <sip:%s@%s>;tag=%s" % (a.user, a.domain, tag),
            "To: %s%s" % (to, ";tag=" + to_tag if to_tag else ""),
            "Call-ID: %s" % call_id, "CSeq: %s" % cseq,
            "User-Agent: Cisco-CP8865/14.2.1 (sipkeep heplive)"]
    if extra:
        msg.append(extra)
    if body:
        msg.append("Content-Type: application/sdp")
    msg.append("Content-Length: %d" % len(body.encode()))
    conn.send("\r\n".join(msg) + "\r\n\r\n" + body)


def register(conn, a, cseq):
    lip, lport = conn.local
    extra = ("Contact: <sip:%s@%s:%d;transport=tls>;+sip.instance=\"<urn:uuid:%s>\"\r\n"
             "Supported: replaces,X-cisco-sessionpersist\r\nExpires: 3600"
             % (a.user, lip, lport, a.instance))
    request(conn, a, "REGISTER", "sip:%s" % a.domain, "%d REGISTER" % cseq, a.tag + "-r",
            "reg-" + a.call_id, extra)
    code, _, _ = conn.final("%d REGISTER" % cseq)
    if code != 200:
        raise RuntimeError("REGISTER CSeq %d answered %d" % (cseq, code))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for k in ("ip-old", "ip-new", "edge", "user", "domain", "callee", "events", "go-file",
              "ca", "call-id", "tag"):
        ap.add_argument("--" + k, required=True)
    ap.add_argument("--port-old", type=int, default=5071)
    ap.add_argument("--port-new", type=int, default=5073)
    ap.add_argument("--rtp-port", type=int, default=16384)
    ap.add_argument("--instance", default="00000000-0000-0000-0000-00aabbccdd14")
    ap.add_argument("--talk-after", type=float, default=2.5)
    ap.add_argument("--go-timeout", type=float, default=30)
    a = ap.parse_args()
    host, port = a.edge.rsplit(":", 1)
    edge = (host, int(port))
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.check_hostname = True
    try:
        c1 = Conn(ctx, a.ip_old, a.port_old, edge)
        register(c1, a, 1)
        event(a.events, "registered")
        lip, lport = c1.local
        sdp = ("v=0\r\no=Cisco-SIPUA 1 1 IN IP4 %s\r\ns=SIP Call\r\nc=IN IP4 %s\r\nt=0 0\r\n"
               "m=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n"
               % (lip, lip, a.rtp_port))
        contact = "Contact: <sip:%s@%s:%d;transport=tls>\r\nSupported: X-cisco-sessionpersist" % (
            a.user, lip, lport)
        request(c1, a, "INVITE", "sip:%s@%s" % (a.callee, a.domain), "101 INVITE", a.tag,
                a.call_id, contact, sdp)
        code, hdrs, _ = c1.final("101 INVITE")
        if code != 200:
            raise RuntimeError("INVITE answered %d" % code)
        to_tag = [v for k, v in hdrs if k == "to"][0].split(";tag=")[1].split(";")[0]
        rr = [r.strip() for k, v in hdrs if k == "record-route" for r in v.split(",")]
        routes = list(reversed(rr))
        remote = [v for k, v in hdrs if k == "contact"][0]
        remote = remote[remote.index("<") + 1:remote.index(">")]
        request(c1, a, "ACK", remote, "101 ACK", a.tag, a.call_id, to_tag=to_tag, routes=routes)
        event(a.events, "callup")

        deadline = time.time() + a.go_timeout
        while not os.path.exists(a.go_file):
            if time.time() > deadline:
                raise RuntimeError("no go file")
            time.sleep(0.02)
        c2 = Conn(ctx, a.ip_new, a.port_new, edge)
        register(c2, a, 2)
        event(a.events, "reregistered")
        time.sleep(a.talk_after)
        request(c2, a, "BYE", remote, "102 BYE", a.tag, a.call_id, to_tag=to_tag, routes=routes)
        code, _, _ = c2.final("102 BYE")
        if code != 200:
            raise RuntimeError("BYE answered %d" % code)
        event(a.events, "byeok")
        c2.s.close()
    except (OSError, RuntimeError, ValueError, IndexError, ssl.SSLError) as e:
        print("tlsphone: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
