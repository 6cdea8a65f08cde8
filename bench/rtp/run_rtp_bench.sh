#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# RTP path benchmark (issue 4): sipkeep's worker against dpdk-testpmd
# --forward-mode=5tswap, on the same vdevs and the same capture, in one
# invocation, with 2 MiB hugepages (reserved here, released at the end) and
# with --no-huge.
#
#   bench/rtp/run_rtp_bench.sh [SECONDS]          (default 10 s per run)
#
# Environment:
#   ROUNDS=2        runs of each side per mode, alternating testpmd / sipkeep
#   STREAMS=100000  live streams (one user, one call, one audio m= line each)
#   WARMUP=2        seconds each side runs before its measurement starts
#   MODES="huge nohuge"
#   HUGEPAGES=1024  2 MiB pages added to the pool for the hugepage runs
#   NOHUGE_MEM=2048 -m for the --no-huge runs (MB)
#   BUILD_DIR=build-bench   meson build directory (created if missing)
#   UNTRACKED=1     passthrough instead: the capture goes to an access port no flow
#                   holds (UDP in no flow, never rewritten), against testpmd io
#   FWD=5tswap      testpmd's forward mode (default: io when UNTRACKED=1)
#   SETUP_EXTRA=S   seconds bench_rtp may take beyond the default 180 s for its setup
#                   (1M streams on a loaded machine take longer)
#   MIX=1           passthrough of a site mix instead (gen_mix_pcap.py: TCP downloads
#                   and ACKs, QUIC, DNS, 10% RTP of no call, ARP), against testpmd io;
#                   implies UNTRACKED=1 (every frame out unchanged, none rewritten)
#   PACKETS=N       frames in the capture, each a different stream drawn at random
#                   (default: one per stream); with STREAMS above the pool's mbufs
#   CONFIG=FILE     sipkeep config for bench_rtp (default: rtp_bench.conf; for
#                   1M streams: rtp_bench_1m.conf)
#   LOG_DIR=DIR     keep every run's output there (default: a temp dir, removed)
#   SETUP_S=180     seconds bench_rtp may take beyond the runs (building the state)
#   BENCH_BIN=PATH  run this bench_rtp instead of building one (e.g. another tree's
#                   build with a patch under test); it reads its own tree's config
#
# Both sides run on lcores 0-1: lcore 0 is the main thread (testpmd's
# prompt; sipkeep's control tick every millisecond, as in the daemon), lcore
# 1 forwards. The core port is net_pcap with infinite_rx=1 (the capture is
# loaded into mbufs once and replayed forever), the access port net_null with
# no-rx=1 (it only swallows what is sent to it).
#
# Throughput is the core port's RX rate over the measured window (testpmd:
# "show port stats" throughput between two calls; sipkeep: its worker's
# counters). Cycles/packet: each program's own busy-cycle count (testpmd
# --record-core-cycles, sipkeep busy_cycles) over the same window, and the
# forwarding thread's CPU time (schedstat / thread CPU clock) times the TSC
# rate over the packets: the second does not count time the core spent on
# other processes, which matters on a shared 2-core machine.
set -euo pipefail

SECONDS_RUN=${1:-10}
ROUNDS=${ROUNDS:-2}
STREAMS=${STREAMS:-100000}
WARMUP=${WARMUP:-2}
MODES=${MODES:-"huge nohuge"}
HUGEPAGES=${HUGEPAGES:-1024}
NOHUGE_MEM=${NOHUGE_MEM:-2048}
UNTRACKED=${UNTRACKED:-0}
MIX=${MIX:-0}
[ "$MIX" = 1 ] && UNTRACKED=1
if [ "$UNTRACKED" = 1 ]; then FWD=${FWD:-io}; else FWD=${FWD:-5tswap}; fi
PACKETS=${PACKETS:-0}
CONFIG=${CONFIG:-}
GEN_ARGS=(--streams "$STREAMS" --packets "$PACKETS")
SK_ARGS=()
[ "$UNTRACKED" = 1 ] && GEN_ARGS+=(--untracked) && SK_ARGS+=(--untracked)
[ -n "$CONFIG" ] && SK_ARGS+=(--config "$CONFIG")
MBUFS=131071 # = mbufs in rtp_bench.conf: the capture's frames plus room to work

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
PY=/usr/bin/python3
TESTPMD=${TESTPMD:-/usr/bin/dpdk-testpmd}
HP_NR=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
PREFIX=rtpbench-$$

die() {
	echo "run_rtp_bench: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (hugepages, DPDK)"
[ -x "$TESTPMD" ] || die "$TESTPMD not found"
[ -x "$PY" ] || die "$PY not found"

WORK=$(mktemp -d /tmp/rtpbench.XXXXXX)
if [ -n "${LOG_DIR:-}" ]; then
	mkdir -p "$LOG_DIR"
	LOGS=$(cd "$LOG_DIR" && pwd)
else
	LOGS=$WORK
fi
HP_PREV=
HP_MOUNTED=0
TP_PID=

cleanup() {
	set +e
	if [ -n "$TP_PID" ] && kill -0 "$TP_PID" 2>/dev/null; then
		kill "$TP_PID"
		wait "$TP_PID" 2>/dev/null
	fi
	rm -rf /var/run/dpdk/"$PREFIX"-*
	if [ -n "$HP_PREV" ]; then
		rm -f /dev/hugepages/"$PREFIX"-*
		echo "$HP_PREV" >"$HP_NR"
		echo "hugepages: pool back to $HP_PREV page(s)"
	fi
	if [ "$HP_MOUNTED" = 1 ]; then
		umount /dev/hugepages && echo "hugepages: /dev/hugepages unmounted"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build ---------------------------------------------------------------
build() {
	if [ ! -f "$BUILD_DIR/build.ninja" ]; then
		meson setup "$BUILD_DIR" "$ROOT" >"$WORK/meson.log" 2>&1 ||
			{ cat "$WORK/meson.log"; die "meson setup failed"; }
	fi
	if ninja -C "$BUILD_DIR" -t targets all 2>/dev/null | grep -q '^bench/rtp/bench_rtp:'; then
		ninja -C "$BUILD_DIR" bench/rtp/bench_rtp >"$WORK/ninja.log" 2>&1 ||
			{ cat "$WORK/ninja.log"; die "build failed"; }
		BENCH=$BUILD_DIR/bench/rtp/bench_rtp
		return
	fi
	# bench/meson.build does not include rtp/ yet: link against the same build's libraries.
	echo "build: bench/rtp is not in the meson tree (subdir('rtp') in bench/meson.build);" \
		"linking bench_rtp against $BUILD_DIR's libraries directly"
	ninja -C "$BUILD_DIR" control/libsk_control.a control/libsk_config.a \
		dataplane/libsk_dataplane.a dataplane/sip/libsk_sip.a >"$WORK/ninja.log" 2>&1 ||
		{ cat "$WORK/ninja.log"; die "build failed"; }
	mkdir -p "$BUILD_DIR/bench-rtp-standalone"
	BENCH=$BUILD_DIR/bench-rtp-standalone/bench_rtp
	# Same flags as the meson build (buildtype debugoptimized: -O2 -g).
	# shellcheck disable=SC2046
	cc -std=c11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -DALLOW_EXPERIMENTAL_API \
		-Wno-missing-field-initializers -I"$ROOT/include" -I"$ROOT/control" \
		-DBENCH_RTP_CONFIG="\"$HERE/rtp_bench.conf\"" $(pkg-config --cflags libdpdk) \
		"$HERE/bench_rtp.c" -o "$BENCH" \
		"$BUILD_DIR/control/libsk_control.a" "$BUILD_DIR/dataplane/libsk_dataplane.a" \
		"$BUILD_DIR/dataplane/sip/libsk_sip.a" "$BUILD_DIR/control/libsk_config.a" \
		$(pkg-config --libs libdpdk libhs jemalloc libpcap) -lpthread -lm ||
		die "cannot build bench_rtp"
}

# --- hugepages -------------------------------------------------------------
hugepages_up() {
	local free
	HP_PREV=$(cat "$HP_NR")
	echo $((HP_PREV + HUGEPAGES)) >"$HP_NR"
	if ! mountpoint -q /dev/hugepages; then
		mkdir -p /dev/hugepages
		mount -t hugetlbfs nodev /dev/hugepages || die "cannot mount hugetlbfs"
		HP_MOUNTED=1
	fi
	free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
	echo "hugepages: pool $HP_PREV -> $(cat "$HP_NR") page(s) of 2 MiB, $free free"
	[ "$free" -ge 512 ] || die "only $free free 2 MiB pages: the runs need about 512"
}

eal_mem() {
	if [ "$1" = huge ]; then
		echo "--huge-unlink"
	else
		echo "--no-huge -m $NOHUGE_MEM"
	fi
}

vdevs() {
	echo "--vdev net_null0,no-rx=1 --vdev net_pcap0,rx_pcap=$PCAP,infinite_rx=1"
}

# CPU time (ns) of the thread of PID named rte-worker-*: the forwarding lcore.
worker_cpu_ns() {
	local t
	for t in /proc/"$1"/task/*; do
		if [[ "$(cat "$t/comm" 2>/dev/null)" == rte-worker-* ]]; then
			awk '{print $1}' "$t/schedstat"
			return
		fi
	done
	echo 0
}

# --- testpmd -----------------------------------------------------------------
# Driven through its prompt: start (auto), warm up, clear the forwarding
# stats and show the port stats (starts the throughput window), wait, show
# both again. "show port stats" measures throughput between two calls.
run_testpmd() {
	local mode=$1 run=$2 log=$LOGS/testpmd-$1-$2.log fifo=$WORK/testpmd.in
	local c0 c1 t0 t1
	rm -f "$fifo"
	mkfifo "$fifo"
	# shellcheck disable=SC2046
	echo "+ $TESTPMD -l 0-1 --no-pci $(eal_mem "$mode") --file-prefix $PREFIX-tp $(vdevs) --" \
		"-i --forward-mode=$FWD --auto-start --total-num-mbufs=$MBUFS --record-core-cycles" >"$log"
	# shellcheck disable=SC2046
	"$TESTPMD" -l 0-1 --no-pci $(eal_mem "$mode") --file-prefix "$PREFIX-tp" $(vdevs) -- \
		-i --forward-mode="$FWD" --auto-start --total-num-mbufs=$MBUFS \
		--record-core-cycles <"$fifo" >>"$log" 2>&1 &
	TP_PID=$!
	exec 3>"$fifo"
	for _ in $(seq 600); do
		grep -q "testpmd> " "$log" && break
		kill -0 "$TP_PID" 2>/dev/null || break
		sleep 0.2
	done
	# With --auto-start the prompt comes once forwarding runs (stdout is block-buffered:
	# the other messages appear in the log only when testpmd exits).
	if ! grep -q "testpmd> " "$log" || ! kill -0 "$TP_PID" 2>/dev/null; then
		cat "$log" >&2
		die "testpmd did not start"
	fi
	[[ "$(worker_cpu_ns "$TP_PID")" != 0 ]] || die "testpmd has no rte-worker-* thread"
	sleep "$WARMUP"
	c0=$(worker_cpu_ns "$TP_PID")
	t0=$(date +%s%N)
	printf 'clear fwd stats all\nshow port stats all\n' >&3
	sleep "$SECONDS_RUN"
	c1=$(worker_cpu_ns "$TP_PID")
	t1=$(date +%s%N)
	printf 'show port stats all\nshow fwd stats all\nstop\nquit\n' >&3
	exec 3>&-
	wait "$TP_PID" || true
	TP_PID=
	rm -rf /var/run/dpdk/"$PREFIX"-tp
	echo "WINDOW cpu_ns=$((c1 - c0)) wall_ns=$((t1 - t0))" >>"$log"
	RUN_LOG=$log
}

# --- sipkeep -----------------------------------------------------------------
# SETUP_EXTRA: the timeout of the run below, lengthened (the command keeps its default).
if [ -n "${SETUP_EXTRA:-}" ]; then
	timeout() {
		local t=$1
		shift
		command timeout $((t + SETUP_EXTRA)) "$@"
	}
fi
run_sipkeep() {
	local mode=$1 run=$2 log=$LOGS/sipkeep-$1-$2.log
	# shellcheck disable=SC2046
	echo "+ $BENCH -l 0-1 --no-pci $(eal_mem "$mode") --file-prefix $PREFIX-sk $(vdevs) --" \
		"--streams $STREAMS --seconds $SECONDS_RUN --warmup $WARMUP ${SK_ARGS[*]}" >"$log"
	# shellcheck disable=SC2046
	timeout $((SECONDS_RUN + WARMUP + ${SETUP_S:-180})) "$BENCH" -l 0-1 --no-pci $(eal_mem "$mode") \
		--file-prefix "$PREFIX-sk" $(vdevs) -- --streams "$STREAMS" \
		--seconds "$SECONDS_RUN" --warmup "$WARMUP" "${SK_ARGS[@]}" >>"$log" 2>&1 || {
		tail -30 "$log" >&2
		die "bench_rtp failed ($mode, run $run): see above"
	}
	rm -rf /var/run/dpdk/"$PREFIX"-sk
	RUN_LOG=$log
}

# --- main ------------------------------------------------------------------
if [ -n "${BENCH_BIN:-}" ]; then
	[ -x "$BENCH_BIN" ] || die "BENCH_BIN=$BENCH_BIN is not an executable"
	BENCH=$BENCH_BIN
else
	build
fi
echo "bench_rtp: $BENCH"
PCAP=$WORK/rtp_downlink.pcap
"$PY" "$HERE/gen_rtp_pcap.py" "${GEN_ARGS[@]}" "$PCAP"
# The site mix replaces the RTP capture (same streams and packet count).
[ "$MIX" = 1 ] && "$PY" "$HERE/gen_mix_pcap.py" "${GEN_ARGS[@]}" "$PCAP"
case " $MODES " in *" huge "*) hugepages_up ;; esac

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs;" \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
RESULTS=$LOGS/results.txt
RUN_LOG=
: >"$RESULTS"
for mode in $MODES; do
	for run in $(seq "$ROUNDS"); do
		run_testpmd "$mode" "$run"
		echo "testpmd $mode $RUN_LOG" >>"$RESULTS"
		echo "$mode run $run: testpmd  $(grep -m1 -o 'CPU cycles/packet=[0-9.]*' "$RUN_LOG")"
		run_sipkeep "$mode" "$run"
		echo "sipkeep $mode $RUN_LOG" >>"$RESULTS"
		echo "$mode run $run: sipkeep  $(grep -o 'mpps=[0-9.]* busy_cpp=[0-9.]*' "$RUN_LOG")"
	done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$MIX" = 1 ] && echo "shape: the site mix (gen_mix_pcap.py), not UDP alone"

"$PY" - "$RESULTS" "$STREAMS" "$SECONDS_RUN" "$FWD" "$UNTRACKED" <<'EOF'
import re, statistics, sys

results, streams, seconds, fwd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
untracked = sys.argv[5] == "1"
runs = {}
for line in open(results):
    side, mode, log = line.split()
    text = open(log).read()
    if side == "testpmd":
        pps_lines = re.findall(r"Rx-pps:\s+(\d+)", text)
        tx_lines = re.findall(r"Tx-pps:\s+(\d+)", text)
        # The last "show port stats all": one Rx-pps line per port; the pcap port has them all.
        mpps = max(int(x) for x in pps_lines[-2:]) / 1e6
        tx_mpps = max(int(x) for x in tx_lines[-2:]) / 1e6
        busy = float(re.search(r"CPU cycles/packet=([\d.]+)", text).group(1))
        mhz = float(re.search(r"at (\d+) MHz Clock", text).group(1))
        w = re.search(r"WINDOW cpu_ns=(\d+) wall_ns=(\d+)", text)
        cpu_ns, wall_ns = int(w.group(1)), int(w.group(2))
        share = cpu_ns / wall_ns if wall_ns else 0
        cpu_mpps = mpps / share if share else 0
        cpu_cpp = mhz / cpu_mpps if cpu_mpps else 0
        ok = abs(tx_mpps - mpps) <= 0.01 * mpps
        r = dict(mpps=mpps, busy=busy, cpu_mpps=cpu_mpps, cpu_cpp=cpu_cpp, share=share, ok=ok)
    else:
        m = re.search(r"^RESULT (.*)$", text, re.M)
        kv = dict(x.split("=") for x in m.group(1).split())
        ok = "check: every packet forwarded" in text
        r = dict(mpps=float(kv["mpps"]), busy=float(kv["busy_cpp"]),
                 cpu_mpps=float(kv["cpu_mpps"]), cpu_cpp=float(kv["cpu_cpp"]),
                 share=float(kv["cpu_share"]), ok=ok)
    runs.setdefault((mode, side), []).append(r)

def med(mode, side, key):
    return statistics.median(r[key] for r in runs[(mode, side)])

print()
print("%s, %s streams in the tables, %s s per run, median of %d run(s) per side "
      "(alternating), testpmd --forward-mode=%s" % (
          "Passthrough (UDP in no flow)" if untracked else "RTP path, every packet rewritten",
          streams, seconds, len(next(iter(runs.values()))), fwd))
print()
hdr = ("mode", "testpmd Mpps", "sipkeep Mpps", "RATIO", "testpmd cyc/pkt", "sipkeep cyc/pkt",
       "ratio (CPU time)", "CPU share tp/sk")
print("%-7s %12s %12s %7s %16s %16s %17s %16s" % hdr)
noisy = False
for mode in ("huge", "nohuge"):
    if (mode, "testpmd") not in runs:
        continue
    tp, sk = med(mode, "testpmd", "mpps"), med(mode, "sipkeep", "mpps")
    tpc, skc = med(mode, "testpmd", "cpu_mpps"), med(mode, "sipkeep", "cpu_mpps")
    tps, sks = min(r["share"] for r in runs[(mode, "testpmd")]), min(r["share"] for r in runs[(mode, "sipkeep")])
    noisy |= min(tps, sks) < 0.95
    print("%-7s %12.3f %12.3f %7.3f %7.0f / %-6.0f %7.0f / %-6.0f %17.3f %8.2f / %-5.2f" % (
        "2MiB" if mode == "huge" else "no-huge", tp, sk, sk / tp,
        med(mode, "testpmd", "busy"), med(mode, "testpmd", "cpu_cpp"),
        med(mode, "sipkeep", "busy"), med(mode, "sipkeep", "cpu_cpp"),
        skc / tpc, tps, sks))
print()
print("RATIO = sipkeep Mpps / testpmd %s Mpps (goal: >= %s)." % (fwd, "0.9" if untracked else "0.7"))
print("cyc/pkt = busy TSC cycles per packet (each program's own count) / forwarding thread's")
print("CPU time x TSC rate per packet. 'ratio (CPU time)' compares packets per CPU-second of")
print("the forwarding thread; CPU share = the smallest fraction of the wall clock that thread")
print("got in any run (1.00 = the core was its own).")
for (mode, side), rs in sorted(runs.items()):
    print("  %-7s %-8s Mpps %s" % (mode, side, " ".join("%.3f" % r["mpps"] for r in rs)))
if noisy:
    print("NOTE: a forwarding thread got less than 95% of its core in some run: other processes")
    print("      shared it. The wall-clock figures are low by that share; compare the CPU-time ratio.")
bad = [(m, s) for (m, s), rs in runs.items() for r in rs if not r["ok"]]
if bad:
    print("FAILED checks in:", bad)
    sys.exit(1)
EOF
