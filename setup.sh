#!/usr/bin/env bash
# Set-up for a fresh Debian 12 machine: install what kstall and its tests need,
# unpack the fixture kernels, build kstall (the plain build in build/, with the crash
# extension), and run it on a sample dump. test.sh builds the sanitizer and fuzz variants.
set -euo pipefail
cd "$(dirname "$0")"

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
PACKAGES=(build-essential cmake pkg-config xz-utils binutils elfutils
	libkdumpfile-dev libdeflate-dev libdw-dev liblzma-dev zlib1g-dev libelf-dev libdebuginfod-dev libjansson-dev libsqlite3-dev libcmocka-dev
	python3-drgn debuginfod makedumpfile crash
	python3-jsonschema chromium clang libclang-rt-14-dev valgrind
	debhelper dpkg-dev bash-completion man-db)
missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	$SUDO apt-get update -q
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

testdata/unpack

jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"

if [ "${1:-}" != --no-sample ]; then
	sample=testdata/vmcores/lean/abba
	[ -d "$sample" ] || sample=testdata/vmcores/lean/baseline
	echo "== build/kstall ps $sample/vmcore testdata/kernels/lean/vmlinux"
	build/kstall ps "$sample/vmcore" testdata/kernels/lean/vmlinux | head -40
fi
