#!/usr/bin/python3
"""The CLI's input errors: each exits 2 with a one-line message that says what.

Usage: check_cli.py KSTALL TESTDATA
"""
import os
import subprocess
import sys

kstall, testdata = sys.argv[1], sys.argv[2]
lean_core = os.path.join(testdata, "vmcores/lean/baseline/vmcore")
lean_vmlinux = os.path.join(testdata, "kernels/lean/vmlinux")
debug_vmlinux = os.path.join(testdata, "kernels/debug/vmlinux")
failures = []


def expect(args, code, words):
    p = subprocess.run([kstall] + args, capture_output=True, text=True)
    lines = p.stderr.strip().splitlines()
    if code is None:
        if p.returncode < 0 or p.returncode > 2:
            failures.append(f"{args}: exit {p.returncode}")
        return
    if p.returncode != code:
        failures.append(f"{args}: exit {p.returncode}, want {code}; stderr {p.stderr!r}")
    elif code == 2 and (len(lines) != 1 or not all(w in lines[0] for w in words)):
        failures.append(f"{args}: want one line naming {words}, got {p.stderr!r}")


expect(["ps"], 2, ["usage"])
expect(["ps", "/nonexistent/vmcore"], 2, ["/nonexistent/vmcore"])
expect(["frobnicate", lean_core, lean_vmlinux], 2, ["frobnicate"])
expect(["ps", lean_vmlinux], 2, ["no vmcore"])
if os.path.exists(debug_vmlinux):
    expect(["ps", lean_core, debug_vmlinux], 2, [debug_vmlinux, "does not match"])
    expect(["ps", "--force", lean_core, debug_vmlinux], None, [])
expect(["ps", lean_core, lean_vmlinux], 0, [])
# vmlinux and vmcore in either order, as crash takes them
expect(["ps", lean_vmlinux, lean_core], 0, [])
for f in failures:
    print("FAIL:", f)
print(f"{'ok' if not failures else 'failed'}")
sys.exit(1 if failures else 0)
