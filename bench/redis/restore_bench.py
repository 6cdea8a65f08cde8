#!/usr/bin/python3
"""Restore time (docs/REDIS.md, docs/PERFORMANCE.md): N users, each with one call
(RTP + RTCP), loaded into a private redis-server, then `sipkeep --replay` of a
one-frame capture restoring them, against the same run without redis (the
reference: EAL and table set-up alone). Not a test.

Usage: restore_bench.py SIPKEEP [N]
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "pylib"))
from sktest.redisserver import RedisServer  # noqa: E402


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def one_frame_pcap(path):
    eth = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00"
    payload = b"tick"
    udp = struct.pack("!HHHH", 9, 9, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([192, 0, 2, 99]),
                     bytes([192, 0, 2, 98]))
    frame = eth + ip + udp
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        f.write(struct.pack("<IIII", 1, 0, len(frame), len(frame)))
        f.write(frame)


def run(sipkeep, tmp, n, redis_url):
    conf = os.path.join(tmp, "sk.conf")
    with open(conf, "w") as f:
        f.write("access_prefixes = 10.0.0.0/8\nmax_users = %d\nmax_dialogs = %d\nmax_streams = %d\n"
                "max_pending_registers = 1024\n" % (n + n // 4, n + n // 4, n + n // 4))
        if redis_url:
            f.write("redis = %s\nredis_follow = 0\nnode_id = bench\n" % redis_url)
    pcap, out = os.path.join(tmp, "in.pcap"), os.path.join(tmp, "out.pcap")
    one_frame_pcap(pcap)
    t0 = time.monotonic()
    p = subprocess.run([sipkeep, "--replay", pcap, "--replay-out", out, "--config", conf],
                       capture_output=True, text=True, timeout=600)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit("sipkeep failed:\n" + p.stderr[-2000:])
    restored = [ln for ln in p.stderr.splitlines() if "restored" in ln]
    return dt, restored


def main():
    sipkeep = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    tmp = tempfile.mkdtemp(prefix="sk-redis-bench-")
    with RedisServer() as r:
        cmds = bytearray()
        for i in range(n):
            ip = "10.%d.%d.%d" % (1 + (i >> 16), (i >> 8) & 255, i & 255)
            cmds += resp("SET", "sipkeep:u:u%d@example.com||reg-%d" % (i, i),
                         "v=1;node=peer;epoch=1;reg=1;tr=0;opts=0;contact=4,%s,5062;sig=4,%s,5060,0;"
                         "bind=1;mv=4,%s,5062,5062" % (ip, ip, ip), "PX", 3600000)
            cmds += resp("SET", "sipkeep:d:call-%d|t%d" % (i, i),
                         "v=1;node=peer;user=u%d@example.com||reg-%d;a0=4,%s,4000,4001,0,0;"
                         "c0=4,172.16.%d.%d,20000,20001,0,0" % (i, i, ip, (i >> 8) & 255, i & 255),
                         "PX", 3600000)
        subprocess.run(["redis-cli", "-s", r.sock, "--pipe"], input=bytes(cmds), capture_output=True,
                       check=True)
        print("loaded: %s keys" % r.cli("DBSIZE"))
        ref, _ = run(sipkeep, tmp, n, None)
        dt, restored = run(sipkeep, tmp, n, r.url)
    shutil.rmtree(tmp, ignore_errors=True)
    print("reference (no redis, same tables):  %.2f s" % ref)
    print("restore of %d users + %d calls:   %.2f s  (%.2f s more, ratio %.2f)"
          % (n, n, dt, dt - ref, dt / ref))
    print("\n".join(restored))


if __name__ == "__main__":
    main()
