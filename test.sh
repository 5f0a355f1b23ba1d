#!/usr/bin/env bash
# Run the whole test suite: set up (idempotent), then ctest on the plain and the
# ASan+UBSan builds.
set -euo pipefail
cd "$(dirname "$0")"
bash setup.sh --no-sample
jobs=$(nproc)
status=0
ctest --test-dir build --output-on-failure -j"$jobs" || status=1
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	ctest --test-dir build-asan --output-on-failure -j"$jobs" -L 'unit|fixture' || status=1
exit $status
