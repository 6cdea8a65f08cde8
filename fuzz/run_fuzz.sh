#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Build the seed corpora and run the fuzzers for SECONDS in all (shared evenly);
# non-zero exit on any crash, leak or sanitizer report (the reproducer lands in
# BUILD_DIR/fuzz-artifacts, named after its fuzzer).
#   fuzz_sip:        the SIP/SDP parser
#   fuzz_tcp_stream: the SIP-over-TCP stream framer
#   fuzz_hep:        the HEP decoder (HEPv3 frames, HEPv2 datagrams)
#
#   CC=clang meson setup build-fuzz -Dfuzz=true && ninja -C build-fuzz
#   fuzz/run_fuzz.sh build-fuzz 600                    all three, 200 s each
#   fuzz/run_fuzz.sh build-fuzz 600 fuzz_tcp_stream    one, 600 s
set -eu

if [ $# -lt 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS [FUZZER...]" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
secs=$2
shift 2
[ $# -gt 0 ] || set -- fuzz_sip fuzz_tcp_stream fuzz_hep
here=$(cd "$(dirname "$0")" && pwd)
each=$((secs / $#))
[ "$each" -ge 1 ] || each=1
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"

for name in "$@"; do
	if [ ! -x "$build/fuzz/$name" ]; then
		echo "$build/fuzz/$name missing: configure with CC=clang meson setup -Dfuzz=true" >&2
		exit 2
	fi
done

status=0
# run NAME SEEDS CORPUS [libFuzzer options...]
run() {
	name=$1 seeds=$2 corpus=$3
	shift 3
	echo "== $name for $each s"
	if ! "$build/fuzz/$name" -max_total_time="$each" "$@" \
		-artifact_prefix="$artifacts/$name-" -print_final_stats=1 "$corpus" "$seeds"; then
		echo "$name: FAILED (reproducer in $artifacts)" >&2
		status=1
	fi
}

for name in "$@"; do
	case $name in
	fuzz_sip)
		# the parser's seeds and corpus keep their old names
		mkdir -p "$build/fuzz-seeds" "$build/fuzz-corpus"
		python3 "$here/make_corpus.py" "$build/fuzz-seeds"
		# -max_len: room for big (reassembled) messages without slowing every run.
		run fuzz_sip "$build/fuzz-seeds" "$build/fuzz-corpus" \
			-max_len="${FUZZ_MAX_LEN:-8192}" -dict="$here/sip.dict"
		;;
	fuzz_tcp_stream)
		mkdir -p "$build/fuzz-tcp-seeds" "$build/fuzz-tcp-corpus"
		python3 "$here/make_tcp_corpus.py" "$build/fuzz-tcp-seeds"
		# the input is control bytes, not text: no dictionary
		run fuzz_tcp_stream "$build/fuzz-tcp-seeds" "$build/fuzz-tcp-corpus" \
			-max_len="${FUZZ_TCP_MAX_LEN:-4096}"
		;;
	fuzz_hep)
		mkdir -p "$build/fuzz-hep-seeds" "$build/fuzz-hep-corpus"
		python3 "$here/make_hep_corpus.py" "$build/fuzz-hep-seeds"
		run fuzz_hep "$build/fuzz-hep-seeds" "$build/fuzz-hep-corpus" \
			-max_len="${FUZZ_HEP_MAX_LEN:-4096}"
		;;
	*)
		echo "unknown fuzzer $name" >&2
		exit 2
		;;
	esac
done
exit $status
