#!/usr/bin/env bash
# Install everything sipkeep needs to build, test, fuzz and benchmark on Debian 12.
# Idempotent: apt-get skips what is already there. Run as root, or as a user with sudo.
set -euo pipefail

packages=(
	# build
	build-essential pkg-config meson ninja-build
	dpdk dpdk-dev libdpdk-dev libhyperscan-dev libjemalloc-dev libpcap-dev libnuma-dev
	# style, fuzzing and sanitizers
	clang clang-format libclang-rt-14-dev
	# tests: traffic generation and decoding, real SIP peers
	python3 python3-scapy tshark sip-tester iproute2
	# tests: the TLS edge that mirrors SIP as HEP (tests/heplive), its certificate
	kamailio kamailio-tls-modules openssl
	# tests: promtool checks the /metrics output (ctl_metrics_scrape)
	prometheus curl
	# session state on Redis: the client library, and the server its tests start (tests/redis)
	libhiredis-dev redis-server
	# parse benchmark peers
	libosip2-dev libsofia-sip-ua-dev
	# the Debian package and its test (tests/package): build, lint, man pages, unit check
	debhelper lintian man-db systemd
)

# Root needs no sudo (a bare Debian 12 has none); anyone else goes through sudo if it is there.
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		exec sudo -E "$0" "$@"
	fi
	echo "install-deps.sh: apt-get needs root and sudo is not installed: run it as root" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the answer does not matter here.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
# The prometheus package is here for promtool only: its server, which the package
# starts where systemd runs, is not wanted on a build machine.
# So are redis-server and kamailio: the tests start their own, on their own sockets.
for unit in prometheus redis-server kamailio; do
	if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled "$unit" >/dev/null 2>&1; then
		systemctl disable --now "$unit" >/dev/null 2>&1 || true
	fi
done
