#!/usr/bin/env bash
# Run the whole test suite: set up (idempotent), then ctest on the plain build
# (valgrind run included), the ASan+UBSan build, the ThreadSanitizer build (the
# tests of kstall's threads), and the fuzz build (corpus replay and a short fuzz run).
set -euo pipefail
cd "$(dirname "$0")"
bash setup.sh --no-sample
jobs=$(nproc)
status=0
ctest --test-dir build --output-on-failure -j"$jobs" || status=1
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	ctest --test-dir build-asan --output-on-failure -j"$jobs" -L 'unit|fixture' || status=1
# kstall's threads (the stack read-ahead) under ThreadSanitizer.
TSAN_OPTIONS=halt_on_error=1 \
	ctest --test-dir build-tsan --output-on-failure -j"$jobs" -L threads || status=1
# The saved fuzz corpus and a one-minute fuzz run (libFuzzer, ASan+UBSan).
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	ctest --test-dir build-fuzz --output-on-failure -j"$jobs" -L fuzz || status=1
exit $status
