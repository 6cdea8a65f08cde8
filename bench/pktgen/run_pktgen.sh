#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Pktgen-DPDK against sipkeep (bench/pktgen/README.md): pktgen's port 0 is
# cabled to the forwarder's first port (sipkeep's access port), its port 1 to
# the second (sipkeep's core port). Each round pktgen sends on one port and
# counts what the forwarder passes on the other. In every round the reference,
# dpdk-testpmd, takes sipkeep's place on the same ports first, then sipkeep:
# same capture, same pktgen command file, same wiring, same lcores. The script
# prints, per shape, the median forwarded rate and loss of each and the ratio
# sipkeep / reference.
#
#   bench/pktgen/run_pktgen.sh [options] SHAPE|FILE.pcap ...
#
# SHAPE is mix, rtp or handover (the capture is generated with gen_captures.py,
# the pktgen command file is bench/pktgen/SHAPE.pkt); FILE.pcap runs any
# capture with default.pkt. Several shapes run one after the other and end
# with one table.
#
#   mix, FILE.pcap  the whole capture on port 0 (access -> core): passthrough
#                   does not care which side a frame comes from.
#   rtp, handover   sipkeep takes a message's side from its port, so the
#                   capture is split: the access side's frames on port 0, the
#                   core side's on port 1. The warm-up sends both, so that the
#                   calls (and moves) are set up; the measured rounds send the
#                   core side only (downlink RTP, rewritten in handover) on
#                   port 1 and count on port 0.
#
# Options:
#   -t SECONDS    measured seconds per round (default 10)
#   -r ROUNDS     rounds (default 3); each round runs the reference, then
#                 sipkeep; the figures are the medians
#   -R PERCENT    pktgen rate, percent of the link speed (default 100; memif
#                 reports 100 Gbit/s)
#   -n CALLS      calls / clients in a generated capture (default 500)
#   -w SECONDS    warm-up: traffic before the measured window (default 3), so
#                 the signalling at the head of the capture has set up the calls
#   -F MODE       testpmd's forward mode for the reference (default io: each
#                 frame leaves unchanged on the other port of the pair, as
#                 sipkeep forwards; 5tswap adds an address rewrite to every frame)
#   -S A,B        real NICs: the forwarder's first and second port (PCI
#                 addresses; sipkeep's access and core port)
#   -P C,D        real NICs: pktgen's port 0 and port 1 (cabled to A and B)
#   -k LCORES     the forwarder's lcores (default 0-1: sipkeep's control
#                 thread and one worker; testpmd's main thread and one
#                 forwarding core)
#   -g LCORES     pktgen's lcores (default 0-1)
#   -m MATRIX     pktgen's port matrix (default "0.[0-1]": lcore 0 runs both ports)
#   -M LCORE      pktgen's main lcore (default 1: its worker shares no CPU with
#                 the forwarder's; the CLI thread and sipkeep's control thread mostly sleep)
#   -L DIR        keep the logs, configs and captures in DIR
#
# Environment: PKTGEN (the pktgen binary; default: pktgen on PATH), TESTPMD
# (default: dpdk-testpmd on PATH), SIPKEEP and SIPKEEPCTL (default:
# build/control/ of this tree, then PATH).
#
# Without -S/-P all three programs run on this host over net_memif: the
# forwarder's two ports are memif servers, pktgen's two are clients, each
# process has its own --file-prefix, and none needs hugepages (--no-huge).
# With -S/-P they use hugepages and the NICs. A memif client connects only
# when its port starts, so pktgen starts afresh for every run, on NICs as well.
set -euo pipefail

SECS=10
ROUNDS=3
RATE=100
CALLS=500
WARMUP=3
FWD=io
SK_PCI=
PG_PCI=
SK_LCORES=0-1
PG_LCORES=0-1
PG_MATRIX="0.[0-1]"
PG_MAIN=1
LOG_DIR=

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3

die() {
	echo "run_pktgen: $*" >&2
	exit 1
}

usage() {
	sed -n '/^# Pktgen-DPDK/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit "${1:-0}"
}

while getopts "t:r:R:n:w:F:S:P:k:g:m:M:L:h" o; do
	case $o in
	t) SECS=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	R) RATE=$OPTARG ;;
	n) CALLS=$OPTARG ;;
	w) WARMUP=$OPTARG ;;
	F) FWD=$OPTARG ;;
	S) SK_PCI=$OPTARG ;;
	P) PG_PCI=$OPTARG ;;
	k) SK_LCORES=$OPTARG ;;
	g) PG_LCORES=$OPTARG ;;
	m) PG_MATRIX=$OPTARG ;;
	M) PG_MAIN=$OPTARG ;;
	L) LOG_DIR=$OPTARG ;;
	h) usage 0 ;;
	*) usage 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage 2
for v in "$SECS" "$ROUNDS" "$RATE" "$CALLS" "$WARMUP"; do
	[[ $v =~ ^[0-9]+$ ]] || die "not a whole number: $v"
done
{ [ "$ROUNDS" -ge 1 ] && [ "$SECS" -ge 1 ]; } || die "-t and -r must be at least 1"
[[ $FWD =~ ^[a-z0-9]+$ ]] || die "-F: a testpmd forward mode (io, mac, macswap, 5tswap, ...)"
if [ -n "$SK_PCI$PG_PCI" ] && { [ -z "$SK_PCI" ] || [ -z "$PG_PCI" ]; }; then
	die "-S and -P go together (two PCI addresses each)"
fi
for s in "$@"; do
	case $s in
	mix | rtp | handover) ;;
	*.pcap) [ -r "$s" ] || die "cannot read $s" ;;
	*) die "SHAPE is mix, rtp, handover or a .pcap file: $s" ;;
	esac
done

PKTGEN=${PKTGEN:-$(command -v pktgen || true)}
if [ -z "$PKTGEN" ] || [ ! -x "$PKTGEN" ]; then
	cat >&2 <<'MSG'
run_pktgen: pktgen not found. Set PKTGEN=/path/to/pktgen or put it on PATH.
Pktgen-DPDK is not packaged by Debian; build it from its source (the tag
pktgen-23.03.0 builds against Debian 12's DPDK 22.11, with meson and ninja),
as bench/pktgen/README.md describes step by step:
  git clone https://github.com/pktgen/Pktgen-DPDK && cd Pktgen-DPDK
  git checkout pktgen-23.03.0
  (for net_memif: let rte_eth_dev_set_mtu fail with -ENOTSUP in app/pktgen-port-cfg.c)
  meson setup build && ninja -C build      # binary: build/app/pktgen
MSG
	exit 2
fi
TESTPMD=${TESTPMD:-$(command -v dpdk-testpmd || true)}
{ [ -n "$TESTPMD" ] && [ -x "$TESTPMD" ]; } ||
	die "dpdk-testpmd not found (the reference run; Debian: apt-get install dpdk, or set TESTPMD)"
SIPKEEP=${SIPKEEP:-}
SIPKEEPCTL=${SIPKEEPCTL:-}
[ -n "$SIPKEEP" ] || SIPKEEP=$( [ -x "$ROOT/build/control/sipkeep" ] && echo "$ROOT/build/control/sipkeep" || command -v sipkeep || true)
[ -n "$SIPKEEPCTL" ] || SIPKEEPCTL=$( [ -x "$ROOT/build/control/sipkeepctl" ] && echo "$ROOT/build/control/sipkeepctl" || command -v sipkeepctl || true)
[ -x "$SIPKEEP" ] || die "sipkeep not found (build this tree or set SIPKEEP)"
[ -x "$SIPKEEPCTL" ] || die "sipkeepctl not found (build this tree or set SIPKEEPCTL)"
[ "$(id -u)" = 0 ] || die "needs root (DPDK)"

WORK=$(mktemp -d /tmp/pktgenbench.XXXXXX)
if [ -n "$LOG_DIR" ]; then
	mkdir -p "$LOG_DIR"
	LOGS=$(cd "$LOG_DIR" && pwd)
else
	LOGS=$WORK
fi
DUT_PREFIX=skpg-fw-$$ # the forwarder: testpmd or sipkeep, one at a time
PG_PREFIX=skpg-pg-$$
DUT=
DUT_PID=
PG_PID=
FIFO=$WORK/pktgen.in
TP_FIFO=$WORK/testpmd.in

# stop_dut: sipkeep on SIGTERM, testpmd through its prompt; both stop their ports.
stop_dut() {
	[ -n "$DUT_PID" ] || return 0
	if kill -0 "$DUT_PID" 2>/dev/null; then
		if [ "$DUT" = testpmd ]; then
			printf 'stop\nquit\n' >&8 2>/dev/null
		else
			kill -TERM "$DUT_PID"
		fi
		for _ in $(seq 50); do kill -0 "$DUT_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DUT_PID" 2>/dev/null
	fi
	wait "$DUT_PID" 2>/dev/null
	[ "$DUT" = testpmd ] && exec 8>&-
	DUT_PID=
	rm -rf "/var/run/dpdk/$DUT_PREFIX"
}

stop_pktgen() {
	[ -n "$PG_PID" ] || return 0
	if kill -0 "$PG_PID" 2>/dev/null; then
		echo "quit" >&9 2>/dev/null
		exec 9>&-
		for _ in $(seq 30); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$PG_PID" 2>/dev/null
	fi
	wait "$PG_PID" 2>/dev/null
	exec 9>&-
	PG_PID=
	rm -rf "/var/run/dpdk/$PG_PREFIX" "$FIFO"
}

# The sender stops first; then the forwarder; pktgen last (see the README on memif).
stop_all() {
	set +e
	[ -n "$PG_PID" ] && kill -0 "$PG_PID" 2>/dev/null && echo "stop all" >&9 2>/dev/null
	stop_dut
	stop_pktgen
	set -e
}

cleanup() {
	stop_all
	exec 8>&- 9>&- 2>/dev/null
	[ -z "$LOG_DIR" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "$SK_PCI" ]; then
	DUT_EAL=(-a "${SK_PCI%,*}" -a "${SK_PCI#*,}")
	PG_EAL=(-a "${PG_PCI%,*}" -a "${PG_PCI#*,}" -m 4096)
	WIRING="NICs $SK_PCI / $PG_PCI"
else
	DUT_EAL=(--no-huge -m 1024 --no-pci
		--vdev "net_memif0,role=server,id=0,socket=/run/skpg-$$-access.sock"
		--vdev "net_memif1,role=server,id=0,socket=/run/skpg-$$-core.sock")
	PG_EAL=(--no-huge -m 4096 --no-pci
		--vdev "net_memif0,role=client,id=0,socket=/run/skpg-$$-access.sock"
		--vdev "net_memif1,role=client,id=0,socket=/run/skpg-$$-core.sock")
	WIRING=net_memif
fi
DUT_TEL=/var/run/dpdk/$DUT_PREFIX/dpdk_telemetry.v2
PG_TEL=/var/run/dpdk/$PG_PREFIX/dpdk_telemetry.v2

cat >"$LOGS/sipkeep.conf" <<CONF
# written by run_pktgen.sh
control_socket = $WORK/sk.sock
access_prefixes = 10.0.0.0/8
persist_window_ms = 3600000
media_silence_ms = 600000
stats_interval_ms = 0
CONF

# start_dut testpmd|sipkeep LOG: the forwarder on the ports pktgen is cabled to
start_dut() {
	DUT=$1
	if [ "$DUT" = testpmd ]; then
		rm -f "$TP_FIFO"
		mkfifo "$TP_FIFO"
		# Interactive, so that it stays up until "quit" (and stops its ports then).
		"$TESTPMD" -l "$SK_LCORES" --file-prefix "$DUT_PREFIX" "${DUT_EAL[@]}" -- \
			-i --auto-start --disable-link-check --forward-mode="$FWD" <"$TP_FIFO" >"$2" 2>&1 &
		DUT_PID=$!
		exec 8>"$TP_FIFO"
		for _ in $(seq 150); do
			grep -q "testpmd> " "$2" && break
			kill -0 "$DUT_PID" 2>/dev/null || { tail -20 "$2" >&2; die "testpmd exited"; }
			sleep 0.2
		done
		grep -q "testpmd> " "$2" || die "testpmd did not start (see $2)"
	else
		"$SIPKEEP" -l "$SK_LCORES" --file-prefix "$DUT_PREFIX" "${DUT_EAL[@]}" -- \
			--config "$LOGS/sipkeep.conf" --stats-json "${2%.log}-stats.json" >"$2" 2>&1 &
		DUT_PID=$!
		for _ in $(seq 100); do
			"$SIPKEEPCTL" -s "$WORK/sk.sock" -t 1 show stats >/dev/null 2>&1 && break
			kill -0 "$DUT_PID" 2>/dev/null || { tail -20 "$2" >&2; die "sipkeep exited"; }
			sleep 0.2
		done
	fi
	if [ -z "$SK_PCI" ]; then
		# memif servers listen once the ports have started (abstract sockets: /proc/net/unix)
		for _ in $(seq 100); do
			[ "$(grep -c "@/run/skpg-$$-" /proc/net/unix)" -ge 2 ] && break
			sleep 0.2
		done
	fi
	[ -S "$DUT_TEL" ] || die "$DUT's telemetry socket did not appear"
}

# start_pktgen LOG: pktgen, its commands through a FIFO on its standard input
start_pktgen() {
	mkfifo "$FIFO"
	"$PKTGEN" -l "$PG_LCORES" --main-lcore "$PG_MAIN" --file-prefix "$PG_PREFIX" "${PG_EAL[@]}" -- \
		-P -m "$PG_MATRIX" "${PG_PCAPS[@]}" -f "$WORK/cmds.pkt" <"$FIFO" >"$1" 2>&1 &
	PG_PID=$!
	exec 9>"$FIFO"
	# Ready when both of its ports are up (pktgen loads the captures first, which
	# takes a while on a loaded machine).
	for _ in $(seq 600); do
		[ -S "$PG_TEL" ] && [ "$(links_up "$PG_TEL")" = "UP UP" ] && break
		kill -0 "$PG_PID" 2>/dev/null || { tail -20 "$1" >&2; die "pktgen exited"; }
		sleep 0.2
	done
	[ "$(links_up "$PG_TEL")" = "UP UP" ] || die "pktgen's ports did not come up (see $1)"
	sleep 2 # command file run
}

# links_up SOCKET: the link status of ports 0 and 1 ("UP UP" when both are up)
links_up() {
	"$PY" - "$1" <<'PYEOF' 2>/dev/null || true
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.recv(4096)
out = []
for p in (0, 1):
    s.send(("/ethdev/link_status,%d" % p).encode())
    out.append(json.loads(s.recv(65536).decode())["/ethdev/link_status"]["status"])
print(" ".join(out))
PYEOF
}

# snap: one line, "TIME" then "ipackets opackets" of pktgen's ports 0 and 1
# and of the forwarder's ports 0 and 1, read through their telemetry sockets
snap() {
	"$PY" - "$PG_TEL" "$DUT_TEL" <<'PYEOF'
import json, socket, sys, time
out = []
for path in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.recv(4096)
    for p in (0, 1):
        s.send(("/ethdev/stats,%d" % p).encode())
        d = json.loads(s.recv(65536).decode())["/ethdev/stats"]
        out += [d["ipackets"], d["opackets"]]
        if path == sys.argv[1] and p == 0:
            t = time.time()  # between the two reads of pktgen's ports
print("%.6f %s" % (t, " ".join(map(str, out))))
PYEOF
}

# sending PORT: wait until pktgen's PORT transmits (its CLI has taken the
# "start"); pktgen reads its standard input only when it gets to it
sending() {
	local before now
	before=$(snap | awk -v p="$1" '{ print $(3 + 2 * p) }')
	for _ in $(seq 300); do
		now=$(snap | awk -v p="$1" '{ print $(3 + 2 * p) }')
		[ "$now" -gt "$before" ] && return 0
		sleep 0.2
	done
	die "pktgen's port $1 does not send (see its log)"
}

# stopped PORT: wait until pktgen's PORT has stopped transmitting
stopped() {
	local before now
	now=$(snap | awk -v p="$1" '{ print $(3 + 2 * p) }')
	for _ in $(seq 300); do
		sleep 0.3
		before=$now
		now=$(snap | awk -v p="$1" '{ print $(3 + 2 * p) }')
		[ "$now" = "$before" ] && return 0
	done
	die "pktgen's port $1 does not stop (see its log)"
}

# run_one SHAPE DUT ROUND: one measured window with DUT forwarding; appends a row to $RES
run_one() {
	local shape=$1 dut=$2 r=$3 base=$LOGS/$1-$2-$3 b s0 s1 a
	start_dut "$dut" "$base.log"
	start_pktgen "$base-pktgen.log"
	if [ "$WARMUP" -gt 0 ]; then
		echo "start $WARM_PORTS" >&9
		sending "${WARM_PORTS%%-*}"
		sleep "$WARMUP"
		echo "stop $WARM_PORTS" >&9
		stopped "${WARM_PORTS%%-*}"
		stopped "${WARM_PORTS##*-}"
		sleep 1
	fi
	# b: before the start, s0..s1: the window (traffic flowing), a: after the
	# stop and a second for the frames in flight. The rate comes from the
	# window, the loss from b..a (every frame sent has arrived or is lost).
	b=$(snap)
	echo "start $TX" >&9
	sending "$TX"
	s0=$(snap)
	sleep "$SECS"
	s1=$(snap)
	echo "stop $TX" >&9
	stopped "$TX"
	sleep 1 # what is in flight arrives
	a=$(snap)
	kill -0 "$DUT_PID" 2>/dev/null || die "$dut died during round $r"
	if [ "$dut" = sipkeep ]; then
		"$SIPKEEPCTL" -s "$WORK/sk.sock" show stats >"$LOGS/$shape-sipkeep-show-stats.txt" 2>&1 || true
	fi
	stop_all
	"$PY" - "$b" "$s0" "$s1" "$a" "$TX" "$shape" "$dut" "$r" >>"$RES" <<'PYEOF'
import sys
b, s0, s1, a = ([float(x) for x in l.split()] for l in sys.argv[1:5])
tx = int(sys.argv[5])
rx = 1 - tx
# columns: time, pktgen port 0 rx tx, pktgen port 1 rx tx, forwarder port 0 rx tx, port 1 rx tx
PG_TX, PG_RX = 2 + 2 * tx, 1 + 2 * rx
FW_RX, FW_TX = 5 + 2 * tx, 6 + 2 * rx
dt = s1[0] - s0[0]
fw = (s1[PG_RX] - s0[PG_RX]) / dt / 1e6
sent_rate = (s1[PG_TX] - s0[PG_TX]) / dt / 1e6
sent, recv = a[PG_TX] - b[PG_TX], a[PG_RX] - b[PG_RX]
fw_rx, fw_tx = a[FW_RX] - b[FW_RX], a[FW_TX] - b[FW_TX]
loss = (sent - recv) / sent if sent else 0.0
print("%s %s %s %.4f %.4f %.5f %d %d %d %d %d" % (sys.argv[6], sys.argv[7], sys.argv[8], fw, sent_rate, loss,
                                                  sent, recv, fw_rx, fw_tx, fw_rx - fw_tx))
PYEOF
	tail -1 "$RES" | awk '{printf "round %d %-8s forwarded %.3f Mpps (sent %.3f Mpps), loss %.3f%% (%d sent, %d received; forwarder rx %d tx %d, not forwarded %d)\n", $3, $2 ":", $4, $5, $6 * 100, $7, $8, $9, $10, $11}'
}

# shape SHAPE: the capture, the command file and the ports for one shape
shape() {
	PG_PCAPS=()
	TX=0 # pktgen's sending port in the measured rounds; it counts on the other
	WARM_PORTS=0
	case $1 in
	mix | rtp | handover)
		PCAP=$LOGS/$1.pcap
		nice "$PY" "$HERE/gen_captures.py" --shape "$1" --calls "$CALLS" --split "$PCAP" >/dev/null ||
			die "gen_captures.py failed"
		PKT=$HERE/$1.pkt
		if [ "$1" != mix ]; then
			PG_PCAPS=(-s "0:$LOGS/$1-access.pcap" -s "1:$LOGS/$1-core.pcap")
			TX=1
			WARM_PORTS=0-1
			PCAP=$LOGS/$1-core.pcap
		fi
		;;
	*.pcap)
		PCAP=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
		PKT=$HERE/default.pkt
		;;
	esac
	[ ${#PG_PCAPS[@]} -gt 0 ] || PG_PCAPS=(-s "0:$PCAP")
	sed "s/@RATE@/$RATE/g" "$PKT" >"$WORK/cmds.pkt"
}

RES=$WORK/rounds
: >"$RES"
echo "run_pktgen: rate $RATE%, ${SECS}s x $ROUNDS rounds, warm-up ${WARMUP}s, $WIRING," \
	"reference dpdk-testpmd --forward-mode=$FWD, forwarder lcores $SK_LCORES, pktgen lcores $PG_LCORES;" \
	"$(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
for s in "$@"; do
	shape "$s"
	name=$(basename "${s%.pcap}")
	echo "$name: $(basename "$PCAP") ($("$PY" -c "
import sys; sys.path.insert(0, '$ROOT/tests/pylib')
from sktest.sipscen import read_frames; print(len(read_frames('$PCAP')))") frames), port $TX -> $((1 - TX))"
	for r in $(seq "$ROUNDS"); do
		run_one "$name" testpmd "$r"
		run_one "$name" sipkeep "$r"
	done
	grep -E "^ *(registrations_committed|dialogs_created|handovers_committed|rtp_rewritten_downlink|rtp_rewritten_uplink|sip_events_dropped|tx_dropped)" \
		"$LOGS/$name-sipkeep-show-stats.txt" | sed "s/^ */$name sipkeep (last round): /" || true
done
"$PY" - "$RES" "$FWD" <<'PYEOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
fwd = sys.argv[2]
shapes = []
for r in rows:
    if r[0] not in shapes:
        shapes.append(r[0])
med = statistics.median
print("%-10s %14s %8s %14s %8s %7s  %s" % ("shape", "testpmd %s Mpps" % fwd, "loss", "sipkeep Mpps", "loss",
                                          "RATIO", "per-round ratios"))
for s in shapes:
    got = {}
    for d in ("testpmd", "sipkeep"):
        got[d] = {int(r[2]): (float(r[3]), float(r[5])) for r in rows if r[0] == s and r[1] == d}
    ref = med(v[0] for v in got["testpmd"].values())
    sk = med(v[0] for v in got["sipkeep"].values())
    per = ["%.2f" % (got["sipkeep"][k][0] / got["testpmd"][k][0]) if got["testpmd"][k][0] else "-"
           for k in sorted(got["sipkeep"]) if k in got["testpmd"]]
    print("%-10s %14.3f %7.3f%% %14.3f %7.3f%% %6.2fx  %s" % (
        s, ref, 100 * med(v[1] for v in got["testpmd"].values()), sk,
        100 * med(v[1] for v in got["sipkeep"].values()), sk / ref if ref else 0.0, ", ".join(per)))
print("Mpps: frames pktgen counted on its receiving port per second of the window; loss: (sent - received) / sent;")
print("RATIO = sipkeep Mpps / testpmd Mpps, medians over %d rounds (each round: testpmd, then sipkeep)."
      % max(len([r for r in rows if r[0] == s and r[1] == "sipkeep"]) for s in shapes))
PYEOF
