#!/usr/bin/python3
"""Check a fixture's truth.json against its vmcore with drgn (the fixture test).

Usage: check_truth.py VMCORE VMLINUX TRUTH.json [MODULE.ko...]
Every role's pid exists with its comm and task address; every task that waits
on a lock is on that lock's wait list, in state D; every lock a role holds is
owned by that role (mutexes and write-held rwsems record their owner).
"""
import json
import sys

import drgn
from drgn import Object
from drgn.helpers.linux.list import list_for_each_entry
from drgn.helpers.linux.pid import find_task
from drgn.helpers.linux.sched import task_state_to_char

WAITER_TYPE = {"mutex": "struct mutex_waiter", "rwsem": "struct rwsem_waiter",
               "semaphore": "struct semaphore_waiter"}
LOCK_TYPE = {"mutex": "struct mutex", "rwsem": "struct rw_semaphore",
             "semaphore": "struct semaphore"}


def main():
    vmcore, vmlinux, truth_path, modules = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    truth = json.load(open(truth_path))
    prog = drgn.Program()
    prog.set_core_dump(vmcore)
    prog.load_debug_info([vmlinux] + modules)
    failures = []
    if not truth.get("scenario") or not truth.get("root_cause"):
        failures.append("truth.json has no scenario or root cause")

    locks = {}
    for lock in truth["locks"]:
        obj = Object(prog, LOCK_TYPE[lock["type"]], address=int(lock["address"], 16))
        waiters = {w.task.value_() for w in list_for_each_entry(
            WAITER_TYPE[lock["type"]], obj.wait_list.address_of_(), "list")}
        owner = None
        if lock["type"] in ("mutex", "rwsem"):
            raw = obj.owner.counter.value_() & 0xffffffffffffffff
            if lock["type"] == "mutex" or not raw & 1:  # rwsem bit 0: reader-owned
                owner = raw & ~7
        sym = prog.symbol(obj.address_of_().value_())
        if sym.name != lock["name"]:
            failures.append(f"lock {lock['name']} at {lock['address']} is symbol {sym.name}")
        locks[lock["address"]] = (lock, waiters, owner)

    for role in truth["roles"]:
        task = find_task(prog, role["pid"])
        if not task:
            failures.append(f"role {role['role']}: pid {role['pid']} not in the dump")
            continue
        comm = task.comm.string_().decode()
        if comm != role["comm"] or (role["task"] and hex(task.value_()) != role["task"]):
            failures.append(f"role {role['role']}: pid {role['pid']} is {comm} at "
                            f"{hex(task.value_())}, truth says {role['comm']} at {role['task']}")
        if role["waits_on"]:
            lock, waiters, _ = locks[role["waits_on"]]
            if task.value_() not in waiters:
                failures.append(f"role {role['role']} pid {role['pid']} not on the wait list "
                                f"of {lock['name']}")
            if task_state_to_char(task) != "D":
                failures.append(f"role {role['role']} pid {role['pid']} waits on "
                                f"{lock['name']} but is in state {task_state_to_char(task)}")
        for held in role["holds"]:
            if held not in locks:
                continue
            lock, _, owner = locks[held]
            if owner is not None and owner != task.value_():
                failures.append(f"{lock['name']} is owned by {hex(owner)}, truth says "
                                f"{role['role']} ({role['task']})")
    print(f"{truth['scenario']}: {len(truth['roles'])} roles, {len(truth['locks'])} locks checked")
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


main()
