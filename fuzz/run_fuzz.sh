#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Build the seed corpus and run fuzz_sip for SECONDS; non-zero exit on any
# crash, leak or sanitizer report (the reproducer lands in BUILD_DIR/fuzz-artifacts).
#
#   CC=clang meson setup build-fuzz -Dfuzz=true && ninja -C build-fuzz
#   fuzz/run_fuzz.sh build-fuzz 600
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
secs=$2
here=$(cd "$(dirname "$0")" && pwd)
fuzzer=$build/fuzz/fuzz_sip

if [ ! -x "$fuzzer" ]; then
	echo "$fuzzer missing: configure with CC=clang meson setup -Dfuzz=true" >&2
	exit 2
fi
seeds=$build/fuzz-seeds
corpus=$build/fuzz-corpus
artifacts=$build/fuzz-artifacts/
mkdir -p "$seeds" "$corpus" "$artifacts"
python3 "$here/make_corpus.py" "$seeds"

# -max_len: room for big (reassembled) messages without slowing every run.
exec "$fuzzer" -max_total_time="$secs" -max_len="${FUZZ_MAX_LEN:-8192}" \
	-dict="$here/sip.dict" -artifact_prefix="$artifacts" -print_final_stats=1 \
	"$corpus" "$seeds"
