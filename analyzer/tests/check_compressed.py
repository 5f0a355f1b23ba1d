#!/usr/bin/python3
"""A vmlinux with zlib-compressed debug sections gives the same ps and bt as the plain one.

Usage: check_compressed.py KSTALL VMCORE VMLINUX
"""
import os
import subprocess
import sys
import tempfile

kstall, vmcore, vmlinux = sys.argv[1:4]
with tempfile.TemporaryDirectory() as tmp:
    packed = os.path.join(tmp, "vmlinux")
    subprocess.run(["objcopy", "--compress-debug-sections=zlib-gabi", vmlinux, packed],
                   check=True)
    out = subprocess.run(["readelf", "-SW", packed], capture_output=True, text=True).stdout
    if not any(".debug_info" in l and " C " in l for l in out.splitlines()):
        sys.exit("objcopy did not compress .debug_info")
    for cmd in (["ps", "--json"], ["bt", "-A", "--json"]):
        a = subprocess.run([kstall] + cmd + [vmcore, vmlinux], capture_output=True, text=True)
        b = subprocess.run([kstall] + cmd + [vmcore, packed], capture_output=True, text=True)
        if a.returncode != b.returncode or a.stdout != b.stdout or not a.stdout:
            sys.exit(f"kstall {' '.join(cmd)} differs with compressed debug sections")
print("compressed and plain debug sections give the same ps and bt")
