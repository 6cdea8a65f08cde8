#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Seed corpus for fuzz_hep: HEPv3 frames (IPv4, IPv6, auth key, unknown
chunks, two frames back to back) and a HEPv2 datagram."""
import os
import struct
import sys


def chunk(t, data, vendor=0):
    return struct.pack("!HHH", vendor, t, len(data) + 6) + data


def hep3(family=4, auth=None, extra=b"", payload=b"OPTIONS sip:a SIP/2.0\r\nCall-ID: x\r\n\r\n"):
    body = chunk(1, bytes([2 if family == 4 else 10])) + chunk(2, b"\x06")
    n = 4 if family == 4 else 16
    body += chunk(3 if family == 4 else 5, bytes(range(1, n + 1)))
    body += chunk(4 if family == 4 else 6, bytes(range(2, n + 2)))
    body += chunk(7, struct.pack("!H", 40000)) + chunk(8, struct.pack("!H", 5061))
    body += chunk(9, struct.pack("!I", 1700000000)) + chunk(10, struct.pack("!I", 5))
    body += chunk(11, b"\x01") + chunk(12, struct.pack("!I", 2001))
    if auth:
        body += chunk(14, auth)
    body += extra + chunk(15, payload)
    return b"HEP3" + struct.pack("!H", len(body) + 6) + body


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    v2 = bytes([2, 16, 2, 17]) + struct.pack("!HH", 5060, 5080) + bytes(8) + bytes(12)
    seeds = {
        "v4": hep3(),
        "v6": hep3(family=6),
        "auth": hep3(auth=b"key"),
        "unknown": hep3(extra=chunk(0x11, b"abcd") + chunk(1, b"\x02", vendor=7)),
        "two": hep3() + hep3(family=6),
        "v2": v2 + b"SIP/2.0 200 OK\r\n\r\n",
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
