#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Gather a seed corpus for fuzz_sip into OUT_DIR (outside the repo).

Seeds: the RFC 4475 / RFC 5118 torture messages, every SIP-over-UDP payload
in shared/traces (extracted with tshark, which also reassembles fragments),
and the benchmark corpus.  Usage: make_corpus.py OUT_DIR [SHARED_DIR]
"""
import glob
import hashlib
import os
import shutil
import subprocess
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: make_corpus.py OUT_DIR [SHARED_DIR]")
    out = sys.argv[1]
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shared = sys.argv[2] if len(sys.argv) > 2 else os.path.join(src, "..", "shared")
    os.makedirs(out, exist_ok=True)
    counts = {"conformance": 0, "traces": 0, "bench": 0}

    def put(data, kind):
        name = hashlib.sha1(data).hexdigest()[:16]
        with open(os.path.join(out, f"{kind}-{name}"), "wb") as f:
            f.write(data)
        counts[kind] += 1

    for path in sorted(glob.glob(os.path.join(shared, "conformance", "*", "*.dat"))):
        with open(path, "rb") as f:
            put(f.read(), "conformance")
    for path in sorted(glob.glob(os.path.join(src, "bench", "corpus", "*.sip"))):
        with open(path, "rb") as f:
            put(f.read(), "bench")
    traces = sorted(glob.glob(os.path.join(shared, "traces", "*.pcap")) +
                    glob.glob(os.path.join(shared, "traces", "*.cap")))
    if traces and shutil.which("tshark") is None:
        print("make_corpus: tshark not found, trace payloads skipped", file=sys.stderr)
        traces = []
    for path in traces:
        res = subprocess.run(["tshark", "-r", path, "-Y", "sip && udp", "-T", "fields",
                              "-e", "udp.payload"], capture_output=True, text=True)
        for line in res.stdout.split():
            try:
                put(bytes.fromhex(line.strip()), "traces")
            except ValueError:
                pass
    print(f"make_corpus: {out}: {counts['conformance']} conformance, "
          f"{counts['traces']} trace payloads, {counts['bench']} bench messages")


if __name__ == "__main__":
    main()
