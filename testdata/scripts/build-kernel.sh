#!/usr/bin/env bash
# Build one fixture kernel flavour from a Debian linux-source tarball.
# Usage: build-kernel.sh FLAVOUR WORKDIR [TARBALL]
#   FLAVOUR  lean or debug (Debian 12's linux-source-6.1), or BASE-VERSION
#            (lean-6.12, lean-5.10, ...): BASE's config idea on another kernel,
#            from TARBALL (scripts/fetch-source.sh fetches it; make-fixtures
#            passes it).
# Config: make tinyconfig, then kernels/common.config, kernels/BASE.config and,
# where it exists, kernels/version-VERSION.config (what that kernel renamed or
# needs on top, to keep the same idea).
# Leaves WORKDIR/out-FLAVOUR/{vmlinux,arch/x86/boot/bzImage}.
set -euo pipefail
flavour=$1
work=$(realpath -m "$2")
here=$(cd "$(dirname "$0")/.." && pwd)
base=${flavour%%-*}
version=""
[ "$base" = "$flavour" ] || version=${flavour#*-}
tarball=${3:-/usr/src/linux-source-${version:-6.1}.tar.xz}
src=$work/src-$flavour
out=$work/out-$flavour
jobs=$(( $(nproc) + 1 ))

frags=("$here/kernels/common.config" "$here/kernels/$base.config")
[ -z "$version" ] || [ ! -e "$here/kernels/version-$version.config" ] ||
	frags+=("$here/kernels/version-$version.config")

mkdir -p "$work"
if [ ! -d "$src" ]; then
	rm -rf "$work/unpack-$flavour" && mkdir -p "$work/unpack-$flavour"
	tar -C "$work/unpack-$flavour" -xf "$tarball"
	mv "$work/unpack-$flavour"/linux-source-* "$src"
	rmdir "$work/unpack-$flavour"
	if [ "$base" = debug ]; then
		patch -d "$src" -p1 < "$here/kernels/memalloc-watchdog.patch"
	fi
fi
mkdir -p "$out"
make -C "$src" O="$out" ARCH=x86_64 tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >/dev/null
make -C "$src" O="$out" ARCH=x86_64 olddefconfig >/dev/null
# Report any requested option that Kconfig silently dropped. A later fragment
# overrides an earlier one: check each option's last value only.
grep -hE '^CONFIG_[A-Z0-9_]+=' "${frags[@]}" | awk -F= '{v[$1]=$0; if (!($1 in o)) { o[$1]=n++ } }
	END { for (k in v) print o[k] "\t" v[k] }' | sort -n | cut -f2 | while IFS= read -r want; do
	opt=${want%%=*}; val=${want#*=}
	if [ "$val" = n ]; then
		grep -q "^$opt=" "$out/.config" && echo "warning: $opt is set, wanted n" >&2
	else
		grep -qx "$want" "$out/.config" || echo "warning: $want not in final config" >&2
	fi
	true
done
make -C "$src" O="$out" ARCH=x86_64 -j"$jobs" bzImage vmlinux modules
