#!/usr/bin/env bash
# Build one fixture kernel flavour (lean or debug) from Debian's linux-source-6.1.
# Usage: build-kernel.sh FLAVOUR WORKDIR
# Leaves WORKDIR/out-FLAVOUR/{vmlinux,arch/x86/boot/bzImage}.
set -euo pipefail
flavour=$1
work=$(realpath -m "$2")
here=$(cd "$(dirname "$0")/.." && pwd)
src=$work/src-$flavour
out=$work/out-$flavour
jobs=$(( $(nproc) + 1 ))

mkdir -p "$work"
if [ ! -d "$src" ]; then
	tar -C "$work" -xf /usr/src/linux-source-6.1.tar.xz
	mv "$work/linux-source-6.1" "$src"
	if [ "$flavour" = debug ]; then
		patch -d "$src" -p1 < "$here/kernels/memalloc-watchdog.patch"
	fi
fi
mkdir -p "$out"
make -C "$src" O="$out" ARCH=x86_64 tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
	"$here/kernels/common.config" "$here/kernels/$flavour.config" >/dev/null
make -C "$src" O="$out" ARCH=x86_64 olddefconfig >/dev/null
# Report any requested option that Kconfig silently dropped.
for frag in "$here/kernels/common.config" "$here/kernels/$flavour.config"; do
	grep -E '^CONFIG_[A-Z0-9_]+=' "$frag" | while IFS= read -r want; do
		opt=${want%%=*}; val=${want#*=}
		if [ "$val" = n ]; then
			grep -q "^$opt=" "$out/.config" && echo "warning: $opt is set, wanted n" >&2
		else
			grep -qx "$want" "$out/.config" || echo "warning: $want not in final config" >&2
		fi
	done
done
make -C "$src" O="$out" ARCH=x86_64 -j"$jobs" bzImage vmlinux modules
