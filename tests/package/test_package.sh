#!/bin/bash
# The Debian package, end to end, as an operator gets it (issue 17):
#   build the .deb from a copy of the source tree (dpkg-buildpackage -b -us -uc),
#   apt-get install it, check the installed files (programs, conffiles, unit,
#   man pages, completion), systemd-analyze verify the unit, start the installed
#   sipkeep exactly as the unit's ExecStart does (EAL arguments on net_null
#   vdevs, the packaged config, the unit's capability bounding set and
#   no_new_privs) and talk to it with the installed sipkeepctl, stop it, purge
#   the package and check nothing is left, and run lintian (no errors).
# Needs root, dpkg-buildpackage (debhelper), apt-get, lintian, systemd-analyze
# and man: exits 77 without them, or when a sipkeep package is already installed
# (an operator's install is never touched).
# Usage: test_package.sh SOURCE_ROOT
set -euo pipefail

src=$(cd "${1:?usage: $0 SOURCE_ROOT}" && pwd)
skip() {
	echo "SKIP: $*"
	exit 77
}
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
step() { echo "== $*"; }

[ "$(id -u)" -eq 0 ] || skip "needs root (apt-get install, /run/sipkeep)"
for tool in dpkg-buildpackage dh apt-get dpkg-query lintian systemd-analyze man setpriv python3; do
	command -v "$tool" >/dev/null || skip "no $tool (scripts/install-deps.sh installs it)"
done
if dpkg-query -W -f '${Status}' sipkeep 2>/dev/null | grep -q 'installed\|config-files'; then
	skip "a sipkeep package is already installed on this machine; not touching it"
fi
if [ -S /run/sipkeep/sipkeep.sock ]; then
	skip "/run/sipkeep/sipkeep.sock exists: a sipkeep may be running here"
fi

tmp=$(mktemp -d /tmp/sipkeep-pkg.XXXXXX)
prefix="skpkg$$"
daemon_pid=""
installed=false
made_run_dir=false
cleanup() {
	set +e
	if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
		kill -TERM "$daemon_pid"
		sleep 2
		kill -KILL "$daemon_pid" 2>/dev/null
	fi
	$made_run_dir && rm -rf /run/sipkeep
	$installed && DEBIAN_FRONTEND=noninteractive apt-get purge -y -q sipkeep >/dev/null 2>&1
	rm -rf "/var/run/dpdk/$prefix" "$tmp"
}
trap cleanup EXIT

step "copy the source tree (tracked and untracked files, no build directories)"
mkdir "$tmp/src"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	# obj-*: the build directory of a dpkg-buildpackage run in the source tree.
	(cd "$src" && git ls-files -z --cached --others --exclude-standard | grep -zv '^obj-' |
		tar --null --ignore-failed-read -T - -cf -) 2>/dev/null | tar -xf - -C "$tmp/src"
else
	tar -C "$src" --exclude='./build*' --exclude='./obj-*' --exclude='./subprojects' -cf - . | tar -xf - -C "$tmp/src"
fi
version=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$tmp/src/debian/changelog")
arch=$(dpkg --print-architecture)
deb="$tmp/sipkeep_${version}_${arch}.deb"

step "dpkg-buildpackage -b -us -uc (version $version)"
start=$SECONDS
# All cores (debhelper builds with one job unless told); no tests at package build.
if ! (cd "$tmp/src" && DEB_BUILD_OPTIONS="parallel=$(nproc) nocheck" \
	nice dpkg-buildpackage -b -us -uc >"$tmp/build.log" 2>&1); then
	tail -n 40 "$tmp/build.log"
	fail "dpkg-buildpackage failed"
fi
echo "built in $((SECONDS - start)) s: $(cd "$tmp" && ls ./*.deb | tr '\n' ' ')"
[ -f "$deb" ] || fail "no $deb"
dpkg-deb -c "$deb"

step "lintian (errors fail, warnings listed)"
lintian_out=$(lintian --tag-display-limit 0 "$deb" 2>&1 || true)
echo "${lintian_out:-(no tags)}"
if printf '%s\n' "$lintian_out" | grep -q '^E: '; then
	fail "lintian reports errors"
fi

step "apt-get install ./$(basename "$deb")"
installed=true
(cd "$tmp" && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	"./$(basename "$deb")") >"$tmp/apt.log" 2>&1 || {
	cat "$tmp/apt.log"
	fail "apt-get install failed"
}
dpkg-query -W -f '${Status} ${Version}\n' sipkeep | grep -q "install ok installed $version" ||
	fail "sipkeep $version not installed"

step "installed files"
for f in /usr/sbin/sipkeep /usr/bin/sipkeepctl; do
	[ -x "$f" ] || fail "$f missing or not executable"
done
unit=/lib/systemd/system/sipkeep.service
for f in /etc/sipkeep/sipkeep.conf /etc/default/sipkeep "$unit" \
	/usr/share/man/man8/sipkeep.8.gz /usr/share/man/man8/sipkeepctl.8.gz \
	/usr/share/man/man5/sipkeep.conf.5.gz /usr/share/bash-completion/completions/sipkeepctl \
	/usr/share/doc/sipkeep/copyright; do
	[ -f "$f" ] || fail "$f missing"
done
conffiles=$(dpkg-query -W -f '${Conffiles}\n' sipkeep)
for f in /etc/sipkeep/sipkeep.conf /etc/default/sipkeep; do
	printf '%s\n' "$conffiles" | grep -q "^ $f " || fail "$f is not a conffile"
done
# The config file: every key of sipkeep --help, commented at its default, nothing active.
keys=$(/usr/sbin/sipkeep --help | sed -n 's/^  \([a-z_0-9]*\) = .*/\1/p')
[ -n "$keys" ] || fail "no config keys in sipkeep --help"
for k in $keys; do
	grep -q "^#$k = " /etc/sipkeep/sipkeep.conf || fail "sipkeep.conf lacks '#$k = ...'"
done
if grep -v '^#' /etc/sipkeep/sipkeep.conf | grep -q '[^[:space:]]'; then
	fail "sipkeep.conf has an uncommented line"
fi
echo "sipkeep.conf: $(echo "$keys" | wc -l) keys, all commented at their defaults"
# Not enabled, not started.
if [ -e /etc/systemd/system/multi-user.target.wants/sipkeep.service ]; then
	fail "the package enabled sipkeep.service"
fi
# Man pages: readable with man -l, no groff warnings, generated from the programs.
for page in man8/sipkeep.8 man8/sipkeepctl.8 man5/sipkeep.conf.5; do
	f="/usr/share/man/$page.gz"
	out=$(MANWIDTH=80 man -l "$f" 2>/dev/null)
	warn=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null || true)
	[ -z "$warn" ] || fail "man $f: $warn"
	printf '%s\n' "$out" | grep -q '^NAME' || fail "man -l $f has no NAME section"
done
for k in $keys; do
	man -l /usr/share/man/man5/sipkeep.conf.5.gz 2>/dev/null | grep -q "^       $k = " ||
		fail "sipkeep.conf(5) lacks key $k"
done
man -l /usr/share/man/man8/sipkeep.8.gz 2>/dev/null | grep -q -- '--stats-json' ||
	fail "sipkeep(8) lacks --stats-json"
man -l /usr/share/man/man8/sipkeepctl.8.gz 2>/dev/null | grep -q 'show stats' ||
	fail "sipkeepctl(8) lacks show stats"
echo "man pages: sipkeep(8), sipkeepctl(8), sipkeep.conf(5) read cleanly"

# Complete "sipkeepctl WORDS... CUR" with the installed completion; prints the candidates.
complete_words() {
	bash -c '
		# bash-completion'\''s _init_completion, reduced to what sipkeepctl uses.
		_init_completion() {
			words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD
			cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}
		}
		_filedir() { :; }
		. /usr/share/bash-completion/completions/sipkeepctl
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_sipkeepctl
		echo "${COMPREPLY[*]}"' complete "$@"
}
got=$(complete_words sipkeepctl sh)
[ "$got" = show ] || fail "completion of 'sipkeepctl sh': '$got'"
got=$(complete_words sipkeepctl show "")
for w in stats ports config users; do
	[[ " $got " == *" $w "* ]] || fail "completion of 'sipkeepctl show': '$got' lacks $w"
done
echo "completion (no daemon, from sipkeepctl --help): show -> $got"
got=$(complete_words sipkeepctl set "")
[[ " $got " == *" persist_window_ms "* && " $got " != *" set "* ]] ||
	fail "completion of 'sipkeepctl set': '$got'"
echo "completion (no daemon, from sipkeepctl --help): set -> $got"

step "systemd-analyze verify $unit"
verify=$(systemd-analyze verify "$unit" 2>&1) || true
echo "${verify:-(clean)}"
# dpdk.service comes from the dpdk package, which the package only suggests: a
# missing one is the single complaint allowed.
bad=$(printf '%s\n' "$verify" | grep -v '^$' | grep -v 'dpdk\.service' || true)
[ -z "$bad" ] || fail "systemd-analyze verify: $bad"

step "start /usr/sbin/sipkeep as the unit's ExecStart does, on vdevs"
# /etc/default/sipkeep must parse (the unit's EnvironmentFile) and set nothing by default.
# shellcheck disable=SC1091
(. /etc/default/sipkeep && [ -z "$SIPKEEP_EAL_ARGS" ]) || fail "/etc/default/sipkeep"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
grep -q '^NoNewPrivileges=yes' "$unit" || fail "unit without NoNewPrivileges=yes"
grep -q '^RuntimeDirectory=sipkeep' "$unit" || fail "unit without RuntimeDirectory=sipkeep"
SIPKEEP_EAL_ARGS="--no-huge -m 512 --no-pci -l 0-1 --file-prefix $prefix --vdev net_null0 --vdev net_null1"
# systemd splits an unbraced $VAR at whitespace; the other words stay as they are.
cmd=()
for w in $exec_start; do
	if [ "$w" = '$SIPKEEP_EAL_ARGS' ]; then
		# shellcheck disable=SC2206
		cmd+=($SIPKEEP_EAL_ARGS)
	else
		cmd+=("$w")
	fi
done
bounding="-all"
for c in $caps; do
	c=${c#CAP_}
	bounding+=",+${c,,}"
done
echo "setpriv --no-new-privs --bounding-set $bounding ${cmd[*]}"
# RuntimeDirectory=sipkeep: systemd makes /run/sipkeep; here the test does.
if [ ! -d /run/sipkeep ]; then
	install -d -m 0750 /run/sipkeep
	made_run_dir=true
fi
setpriv --no-new-privs --bounding-set "$bounding" "${cmd[@]}" >"$tmp/daemon.log" 2>&1 &
daemon_pid=$!
ok=false
for _ in $(seq 1 60); do
	if /usr/bin/sipkeepctl -t 2 show stats >"$tmp/stats.txt" 2>/dev/null; then
		ok=true
		break
	fi
	kill -0 "$daemon_pid" 2>/dev/null || break
	sleep 0.5
done
$ok || {
	cat "$tmp/daemon.log"
	fail "sipkeepctl got no answer on /run/sipkeep/sipkeep.sock"
}
head -n 20 "$tmp/stats.txt"
/usr/bin/sipkeepctl --json show stats | python3 -c 'import json, sys; json.load(sys.stdin)' ||
	fail "show stats --json is not JSON"
/usr/bin/sipkeepctl show config | grep -q 'control_socket.*/run/sipkeep/sipkeep.sock' ||
	fail "show config does not name the packaged socket"
got=$(complete_words sipkeepctl set "")
[[ " $got " == *" persist_window_ms "* ]] || fail "completion from the daemon: 'set' -> '$got'"
echo "completion (from the daemon's help): set -> $got"

step "stop it (SIGTERM, as systemctl stop does)"
kill -TERM "$daemon_pid"
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=""
[ "$rc" -eq 0 ] || {
	tail -n 20 "$tmp/daemon.log"
	fail "sipkeep exited $rc after SIGTERM"
}
$made_run_dir && rm -rf /run/sipkeep && made_run_dir=false

step "apt-get purge sipkeep: nothing left"
files=$(dpkg -L sipkeep | while read -r f; do [ -d "$f" ] || echo "$f"; done)
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q sipkeep >"$tmp/purge.log" 2>&1 || {
	cat "$tmp/purge.log"
	fail "apt-get purge failed"
}
installed=false
if dpkg-query -W -f '${Status}' sipkeep 2>/dev/null | grep -q 'installed\|config-files'; then
	fail "dpkg still knows sipkeep after purge"
fi
for f in $files; do
	[ ! -e "$f" ] || fail "$f left after purge"
done
for d in /etc/sipkeep /usr/share/doc/sipkeep; do
	[ ! -e "$d" ] || fail "$d left after purge"
done
left=$(find /etc /var/lib/systemd /lib/systemd /usr -name '*sipkeep*' 2>/dev/null || true)
[ -z "$left" ] || fail "left after purge: $left"
echo "PASS: package $version built, installed, run, purged; lintian without errors"
