#!/usr/bin/env bash
# Build the scenario module against one flavour's kernel tree.
# Usage: build-module.sh FLAVOUR WORKDIR
set -euo pipefail
flavour=$1
work=$(realpath "$2")
here=$(cd "$(dirname "$0")/.." && pwd)
mod=$work/module-$flavour
rm -rf "$mod" && mkdir -p "$mod"
cp "$here/module/kstall_scenario.c" "$here/module/Kbuild" "$mod/"
make -C "$work/src-$flavour" O="$work/out-$flavour" ARCH=x86_64 M="$mod" modules
