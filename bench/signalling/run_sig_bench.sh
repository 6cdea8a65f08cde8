#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Signalling rate through the full path (issue 15, goal 5): one worker parsing
# SIP, posting events on the ring, the control thread applying them, all in
# sipkeep's replay mode (the daemon's worker and control code, one of each,
# driven by a capture). Each shape is timed next to a reference capture of as
# many frames of non-SIP UDP of the same sizes, in the same invocation: the
# difference is what the SIP work costs, the reference what reading and writing
# the capture costs.
#
#   bench/signalling/run_sig_bench.sh [N]        (default N = 100000)
#
# Shapes (gen_sig_pcap.py): N REGISTER + 200 pairs; N calls INVITE/200/ACK/
# BYE/200 (after registering their users); N pairs under a flood of 10 N
# REGISTERs of random users that are never answered. For each: the median of
# ROUNDS (default 3) wall times, the rate, and the counters that say whether
# the control thread kept up (sip_events_dropped) and nothing was lost
# (registrations committed for the real users). The flood runs with the
# default max_pending_registers and again with FLOOD_PENDING (default 11 N).
#
# Environment: ROUNDS, SIPKEEP (default build/control/sipkeep), KEEP=DIR.
set -euo pipefail

N=${1:-100000}
ROUNDS=${ROUNDS:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SIPKEEP=${SIPKEEP:-$ROOT/build/control/sipkeep}
FLOOD_PENDING=${FLOOD_PENDING:-$((11 * N))}
PY=/usr/bin/python3
[ -x "$SIPKEEP" ] || { echo "run_sig_bench: $SIPKEEP not built" >&2; exit 1; }
[[ $N =~ ^[0-9]+$ ]] || { echo "run_sig_bench: N must be a number" >&2; exit 1; }
WORK=${KEEP:-$(mktemp -d /tmp/sigbench.XXXXXX)}
mkdir -p "$WORK"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT

conf() { # conf NAME EXTRA...
	{
		echo "access_prefixes = 10.0.0.0/8"
		echo "stats_interval_ms = 0"
		echo "max_users = $((N + 1024))"
		echo "max_dialogs = $((N + 1024))"
		echo "max_streams = $((2 * N + 1024))"
		shift
		for l in "$@"; do echo "$l"; done
	} >"$WORK/$1.conf"
}

# run CAPTURE CONF: prints the median wall seconds; leaves the stats in $WORK/stats.json
run() {
	local ts=() t0 t1
	for _ in $(seq "$ROUNDS"); do
		t0=$(date +%s.%N)
		"$SIPKEEP" --replay "$1" --replay-out "$WORK/out.pcap" --config "$2" \
			--stats-json "$WORK/stats.json" >"$WORK/replay.log" 2>&1 ||
			{ tail -5 "$WORK/replay.log" >&2; exit 1; }
		t1=$(date +%s.%N)
		ts+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
	done
	printf '%s\n' "${ts[@]}" | sort -n | sed -n "$(((ROUNDS + 1) / 2))p"
}

ctr() { "$PY" -c "import json,sys; print(json.load(open('$WORK/stats.json'))['counters'].get('$1', 0))"; }
frames() { "$PY" -c "
import sys; sys.path.insert(0, '$ROOT/tests/pylib')
from sktest.sipscen import read_frames; print(len(read_frames('$1')))"; }

echo "run_sig_bench: N=$N, median of $ROUNDS replays each, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
conf plain
conf dflt
conf flood "max_pending_registers = $FLOOD_PENDING" "max_pending_per_source = $FLOOD_PENDING"
for shape in register calls flood; do
	nice "$PY" "$HERE/gen_sig_pcap.py" --shape "$shape" -n "$N" "$WORK/$shape.pcap" >/dev/null
	nf=$(frames "$WORK/$shape.pcap")
	nice "$PY" "$HERE/gen_sig_pcap.py" --shape plain -n $((nf / 2)) "$WORK/plain-$shape.pcap" >/dev/null
	t_ref=$(run "$WORK/plain-$shape.pcap" "$WORK/plain.conf")
	for c in dflt flood; do
		[ "$shape" != flood ] && [ "$c" = flood ] && continue
		t=$(run "$WORK/$shape.pcap" "$WORK/$c.conf")
		"$PY" - "$shape" "$c" "$N" "$nf" "$t" "$t_ref" "$(ctr sip_events_applied)" "$(ctr sip_events_dropped)" \
			"$(ctr registrations_committed)" "$(ctr dialogs_created)" "$(ctr registrations_pending_refused)" \
			"$(ctr registrations_pending_source_refused)" "$FLOOD_PENDING" <<'PYEOF'
import sys
shape, c, n, nf, t, tr, ev, drop, reg, dlg, pref, psrc, fp = sys.argv[1:]
n, nf, t, tr = int(n), int(nf), float(t), float(tr)
what = {"register": "REGISTER+200 pairs", "calls": "calls (after their REGISTERs)",
        "flood": "real REGISTER+200 pairs under a 10x flood"}[shape]
cfg = "" if c == "dflt" else " [max_pending_registers=%s]" % fp
net = "%.0f" % (n / (t - tr)) if t > tr * 1.05 else "n/a (within the noise of the reference)"
print("%-8s %d frames: %.2f s (reference %.2f s, ratio %.2fx): %s/s %.0f gross, %s net of capture I/O%s"
      % (shape, nf, t, tr, tr / t, what, n / t, net, cfg))
print("         events applied %s, dropped %s; registrations committed %s of %d real; dialogs %s; "
      "pending refused %s (per source %s)" % (ev, drop, reg, n if shape != "calls" else n, dlg, pref, psrc))
PYEOF
	done
done
