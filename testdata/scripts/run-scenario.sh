#!/usr/bin/env bash
# Boot one flavour under QEMU (TCG, 2 CPUs, 1 GiB), let the scenario stall,
# press SysRq-c through the QEMU monitor, let the capture kernel save the dump,
# and turn it into a kdump-compressed vmcore with its truth.json.
# Usage: run-scenario.sh FLAVOUR SCENARIO WORKDIR OUTDIR [STALL_SECONDS]
set -euo pipefail
flavour=$1 scen=$2
work=$(realpath "$3")
dest=$(realpath -m "$4")
stall=${5:-60}
here=$(cd "$(dirname "$0")/.." && pwd)
run=$work/run-$flavour-$scen
rm -rf "$run" && mkdir -p "$run" "$dest"

extra=""
# lean runs with delay accounting on, debug with it off: both shapes occur in the field.
# (lean-6.12 and the like: the lean idea on another kernel version)
case "${flavour%%-*}" in lean|rt) extra="delayacct" ;; esac
truncate -s 768M "$run/dump.raw"
# /dev/vda takes the dump; the scenarios that write to a disk get /dev/vdb.
data=()
case "$scen" in shm-noswap | reclaim-throttle)
	truncate -s 1G "$run/data.raw"
	# a slow disk, as on the boxes where dirty pages pile up
	data=(-drive "file=$run/data.raw,if=virtio,format=raw,throttling.bps-write=4194304")
	;;
esac
# DUMP_LEVEL: makedumpfile's -d in the capture kernel (31 unless set)
[ -z "${DUMP_LEVEL:-}" ] || extra="$extra kstall_dump_level=$DUMP_LEVEL"
# Thousands of fresh kernel stacks: zeroed, they leave the dump small.
[ "$scen" = fork-storm ] && extra="$extra init_on_alloc=1"
qemu-system-x86_64 -machine pc -m 1G -smp 2 -display none -no-reboot \
	-kernel "$work/out-$flavour/arch/x86/boot/bzImage" \
	-initrd "$work/main-$flavour.cpio.gz" \
	-append "console=ttyS0,115200 crashkernel=192M sysrq_always_enabled loglevel=6 kstall_scenario=$scen $extra" \
	-drive "file=$run/dump.raw,if=virtio,format=raw" "${data[@]}" \
	-serial "file:$run/serial.log" \
	-monitor "unix:$run/mon.sock,server,nowait" &
qemu=$!
trap 'kill $qemu 2>/dev/null || true' EXIT

wait_for() { # wait_for PATTERN SECONDS
	local i
	for ((i = 0; i < $2; i++)); do
		grep -q "$1" "$run/serial.log" 2>/dev/null && return 0
		kill -0 $qemu 2>/dev/null || return 1
		sleep 1
	done
	return 1
}
wait_for KSTALL_SCENARIO_STARTED 600 || { echo "scenario did not start" >&2; tail -30 "$run/serial.log" >&2; exit 1; }
grep -q KSTALL_KEXEC_LOADED "$run/serial.log" || { echo "capture kernel not loaded" >&2; exit 1; }
echo "$flavour/$scen: started, stalling for $stall s"
sleep "$stall"
python3 - "$run/mon.sock" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
time.sleep(0.5)
s.sendall(b"sendkey alt-sysrq-c\n")
time.sleep(1)
s.close()
PY
echo "$flavour/$scen: SysRq-c sent"
for ((i = 0; i < 900; i++)); do kill -0 $qemu 2>/dev/null || break; sleep 1; done
kill -0 $qemu 2>/dev/null && { echo "capture did not finish" >&2; exit 1; }
trap - EXIT
grep -q KSTALL_DUMP_SAVED "$run/serial.log" || { echo "dump not saved" >&2; tail -30 "$run/serial.log" >&2; exit 1; }
rm -f "$dest/vmcore"
makedumpfile -R "$dest/vmcore" < "$run/dump.raw"
"$here/scripts/pack-vmcore.sh" "$dest"
cp "$run/serial.log" "$dest/serial.log"
python3 "$here/scripts/make-truth.py" "$dest/serial.log" "$flavour" > "$dest/truth.json"
ls -la "$dest"
