#!/usr/bin/env bash
# Fetch the linux-source .deb of another Debian release and unpack its tarball,
# without touching the machine's own apt sources: apt runs on a private
# sources file, lists and cache under WORKDIR/apt-SUITE, and checks the
# suite's signature with the Debian archive keyring as usual.
# Usage: fetch-source.sh SUITE PACKAGE WORKDIR
#   SUITE    e.g. trixie, sid, bullseye-security
#   PACKAGE  a package name or a shell glob on names (linux-source-7.*): the
#            highest version that matches is taken
# Prints the path of the unpacked tarball (WORKDIR/linux-source-X.Y.tar.xz,
# its suite and version in WORKDIR/linux-source-X.Y.tar.xz.version) on its
# last line.
set -euo pipefail
suite=$1 pkg=$2
work=$(realpath -m "$3")
apt=$work/apt-$suite
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
case "$suite" in
*-security) mirror=http://deb.debian.org/debian-security ;;
*) mirror=http://deb.debian.org/debian ;;
esac
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" > "$apt/sources.list"
opts=(-o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache"
	-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Architecture=amd64)
apt-get -q "${opts[@]}" update >&2
# the newest matching linux-source-X.Y of this suite
name=$(apt-cache "${opts[@]}" pkgnames linux-source- | grep -E '^linux-source-[0-9]+\.[0-9]+$' |
	while read -r n; do case "$n" in $pkg) echo "$n" ;; esac; done | sort -V | tail -1)
[ -n "$name" ] || { echo "fetch-source: no $pkg in $suite" >&2; exit 1; }
ver=$(apt-cache "${opts[@]}" policy "$name" | sed -n 's/^ *Candidate: //p')
echo "fetch-source: $suite: $name $ver" >&2
(cd "$apt/debs" && apt-get -q "${opts[@]}" download "$name=$ver" >&2)
tarball=$work/$name.tar.xz
deb=$apt/debs/$(ls "$apt/debs" | grep -F "${name}_${ver//:/%3a}_" | head -1)
# one tarball per package name: unpack again when it came from another version
if [ ! -e "$tarball" ] || [ "$(cat "$tarball.version" 2>/dev/null)" != "$suite $ver" ]; then
	rm -rf "$apt/x"
	dpkg-deb -x "$deb" "$apt/x"
	mv "$apt/x/usr/src/$name.tar.xz" "$tarball"
	rm -rf "$apt/x"
fi
echo "$suite $ver" > "$tarball.version"
echo "$tarball"
