#!/usr/bin/python3
"""The "forged" variant's intruder, in the access network at a third address.

It sends a REGISTER for the phone's user from its own address, with
X-cisco-sessionpersist (as a phone that moved would), and waits for the
registrar's answer (the demo's call agent answers 403). Then it sends RTP to the
call agent's media address with the phone's own SSRC, as if it were the moved
phone, and listens for any RTP sipkeep might turn toward it. sipkeep must move
nothing: the registrar did not accept the REGISTER, and a packet from an address
that no accepted registration named is never latched.

Usage: forge.py WORK CALL_ID    (settings from WORK/env; results to WORK/forge.json)
"""
import json
import os
import socket
import struct
import sys
import time


def env(work):
    out = {}
    with open(os.path.join(work, "env")) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                out[k] = v.strip("'\"")
    return out


def main():
    work, call_id = sys.argv[1], sys.argv[2]
    e = env(work)
    me, sip_port, rtp_port = e["IP_FORGE"], 5070, int(e["RTP_PORT"]) + 10
    core = e["CORE_IP"]
    res = {"from": me, "sip_port": sip_port, "rtp_port": rtp_port}

    sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sip.bind((me, sip_port))
    sip.settimeout(3.0)
    msg = ("REGISTER sip:%(d)s SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %(me)s:%(p)d;branch=z9hG4bK-forged-1;rport\r\n"
           "From: <sip:%(u)s@%(d)s>;tag=forged1\r\n"
           "To: <sip:%(u)s@%(d)s>\r\n"
           "Call-ID: forged///%(cid)s\r\n"
           "CSeq: 1 REGISTER\r\n"
           "Contact: <sip:%(u)s@%(me)s:%(p)d;transport=udp>;"
           "+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-00aabbccdd01>\"\r\n"
           "Supported: %(sup)s\r\n"
           "Expires: 3600\r\n"
           "Max-Forwards: 70\r\n"
           "User-Agent: Cisco-CP8865/14.2.1\r\n"
           "Content-Length: 0\r\n\r\n") % {
        "d": e["DOMAIN"], "me": me, "p": sip_port, "u": e["USER"], "cid": call_id, "sup": e["SUPPORTED"]}
    res["register_sent"] = time.time()
    sip.sendto(msg.encode(), (core, 5060))
    try:
        data, src = sip.recvfrom(4096)
        res["answer"] = data.split(b"\r\n", 1)[0].decode(errors="replace")
        res["answer_time"] = time.time()
    except socket.timeout:
        res["answer"] = None

    # Pretend to be the moved phone: its SSRC, toward the call agent's media address.
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind((me, rtp_port))
    rtp.setblocking(False)
    ssrc = int(e.get("PHONE_SSRC", "0x5EE9CAFE"), 0)
    sent = received = 0
    t_end = time.monotonic() + 1.5
    seq = 1
    while time.monotonic() < t_end:
        pkt = struct.pack("!BBHII", 0x80, 8, seq, seq * 160, ssrc) + b"\xd5" * 160
        rtp.sendto(pkt, (core, int(e["CORE_RTP_PORT"])))
        sent += 1
        seq += 1
        t_next = time.monotonic() + 0.02
        while time.monotonic() < t_next:
            try:
                rtp.recvfrom(2048)
                received += 1
            except BlockingIOError:
                time.sleep(0.002)
    # Anything that would have been turned toward us arrives within a moment.
    t_end = time.monotonic() + 0.5
    while time.monotonic() < t_end:
        try:
            rtp.recvfrom(2048)
            received += 1
        except BlockingIOError:
            time.sleep(0.005)
    res.update({"rtp_sent": sent, "rtp_received": received, "done": time.time()})
    with open(os.path.join(work, "forge.json"), "w") as f:
        json.dump(res, f)
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
