#!/usr/bin/env bash
# One handover demo run as an integration test (suite 'demo'):
#   demo_test.sh HANDOVER_DEMO_SH VARIANT SIPKEEP [SIPKEEPCTL]
# Runs scripts/handover-demo.sh --check (sipp peers in network namespaces,
# sipkeep on net_tap ports, assertions on both captures and on sipkeep's
# counters), then checks that the run left nothing behind. Exit 77 (skipped),
# with the reason, without root, /dev/net/tun, network namespaces, sipp or tshark.
set -u
demo=$1
variant=$2
sipkeep=$3
sipkeepctl=${4:-}

skip() {
	echo "SKIP: $*"
	exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, TAP interfaces)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun: TAP interfaces unavailable (modprobe tun, or give the container the device)"
(exec 9<>/dev/net/tun) 2>/dev/null || skip "/dev/net/tun cannot be opened"
probe=skd-probe-$$
ip netns add "$probe" >/dev/null 2>&1 || skip "cannot create network namespaces (ip netns add failed)"
ip netns del "$probe"
for t in sipp tshark dumpcap; do
	command -v "$t" >/dev/null 2>&1 || skip "$t is not installed (scripts/install-deps.sh installs it)"
done

base=t$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
out=$(mktemp -d "${TMPDIR:-/tmp}/sipkeep-demo-test.XXXXXX")
trap 'rm -rf "$out"' EXIT
args=(--variant "$variant" --check --no-install --keep-on-failure --sipkeep "$sipkeep" --json "$out/result.json")
[ -n "$sipkeepctl" ] && args+=(--sipkeepctl "$sipkeepctl")

leftovers() { # ID: nothing of a run may be left: namespaces, interfaces, DPDK folder, processes
	local id=$1 bad=0 ns ifc
	for ns in "skd-access-$id" "skd-core-$id"; do
		if ip netns list | grep -qw "$ns"; then
			echo "FAIL: namespace $ns left behind"
			ip netns del "$ns" 2>/dev/null
			bad=1
		fi
	done
	for ifc in "skdA$id" "skdC$id"; do
		if ip link show "$ifc" >/dev/null 2>&1; then
			echo "FAIL: interface $ifc left behind"
			bad=1
		fi
	done
	if [ -e "/var/run/dpdk/skdemo-$id" ]; then
		echo "FAIL: /var/run/dpdk/skdemo-$id left behind"
		rm -rf "/var/run/dpdk/skdemo-$id"
		bad=1
	fi
	if grep -qsa -- "skdem[o]-$id" /proc/[0-9]*/cmdline; then # [o]: not grep itself
		echo "FAIL: sipkeep (--file-prefix skdemo-$id) still running"
		bad=1
	fi
	return "$bad"
}

# A run on a machine too busy for its timing to mean anything (sipkeep's threads
# waiting for a CPU, or the sipp peers pausing: the report measures both) does not
# judge the timing checks. Run again, up to 3 runs, to get one that does; if none
# does, the last run's verdict stands, on every check but timing.
for attempt in 1 2 3; do
	id=$base$attempt
	rm -f "$out/result.json"
	start=$SECONDS
	SIPKEEP_DEMO_ID=$id bash "$demo" "${args[@]}"
	rc=$?
	echo "demo run $attempt: exit $rc after $((SECONDS - start)) s"
	[ "$rc" -eq 77 ] && exit 77
	leftovers "$id" || rc=1
	[ "$rc" -le 1 ] || break
	grep -q '"disturbed": true' "$out/result.json" 2>/dev/null || break
	if [ "$attempt" -lt 3 ]; then
		echo "run $attempt disturbed by load on this machine (see the WARNING above): running it again"
	else
		echo "NOTE: all 3 runs disturbed by load on this machine: timing checks not judged"
	fi
done
[ "$rc" -eq 0 ] && echo "PASS demo_$variant"
exit "$rc"
