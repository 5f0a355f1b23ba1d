#!/usr/bin/env bash
# The Debian package, built from a copy of the tree and installed on this machine: dpkg-buildpackage -b
# makes kstall_<version>_<arch>.deb; once it is installed, /usr/bin/kstall reports on a fixture, and the man
# page, the bash completion and the crash extension are where man, bash and crash look for them; then
# dpkg -r leaves the machine as it was. Root only (dpkg -i), so test.sh runs it, not ctest.
# Usage: bash analyzer/tests/check_package.sh   (the fixtures unpacked, as setup.sh does)
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
vmcore=$top/testdata/vmcores/lean/abba/vmcore
vmlinux=$top/testdata/kernels/lean/vmlinux

if [ "$(id -u)" != 0 ]; then
	echo "package: skipped (installing the package needs root)"
	exit 0
fi
if dpkg-query -W -f='${Status}' kstall 2>/dev/null | grep -q 'ok installed'; then
	echo "package: a kstall package is installed already; this test installs and removes its own," \
		"so remove that one first (dpkg -r kstall)" >&2
	exit 1
fi

version=$(dpkg-parsechangelog -l debian/changelog -S Version)
arch=$(dpkg --print-architecture)
deb=kstall_${version}_${arch}.deb
tmp=$(mktemp -d)
installed=false
cleanup() {
	if $installed; then
		dpkg -r kstall >/dev/null || echo "package: dpkg -r kstall failed" >&2
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() {
	echo "package: FAIL $*"
	failures=$((failures + 1))
}
start=$SECONDS

# The tree as it is on disk (uncommitted changes included), without the fixtures, the build dirs
# and anything else git ignores; the package is built in the copy, so the tree is left untouched.
mkdir "$tmp/kstall"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard -- . ':!:testdata' |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf - | tar -C "$tmp/kstall" -xf -
else
	tar --exclude=./testdata --exclude='./build*' --exclude='./obj-*' -cf - . | tar -C "$tmp/kstall" -xf -
fi
if ! (cd "$tmp/kstall" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$tmp/build.log" 2>&1; then
	tail -40 "$tmp/build.log"
	echo "package: FAIL dpkg-buildpackage -us -uc -b (the log's end above)"
	exit 1
fi
[ -f "$tmp/$deb" ] || { echo "package: FAIL no $deb; made: $(cd "$tmp" && echo *.deb)"; exit 1; }
echo "package: built $deb in $((SECONDS - start)) s"

# What it holds: the command, the extension, the man page, the completion, the Debian docs; no test.
expected="/usr/bin/kstall
/usr/lib/crash/extensions/kstall.so
/usr/share/bash-completion/completions/kstall
/usr/share/doc/kstall/changelog.Debian.gz
/usr/share/doc/kstall/copyright
/usr/share/man/man1/kstall.1.gz"
files=$(dpkg-deb -c "$tmp/$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | sort)
[ "$files" = "$expected" ] || fail "the package holds $(echo $files), not $(echo $expected)"

installed=true # from here on, even half-installed, it is removed on the way out
dpkg -i "$tmp/$deb" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "dpkg -i $deb"; exit 1; }

# The command: its version is the package's upstream version.
got=$(/usr/bin/kstall --version) || fail "/usr/bin/kstall --version exited $?"
[ "$got" = "kstall ${version%-*}" ] || fail "/usr/bin/kstall --version says '$got', not 'kstall ${version%-*}'"

# A report on a fixture (0 ok, 1 partial: both a report), kstall's cache kept in the temporary dir.
export KSTALL_CACHE_DIR=$tmp/cache
if [ -e "$vmcore" ] && [ -e "$vmlinux" ]; then
	rc=0
	/usr/bin/kstall report "$vmcore" "$vmlinux" >"$tmp/report" 2>"$tmp/report.err" || rc=$?
	[ $rc -le 1 ] || fail "/usr/bin/kstall report exited $rc: $(cat "$tmp/report.err")"
	grep -q '^VERDICT ' "$tmp/report" || fail "/usr/bin/kstall report printed no VERDICT line"
else
	fail "no fixture $vmcore (run setup.sh first)"
fi

# The man page, where man finds it, and it renders.
page=$(man -w kstall 2>/dev/null) || true
[ "$page" = /usr/share/man/man1/kstall.1.gz ] || fail "man -w kstall gives '$page'"
MANWIDTH=80 man kstall >"$tmp/man" 2>/dev/null || true
grep -q 'kstall triage' "$tmp/man" || fail "man kstall does not render the page"

# The completion, as bash-completion loads it.
comp=/usr/share/bash-completion/completions/kstall
got=$(bash -c "source $comp && complete -p kstall" 2>&1) || true
[ "$got" = "complete -F _kstall kstall" ] || fail "the completion in $comp: '$got'"

# The extension, found by crash without a path (from an empty directory, so nothing else can be found).
ext=/usr/lib/crash/extensions/kstall.so
[ -f "$ext" ] || fail "no $ext"
if [ -e "$vmcore" ] && [ -e "$vmlinux" ]; then
	mkdir "$tmp/crash"
	printf 'extend kstall.so\nkstall > %s\nquit\n' "$tmp/crash/report" >"$tmp/crash.cmds"
	# --no_kmem_cache: crash 8.0.2 cannot read the fixture kernels' SLOB caches (docs/crash-plugin.md).
	(cd "$tmp/crash" && timeout 300 crash -s --no_crashrc --no_kmem_cache "$vmlinux" "$vmcore" \
		-i "$tmp/crash.cmds" </dev/null) >"$tmp/crash.log" 2>&1 || fail "crash exited $?: $(tail -5 "$tmp/crash.log")"
	grep -q "^$ext: shared object loaded" "$tmp/crash.log" ||
		fail "crash did not load $ext by its name: $(head -5 "$tmp/crash.log")"
	grep -q '^VERDICT ' "$tmp/crash/report" 2>/dev/null || fail "kstall in crash printed no VERDICT line"
fi

dpkg -r kstall >"$tmp/remove.log" 2>&1 || { cat "$tmp/remove.log"; fail "dpkg -r kstall"; }
installed=false
for f in /usr/bin/kstall "$ext" "$comp" /usr/share/man/man1/kstall.1.gz; do
	[ ! -e "$f" ] || fail "$f is left after dpkg -r kstall"
done

if [ $failures -gt 0 ]; then
	echo "package: $failures failures ($((SECONDS - start)) s)"
	exit 1
fi
echo "package: built, installed, kstall, man page, completion and crash extension in place, removed" \
	"($((SECONDS - start)) s)"
