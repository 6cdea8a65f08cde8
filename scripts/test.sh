#!/usr/bin/env bash
# The README's test command: install what is missing, build from scratch, run every test.
#   scripts/test.sh [BUILD_DIR]    (default: build)
set -euo pipefail

# Root for apt-get and for the tests (DPDK processes, hugepages, network namespaces). A
# bare Debian 12 has no sudo, and root needs none: re-run under sudo only when not root.
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		exec sudo -E "$0" "$@"
	fi
	echo "test.sh: needs root (apt-get, DPDK, network namespaces) and sudo is not" \
		"installed: run it as root" >&2
	exit 1
fi
cd "$(dirname "$0")/.."
build=${1:-build}

scripts/install-deps.sh
if [ -d "$build" ]; then
	meson setup --reconfigure "$build"
else
	meson setup "$build"
fi
ninja -C "$build"
# Tests start DPDK processes and network namespaces: they need root, like the daemon.
meson test -C "$build" --print-errorlogs --num-processes "$(nproc)"
