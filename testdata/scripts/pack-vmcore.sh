#!/usr/bin/env bash
# pack-vmcore.sh DIR: store DIR/vmcore for git as DIR/vmcore.kdump.xz + DIR/vmcore.sha256.
# makedumpfile compresses each page on its own, so git and xz gain nothing on
# the kdump-compressed file. Rewritten with uncompressed pages, the same dump
# packs to a third of its size under xz, and makedumpfile -c turns it back
# into the byte-identical original (testdata/unpack does that and checks it).
set -euo pipefail
dir=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The dump level it was captured with (31 unless run-scenario.sh set DUMP_LEVEL):
# kdump_sub_header.dump_level, 8 bytes into the block after the header block.
bs=$(od -An -tu4 -j428 -N4 "$dir/vmcore" | tr -d ' ')
level=$(od -An -td4 -j$((bs + 8)) -N4 "$dir/vmcore" | tr -d ' ')
makedumpfile --message-level 4 -d "$level" "$dir/vmcore" "$tmp/plain" >/dev/null
makedumpfile --message-level 4 -c -d "$level" "$tmp/plain" "$tmp/back" >/dev/null
cmp -s "$dir/vmcore" "$tmp/back" || { echo "$dir: round trip is not byte-identical" >&2; exit 1; }
# -9e: the set's size budget (testdata/README.md); a dump that -6 packs smaller keeps that
xz -T0 -9e -c "$tmp/plain" > "$tmp/9e.xz"
xz -T0 -6 -c "$tmp/plain" > "$tmp/6.xz"
if [ "$(stat -c %s "$tmp/9e.xz")" -le "$(stat -c %s "$tmp/6.xz")" ]; then
	mv "$tmp/9e.xz" "$dir/vmcore.kdump.xz"
else
	mv "$tmp/6.xz" "$dir/vmcore.kdump.xz"
fi
(cd "$dir" && sha256sum vmcore > vmcore.sha256)
ls -la "$dir/vmcore" "$dir/vmcore.kdump.xz"
