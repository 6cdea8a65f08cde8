#!/usr/bin/python3
"""The phone's media engine for the handover demo: G.711 A-law RTP both ways.

Why not sipp's rtp_stream on the phone: sipp connect()s its RTP socket to the
far end, which pins the socket's source address to the one the kernel chose at
that moment (the LTE address), and it closes the socket for good on the first
send error (rtpstream.cpp: anything but EAGAIN/EINTR). Once the LTE address is
gone the phone's uplink would be dead. A phone's media engine does what this
one does: one socket bound to 0.0.0.0:PORT, sendto() every 20 ms (the kernel
picks the source address of the moment), send errors while there is no network
counted and ignored, and every packet received is logged with the local address
it arrived on (IP_PKTINFO).

Usage: rtpphone.py --port P --remote IP:PORT --audio FILE --log FILE
                   [--ssrc N] [--max-seconds S] [--stop-file FILE]
Log lines: "rx TIME LOCAL_IP SRC_IP:SRC_PORT SEQ SSRC", "tx TIME ok|ERRNO SEQ"
(only send errors and every 50th send are logged), "end ..." with totals.
"""
import argparse
import errno
import os
import socket
import struct
import sys
import time

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--remote", required=True)
    ap.add_argument("--audio", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ssrc", type=lambda s: int(s, 0), default=0x5EE9CAFE)
    ap.add_argument("--pt", type=int, default=8)
    ap.add_argument("--max-seconds", type=float, default=120.0)
    ap.add_argument("--stop-file")
    a = ap.parse_args()

    rip, rport = a.remote.rsplit(":", 1)
    remote = (rip, int(rport))
    with open(a.audio, "rb") as f:
        audio = f.read()
    if len(audio) < 160:
        audio = audio + b"\xd5" * (160 - len(audio))

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    s.bind(("0.0.0.0", a.port))
    s.setblocking(False)
    log = open(a.log, "a", buffering=1)
    log.write("start %.6f port %d remote %s:%d ssrc 0x%08x\n" % (time.time(), a.port, remote[0], remote[1], a.ssrc))

    seq, ts, off = 1, 0, 0
    sent = errors = received = 0
    t0 = time.monotonic()
    next_send = t0
    while True:
        now = time.monotonic()
        if now - t0 > a.max_seconds or (a.stop_file and os.path.exists(a.stop_file)):
            break
        if now >= next_send:
            chunk = audio[off:off + 160]
            if len(chunk) < 160:
                off = 160 - len(chunk)
                chunk += audio[:off]
            else:
                off += 160
            pkt = struct.pack("!BBHII", 0x80, a.pt, seq & 0xFFFF, ts & 0xFFFFFFFF, a.ssrc) + chunk
            try:
                s.sendto(pkt, remote)
                sent += 1
                if sent % 50 == 1:
                    log.write("tx %.6f ok %d\n" % (time.time(), seq))
            except OSError as e:
                errors += 1
                log.write("tx %.6f %s %d\n" % (time.time(), errno.errorcode.get(e.errno, str(e.errno)), seq))
            seq += 1
            ts += 160
            next_send += 0.020
            if next_send < now - 0.2:  # far behind (stopped, overloaded): do not burst
                next_send = now + 0.020
        # Receive whatever arrived, until the next send is due.
        while True:
            try:
                data, anc, _flags, src = s.recvmsg(2048, socket.CMSG_SPACE(12))
            except BlockingIOError:
                break
            except OSError:
                continue
            local = "?"
            for level, typ, val in anc:
                if level == socket.IPPROTO_IP and typ == IP_PKTINFO and len(val) >= 12:
                    local = socket.inet_ntoa(val[8:12])  # ipi_addr: the packet's destination
            rseq = rssrc = 0
            if len(data) >= 12:
                _, _, rseq, _, rssrc = struct.unpack("!BBHII", data[:12])
            received += 1
            log.write("rx %.6f %s %s:%d %d 0x%08x\n" % (time.time(), local, src[0], src[1], rseq, rssrc))
        wait = next_send - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, 0.005))
    log.write("end %.6f sent %d send_errors %d received %d\n" % (time.time(), sent, errors, received))
    return 0


if __name__ == "__main__":
    sys.exit(main())
