#!/usr/bin/python3
"""The memo of DWARF index answers (index_memo.c): a run with it says what a run without it says.

Usage: check_index_memo.py KSTALL VMCORE VMLINUX

In a fresh cache directory:
  1. the first run builds the index and writes index-<build-id>.memo;
  2. the second run takes every answer from the memo and does not build the index;
  3. a memo missing answers (lines dropped, checksum made right again) makes the run build the
     index for what is missing, and the memo regains those answers;
  4. a damaged memo (a byte flipped, the file cut, another build-id) is ignored and rewritten;
  5. KSTALL_CACHE=off writes nothing.
The JSON report is byte-identical in every case.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

kstall, vmcore, vmlinux = sys.argv[1:4]
failures = []


def fnv(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def run(cache, extra=None):
    env = dict(os.environ, KSTALL_CACHE_DIR=cache, KSTALL_STATS="1")
    env.pop("KSTALL_CACHE", None)
    env.update(extra or {})
    p = subprocess.run([kstall, "report", "--json", vmcore, vmlinux], capture_output=True, env=env)
    m = re.search(rb"DWARF names: (\d+) answers kept from earlier runs, index (built|not built)",
                  p.stderr)
    if p.returncode not in (0, 1) or not m:
        failures.append(f"exit {p.returncode}, stderr {p.stderr[-400:]!r}")
        return p.stdout, -1, None
    return p.stdout, int(m.group(1)), m.group(2) == b"built"


def resum(body):
    return body + b"end %016x\n" % fnv(body)


with tempfile.TemporaryDirectory() as cache:
    cold, kept, built = run(cache)
    memos = glob.glob(os.path.join(cache, "index-*.memo"))
    if kept != 0 or not built or len(memos) != 1:
        failures.append(f"cold run: {kept} answers kept, built {built}, memos {memos}")
    else:
        memo = memos[0]
        text = open(memo, "rb").read()
        lines = text.splitlines(keepends=True)
        answers = [ln for ln in lines[3:-1]]
        if len(answers) < 20 or not lines[-1].startswith(b"end "):
            failures.append(f"memo has {len(answers)} answers")
        warm, kept, built = run(cache)
        if warm != cold:
            failures.append("warm report differs from the cold one")
        if kept != len(answers) or built:
            failures.append(f"warm run: {kept} answers kept of {len(answers)}, built {built}")
        if open(memo, "rb").read() != text:
            failures.append("a warm run with nothing new rewrote the memo")

        # 3: answers missing
        body = b"".join(lines[:3] + answers[::2])
        open(memo, "wb").write(resum(body))
        out, kept, built = run(cache)
        if out != cold or kept != len(answers[::2]) or not built:
            failures.append(f"memo with half the answers: kept {kept}, built {built}, "
                            f"same report {out == cold}")
        if open(memo, "rb").read() != text:
            failures.append("the memo did not regain the missing answers")

        # 4: damage
        flipped = bytearray(text)
        flipped[len(text) // 2] ^= 0x01
        other = text.replace(lines[1], b"build-id " + b"0" * 40 + b"\n")
        for what, data in (("flipped byte", bytes(flipped)), ("cut file", text[:len(text) // 2]),
                           ("other build-id", resum(b"".join(other.splitlines(True)[:-1]))),
                           ("duplicate key", resum(b"".join(lines[:-1] + answers[:1])))):
            open(memo, "wb").write(data)
            out, kept, built = run(cache)
            if out != cold or kept != 0 or not built:
                failures.append(f"{what}: kept {kept}, built {built}, same report {out == cold}")
            if open(memo, "rb").read() != text:
                failures.append(f"{what}: the memo was not rewritten")

with tempfile.TemporaryDirectory() as cache:
    out, kept, built = run(cache, {"KSTALL_CACHE": "off"})
    if os.listdir(cache) or not built or out != cold:
        failures.append(f"KSTALL_CACHE=off: wrote {os.listdir(cache)}, built {built}")

for f in failures:
    print("FAIL:", f)
print("ok" if not failures else "failed")
sys.exit(1 if failures else 0)
