#!/usr/bin/python3
"""Write a raw G.711 A-law file for sipp's rtp_stream="FILE,-1,8": a short
two-tone jingle (so that a person listening to a capture hears the call), no
header, 8000 samples a second. Usage: mkaudio.py OUT [SECONDS]"""
import math
import sys


def alaw(sample):
    """ITU-T G.711 A-law encoding of a 16-bit linear sample."""
    sign = 0x80 if sample >= 0 else 0x00
    if sample < 0:
        sample = -sample - 1
    sample = min(sample, 32767) >> 3  # 13-bit magnitude
    if sample < 32:
        code = sample >> 1
    else:
        exp = sample.bit_length() - 5  # 1..7
        code = (exp << 4) | ((sample >> exp) & 0x0F)
    return (code | sign) ^ 0x55


def main():
    out = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    n = int(8000 * seconds)
    data = bytearray()
    for i in range(n):
        t = i / 8000.0
        freq = 440.0 if (i // 4000) % 2 == 0 else 660.0  # half a second each
        data.append(alaw(int(8000 * math.sin(2 * math.pi * freq * t))))
    with open(out, "wb") as f:
        f.write(bytes(data))


if __name__ == "__main__":
    main()
