#!/usr/bin/python3
"""What kstall says on a kernel whose layouts it does not know: members hidden from the DWARF.

Usage: check_support.py KSTALL VMCORE VMLINUX
The test hook KSTALL_TEST_HIDE_MEMBERS makes the vmlinux lack members, as a kernel newer than kstall
would. On the real dump as it is, kstall knows every layout (kernel_support is empty). With each
layout hidden, the capability it carries is named in the JSON and in the text's KERNEL SUPPORT
section, the exit status is 1, and the first verdict is not a confident "none": a kernel kstall
cannot read is never one where nothing is wrong.
"""
import json
import os
import subprocess
import sys

kstall, vmcore, vmlinux = sys.argv[1:4]
# member lists name every layout kstall knows for the capability, so the case holds on every kernel
CASES = [("orc_entry.type", "ORC unwind format"),
         ("module.mem,module.core_layout", "loaded modules"),
         ("mutex.wait_list,mutex.first_waiter,mutex.rtmutex", "mutex waits")]


def run(hide, fmt):
    env = dict(os.environ, KSTALL_CACHE="off")
    env.pop("KSTALL_TEST_HIDE_MEMBERS", None)
    if hide:
        env["KSTALL_TEST_HIDE_MEMBERS"] = hide
    args = [kstall, "report"] + (["--json"] if fmt == "json" else []) + [vmcore, vmlinux]
    p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    if p.returncode not in (0, 1) or "Sanitizer" in p.stderr:
        sys.exit(f"kstall {' '.join(args[1:])} (hiding {hide}) exited {p.returncode}: {p.stderr}")
    return p


# a frame-pointer kernel has no ORC to misread
sections = subprocess.run(["readelf", "-S", "--wide", vmlinux], capture_output=True, text=True).stdout
if ".orc_unwind" not in sections:
    CASES = [c for c in CASES if c[1] != "ORC unwind format"]
    print("no .orc_unwind in the vmlinux: the ORC case does not apply")
failures = []
plain = json.loads(run(None, "json").stdout)
if plain["kernel_support"]:
    failures.append(f"kernel_support on the real dump: {plain['kernel_support']}")
checked = 0
for hide, capability in CASES:
    p = run(hide, "json")
    report = json.loads(p.stdout)
    names = [g["capability"] for g in report["kernel_support"]]
    if capability not in names:
        failures.append(f"hiding {hide}: kernel_support {names}, expected {capability}")
    if p.returncode != 1:
        failures.append(f"hiding {hide}: exit status {p.returncode}, expected 1")
    if "not supported on this kernel: " + capability not in p.stderr:
        failures.append(f"hiding {hide}: stderr does not say '{capability}' is not supported")
    top = report["verdicts"][0]
    if top["kind"] == "none" and top["score"] >= 1:
        failures.append(f"hiding {hide}: a confident 'none' ({top['summary']})")
    text = run(hide, "text").stdout
    section = text.split("KERNEL SUPPORT", 1)[1] if "KERNEL SUPPORT" in text else ""
    if capability + ":" not in section:
        failures.append(f"hiding {hide}: the text's KERNEL SUPPORT section does not name {capability}")
    checked += 1
# Every lock layout hidden: the tasks stuck in D for a minute are still named (hung_tasks), never "none".
ALL_LOCKS = ("mutex.wait_list,mutex.first_waiter,mutex.rtmutex,rw_semaphore.wait_list,"
             "rw_semaphore.first_waiter,rw_semaphore.rwbase,semaphore.wait_list,semaphore.first_waiter")
# The tasks that must be named: in D and reported by the kernel's hung-task detector, or asleep for
# 120 s (the kernel's default timeout, the longest kstall assumes) or more at the least.
blind = json.loads(run(ALL_LOCKS, "json").stdout)
reported = {e["pid"] for e in blind["events"] if e["kind"] == "hung_task" and e["task_found"]}
must = sorted(t["pid"] for t in blind["tasks"] if t["state"] == "D" and
              (t["pid"] in reported or (t["stall"] and t["stall"]["min_seconds"] >= 120)))
hung = [v for v in blind["verdicts"] if v["kind"] == "hung_tasks"]
top = blind["verdicts"][0]
if blind["locks"]:
    failures.append(f"every lock layout hidden: still {len(blind['locks'])} locks")
if top["kind"] == "none" and top["score"] >= 1:
    failures.append(f"every lock layout hidden: a confident 'none' ({top['summary']})")
if must and (not hung or not set(must[:16]) <= set(hung[0]["pids"])):
    failures.append(f"every lock layout hidden: D tasks {must} (reported hung or asleep 120 s+) are not "
                    f"all named by hung_tasks ({hung[0]['pids'] if hung else 'no such verdict'})")
print(f"every lock layout hidden: {len(must)} tasks must be named; first verdict {top['kind']}: "
      f"{top['summary']}")
print(f"{checked} hidden layouts checked; first verdicts "
      f"{[json.loads(run(h, 'json').stdout)['verdicts'][0]['kind'] for h, _ in CASES]}")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
