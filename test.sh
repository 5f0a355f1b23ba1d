#!/usr/bin/env bash
# Run the whole test suite: set up (idempotent; the plain build), build the ASan+UBSan,
# ThreadSanitizer and fuzz variants, then ctest on the plain build (valgrind run
# included), the ASan+UBSan build, the ThreadSanitizer build (the tests of kstall's
# threads), and the fuzz build (corpus replay and a short fuzz run); last, as root,
# the Debian package built, installed and removed.
set -euo pipefail
cd "$(dirname "$0")"
bash setup.sh --no-sample
jobs=$(nproc)
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKSTALL_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
# ThreadSanitizer, for the tests of kstall's threads only.
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKSTALL_TSAN=ON >/dev/null
cmake --build build-tsan -j"$jobs" --target kstall test_readahead
# The libFuzzer target (clang, ASan+UBSan): see docs/robustness.md.
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKSTALL_SANITIZE=ON \
	-DKSTALL_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$jobs" --target kstall_fuzz kstall_fuzz_replay
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
# The .deb from a copy of the tree, installed, checked and removed (root only: it installs).
bash analyzer/tests/check_package.sh || status=1
exit $status
