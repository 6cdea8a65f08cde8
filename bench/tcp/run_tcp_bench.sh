#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# SIP over TCP benchmark (issue 13): runs bench_tcp RUNS times and prints the
# medians. It builds nothing:
#
#   meson setup build -Dbench=true && ninja -C build bench/tcp/bench_tcp
#   bench/tcp/run_tcp_bench.sh [SECONDS]                 (default 4 s per run)
#
# With BASE_BIN, the same harness built on the tree before SIP over TCP runs
# too, alternating with this tree's, for "TCP not on sip_ports" new against
# old. To build it (the harness compiles there without the sip-tcp kind):
#
#   git worktree add /tmp/sk-base 16317a5
#   mkdir /tmp/sk-base/bench/tcp && cp bench/tcp/bench_tcp.c bench/tcp/meson.build \
#       /tmp/sk-base/bench/tcp/ && echo "subdir('tcp')" >>/tmp/sk-base/bench/meson.build
#   meson setup /tmp/sk-base/build /tmp/sk-base -Dbench=true && \
#       ninja -C /tmp/sk-base/build bench/tcp/bench_tcp
#   BASE_BIN=/tmp/sk-base/build/bench/tcp/bench_tcp bench/tcp/run_tcp_bench.sh
#
# Environment:
#   RUNS=5          runs of each (alternating: sip, other, base other)
#   BENCH_BIN=PATH  this tree's bench_tcp (default build/bench/tcp/bench_tcp)
#   BASE_BIN=PATH   bench_tcp built on the tree before SIP over TCP (optional)
#   ARGS="..."      more bench_tcp options for every run (e.g. --conns 2000)
#   NICE=-5         nice level of the runs, when allowed (root); "" for none
#   LOG_DIR=DIR     keep every run's output there (default: a temp dir, removed)
#
# Each run: the SIP kinds (sip-tcp, sip-udp) in one process, the non-SIP kinds
# (tcp-other, udp-other) in another, so that new and old run the same work
# with the same caches. Figures are TSC cycles inside sk_worker_process
# (bench_tcp.c), per message or frame, the median over a run's windows; the
# table gives the median over the runs and their spread (min..max).
set -euo pipefail

SECONDS_RUN=${1:-4}
RUNS=${RUNS:-5}
NICE=${NICE--5}
ARGS=${ARGS:-}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BENCH=${BENCH_BIN:-$ROOT/build/bench/tcp/bench_tcp}
BASE=${BASE_BIN:-}
PY=/usr/bin/python3

die() {
	echo "run_tcp_bench: $*" >&2
	exit 1
}

[ -x "$BENCH" ] || die "$BENCH not found: ninja -C build bench/tcp/bench_tcp (meson -Dbench=true)"
[ -z "$BASE" ] || [ -x "$BASE" ] || die "BASE_BIN=$BASE is not an executable"
[ -x "$PY" ] || die "$PY not found"

WORK=$(mktemp -d /tmp/tcpbench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
if [ -n "${LOG_DIR:-}" ]; then
	mkdir -p "$LOG_DIR"
	LOGS=$(cd "$LOG_DIR" && pwd)
else
	LOGS=$WORK
fi

RUNNER=()
if [ -n "$NICE" ] && nice -n "$NICE" true 2>/dev/null; then
	RUNNER=(nice -n "$NICE")
else
	NICE=
fi

# run NAME BINARY KINDS: one bench_tcp process, its log named NAME.
run() {
	local log=$LOGS/$1.log
	# shellcheck disable=SC2086
	echo "+ ${RUNNER[*]} $2 --seconds $SECONDS_RUN --kinds $3 $ARGS" >"$log"
	# shellcheck disable=SC2086
	if ! "${RUNNER[@]}" "$2" --seconds "$SECONDS_RUN" --kinds "$3" $ARGS >>"$log" 2>&1; then
		tail -20 "$log" >&2
		die "$1 failed: see above"
	fi
	grep -q '^check: every frame forwarded' "$log" || die "$1: the counters did not check out"
	echo "$1 $log" >>"$WORK/results"
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs;" \
	"load average $(cut -d' ' -f1-3 /proc/loadavg); nice ${NICE:-none}"
echo "bench_tcp: $BENCH${BASE:+; base: $BASE}"
: >"$WORK/results"
for r in $(seq "$RUNS"); do
	run "new-sip-$r" "$BENCH" sip-tcp,sip-udp
	run "new-other-$r" "$BENCH" tcp-other,udp-other
	[ -z "$BASE" ] || run "base-other-$r" "$BASE" tcp-other,udp-other
	echo "run $r of $RUNS done"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
head -n 3 "$(awk 'NR == 1 {print $2}' "$WORK/results")" | sed -n 2p

"$PY" - "$WORK/results" <<'EOF'
import re, statistics, sys

vals = {}  # (tree, kind) -> {key: [per run]}
shares = []
for line in open(sys.argv[1]):
    name, log = line.split()
    tree = name.split("-")[0]
    for m in re.finditer(r"^RESULT (.*)$", open(log).read(), re.M):
        kv = dict(x.split("=") for x in m.group(1).split())
        d = vals.setdefault((tree, kv["kind"]), {})
        for k in ("cyc_per_msg", "cyc_per_frame", "msgs_per_s", "cyc_per_msg_p10"):
            d.setdefault(k, []).append(float(kv[k]))
        shares.append(float(kv["cpu_share"]))

def med(tree, kind, key="cyc_per_msg"):
    return statistics.median(vals[(tree, kind)][key])

def spread(tree, kind, key="cyc_per_msg"):
    v = vals[(tree, kind)][key]
    return "%.0f..%.0f" % (min(v), max(v))

runs = len(vals[("new", "sip-tcp")]["cyc_per_msg"])
print()
print("SIP over TCP, full worker path, one worker: Cisco REGISTER (multipart body) in two")
print("segments + 200 OK per connection, against the same messages over UDP; median of %d runs" % runs)
print("%-8s %12s %14s %14s %12s" % ("", "cycles/msg", "spread", "p10 (median)", "msgs/s"))
for k in ("sip-tcp", "sip-udp"):
    print("%-8s %12.0f %14s %14.0f %12.0f" % (k, med("new", k), spread("new", k),
          med("new", k, "cyc_per_msg_p10"), med("new", k, "msgs_per_s")))
ratios = [t / u for t, u in zip(vals[("new", "sip-tcp")]["cyc_per_msg"],
                                vals[("new", "sip-udp")]["cyc_per_msg"])]
print("TCP / UDP cycles per message: %.2f (median of the per-run ratios; spread %.2f..%.2f)"
      % (statistics.median(ratios), min(ratios), max(ratios)))
print()
print("Not SIP: TCP data segments on port 443 (not on sip_ports) and untracked UDP (port 443),")
print("cycles per frame; median of %d runs" % runs)
trees = ["new"] + (["base"] if ("base", "tcp-other") in vals else [])
print("%-10s " % "" + " ".join("%10s %12s" % (t, "spread") for t in trees)
      + ("   new/old" if len(trees) == 2 else ""))
for k in ("tcp-other", "udp-other"):
    row = "%-10s " % k + " ".join("%10.1f %12s" % (med(t, k, "cyc_per_frame"),
                                                  spread(t, k, "cyc_per_frame")) for t in trees)
    if len(trees) == 2:
        r = [n / b for n, b in zip(vals[("new", k)]["cyc_per_frame"],
                                   vals[("base", k)]["cyc_per_frame"])]
        row += "   %.2f (%.2f..%.2f)" % (statistics.median(r), min(r), max(r))
    print(row)
for t in trees:
    print("%s: tcp-other / udp-other %.2f" % (t, med(t, "tcp-other", "cyc_per_frame")
                                             / med(t, "udp-other", "cyc_per_frame")))
print()
print("cycles: TSC cycles inside sk_worker_process (median over a run's windows of 32")
print("connections or flows); new/old: per-run ratio of alternating runs, median (min..max).")
print("CPU share of the benchmark thread: %.2f..%.2f (1.00: the core was its own)"
      % (min(shares), max(shares)))
EOF
