#!/usr/bin/env bash
# Fail if any C source or header differs from what clang-format makes of it.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
while IFS= read -r f; do
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "not clang-formatted: $f (run: clang-format -i $f)"
		status=1
	fi
done < <(git ls-files '*.c' '*.h')
[ "$status" -eq 0 ] && echo "format: all C files clang-formatted"
exit "$status"
