#!/usr/bin/env bash
# The README's test command: install what is missing, build from scratch, run every test.
#   scripts/test.sh [BUILD_DIR]    (default: build)
set -euo pipefail
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
