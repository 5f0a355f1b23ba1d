#!/usr/bin/python3
"""kstall under an address-space limit (ulimit -v): running out of memory is an
error of its own, said as such, exit 2; never a signal, never blamed on the dump
or the vmlinux. The limit sweeps from where nothing can start to where the whole
report fits, so every stage meets it: the vmlinux's DWARF, libkdumpfile's open,
the task walk, the passes, the renderers.

Usage: check_memlimit.py KSTALL VMCORE VMLINUX
(not for sanitizer builds: ASan reserves terabytes of address space.)
"""
import resource
import subprocess
import sys

kstall, vmcore, vmlinux = sys.argv[1:4]
failures = []
fitted = None


def limited(mb):
    def pre():
        resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))
    return pre


for mb in range(20, 420, 10):
    for cmd in (["report"], ["report", "--json"]) if mb % 40 == 0 else (["report"],):
        p = subprocess.run([kstall] + cmd + [vmcore, vmlinux], capture_output=True, text=True,
                           errors="replace", preexec_fn=limited(mb), timeout=120)
        what = f"{' '.join(cmd)} at {mb} MB"
        if p.returncode < 0 or p.returncode not in (0, 1, 2):
            failures.append(f"{what}: exit {p.returncode}; stderr {p.stderr[-800:]!r}")
        elif p.returncode == 2:
            # libdw's failed allocations are asserts: glibc prints the assertion before the abort
            lines = [l for l in p.stderr.strip().splitlines() if "Assertion" not in l]
            if len(lines) != 1 or "out of memory" not in lines[0] or "ulimit -v" not in lines[0]:
                failures.append(f"{what}: exit 2 without one 'out of memory' line: {p.stderr[-800:]!r}")
        elif fitted is None:
            fitted = mb
    if fitted is not None and mb >= fitted + 40:
        break

if fitted is None:
    failures.append("no limit up to 410 MB let the report finish")
for f in failures:
    print("FAIL:", f)
print(f"memory limit: the report first finished at {fitted} MB; {len(failures)} failed")
sys.exit(1 if failures else 0)
