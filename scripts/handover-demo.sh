#!/usr/bin/env bash
# sipkeep handover demo with real SIP peers: a phone (sipp) in network namespace
# "access" calls a call agent (sipp) in namespace "core" through sipkeep, which
# sits between the two on DPDK net_tap ports. Mid-call the phone's LTE address
# goes away, a Wi-Fi address comes up, the phone re-registers from it, and the
# call's RTP carries on. Prints a report: timeline, media gaps measured from
# captures on both sides, what sipkeep rewrote, Call-Info kept or removed.
#
#   scripts/handover-demo.sh [--variant normal|late|no-callinfo|forged] [--keep]
#
# Variants:
#   normal       re-registration within the persistence window: media moves
#   late         re-registration after the window: the call's media is no longer
#                carried (sipkeep released it)
#   no-callinfo  the phone registers without X-cisco-callinfo: the call agent's
#                Call-Info: <urn:x-cisco-remotecc:callinfo> is removed toward it
#   forged       a REGISTER for the phone's user from a third address, rejected by
#                the registrar (403), then RTP from there with the phone's SSRC:
#                nothing moves
# Options:
#   --keep             keep the work folder (captures, logs, scenarios) and say where
#   --check            exit 1 when the variant does not behave as it must (the tests)
#   --json FILE        write the measurements as JSON
#   --sipkeep BIN      use this sipkeep (no package install, no build)
#   --sipkeepctl BIN   use this sipkeepctl (default: next to sipkeep)
#   --keep-on-failure  keep the work folder only when something went wrong
#   --no-install       do not run scripts/install-deps.sh
# Environment: SIPKEEP_DEMO_BUILD_DIR (default build-demo) is where it builds;
# SIPKEEP_DEMO_ID (1-8 of [a-z0-9], default random) names this run's namespaces
# (skd-access-ID, skd-core-ID), TAP interfaces (skdAID, skdCID) and EAL prefix
# (skdemo-ID).
#
# Needs root, /dev/net/tun and network namespaces; exits 77 (skip) without them.
# Everything it creates has a name unique to the run (namespaces, TAP interfaces,
# DPDK --file-prefix, control socket in its own temp folder): runs may overlap.
# Ctrl-C or any exit removes the namespaces and stops what it started.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
demo_dir=$here/demo

orig_args=("$@")
variant=normal
keep=0
check=0
json_out=
sipkeep=
sipkeepctl=
install=1

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit "${1:-2}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--variant) variant=${2:?--variant needs a value}; shift 2 ;;
	--variant=*) variant=${1#*=}; shift ;;
	--keep) keep=1; shift ;;
	--keep-on-failure) keep=2; shift ;;
	--check) check=1; shift ;;
	--json) json_out=${2:?--json needs a file}; shift 2 ;;
	--sipkeep) sipkeep=${2:?--sipkeep needs a path}; shift 2 ;;
	--sipkeepctl) sipkeepctl=${2:?--sipkeepctl needs a path}; shift 2 ;;
	--no-install) install=0; shift ;;
	-h | --help) usage 0 ;;
	*) echo "handover-demo: unknown argument '$1'" >&2; usage 2 ;;
	esac
done
case $variant in
normal | late | no-callinfo | forged) ;;
*) echo "handover-demo: --variant must be normal, late, no-callinfo or forged (got '$variant')" >&2; exit 2 ;;
esac

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
skip() {
	say "handover-demo: SKIP: $*" >&2
	exit 77
}
die() {
	say "handover-demo: ERROR: $*" >&2
	exit 1
}

# ---------------------------------------------------------------- prerequisites
# Run by hand (not --check, as the tests do): re-run under sudo when not root and sudo is there.
if [ "$(id -u)" -ne 0 ] && [ "$check" -eq 0 ]; then
	command -v sudo >/dev/null 2>&1 ||
		die "needs root (network namespaces, TAP interfaces) and sudo is not installed: run it as root"
	exec sudo -E "$0" "${orig_args[@]}"
fi
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, TAP interfaces); run it with sudo"

need_tools() {
	local t missing=
	for t in ip sipp dumpcap tshark /usr/bin/python3; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	printf '%s' "$missing"
}

if [ -z "$sipkeep" ]; then
	# A person's run on a fresh machine: install what is missing, build.
	missing=$(need_tools)
	for t in meson ninja cc pkg-config; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libdpdk 2>/dev/null || missing="$missing libdpdk"
	installed=0
	install_deps() {
		step "Installing what is missing:$1 (scripts/install-deps.sh)"
		"$repo/scripts/install-deps.sh"
		installed=1
	}
	if [ -n "$missing" ]; then
		[ "$install" -eq 1 ] || die "missing:$missing (run scripts/install-deps.sh, or drop --no-install)"
		install_deps "$missing"
	fi
	build=${SIPKEEP_DEMO_BUILD_DIR:-build-demo}
	case $build in /*) ;; *) build=$repo/$build ;; esac
	step "Building sipkeep in $build"
	if [ ! -f "$build/build.ninja" ]; then
		if ! out=$(meson setup "$build" "$repo" 2>&1); then
			# A library the checks above do not name (Hyperscan, jemalloc...): install, retry.
			if [ "$install" -ne 1 ] || [ "$installed" -ne 0 ]; then
				printf '%s\n' "$out" | tail -20 >&2
				die "meson setup failed"
			fi
			install_deps " (meson setup failed)"
			rm -rf "$build"
			out=$(meson setup "$build" "$repo" 2>&1) || { printf '%s\n' "$out" | tail -20 >&2; die "meson setup failed"; }
		fi
	fi
	out=$(ninja -C "$build" control/sipkeep control/sipkeepctl 2>&1) ||
		{ printf '%s\n' "$out" | tail -30 >&2; die "build failed"; }
	sipkeep=$build/control/sipkeep
	[ -n "$sipkeepctl" ] || sipkeepctl=$build/control/sipkeepctl
else
	missing=$(need_tools)
	[ -z "$missing" ] || skip "missing:$missing (scripts/install-deps.sh installs them)"
fi
[ -x "$sipkeep" ] || die "no sipkeep executable at $sipkeep"
sipkeep=$(realpath "$sipkeep")
[ -n "$sipkeepctl" ] || sipkeepctl=$(dirname "$sipkeep")/sipkeepctl
[ -x "$sipkeepctl" ] && sipkeepctl=$(realpath "$sipkeepctl") || sipkeepctl=

[ -c /dev/net/tun ] || skip "no /dev/net/tun (TAP interfaces): load the tun module or give the container the device"
(exec 9<>/dev/net/tun) 2>/dev/null || skip "/dev/net/tun cannot be opened"

# -------------------------------------------------------------- names, settings
id=${SIPKEEP_DEMO_ID:-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')}
[[ $id =~ ^[a-z0-9]{1,8}$ ]] || die "SIPKEEP_DEMO_ID must be 1 to 8 of [a-z0-9] (got '$id')"
ns_a=skd-access-$id
ns_c=skd-core-$id
tap_a=skdA$id
tap_c=skdC$id
prefix=skdemo-$id
work=$(mktemp -d "${TMPDIR:-/tmp}/sipkeep-handover.XXXXXX")

IP_LTE=10.1.0.5
IP_WIFI=10.2.0.7
IP_FORGE=10.66.0.66
IP_GW=192.0.2.1
CORE_IP=192.0.2.10
CORE_NET=192.0.2.0/24
ACCESS_NET=10.0.0.0/8
RTP_PORT=16384
CORE_RTP_PORT=20000
USER_NAME=alice
DOMAIN=example.com
CALLEE=2001
WINDOW_MS=3000
SILENCE_MS=1000
SUPPORTED_FULL="replaces,join,sdp-anat,norefersub,resource-priority,extended-refer,X-cisco-callinfo,X-cisco-serviceuri,X-cisco-escapecodes,X-cisco-service-control,X-cisco-srtp-fallback,X-cisco-monrec,X-cisco-config,X-cisco-sis-7.0.0,X-cisco-xsi-8.5.1,X-cisco-sessionpersist"
SUPPORTED_NO_CALLINFO=${SUPPORTED_FULL/X-cisco-callinfo,/}
CALLINFO='<urn:x-cisco-remotecc:callinfo>;security=NotAuthenticated;orientation=to;gci=1-4711;isVoip;call-instance=1'

# Per variant: pauses (ms) and the scenario blocks that apply.
talk_lte=3000 outage=0 talk_after=3000 rereg="200 OK" supported=$SUPPORTED_FULL
case $variant in
normal) outage=1500 ;;
no-callinfo) outage=1500 supported=$SUPPORTED_NO_CALLINFO ;;
late) outage=$((SILENCE_MS + WINDOW_MS + 1500)) talk_after=2000 ;;
forged) rereg="403 Forbidden" ;;
esac
moves=1 forge=0 core_hangs_up=1 ip_end=$IP_WIFI
[ "$variant" = late ] && core_hangs_up=0
[ "$variant" = forged ] && moves=0 forge=1 core_hangs_up=0 ip_end=$IP_LTE

# ---------------------------------------------------------------------- cleanup
pids=()
sk_pid=
cleaned=0
cleanup() {
	local rc=$? p
	[ "$cleaned" -eq 1 ] && return
	cleaned=1
	trap - INT TERM
	[ -f "$work/rtpphone.pid" ] && pids+=("$(cat "$work/rtpphone.pid")")
	for p in "${pids[@]}"; do
		kill -INT "$p" 2>/dev/null || true
	done
	if [ -n "$sk_pid" ] && kill -0 "$sk_pid" 2>/dev/null; then
		kill -INT "$sk_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$sk_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$sk_pid" 2>/dev/null || true
	fi
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	ip netns del "$ns_a" 2>/dev/null || true
	ip netns del "$ns_c" 2>/dev/null || true
	ip link del "$tap_a" 2>/dev/null || true
	ip link del "$tap_c" 2>/dev/null || true
	rm -rf "/var/run/dpdk/$prefix"
	if [ "$keep" -eq 1 ] || { [ "$keep" -eq 2 ] && [ "$rc" -ne 0 ]; }; then
		say "(work folder kept: $work)"
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted: cleaning up" >&2; exit 130' INT
trap 'say "terminated: cleaning up" >&2; exit 143' TERM

ip netns add "$ns_a" 2>/dev/null || skip "cannot create network namespaces (ip netns add failed)"
ip netns add "$ns_c" || die "ip netns add $ns_c failed"

in_a() { ip netns exec "$ns_a" "$@"; }
in_c() { ip netns exec "$ns_c" "$@"; }

# ----------------------------------------------------------------------- files
cat >"$work/sipkeep.conf" <<EOF
# sipkeep handover demo ($variant)
access_prefixes = $ACCESS_NET
persist_window_ms = $WINDOW_MS
media_silence_ms = $SILENCE_MS
dialog_linger_ms = 2000
callinfo_policy = registered
control_socket = $work/ctl/sipkeep.sock
EOF
# KEY='value' lines: sourced by hook.sh, read by report.py and forge.py.
cat >"$work/env" <<EOF
IP_LTE='$IP_LTE'
IP_WIFI='$IP_WIFI'
IP_FORGE='$IP_FORGE'
CORE_IP='$CORE_IP'
CORE_NET='$CORE_NET'
CORE_RTP_PORT='$CORE_RTP_PORT'
RTP_PORT='$RTP_PORT'
TAP_A='$tap_a'
DEMO_DIR='$demo_dir'
USER='$USER_NAME'
DOMAIN='$DOMAIN'
SUPPORTED='$supported'
PHONE_SSRC='0x5EE9CAFE'
EOF
/usr/bin/python3 "$demo_dir/mkaudio.py" "$work/audio.alaw" 2

# Fill in the scenarios: pauses, the variant's blocks, the re-REGISTER's answer.
keep_block() { # NAME 0|1: drop the block's lines, or only its markers
	if [ "$2" -eq 1 ]; then
		printf '/<!--@IF_%s@-->/d; /<!--@ENDIF_%s@-->/d;' "$1" "$1"
	else
		printf '/<!--@IF_%s@-->/,/<!--@ENDIF_%s@-->/d;' "$1" "$1"
	fi
}
phone_hangs_up=$((1 - core_hangs_up))
blocks="$(keep_block MOVE $moves) $(keep_block FORGE $forge) $(keep_block CORE_HANGS_UP $core_hangs_up) $(keep_block PHONE_HANGS_UP $phone_hangs_up)"
subst="s/@TALK_LTE_MS@/$talk_lte/g; s/@OUTAGE_MS@/$outage/g; s/@TALK_AFTER_MS@/$talk_after/g; s/@BYE_TIMEOUT_MS@/$((talk_after + 10000))/g; s/@REREG_STATUS@/$rereg/g"
sed -e "$blocks" -e "$subst" "$demo_dir/phone.xml" >"$work/phone.xml"
sed -e "$blocks" -e "$subst" "$demo_dir/core.xml" >"$work/core.xml"

# ---------------------------------------------------------------------- sipkeep
step "Starting sipkeep (variant $variant): net_tap ports $tap_a (access) and $tap_c (core)"
# Each log line gets the time it was written (the report's timeline uses them).
"$sipkeep" --vdev "net_tap0,iface=$tap_a" --vdev "net_tap1,iface=$tap_c" \
	--no-huge -m 512 --no-pci --file-prefix "$prefix" -l 0-1 -- \
	--config "$work/sipkeep.conf" --stats-json "$work/stats.json" \
	> >(while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$work/sipkeep.log") 2>&1 &
sk_pid=$!
for _ in $(seq 150); do
	grep -q "sipkeep: running:" "$work/sipkeep.log" 2>/dev/null && break
	kill -0 "$sk_pid" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q "sipkeep: running:" "$work/sipkeep.log"; then
	sed 's/^[0-9.]* //' "$work/sipkeep.log" | tail -20 >&2
	die "sipkeep did not start (log above)"
fi
# How much CPU sipkeep's threads get (the report tells a starved worker from a slow one).
/usr/bin/python3 "$demo_dir/schedwatch.py" "$sk_pid" "$work/sched.log" &
pids+=("$!")

# ------------------------------------------------------------------- namespaces
# The TAP interfaces exist once the ports are started; then each goes into its
# namespace (DPDK keeps its file descriptor).
#
#   access namespace                                    core namespace
#   phone 10.1.0.5 (LTE) -> 10.2.0.7 (Wi-Fi)            call agent 192.0.2.10
#   access gateway 192.0.2.1/24                         (registrar + media)
#   [ tapA ]==== port 0  sipkeep  port 1 ====[ tapC ]   route 10.0.0.0/8 via 192.0.2.1
#
# The phone's networks sit behind the access gateway: the call agent reaches
# 10.0.0.0/8 through 192.0.2.1, whose MAC never changes, so it keeps sending to
# the old address after the switch, and those frames still reach sipkeep.
ip link set "$tap_a" netns "$ns_a"
ip link set "$tap_c" netns "$ns_c"
for ns in "$ns_a" "$ns_c"; do
	ip -n "$ns" link set lo up
	# No reverse-path filter (the phone's address changes under it), no IPv6 chatter.
	ip netns exec "$ns" sh -c 'echo 0 >/proc/sys/net/ipv4/conf/all/rp_filter
		echo 0 >/proc/sys/net/ipv4/conf/default/rp_filter
		echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6' 2>/dev/null || true
done
ip -n "$ns_a" link set "$tap_a" up
ip -n "$ns_a" addr add "$IP_GW/24" dev "$tap_a"
ip -n "$ns_a" addr add "$IP_LTE/24" dev "$tap_a"
# The phone's traffic toward the core leaves from the phone's current address.
ip -n "$ns_a" route replace "$CORE_NET" dev "$tap_a" src "$IP_LTE"
[ "$forge" -eq 1 ] && ip -n "$ns_a" addr add "$IP_FORGE/32" dev "$tap_a"
ip -n "$ns_c" link set "$tap_c" up
ip -n "$ns_c" addr add "$CORE_IP/24" dev "$tap_c"
ip -n "$ns_c" route add "$ACCESS_NET" via "$IP_GW"

# --------------------------------------------------------------------- captures
in_a dumpcap -q -i "$tap_a" -w "$work/access.pcapng" >"$work/dumpcap-access.log" 2>&1 &
pids+=("$!")
in_c dumpcap -q -i "$tap_c" -w "$work/core.pcapng" >"$work/dumpcap-core.log" 2>&1 &
pids+=("$!")
for _ in $(seq 100); do
	[ -s "$work/access.pcapng" ] && [ -s "$work/core.pcapng" ] && break
	sleep 0.05
done
[ -s "$work/access.pcapng" ] && [ -s "$work/core.pcapng" ] || die "dumpcap did not start (see $work/dumpcap-*.log)"

# ------------------------------------------------------------------------- sipp
step "Call agent (sipp UAS) in $ns_c, phone (sipp UAC) in $ns_a; the call:"
common=(-i 0.0.0.0 -mi 0.0.0.0 -p 5060 -m 1 -nd -recv_timeout 30000 -timeout 90 -trace_err -trace_msg)
(cd "$work" && exec ip netns exec "$ns_c" sipp -sf core.xml "${common[@]}" -mp "$CORE_RTP_PORT" \
	-message_file core-messages.log -error_file core-errors.log \
	-set core_ip "$CORE_IP" -set callee "$CALLEE" -set user "$USER_NAME" -set domain "$DOMAIN" \
	-set callinfo "$CALLINFO" </dev/null >"$work/core-sipp.out" 2>&1) &
core_pid=$!
pids+=("$core_pid")
for _ in $(seq 100); do
	in_c ss -Hlun 2>/dev/null | grep -q ':5060 ' && break
	sleep 0.05
done

(cd "$work" && exec ip netns exec "$ns_a" sipp -sf phone.xml "${common[@]}" -mp 16500 \
	-message_file phone-messages.log -error_file phone-errors.log \
	-set ip_lte "$IP_LTE" -set ip_wifi "$IP_WIFI" -set ip_now "$ip_end" -set core_ip "$CORE_IP" \
	-set user "$USER_NAME" -set domain "$DOMAIN" -set callee "$CALLEE" -set supported "$supported" \
	-set rtp_port "$RTP_PORT" -set hook "bash '$demo_dir/hook.sh' '$work'" \
	"$CORE_IP:5060" </dev/null >"$work/phone-sipp.out" 2>&1) &
phone_pid=$!
pids+=("$phone_pid")

# While the call runs: sipkeepctl snapshots on LTE and after the handover.
ctl() { # NAME COMMAND...: save the table (and JSON) for the report
	local name=$1
	shift
	if [ -z "$sipkeepctl" ]; then
		echo "(sipkeepctl not built: no '$*')" >"$work/ctl-$name.txt"
		return
	fi
	"$sipkeepctl" -s "$work/ctl/sipkeep.sock" -t 3 "$@" >"$work/ctl-$name.txt" 2>&1 ||
		echo "(sipkeepctl $*: not available from this sipkeep, exit $?)" >>"$work/ctl-$name.txt"
	"$sipkeepctl" -s "$work/ctl/sipkeep.sock" -t 3 --json "$@" >"$work/ctl-$name.json" 2>/dev/null || true
}
us() { echo "${1/./}"; } # seconds with 6 decimals ($EPOCHREALTIME) -> microseconds
describe() {
	case $1 in
	registered) echo "registered from LTE $IP_LTE (REGISTER with X-cisco-sessionpersist)" ;;
	callup) echo "call up: RTP both ways" ;;
	lost) echo "LTE lost: $IP_LTE removed from the phone" ;;
	gained) echo "Wi-Fi up: the phone has $IP_WIFI; re-registering" ;;
	reregistered) echo "re-registered from Wi-Fi" ;;
	forge) echo "an intruder at $IP_FORGE sends a REGISTER for $USER_NAME, then RTP" ;;
	hungup) echo "call ended" ;;
	*) echo "$1" ;;
	esac
}
# Follow the phone's steps as the hook notes them; take the sipkeepctl snapshots
# 1 s after the call is up and 1 s after the re-registration (or forgery).
t_start=$(us "$EPOCHREALTIME")
shown=0 snap1=0 snap2=0
while kill -0 "$phone_pid" 2>/dev/null; do
	if [ -f "$work/events" ]; then
		mapfile -t lines <"$work/events"
		while [ "$shown" -lt "${#lines[@]}" ]; do
			read -r name t <<<"${lines[$shown]}"
			shown=$((shown + 1))
			printf '  %6.2f s  %s\n' "$(($(us "$t") - t_start))e-6" "$(describe "$name")"
			case $name in
			callup) snap1=$(($(us "$t") + 1000000)) ;;
			reregistered | forge) snap2=$(($(us "$t") + 1000000)) ;;
			esac
		done
	fi
	now=$(us "$EPOCHREALTIME")
	if [ "$snap1" -gt 0 ] && [ "$now" -ge "$snap1" ]; then
		snap1=-1
		ctl users-call show users
		ctl calls-call show calls
	fi
	if [ "$snap2" -gt 0 ] && [ "$now" -ge "$snap2" ]; then
		snap2=-1
		ctl users-after show users
		ctl calls-after show calls
	fi
	sleep 0.05
done
phone_rc=0
wait "$phone_pid" || phone_rc=$?
core_rc=0
for _ in $(seq 60); do kill -0 "$core_pid" 2>/dev/null || break; sleep 0.1; done
kill -INT "$core_pid" 2>/dev/null || true
wait "$core_pid" || core_rc=$?
sleep 0.3
sk_alive=1
if ! kill -0 "$sk_pid" 2>/dev/null; then
	sk_alive=0
	say "sipkeep is gone before the end of the call; its last words:" >&2
	sed 's/^[0-9.]* //' "$work/sipkeep.log" | tail -25 >&2
fi

# ------------------------------------------------------------ stop and report
for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
[ -f "$work/rtpphone.pid" ] && kill "$(cat "$work/rtpphone.pid")" 2>/dev/null || true
kill -INT "$sk_pid" 2>/dev/null || true
for _ in $(seq 100); do kill -0 "$sk_pid" 2>/dev/null || break; sleep 0.1; done
wait "$sk_pid" 2>/dev/null || true
sk_pid=
wait 2>/dev/null || true
pids=()

cat >>"$work/env" <<EOF
VARIANT='$variant'
NS_ACCESS='$ns_a'
NS_CORE='$ns_c'
TAP_C='$tap_c'
IP_GW='$IP_GW'
WINDOW_MS='$WINDOW_MS'
SILENCE_MS='$SILENCE_MS'
OUTAGE_MS='$outage'
PHONE_SIPP_RC='$phone_rc'
CORE_SIPP_RC='$core_rc'
SIPKEEP_ALIVE='$sk_alive'
CALLINFO_URN='urn:x-cisco-remotecc:callinfo'
EOF
args=("$work")
[ "$check" -eq 1 ] && args+=(--check)
[ -n "$json_out" ] && args+=(--json "$json_out")
rc=0
/usr/bin/python3 "$demo_dir/report.py" "${args[@]}" || rc=$?
exit "$rc"
