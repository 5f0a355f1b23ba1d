#!/usr/bin/python3
"""kstall's allocator retry counters against drgn's reading of the same DWARF locals.

Usage: check_alloc_locals.py KSTALL VMCORE VMLINUX [--expect-known N]
For every task drgn unwinds through __alloc_pages_slowpath, drgn's value of
no_progress_loops and compaction_retries at that frame must equal kstall's
(report --json, tasks[].alloc); where drgn says the value is absent at the pc,
kstall must say null too, and where drgn reads it kstall must as well. Tasks
drgn cannot unwind (on a CPU at the crash) are not compared. With
--expect-known N, at least N values must have been compared as known: a
fixture where DWARF gives the counters must not silently stop giving them.
"""
import json

import kstall_report
import sys

import drgn
from drgn.helpers.linux.pid import for_each_task

NAMES = ("no_progress_loops", "compaction_retries")


def drgn_counters(vmcore, vmlinux):
    prog = drgn.Program()
    prog.set_core_dump(vmcore)
    prog.load_debug_info([vmlinux])
    out = {}
    for task in for_each_task(prog):
        try:
            trace = prog.stack_trace(task)
        except Exception:
            continue
        for frame in trace:
            if frame.name != "__alloc_pages_slowpath":
                continue
            vals = {}
            for name in NAMES:
                try:
                    vals[name] = frame[name].value_()
                except drgn.ObjectAbsentError:
                    vals[name] = None
            out[task.pid.value_()] = vals
            break
    return out


def main():
    kstall, vmcore, vmlinux = sys.argv[1:4]
    expect = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--expect-known" else 0
    p = kstall_report.run(kstall, vmcore, vmlinux)
    if p.returncode not in (0, 1) or "Sanitizer" in p.stderr:
        sys.exit(f"kstall report exited {p.returncode}: {p.stderr}")
    tasks = {t["pid"]: t for t in json.loads(p.stdout)["tasks"]}
    want = drgn_counters(vmcore, vmlinux)
    failures, known = [], 0
    for pid, vals in sorted(want.items()):
        alloc = tasks.get(pid, {}).get("alloc")
        if not alloc:
            failures.append(f"pid {pid}: drgn sees __alloc_pages_slowpath, kstall no allocation")
            continue
        for name in NAMES:
            if alloc[name] != vals[name]:
                failures.append(f"pid {pid}: {name} kstall={alloc[name]} drgn={vals[name]}")
            elif vals[name] is not None:
                known += 1
    print(f"{len(want)} tasks in the slowpath compared, {known} counters known to both")
    if known < expect:
        failures.append(f"only {known} counters known, expected at least {expect}")
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


main()
