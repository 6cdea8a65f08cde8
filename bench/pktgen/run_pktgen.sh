#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Pktgen-DPDK against sipkeep (bench/pktgen/README.md): pktgen's port 0 is
# cabled to sipkeep's access port, its port 1 to sipkeep's core port. Each
# round pktgen sends on one port and counts what sipkeep forwards on the other;
# the script prints the forwarded rate and the loss for each round and their
# medians.
#
#   bench/pktgen/run_pktgen.sh [options] SHAPE|FILE.pcap
#
# SHAPE is mix, rtp or handover (the capture is generated with gen_captures.py,
# the pktgen command file is bench/pktgen/SHAPE.pkt); FILE.pcap runs any
# capture with default.pkt.
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
#   -r ROUNDS     rounds (default 3); the figure is the median
#   -R PERCENT    pktgen rate, percent of the link speed (default 100; memif
#                 reports 100 Gbit/s)
#   -n CALLS      calls / clients in a generated capture (default 500)
#   -w SECONDS    warm-up: traffic before the first round (default 3), so the
#                 signalling at the head of the capture has set up the calls
#   -S A,B        real NICs: sipkeep's access and core ports (PCI addresses)
#   -P C,D        real NICs: pktgen's port 0 and port 1 (cabled to A and B)
#   -k LCORES     sipkeep's lcores (default 0-1: control thread, one worker)
#   -g LCORES     pktgen's lcores (default 0-1)
#   -m MATRIX     pktgen's port matrix (default "0.[0-1]": lcore 0 runs both ports)
#   -M LCORE      pktgen's main lcore (default 1: its worker shares no CPU with
#                 sipkeep's worker; the CLI thread and sipkeep's control thread mostly sleep)
#   -L DIR        keep the logs, config and capture in DIR
#
# Environment: PKTGEN (the pktgen binary; default: pktgen on PATH), SIPKEEP and
# SIPKEEPCTL (default: build/control/ of this tree, then PATH).
#
# Without -S/-P both programs run on this host over net_memif: sipkeep's two
# ports are memif servers, pktgen's two are clients, each process has its own
# --file-prefix, and neither needs hugepages (--no-huge). With -S/-P they use
# hugepages and the NICs.
set -euo pipefail

SECS=10
ROUNDS=3
RATE=100
CALLS=500
WARMUP=3
SK_PCI=
PG_PCI=
SK_LCORES=0-1
PG_LCORES=0-1
PG_MATRIX="0.[0-1]"
PG_MAIN=1
LOG_DIR=
TX=0        # pktgen's sending port in the measured rounds; it counts on the other
WARM_PORTS=0

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

while getopts "t:r:R:n:w:S:P:k:g:m:M:L:h" o; do
	case $o in
	t) SECS=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	R) RATE=$OPTARG ;;
	n) CALLS=$OPTARG ;;
	w) WARMUP=$OPTARG ;;
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
[ $# = 1 ] || usage 2
SHAPE=$1
for v in "$SECS" "$ROUNDS" "$RATE" "$CALLS" "$WARMUP"; do
	[[ $v =~ ^[0-9]+$ ]] || die "not a whole number: $v"
done
if [ -n "$SK_PCI$PG_PCI" ] && { [ -z "$SK_PCI" ] || [ -z "$PG_PCI" ]; }; then
	die "-S and -P go together (two PCI addresses each)"
fi

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
SK_PREFIX=skpg-sk-$$
PG_PREFIX=skpg-pg-$$
SK_PID=
PG_PID=
FIFO=$WORK/pktgen.in

cleanup() {
	set +e
	# The sender stops first; then sipkeep; pktgen last (see the README on memif).
	[ -n "$PG_PID" ] && kill -0 "$PG_PID" 2>/dev/null && echo "stop all" >&9 2>/dev/null
	if [ -n "$SK_PID" ] && kill -0 "$SK_PID" 2>/dev/null; then
		kill -TERM "$SK_PID"
		for _ in $(seq 50); do kill -0 "$SK_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$SK_PID" 2>/dev/null
		wait "$SK_PID" 2>/dev/null
	fi
	if [ -n "$PG_PID" ] && kill -0 "$PG_PID" 2>/dev/null; then
		echo "quit" >&9 2>/dev/null
		exec 9>&-
		for _ in $(seq 30); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$PG_PID" 2>/dev/null
		wait "$PG_PID" 2>/dev/null
	fi
	exec 9>&- 2>/dev/null
	rm -rf "/var/run/dpdk/$SK_PREFIX" "/var/run/dpdk/$PG_PREFIX"
	[ -z "$LOG_DIR" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the capture and the command file ---
case $SHAPE in
mix | rtp | handover)
	PCAP=$LOGS/$SHAPE.pcap
	nice "$PY" "$HERE/gen_captures.py" --shape "$SHAPE" --calls "$CALLS" --split "$PCAP" >/dev/null ||
		die "gen_captures.py failed"
	PKT=$HERE/$SHAPE.pkt
	if [ "$SHAPE" != mix ]; then
		PG_PCAPS=(-s "0:$LOGS/$SHAPE-access.pcap" -s "1:$LOGS/$SHAPE-core.pcap")
		TX=1
		WARM_PORTS=0-1
		PCAP=$LOGS/$SHAPE-core.pcap
	fi
	;;
*.pcap)
	PCAP=$(cd "$(dirname "$SHAPE")" && pwd)/$(basename "$SHAPE")
	[ -r "$PCAP" ] || die "cannot read $PCAP"
	PKT=$HERE/default.pkt
	;;
*) die "SHAPE is mix, rtp, handover or a .pcap file" ;;
esac
[ -n "${PG_PCAPS+x}" ] || PG_PCAPS=(-s "0:$PCAP")
RX=$((1 - TX))
sed "s/@RATE@/$RATE/g" "$PKT" >"$WORK/cmds.pkt"

# --- sipkeep ---
cat >"$LOGS/sipkeep.conf" <<CONF
# written by run_pktgen.sh
control_socket = $WORK/sk.sock
access_prefixes = 10.0.0.0/8
persist_window_ms = 3600000
media_silence_ms = 600000
stats_interval_ms = 0
CONF
if [ -n "$SK_PCI" ]; then
	SK_EAL=(-a "${SK_PCI%,*}" -a "${SK_PCI#*,}")
	PG_EAL=(-a "${PG_PCI%,*}" -a "${PG_PCI#*,}" -m 4096)
else
	SK_EAL=(--no-huge -m 1024 --no-pci
		--vdev "net_memif0,role=server,id=0,socket=/run/skpg-$$-access.sock"
		--vdev "net_memif1,role=server,id=0,socket=/run/skpg-$$-core.sock")
	PG_EAL=(--no-huge -m 4096 --no-pci
		--vdev "net_memif0,role=client,id=0,socket=/run/skpg-$$-access.sock"
		--vdev "net_memif1,role=client,id=0,socket=/run/skpg-$$-core.sock")
fi
"$SIPKEEP" -l "$SK_LCORES" --file-prefix "$SK_PREFIX" "${SK_EAL[@]}" -- \
	--config "$LOGS/sipkeep.conf" --stats-json "$LOGS/sipkeep-stats.json" >"$LOGS/sipkeep.log" 2>&1 &
SK_PID=$!
for _ in $(seq 100); do
	"$SIPKEEPCTL" -s "$WORK/sk.sock" -t 1 show stats >/dev/null 2>&1 && break
	kill -0 "$SK_PID" 2>/dev/null || { tail -20 "$LOGS/sipkeep.log" >&2; die "sipkeep exited"; }
	sleep 0.2
done

if [ -z "$SK_PCI" ]; then
	# memif servers listen once the ports have started (abstract sockets: /proc/net/unix)
	for _ in $(seq 100); do
		[ "$(grep -c "@/run/skpg-$$-" /proc/net/unix)" -ge 2 ] && break
		sleep 0.2
	done
fi

# --- pktgen, its commands through a FIFO on its standard input ---
mkfifo "$FIFO"
"$PKTGEN" -l "$PG_LCORES" --main-lcore "$PG_MAIN" --file-prefix "$PG_PREFIX" "${PG_EAL[@]}" -- \
	-P -m "$PG_MATRIX" "${PG_PCAPS[@]}" -f "$WORK/cmds.pkt" <"$FIFO" >"$LOGS/pktgen.log" 2>&1 &
PG_PID=$!
exec 9>"$FIFO"
PG_TEL=/var/run/dpdk/$PG_PREFIX/dpdk_telemetry.v2
SK_TEL=/var/run/dpdk/$SK_PREFIX/dpdk_telemetry.v2

# stats SOCKET PORT...: "ipackets opackets oerrors imissed" per port, one line each
stats() {
	"$PY" - "$@" <<'PYEOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.recv(4096)
for p in sys.argv[2:]:
    s.send(("/ethdev/stats,%s" % p).encode())
    d = json.loads(s.recv(65536).decode())["/ethdev/stats"]
    print(d["ipackets"], d["opackets"], d["oerrors"], d["imissed"])
PYEOF
}

for _ in $(seq 150); do
	[ -S "$PG_TEL" ] && grep -q "Pktgen:/>\|Pktgen created" "$LOGS/pktgen.log" 2>/dev/null && break
	kill -0 "$PG_PID" 2>/dev/null || { tail -20 "$LOGS/pktgen.log" >&2; die "pktgen exited"; }
	sleep 0.2
done
[ -S "$PG_TEL" ] || die "pktgen's telemetry socket did not appear"
sleep 2 # links up, command file run

echo "run_pktgen: $(basename "$PCAP") ($("$PY" -c "
import sys; sys.path.insert(0, '$ROOT/tests/pylib')
from sktest.sipscen import read_frames; print(len(read_frames('$PCAP')))") frames)," \
	"port $TX -> $RX, rate $RATE%, ${SECS}s x $ROUNDS rounds, $([ -n "$SK_PCI" ] && echo "NICs $SK_PCI / $PG_PCI" || echo net_memif)"
if [ "$WARMUP" -gt 0 ]; then
	echo "start $WARM_PORTS" >&9
	sleep "$WARMUP"
	echo "stop $WARM_PORTS" >&9
	sleep 1
fi

RES=$WORK/rounds
: >"$RES"
for r in $(seq "$ROUNDS"); do
	mapfile -t PB < <(stats "$PG_TEL" 0 1)
	mapfile -t KB < <(stats "$SK_TEL" 0 1)
	T0=$(date +%s.%N)
	echo "start $TX" >&9
	sleep "$SECS"
	echo "stop $TX" >&9
	T1=$(date +%s.%N)
	sleep 1 # what is in flight arrives
	mapfile -t PA < <(stats "$PG_TEL" 0 1)
	mapfile -t KA < <(stats "$SK_TEL" 0 1)
	"$PY" - "$T0" "$T1" "${PB[@]}" "${PA[@]}" "${KB[@]}" "${KA[@]}" "$r" "$TX" >>"$RES" <<'PYEOF'
import sys
t0, t1 = float(sys.argv[1]), float(sys.argv[2])
v = [list(map(int, a.split())) for a in sys.argv[3:11]]
b0, b1, a0, a1, k0, k1, l0, l1 = v
if sys.argv[12] == "1":  # sending on port 1, counting on port 0
    b0, b1, a0, a1, k0, k1, l0, l1 = b1, b0, a1, a0, k1, k0, l1, l0
sent = a0[1] - b0[1]
recv = a1[0] - b1[0]
sk_rx = l0[0] - k0[0]
sk_tx = l1[1] - k1[1]
sk_drop = sk_rx - sk_tx  # one-way traffic: what came in and did not go out
dt = t1 - t0
loss = (sent - recv) / sent if sent else 0.0
print("%s %.4f %.4f %.5f %d %d %d %d %d" % (sys.argv[11], recv / dt / 1e6, sent / dt / 1e6, loss, sent, recv,
                                            sk_rx, sk_tx, sk_drop))
PYEOF
	tail -1 "$RES" | awk '{printf "round %d: forwarded %.3f Mpps (sent %.3f Mpps), loss %.3f%% (%d sent, %d received; sipkeep rx %d tx %d, not forwarded %d)\n", $1, $2, $3, $4 * 100, $5, $6, $7, $8, $9}'
	kill -0 "$SK_PID" 2>/dev/null || die "sipkeep died during round $r"
done
"$PY" - "$RES" <<'PYEOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
fw = statistics.median(float(r[1]) for r in rows)
loss = statistics.median(float(r[3]) for r in rows)
print("median: forwarded %.3f Mpps, loss %.3f%% over %d rounds" % (fw, loss * 100, len(rows)))
PYEOF
"$SIPKEEPCTL" -s "$WORK/sk.sock" show stats >"$LOGS/sipkeep-show-stats.txt" 2>&1 || true
grep -E "^ *(registrations_committed|dialogs_created|handovers_committed|rtp_rewritten_downlink|rtp_rewritten_uplink|events_dropped|passthrough)" \
	"$LOGS/sipkeep-show-stats.txt" | sed 's/^ */sipkeep: /' || true
