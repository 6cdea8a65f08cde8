#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write a seed corpus for fuzz_tcp_stream into OUT_DIR (outside the repo).

The target's input is control bytes read from the front (mode, cut points,
order, duplicates, losses, clock steps) and content bytes read from the back
(header tokens, bodies); see fuzz/fuzz_tcp_stream.c. The seeds are
deterministic random inputs whose first byte sweeps every mode (number of
messages, strict or lossy, clean or raw bodies, the four buffer sizes, a pool
of 1 or 2, small or big messages) so that each corner is reached from the
start.  Usage: make_tcp_corpus.py OUT_DIR
"""
import os
import random
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_tcp_corpus.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rnd = random.Random(13)
    n = 0
    for mode in range(256):
        # every mode byte once, with its own control and content bytes
        size = rnd.choice((48, 96, 256, 768, 2048))
        m2 = rnd.randrange(256)
        rest = bytes(rnd.randrange(256) for _ in range(size))
        with open(os.path.join(out, "mode-%02x" % mode), "wb") as f:
            f.write(bytes((mode, m2)) + rest)
        n += 1
    # in order, no duplicate, no loss, whole-MSS segments: the common case
    for msgs in range(4):
        mode = msgs | 4  # strict
        seed = bytes((mode, 0, 0, 0, 0x10, 0, 0)) + b"\x05\x00\x10\x10\x10" * 4 + b"\xff" * 32
        with open(os.path.join(out, "inorder-%d" % (msgs + 1)), "wb") as f:
            f.write(seed)
        n += 1
    print(f"make_tcp_corpus: {out}: {n} seeds")


if __name__ == "__main__":
    main()
