"""What the oracle can read of each kernel: drgn 0.0.22 (Debian 12) and newer kernels.

drgn 0.0.22 finds no loaded modules on 6.4 and later (struct module has mem[],
not core_size): it raises MissingDebugInfoError after loading the vmlinux. On
those kernels the oracle still reads every kernel object (tasks, locks, memory)
but names nothing in module code; the checks that need module symbols say so
and use the scenario's truth.json instead. On PREEMPT_RT a mutex and an rwsem
are rt_mutexes: their waiters are on the rt_mutex's tree (rt_waiters). In 7.x
a lock has no wait-list head, only a pointer to the first of a ring of waiters
(wait_list_tasks reads both).
"""
import sys

import drgn
from drgn import Object
from drgn.helpers.linux.list import list_for_each_entry
from drgn.helpers.linux.rbtree import rbtree_inorder_for_each_entry


def load_debug_info(prog, paths):
    """Load the vmlinux and modules; False when drgn could not find the loaded modules."""
    try:
        prog.load_debug_info(paths)
    except drgn.MissingDebugInfoError as e:
        if "kernel modules" not in str(e) or "vmlinux" in str(e).split("kernel modules")[0]:
            raise
        print("oracle: drgn cannot list this kernel's modules (struct module of 6.4+); "
              "module code and symbols are not checked by drgn", file=sys.stderr)
        return False
    return True


def rt_base(prog, kind, addr):
    """The rt_mutex_base inside a PREEMPT_RT mutex or rwsem; None elsewhere."""
    try:
        if kind == "mutex":
            return Object(prog, "struct mutex", address=addr).rtmutex
        if kind == "rwsem":
            return Object(prog, "struct rw_semaphore", address=addr).rwbase.rtmutex
    except (LookupError, AttributeError):
        pass
    return None


def rt_waiters(base):
    """Tasks queued on an rt_mutex: its rb-tree of rt_mutex_waiters, in order."""
    prog = base.prog_
    try:
        member = "tree.entry"
        prog.type("struct rt_mutex_waiter").member("tree")
    except LookupError:
        member = "tree_entry"
    return {w.task.value_() for w in rbtree_inorder_for_each_entry(
        "struct rt_mutex_waiter", base.waiters.rb_root.address_of_(), member)}


def wait_list_tasks(obj, waiter_type):
    """Tasks on a mutex's, rwsem's or semaphore's wait list: its list head, or 7.x's ring."""
    try:
        head = obj.wait_list.address_of_()
    except AttributeError:
        first = obj.first_waiter
        if not first.value_():
            return set()
        out, w = [], first
        while True:
            out.append(w.task.value_())
            w = drgn.container_of(w.list.next, waiter_type, "list")
            if w.value_() == first.value_() or len(out) > 100000:
                return set(out)
    return {w.task.value_() for w in list_for_each_entry(waiter_type, head, "list")}


def dentry_alias(prog):
    """The member that puts a dentry on its inode's i_dentry list: d_u.d_alias, or in 7.x
    (d_u gone) d_alias in an unnamed union."""
    return "d_u.d_alias" if prog.type("struct dentry").has_member("d_u") else "d_alias"


def page_flags(obj):
    """A page's or folio's flags word: unsigned long, or 7.x's memdesc_flags_t (.f)."""
    flags = obj.flags
    try:
        return flags.f.value_()
    except (AttributeError, LookupError):
        return flags.value_()


def compound_order(page):
    """A head page's order: drgn 0.0.22 reads page[1].compound_order, which 6.x folios no
    longer have (and 7.x's flags are a memdesc_flags_t it cannot mask); there, the order is the
    low byte of the second page's flags (folio _flags_1)."""
    from drgn.helpers.linux.mm import compound_order as drgn_compound_order
    try:
        return drgn_compound_order(page).value_()
    except (AttributeError, TypeError):
        pass
    prog = page.prog_
    if not page_flags(page[0]) & (1 << prog["PG_head"].value_()):
        return 0
    return page_flags(page[1]) & 0xff
