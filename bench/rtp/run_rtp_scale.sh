#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Scale of the RTP rewrite path (issue 15, goal 2): cycles per packet with
# 1k, 100k and 1M live streams in the tables, the capture held constant
# (PACKETS frames at every stream count: 100 passes over 1k streams, a random
# sample of 100k or 1M), the tables sized alike for all three
# (rtp_bench_1m.conf), and testpmd 5tswap on the same capture in the same
# runs. Prints each side's cycles per packet and its growth from the first
# stream count, so that what the capture costs (testpmd's growth, if any)
# stands next to what the tables cost (sipkeep's).
#
#   bench/rtp/run_rtp_scale.sh [SECONDS]     (default 3 s per run)
#
# Environment (the rest is passed on to run_rtp_bench.sh: ROUNDS, WARMUP,
# MODES, BUILD_DIR, HUGEPAGES, NOHUGE_MEM):
#   SCALES="1000 100000 1048576"   live streams, one run_rtp_bench.sh each
#   PACKETS=100000                 frames in every capture
#   BINS="PATH ..."                bench_rtp binaries to compare, each run in turn at
#                                  every scale (default: this tree's, built by
#                                  run_rtp_bench.sh); the first is the reference of
#                                  the "vs first" column
#   LOG_DIR=DIR                    keep the logs (default: a temp dir, removed)
set -euo pipefail

SECONDS_RUN=${1:-3}
SCALES=${SCALES:-"1000 100000 1048576"}
PACKETS=${PACKETS:-100000}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export ROUNDS=${ROUNDS:-3} WARMUP=${WARMUP:-1} HUGEPAGES=${HUGEPAGES:-2560}
export NOHUGE_MEM=${NOHUGE_MEM:-4608} SETUP_S=${SETUP_S:-900}
export CONFIG=${CONFIG:-$HERE/rtp_bench_1m.conf} PACKETS
unset UNTRACKED FWD

TMP=$(mktemp -d /tmp/rtpscale.XXXXXX)
if [ -n "${LOG_DIR:-}" ]; then
	mkdir -p "$LOG_DIR"
	LOGS=$(cd "$LOG_DIR" && pwd)
	rm -rf "$TMP"
else
	LOGS=$TMP
	trap 'rm -rf "$TMP"' EXIT
fi
unset LOG_DIR

read -r -a BIN_LIST <<<"${BINS:-}"
[ ${#BIN_LIST[@]} -gt 0 ] || BIN_LIST=("")
INDEX=$LOGS/scale-runs.txt
: >"$INDEX"
for streams in $SCALES; do
	for b in "${!BIN_LIST[@]}"; do
		dir=$LOGS/s$streams-b$b
		echo "=== $streams streams, binary $b: ${BIN_LIST[$b]:-the build of this tree}"
		BENCH_BIN=${BIN_LIST[$b]} STREAMS=$streams LOG_DIR=$dir \
			"$HERE/run_rtp_bench.sh" "$SECONDS_RUN"
		echo "$streams $b $dir/results.txt" >>"$INDEX"
	done
done

/usr/bin/python3 - "$INDEX" "$PACKETS" "${BIN_LIST[@]:-}" <<'EOF'
import re, statistics, sys

index, packets, bins = sys.argv[1], sys.argv[2], sys.argv[3:]

def cpu_cpp(side, log):
    text = open(log).read()
    if side == "testpmd":
        mpps = max(int(x) for x in re.findall(r"Rx-pps:\s+(\d+)", text)[-2:]) / 1e6
        mhz = float(re.search(r"at (\d+) MHz Clock", text).group(1))
        w = re.search(r"WINDOW cpu_ns=(\d+) wall_ns=(\d+)", text)
        share = int(w.group(1)) / int(w.group(2))
        return mhz * share / mpps
    kv = dict(x.split("=") for x in re.search(r"^RESULT (.*)$", text, re.M).group(1).split())
    return float(kv["cpu_cpp"])

# cyc[(mode, streams, who)] = [CPU cycles per packet of each run]; who: "tp" or binary number
cyc, scales = {}, []
for line in open(index):
    streams, b, results = line.split()
    if streams not in scales:
        scales.append(streams)
    for r in open(results):
        side, mode, log = r.split()
        who = "tp" if side == "testpmd" else b
        cyc.setdefault((mode, streams, who), []).append(cpu_cpp(side, log))

def med(*k):
    return statistics.median(cyc[k]) if k in cyc else float("nan")

names = ["testpmd 5tswap"] + ["sipkeep" + ("" if len(bins) < 2 else " #%d" % i)
                              for i in range(max(len(bins), 1))]
whos = ["tp"] + [str(i) for i in range(max(len(bins), 1))]
print()
print("RTP rewrite path at scale: CPU cycles per packet of the forwarding thread (median),")
print("the capture %s frames at every stream count; growth = cycles / cycles at %s streams"
      % (packets, scales[0]))
for i, b in enumerate(bins):
    if b:
        print("  sipkeep #%d: %s" % (i, b))
for mode in ("huge", "nohuge"):
    if not any(k[0] == mode for k in cyc):
        continue
    print()
    print("%-8s %10s" % ("2MiB" if mode == "huge" else "no-huge", "streams") +
          "".join(" %22s" % n for n in names) +
          ("".join(" %12s" % ("#%d vs #0" % i) for i in range(1, len(whos) - 1))) +
          " %9s" % "ratio")
    for s in scales:
        row = "%-8s %10s" % ("", s)
        for w in whos:
            c, c0 = med(mode, s, w), med(mode, scales[0], w)
            row += " %12.0f (%5.2fx)" % (c, c / c0)
        for w in whos[2:]:
            row += " %12.3f" % (med(mode, s, w) / med(mode, s, "0"))
        row += " %9.3f" % (med(mode, s, "tp") / med(mode, s, "0"))
        print(row)
print()
print("(Nx) = growth from %s streams (goal 2: at most 1.5x at 1M for sipkeep);" % scales[0])
print("'#i vs #0' = binary i's cycles over binary 0's (below 1: i is faster);")
print("ratio = testpmd's cycles over sipkeep #0's (goal 0: 0.7 or more).")
EOF
