#!/usr/bin/python3
"""Check a fixture's truth.json against its vmcore with drgn (the fixture test).

Usage: check_truth.py VMCORE VMLINUX TRUTH.json [MODULE.ko...]
Every role's pid exists with its comm and task address; every task that waits
on a lock is on that lock's wait list, in state D; every lock a role holds is
owned by that role (mutexes and write-held rwsems record their owner; a
percpu_rw_semaphore records the writer that waits for its readers); a lock
named by its symbol is that symbol; a lock of a file (a folio, an i_rwsem)
belongs to the inode whose dentry has the file's name, a folio at its page
index, locked; a percpu_rw_semaphore has at least as many readers inside as
roles that read-hold it.
"""
import json
import os
import sys

import drgn
import drgn_compat
from drgn import Object, container_of
from drgn.helpers.linux.list import hlist_for_each_entry, list_for_each_entry
from drgn.helpers.linux.percpu import per_cpu_ptr
from drgn.helpers.linux.cpumask import for_each_possible_cpu
from drgn.helpers.linux.pid import find_task
from drgn.helpers.linux.sched import task_state_to_char

WAITER_TYPE = {"mutex": "struct mutex_waiter", "rwsem": "struct rwsem_waiter",
               "semaphore": "struct semaphore_waiter"}
LOCK_TYPE = {"mutex": "struct mutex", "rwsem": "struct rw_semaphore",
             "semaphore": "struct semaphore", "percpu_rwsem": "struct percpu_rw_semaphore",
             "folio": "struct folio"}


def folio_waiters(prog, folio):
    """Tasks queued for PG_locked of this folio on the hashed folio wait table."""
    pg_locked = prog.constant("PG_locked").value_()
    table = prog["folio_wait_table"]
    out = set()
    for i in range(len(table)):
        for wait in list_for_each_entry("struct wait_queue_entry", table[i].head.address_of_(),
                                        "entry"):
            wpq = container_of(wait, "struct wait_page_queue", "wait")
            if wpq.folio.value_() == folio and wpq.bit_nr.value_() == pg_locked:
                out.add(wait.private.value_())
    return out


def inode_name(inode):
    """The name of the inode's first dentry, or None."""
    for dentry in hlist_for_each_entry("struct dentry", inode.i_dentry.address_of_(),
                                       drgn_compat.dentry_alias(inode.prog_)):
        return dentry.d_name.name.string_().decode()
    return None


def percpu_readers(prog, sem):
    return sum(per_cpu_ptr(sem.read_count, cpu)[0].value_()
               for cpu in for_each_possible_cpu(prog)) & 0xffffffff


def lock_facts(prog, lock, failures, modules_loaded):
    """(waiters, owner) of a truth lock; checks its name and file on the way."""
    addr = int(lock["address"], 16)
    obj = Object(prog, LOCK_TYPE[lock["type"]], address=addr)
    owner = None
    if lock["type"] == "percpu_rwsem":
        waiters = {w.private.value_() for w in list_for_each_entry(
            "struct wait_queue_entry", obj.waiters.head.address_of_(), "entry")}
        writer = obj.writer.task.value_()
        if writer:  # the writer waits in rcuwait for the readers to leave
            waiters.add(writer)
            owner = writer
    elif lock["type"] == "folio":
        waiters = folio_waiters(prog, addr)
        if not drgn_compat.page_flags(obj) & (1 << prog.constant("PG_locked").value_()):
            failures.append(f"folio {lock['address']} is not locked")
        if obj.index.value_() != lock["index"]:
            failures.append(f"folio {lock['address']} has index {obj.index.value_()}, "
                            f"truth {lock['index']}")
    elif drgn_compat.rt_base(prog, lock["type"], addr) is not None:
        # PREEMPT_RT: the rt_mutex inside; a writer owns an rwsem's rt_mutex
        rt = drgn_compat.rt_base(prog, lock["type"], addr)
        waiters = drgn_compat.rt_waiters(rt)
        owner = (rt.owner.value_() & ~7) or None
    else:
        waiters = drgn_compat.wait_list_tasks(obj, WAITER_TYPE[lock["type"]])
        if lock["type"] in ("mutex", "rwsem"):
            raw = obj.owner.counter.value_() & 0xffffffffffffffff
            if lock["type"] == "mutex" or not raw & 1:  # rwsem bit 0: reader-owned
                owner = raw & ~7
    if "file" in lock:
        if lock["type"] == "folio":
            inode = obj.mapping.host
        else:
            inode = container_of(obj.address_of_(), "struct inode", "i_rwsem")
        if inode.i_data.host.value_() != inode.value_():
            failures.append(f"lock {lock['name']}: {hex(inode.value_())} is no inode")
        elif inode_name(inode) != os.path.basename(lock["file"]):
            failures.append(f"lock {lock['name']}: the inode's dentry is {inode_name(inode)}")
    elif modules_loaded:
        sym = prog.symbol(obj.address_of_().value_())
        if sym.name != lock["name"]:
            failures.append(f"lock {lock['name']} at {lock['address']} is symbol {sym.name}")
    return waiters, owner


def main():
    vmcore, vmlinux, truth_path, modules = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    truth = json.load(open(truth_path))
    prog = drgn.Program()
    prog.set_core_dump(vmcore)
    modules_loaded = drgn_compat.load_debug_info(prog, [vmlinux] + modules)
    failures = []
    if not truth.get("scenario") or not truth.get("root_cause"):
        failures.append("truth.json has no scenario or root cause")

    locks = {}
    for lock in truth["locks"]:
        waiters, owner = lock_facts(prog, lock, failures, modules_loaded)
        locks[lock["address"]] = (lock, waiters, owner)
    for lock in truth["locks"]:
        if lock["type"] != "percpu_rwsem":
            continue
        readers = [r for r in truth["roles"] if lock["address"] in r.get("reads", [])]
        inside = percpu_readers(prog, Object(prog, LOCK_TYPE["percpu_rwsem"],
                                             address=int(lock["address"], 16)))
        if inside < len(readers):
            failures.append(f"{lock['name']}: {inside} readers inside, {len(readers)} roles read-hold it")

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
    print(f"{truth['scenario']}: {len(truth['roles'])} roles, {len(truth['locks'])} locks checked"
          + ("" if modules_loaded else " (lock names from truth.json only: drgn has no module symbols)"))
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


main()
