#!/usr/bin/env bash
# Build the two initramfs images of one flavour: the capture kernel's (busybox,
# makedumpfile) and the first kernel's (busybox, kexec, the scenario module and
# helper, and the capture kernel with its initramfs under /boot).
# Usage: make-initramfs.sh FLAVOUR WORKDIR
set -euo pipefail
flavour=$1
work=$(realpath "$2")
here=$(cd "$(dirname "$0")/.." && pwd)
out=$work/out-$flavour

copy_bin() { # copy_bin ROOT BINARY: the binary and the shared libraries it needs
	local root=$1 bin=$2 lib
	install -D "$bin" "$root$bin"
	for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*'); do
		install -D "$(readlink -f "$lib")" "$root$lib"
	done
}

make_root() { # make_root ROOT: busybox and the init script
	local root=$1
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,proc,sys,dev,lib,boot,tmp}
	cp /bin/busybox "$root/bin/busybox"
	install -m 755 "$here/guest/init" "$root/init"
}

pack() { # pack ROOT FILE
	(cd "$1" && find . | cpio -o -H newc --quiet | gzip -9) > "$2"
}

cap=$work/root-capture-$flavour
make_root "$cap"
copy_bin "$cap" /usr/bin/makedumpfile
pack "$cap" "$work/capture-$flavour.cpio.gz"

main=$work/root-main-$flavour
make_root "$main"
copy_bin "$main" /sbin/kexec
gcc -static -O2 -Wall -Werror -pthread -o "$main/bin/abba_user" "$here/guest/helper.c"
for role in oomvictim oomhog oomfodder storm memhog reclaimer forker io_reader io_writer; do
	ln "$main/bin/abba_user" "$main/bin/$role"
done
cp "$work/module-$flavour/kstall_scenario.ko" "$main/lib/"
cp "$out/arch/x86/boot/bzImage" "$main/boot/bzImage"
cp "$work/capture-$flavour.cpio.gz" "$main/boot/capture.cpio.gz"
pack "$main" "$work/main-$flavour.cpio.gz"
ls -la "$work/capture-$flavour.cpio.gz" "$work/main-$flavour.cpio.gz"
