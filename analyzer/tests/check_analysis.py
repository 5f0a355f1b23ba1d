#!/usr/bin/python3
"""kstall report --json against a fixture's truth.json.

Usage: check_analysis.py KSTALL VMCORE VMLINUX TRUTH.json
The truth root cause is ranked first; baseline has no verdict but none; every
truth lock a role waits on is found at its address, with the owner truth names
(none for a page lock: the kernel records none), the kind and the name truth
gives (a file's lock names the file and, for a folio, the page index); a
percpu_rw_semaphore counts the readers truth has inside; every role that waits
on a lock is shown waiting on it, and a writer waiting on the lock it holds
waits for readers; the verdict names the pids of the roles at the heart of the
problem; bounds of stall ages contain the truth; the memory stall's onset from
PSI agrees with the stuck allocations and the first OOM invocation.
"""
import json
import os

import kstall_report
import sys

kstall, vmcore, vmlinux, truth_path = sys.argv[1:5]
truth = json.load(open(truth_path))
p = kstall_report.run(kstall, vmcore, vmlinux)
if p.returncode not in (0, 1) or "Sanitizer" in p.stderr:
    sys.exit(f"kstall report exited {p.returncode}: {p.stderr}")
report = json.loads(p.stdout)
failures = []

# every fixture kernel is one kstall reads whole: nothing in KERNEL SUPPORT
if report["kernel_support"]:
    failures.append(f"kernel_support: {report['kernel_support']}")
kinds = [v["kind"] for v in report["verdicts"]]
if not kinds or kinds[0] != truth["root_cause"]:
    failures.append(f"first verdict {kinds[:1]}, truth {truth['root_cause']}")
if truth["root_cause"] == "none" and kinds != ["none"]:
    failures.append(f"baseline has verdicts {kinds}")

tasks = {t["pid"]: t for t in report["tasks"]}
locks = {l["address"]: l for l in report["locks"]}
holder_of = {}
for role in truth["roles"]:
    for held in role["holds"]:
        holder_of[held] = role["pid"]
readers_of = {}
for role in truth["roles"]:
    for lock in role.get("reads", []):
        readers_of[lock] = readers_of.get(lock, 0) + 1
for tl in truth["locks"]:
    lock = locks.get(tl["address"])
    if lock is None:
        continue  # a lock no role waits on; a missing wait is reported below
    if (lock["type"], lock["name"]) != (tl["type"], tl["name"]):
        failures.append(f"lock {tl['address']}: {lock['type']} {lock['name']!r}, "
                        f"truth {tl['type']} {tl['name']!r}")
    if "file" in tl:
        f = lock["file"] or {}
        if f.get("path") != tl["file"] or not f.get("path_absolute") or \
                f.get("index") != tl.get("index"):
            failures.append(f"lock {tl['name']}: file {f}, truth {tl['file']} index {tl.get('index')}")
    if tl["type"] == "folio" and lock["owner_pid"] is not None:
        failures.append(f"lock {tl['name']}: owner {lock['owner_pid']}, but the kernel records none")
    if tl["type"] == "percpu_rwsem" and lock["readers"] != readers_of.get(tl["address"], 0):
        failures.append(f"lock {tl['name']}: {lock['readers']} readers, truth "
                        f"{readers_of.get(tl['address'], 0)}")
for role in truth["roles"]:
    t = tasks.get(role["pid"])
    if t is None or t["comm"] != role["comm"]:
        failures.append(f"role {role['role']}: pid {role['pid']} ({role['comm']}) not in the report")
        continue
    if role["waits_on"]:
        w = t["waits_on"]
        if not w or w["address"] != role["waits_on"]:
            failures.append(f"role {role['role']} pid {role['pid']}: waits_on {w}, truth {role['waits_on']}")
        lock = locks.get(role["waits_on"])
        truth_owner = holder_of.get(role["waits_on"])
        if lock and truth_owner is not None and lock["type"] not in ("semaphore", "folio") \
                and lock["owner_pid"] != truth_owner:
            failures.append(f"lock {role['waits_on']}: owner {lock['owner_pid']}, truth {truth_owner}")
        # a percpu_rw_semaphore's writer holds the write side and waits for the readers
        if w and role["waits_on"] in role["holds"] and "readers to leave" not in w["mode"]:
            failures.append(f"role {role['role']} pid {role['pid']} holds what it waits on; mode {w['mode']}")
    stall = t["stall"]
    if stall and not stall["exact"] and role["stall_start_jiffies"] and report["kernel"]["hz"]:
        truth_s = (report["kernel"]["jiffies"] - role["stall_start_jiffies"]) / report["kernel"]["hz"]
        if not (stall["min_seconds"] - 1 <= truth_s <= stall["max_seconds"] + 1):
            failures.append(f"role {role['role']} pid {role['pid']}: stall {stall} does not "
                            f"contain the truth {truth_s:.1f} s")
    if stall and stall["exact"] and role["stall_start_jiffies"] and report["kernel"]["hz"]:
        truth_s = (report["kernel"]["jiffies"] - role["stall_start_jiffies"]) / report["kernel"]["hz"]
        if abs(stall["seconds"] - truth_s) > max(2, truth_s / 10):
            failures.append(f"role {role['role']} pid {role['pid']}: exact stall "
                            f"{stall['seconds']:.1f} s, truth {truth_s:.1f} s")

# The verdict names the roles at the heart of the problem.
heart = {"lock_cycle": {"cycle_a", "cycle_b"}, "oom_deadlock": {"victim", "holder"},
         "alloc_loop_no_oom": {"looper"},
         "lock_chain_hang": {"pcpu_writer", "inode_holder", "user_reader", "user_writer"}
         }.get(truth["root_cause"], set())
if kinds and kinds[0] == truth["root_cause"]:
    named = set(report["verdicts"][0]["pids"])
    for role in truth["roles"]:
        if role["role"] in heart and role["pid"] not in named:
            failures.append(f"verdict does not name role {role['role']} (pid {role['pid']})")
    if truth["root_cause"] != "none" and any(ch.isdigit() and "0x" in report["verdicts"][0]["signature"]
                                             for ch in report["verdicts"][0]["signature"]):
        failures.append(f"signature has an address: {report['verdicts'][0]['signature']}")

# The memory stall's onset from PSI. Its facts: a dump with no memory stall has none; where a role's
# allocation is still stuck, the system's memory stall had begun by the time it began (5 s of slack:
# PSI averages every 2 s and its share is never steady); in an OOM deadlock, memory ran out when the OOM
# killer was first invoked, which the console (outside the dump) dates: the estimate is within 10 s.
pressure = report["memory"]["pressure"]
onset = pressure["onset_seconds"] if pressure else None
hz, jiffies = report["kernel"]["hz"], report["kernel"]["jiffies"]
allocating = [(jiffies - r["stall_start_jiffies"]) / hz for r in truth.get("roles", [])
              if r["role"] in ("holder", "looper") and r.get("stall_start_jiffies") and hz]
if truth["root_cause"] in ("none", "lock_cycle") and onset is not None:
    failures.append(f"a memory stall onset ({onset:.1f} s) where there is no memory stall")
if allocating and onset is None:
    failures.append(f"allocations stuck for {max(allocating):.1f} s but no memory stall onset")
elif allocating and onset < max(allocating) - 5:
    failures.append(f"memory stall onset {onset:.1f} s before the crash, but an allocation has been "
                    f"stuck for {max(allocating):.1f} s")

first_oom = None
serial = os.path.join(os.path.dirname(vmcore), "serial.log")
if truth["root_cause"] == "oom_deadlock" and os.path.exists(serial) and onset is not None:
    for line in open(serial, errors="replace"):
        if "Linux version" in line and first_oom is not None:
            break  # the capture kernel's console
        if "invoked oom-killer" in line and first_oom is None and line.startswith("["):
            first_oom = float(line[1:].split("]")[0])
    if first_oom is not None:
        before = report["kernel"]["uptime_seconds"] - first_oom
        if abs(onset - before) > 10:
            failures.append(f"memory stall onset {onset:.1f} s before the crash, the first OOM "
                            f"invocation {before:.1f} s")
# The system's memory stall began at the first sign of it the guest's console kept (outside the
# dump): the earliest stall start any looping or holding role printed (truth.json keeps each role's
# last), or the first OOM invocation, whichever came first. The onset is within 25% of it (or 5 s:
# PSI averages every 2 s).
if os.path.exists(serial) and hz:
    starts, oom_at = [], None
    for line in open(serial, errors="replace"):
        if "Linux version" in line and (starts or oom_at is not None):
            break
        if "TRUTH {" in line and '"stall_start_jiffies"' in line:
            role = json.loads(line[line.index("{"):])
            if role.get("role") in ("holder", "looper") and role.get("stall_start_jiffies"):
                starts.append((jiffies - role["stall_start_jiffies"]) / hz)
        if "invoked oom-killer" in line and oom_at is None and line.startswith("["):
            oom_at = report["kernel"]["uptime_seconds"] - float(line[1:].split("]")[0])
    # only where roles date a stall (an OOM invocation alone can come long after reclaim began)
    began = max(starts + ([oom_at] if oom_at is not None else [])) if starts else None
    if began and onset is not None and abs(onset - began) > max(0.25 * began, 5):
        failures.append(f"memory stall onset {onset:.1f} s before the crash, more than 25% off its first sign "
                        f"in the console, {began:.1f} s")
    if began:
        print(f"the memory stall's first sign in the console: {began:.1f} s before the crash")
if onset is not None:
    print(f"memory stall onset {onset:.1f} s [{pressure['onset_min_seconds']:.1f}, "
          f"{pressure['onset_max_seconds']}] (allocations stuck {[round(x, 1) for x in allocating]}, "
          f"first OOM {first_oom} s of uptime)")
# Dated by the log: an allocating task's own first OOM invocation, where it is older than the
# system's stall onset (and younger than the task); never a task with no invocation.
first_inv = {}
for e in report["events"]:
    if e["kind"] == "oom_invoked" and e["task_found"] and e["seconds_before"] is not None:
        first_inv.setdefault(e["pid"], e["seconds_before"])
log_dated = 0
for t in report["tasks"]:
    st = t["stall"]
    if not st or not t["alloc"]:
        continue
    f = first_inv.get(t["pid"])
    if st["source"] == "log":
        log_dated += 1
        if f is None or abs(st["seconds"] - max(f, st["min_seconds"])) > 1e-6 or st["seconds"] > st["max_seconds"]:
            failures.append(f"pid {t['pid']}: dated by the log {st}, its first OOM invocation {f}")
    elif f is not None and st["source"] == "psi" and st["seconds"] < f:
        failures.append(f"pid {t['pid']}: PSI's {st['seconds']} s kept over its own OOM invocation {f} s ago")
if log_dated:
    print(f"{log_dated} allocating tasks dated by their first OOM invocation in the log")
# Every task in the allocator has a stall age (at worst bounded by its own start_time), and a task
# that loops there (running, or in the short sleeps of throttling and the oom_lock retry) is never
# dated by its last switch: sched_info would give it the time since its last arrival.
undated = [t["pid"] for t in report["tasks"] if t["alloc"] and not t["stall"]]
if undated:
    failures.append(f"allocating tasks without a stall age: {undated}")
for t in report["tasks"]:
    st = t["stall"]
    if t["alloc"] and st and st["source"] == "sched_info" and st["seconds"] < 1:
        failures.append(f"pid {t['pid']} loops in the allocator ({t['alloc']['phase']}) but is dated "
                        f"{st['seconds']:.3f} s by its last switch")
print(f"{truth['scenario']}/{truth['flavour']}: verdicts {kinds}")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
