#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Run the parser benchmark pinned to one core, with jemalloc preloaded so
# libosip2 and sofia-sip (which allocate per message) get a fast allocator.
#   bench/run_parse.sh [BUILD_DIR] [-t SECONDS]
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
bin=$build/bench/bench_parse
if [ ! -x "$bin" ]; then
	echo "$bin missing: meson setup $build -Dbench=true (needs libosip2, sofia-sip-ua)" >&2
	exit 2
fi
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
[ -e "$jemalloc" ] || jemalloc=$(ldconfig -p | awk '/libjemalloc.so.2/{print $NF; exit}')
cpu=${BENCH_CPU:-1}
if command -v taskset >/dev/null 2>&1; then
	exec env LD_PRELOAD="$jemalloc" taskset -c "$cpu" "$bin" "$@"
fi
exec env LD_PRELOAD="$jemalloc" "$bin" "$@"
