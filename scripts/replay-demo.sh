#!/usr/bin/env bash
# A call survives a network switch, offline: generate a capture of a phone that
# registers with X-cisco-sessionpersist, places a call, loses LTE mid-call and
# re-registers from Wi-Fi; replay it through sipkeep and show what it did.
#   scripts/replay-demo.sh [BUILD_DIR]     (needs root for the package install)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=$(mktemp -d /tmp/sipkeep-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

scripts/install-deps.sh >/dev/null
[ -d "$build" ] || meson setup "$build" >/dev/null
ninja -C "$build" >/dev/null

PYTHONPATH=tests/pylib /usr/bin/python3 - "$work/in.pcap" <<'PY'
import sys
from sktest.sipscen import handover_scenario
s, old, new, flows = handover_scenario()
s.write(sys.argv[1])
PY
cat >"$work/sipkeep.conf" <<'CONF'
access_prefixes = 10.0.0.0/8
persist_window_ms = 12000
media_silence_ms = 2000
dialog_linger_ms = 2000
CONF

echo "== The call: alice (LTE 10.1.0.5) calls through the call agent 192.0.2.10;"
echo "   media server 192.0.2.20. At 5 s LTE is gone; at 8 s alice re-registers from"
echo "   Wi-Fi 10.2.0.7 (SIP port 5062, RTP port 4010)."
echo
"$build/control/sipkeep" --replay "$work/in.pcap" --replay-out "$work/out.pcap" \
	--config "$work/sipkeep.conf" --stats-json "$work/stats.json" 2>&1 |
	grep -v '^EAL:' | sed 's/^sipkeep: /  /'
echo
echo "== Downlink RTP after the handover: sent by the core to the old address, delivered to the new one"
paste <(tshark -r "$work/in.pcap" -Y 'frame.time_relative > 8.3 && ip.src == 192.0.2.20 && udp.srcport == 20000' \
	-T fields -e frame.time_relative -e ip.dst -e udp.dstport 2>/dev/null | head -3) \
	<(tshark -r "$work/out.pcap" -Y 'frame.time_relative > 8.3 && ip.src == 192.0.2.20 && udp.srcport == 20000' \
	-T fields -e ip.dst -e udp.dstport 2>/dev/null | head -3) | awk '{printf "  t=%5.2fs  in: %s:%s  ->  out: %s:%s\n", $1, $2, $3, $4, $5}'
echo "== Uplink RTP after the handover: sent from Wi-Fi, seen by the core as the unchanged old stream"
paste <(tshark -r "$work/in.pcap" -Y 'frame.time_relative > 8.3 && ip.dst == 192.0.2.20 && udp.dstport == 20000' \
	-T fields -e frame.time_relative -e ip.src -e udp.srcport 2>/dev/null | head -3) \
	<(tshark -r "$work/out.pcap" -Y 'frame.time_relative > 8.3 && ip.dst == 192.0.2.20 && udp.dstport == 20000' \
	-T fields -e ip.src -e udp.srcport 2>/dev/null | head -3) | awk '{printf "  t=%5.2fs  in: %s:%s  ->  out: %s:%s\n", $1, $2, $3, $4, $5}'
echo
echo "== Counters"
/usr/bin/python3 - "$work/stats.json" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
for side, c in st["ports"].items():
    print("  %-6s rx %6d  tx %6d  dropped %d" % (side, c["rx"], c["tx"], c["tx_dropped"]))
for k, v in st["counters"].items():
    if v:
        print("  %-32s %d" % (k, v))
PY
echo
echo "Checksums of every rewritten frame, as tshark validates them:"
bad=$(tshark -r "$work/out.pcap" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
	-Y 'ip.checksum.status == "Bad" || udp.checksum.status == "Bad"' 2>/dev/null | wc -l)
echo "  $bad bad"
