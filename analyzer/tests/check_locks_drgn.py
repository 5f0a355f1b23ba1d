#!/usr/bin/python3
"""Every lock kstall reports, read again with drgn from the same dump.

Usage: check_locks_drgn.py KSTALL VMCORE VMLINUX MIN_LOCKS [MODULE.ko...]
For each lock in `kstall report --json`:
  - mutex, rwsem, semaphore: the tasks on its wait list are the tasks kstall
    shows waiting on it; the owner word (flag bits removed) is kstall's owner,
    a reader-owned rwsem's last reader only as a hint;
  - percpu_rwsem: the wait queue plus the writer in rcuwait are its waiters;
    the rcuwait's task is the owner; the per-CPU read counts sum to kstall's
    readers;
  - folio: the tasks queued for PG_locked of that folio on folio_wait_table
    are its waiters; no owner; the page index and the file's dentry name agree;
  - an i_rwsem: container_of gives kstall's inode, whose dentry has the name
    kstall's path ends with.
And the other way: every task drgn finds queued for a page lock is shown
waiting on that folio by kstall. At least MIN_LOCKS locks must be compared.
"""
import json
import os

import kstall_report
import sys

import drgn
import drgn_compat
from drgn import Object, container_of
from drgn.helpers.linux.cpumask import for_each_possible_cpu
from drgn.helpers.linux.list import hlist_for_each_entry, list_for_each_entry
from drgn.helpers.linux.percpu import per_cpu_ptr

WAITER = {"mutex": ("struct mutex", "struct mutex_waiter"),
          "rwsem": ("struct rw_semaphore", "struct rwsem_waiter"),
          "semaphore": ("struct semaphore", "struct semaphore_waiter")}


def page_lock_waiters(prog):
    """folio (page before 5.16) address -> tasks queued for its PG_locked."""
    pg_locked = prog.constant("PG_locked").value_()
    try:
        table, member = prog["folio_wait_table"], "folio"
    except KeyError:
        table, member = prog["page_wait_table"], "page"
    out = {}
    for i in range(len(table)):
        for wait in list_for_each_entry("struct wait_queue_entry", table[i].head.address_of_(),
                                        "entry"):
            wpq = container_of(wait, "struct wait_page_queue", "wait")
            if wpq.bit_nr.value_() == pg_locked:
                out.setdefault(getattr(wpq, member).value_(), set()).add(wait.private.value_())
    return out


def dentry_name(inode):
    for dentry in hlist_for_each_entry("struct dentry", inode.i_dentry.address_of_(),
                                       drgn_compat.dentry_alias(inode.prog_)):
        return dentry.d_name.name.string_().decode()
    return None


def main():
    kstall, vmcore, vmlinux, min_locks, modules = (sys.argv[1], sys.argv[2], sys.argv[3],
                                                   int(sys.argv[4]), sys.argv[5:])
    p = kstall_report.run(kstall, vmcore, vmlinux)
    if p.returncode not in (0, 1) or "Sanitizer" in p.stderr:
        sys.exit(f"kstall report exited {p.returncode}: {p.stderr}")
    report = json.loads(p.stdout)
    prog = drgn.Program()
    prog.set_core_dump(vmcore)
    modules_loaded = drgn_compat.load_debug_info(prog, [vmlinux] + modules)

    pid_of = {int(t["task"], 16): t["pid"] for t in report["tasks"]}
    kwaiters = {}
    for t in report["tasks"]:
        if t["waits_on"]:
            kwaiters.setdefault(t["waits_on"]["address"], set()).add(t["pid"])
    pages = page_lock_waiters(prog)
    failures = []

    def pids(tasks):
        return {pid_of.get(t, hex(t)) for t in tasks}

    for lock in report["locks"]:
        addr, kind, name = int(lock["address"], 16), lock["type"], lock["name"]
        got = kwaiters.get(lock["address"], set())
        owner = None  # drgn's owner task address, None when not recorded
        hint = False
        rt = drgn_compat.rt_base(prog, kind, addr)
        if rt is not None:
            # PREEMPT_RT: the waiters are on the rt_mutex's tree, the owner is its owner
            want = drgn_compat.rt_waiters(rt)
            raw = rt.owner.value_()
            owner = (raw & ~7) or None
            if kind == "rwsem" and owner:
                # a writer holds the rwsem once the readers have left ('readers' == WRITER_BIAS)
                readers = Object(prog, "struct rw_semaphore", address=addr).rwbase.readers.counter
                hint = (readers.value_() & 0xffffffff) != 1 << 30
        elif kind in WAITER:
            obj = Object(prog, WAITER[kind][0], address=addr)
            want = drgn_compat.wait_list_tasks(obj, WAITER[kind][1])
            if kind == "semaphore":
                # 6.16+: the last task to take it, cleared when it gives it back (a hint)
                try:
                    owner, hint = obj.last_holder.value_() or None, True
                except AttributeError:
                    pass
            else:
                raw = obj.owner.counter.value_() & 0xffffffffffffffff
                owner, hint = (raw & ~7) or None, kind == "rwsem" and bool(raw & 1)
        elif kind == "percpu_rwsem":
            obj = Object(prog, "struct percpu_rw_semaphore", address=addr)
            want = {w.private.value_() for w in list_for_each_entry(
                "struct wait_queue_entry", obj.waiters.head.address_of_(), "entry")}
            owner = obj.writer.task.value_() or None
            if owner:
                want.add(owner)
            readers = sum(per_cpu_ptr(obj.read_count, c)[0].value_()
                          for c in for_each_possible_cpu(prog)) & 0xffffffff
            if lock["readers"] != readers:
                failures.append(f"{name}: readers kstall={lock['readers']} drgn={readers}")
        elif kind == "folio":
            obj = Object(prog, "struct folio", address=addr)
            want = pages.get(addr, set())
            f = lock["file"]
            if f is None:
                failures.append(f"{name}: kstall names no file")
            else:
                inode = obj.mapping.host
                if hex(inode.value_()) != f["inode"] or f["index"] != obj.index.value_():
                    failures.append(f"{name}: inode {f['inode']} index {f['index']}, drgn "
                                    f"{hex(inode.value_())} index {obj.index.value_()}")
        else:
            failures.append(f"{name}: unknown lock type {kind}")
            continue
        if pids(want) != got:
            failures.append(f"{kind} {name}: waiters kstall={sorted(got, key=str)} "
                            f"drgn={sorted(pids(want), key=str)}")
        kowner = lock["owner_pid"]
        downer = pid_of.get(owner) if owner else None
        if kowner != downer or (downer is not None and lock["owner_is_hint"] != hint):
            failures.append(f"{kind} {name}: owner kstall={kowner} (hint {lock['owner_is_hint']}) "
                            f"drgn={downer} (hint {hint})")
        if lock["what"] == "inode.i_rwsem":
            inode = container_of(Object(prog, "struct rw_semaphore", address=addr).address_of_(),
                                 "struct inode", "i_rwsem")
            if lock["file"] is None or lock["file"]["inode"] != hex(inode.value_()):
                failures.append(f"{name}: inode kstall={lock['file']} drgn={hex(inode.value_())}")
        if lock["file"] is not None:
            inode = Object(prog, "struct inode", address=int(lock["file"]["inode"], 16))
            dname = dentry_name(inode)
            if not dname or os.path.basename(lock["file"]["path"]) != dname:
                failures.append(f"{name}: path {lock['file']['path']}, drgn's dentry {dname}")
    # Page-lock waits kstall did not see at all.
    for folio, tasks in pages.items():
        for pid in pids(tasks):
            if pid not in kwaiters.get(hex(folio), set()):
                failures.append(f"pid {pid} waits for the page lock of folio {hex(folio)}; "
                                f"kstall does not show it")
    print(f"{len(report['locks'])} locks compared with drgn, {sum(len(t) for t in pages.values())} "
          f"page-lock waiters")
    if len(report["locks"]) < min_locks:
        failures.append(f"only {len(report['locks'])} locks, expected at least {min_locks}")
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


main()
