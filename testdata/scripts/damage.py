#!/usr/bin/python3
"""Make damaged copies of a fixture vmcore, for the robustness tests.

Usage: damage.py FIXTURE_DIR VMLINUX OUT_DIR

FIXTURE_DIR holds vmcore (kdump-compressed) and vmcore.kdump.xz (the same dump
with uncompressed pages). Writes into OUT_DIR:

  half.vmcore         the vmcore cut at half its size
  tail.vmcore         the vmcore without its last 64 KiB (only page data lost)
  header-*.vmcore     the vmcore with one field of its headers made nonsense
  build-id.vmcore     VMCOREINFO's BUILD-ID made of bytes that are no hex
  stack-filtered.vmcore  every page of one task's kernel stack filtered out
                      (as makedumpfile would when told to), recompressed
  task-loop.vmcore    one task's tasks.next pointed back at an earlier task:
                      the task list loops without coming back to init_task
  thread-self-loop.vmcore  a thread's thread_node.next pointed at itself
  thread-loop.vmcore  a thread list that runs into another process's and circles there
  desc-oversize.vmcore  one task's stack pages' descriptors say 4097 bytes of
                      compressed data (over a page: libkdumpfile < 0.5.4 overflows)
  desc-flags.vmcore   the same descriptors with an unknown compression flag
  page-zlib.vmcore    the same pages' zlib data damaged (a byte flipped mid-stream)
  cut90.vmcore        the vmcore cut at 90% of its size (the per-CPU pages at its end lost)
  vmstat-filtered.vmcore  the page of the global memory counters (vm_zone_stat,
                      vm_node_stat) filtered out, recompressed
  lock-filtered.vmcore  the page of the scenario module's mutex abba_t2 waits on
                      (stall_mutex_a, in the lock cycle) filtered out, recompressed
  facts.json          what was damaged (pids, addresses), for the test to check

The page edits are made on the uncompressed form, where a page's bytes lie in
the file as they are, then makedumpfile -c recompresses it the way kdump saves
dumps. drgn (python3-drgn) finds the addresses on the undamaged dump.
Nothing here reads or writes outside OUT_DIR.
"""
import json
import lzma
import os
import shutil
import struct
import subprocess
import sys

import drgn
from drgn.helpers.linux.pid import find_task, for_each_task
from drgn.helpers.linux.mm import virt_to_phys
from drgn.helpers.linux.cpumask import for_each_online_cpu
from drgn.helpers.linux.percpu import per_cpu

PAGE = 4096
PD_SIZE = 24  # struct page_desc {off_t offset; u32 size, flags; u64 page_flags}
# struct disk_dump_header (makedumpfile's diskdump_mod.h), x86_64 layout
H_BLOCK_SIZE, H_SUB_HDR_SIZE, H_BITMAP_BLOCKS, H_MAX_MAPNR = 0x1AC, 0x1B0, 0x1B4, 0x1B8
# struct kdump_sub_header, at block 1
S_OFF_VMCOREINFO, S_SIZE_VMCOREINFO, S_OFF_NOTE, S_SIZE_NOTE, S_MAX_MAPNR_64 = 32, 40, 48, 56, 96


class Diskdump:
    """An uncompressed kdump file in memory: find and edit pages by pfn."""

    def __init__(self, data):
        self.d = bytearray(data)
        if self.d[:8] != b"KDUMP   ":
            raise SystemExit("damage.py: not a kdump file")
        self.block = struct.unpack_from("<i", self.d, H_BLOCK_SIZE)[0]
        sub = struct.unpack_from("<i", self.d, H_SUB_HDR_SIZE)[0]
        bitmap_blocks = struct.unpack_from("<I", self.d, H_BITMAP_BLOCKS)[0]
        self.bitmap_len = bitmap_blocks * self.block // 2
        self.bitmap2 = (1 + sub) * self.block + self.bitmap_len
        self.pd_start = (1 + sub + bitmap_blocks) * self.block
        self.ndumped = sum(bin(b).count("1") for b in self.d[self.bitmap2:self.bitmap2 + self.bitmap_len])

    def dumped(self, pfn):
        return bool(self.d[self.bitmap2 + pfn // 8] >> (pfn % 8) & 1)

    def rank(self, pfn):
        """Index of pfn's page_desc: the dumped pages before it."""
        base = self.bitmap2
        n = sum(bin(b).count("1") for b in self.d[base:base + pfn // 8])
        return n + bin(self.d[base + pfn // 8] & ((1 << (pfn % 8)) - 1)).count("1")

    def desc(self, pfn):
        """Offset of pfn's page_desc in the file."""
        if not self.dumped(pfn):
            raise SystemExit(f"damage.py: pfn {pfn:#x} is not in the dump")
        return self.pd_start + PD_SIZE * self.rank(pfn)

    def page_data(self, pfn):
        if not self.dumped(pfn):
            raise SystemExit(f"damage.py: pfn {pfn:#x} is not in the dump")
        off, size, flags, _ = struct.unpack_from("<qIIQ", self.d, self.pd_start + PD_SIZE * self.rank(pfn))
        if flags or size != PAGE:
            raise SystemExit(f"damage.py: pfn {pfn:#x} is stored compressed; want the uncompressed form")
        return off

    def patch(self, phys, data):
        off = self.page_data(phys // PAGE) + phys % PAGE
        assert phys % PAGE + len(data) <= PAGE
        self.d[off:off + len(data)] = data

    def filter_out(self, pfn):
        """Take a page out as makedumpfile's filtering would: bitmap bit and page_desc gone."""
        r = self.rank(pfn)
        self.d[self.bitmap2 + pfn // 8] &= ~(1 << (pfn % 8)) & 0xFF
        pd = self.pd_start + PD_SIZE * r
        end = self.pd_start + PD_SIZE * self.ndumped
        self.d[pd:end - PD_SIZE] = self.d[pd + PD_SIZE:end]
        self.ndumped -= 1


def kvirt_to_phys(prog, addr):
    """Kernel virtual to physical through init_mm's page tables (4-level, x86_64)."""
    pgd = prog["init_mm"].pgd.value_()  # in the kernel image: read it by its virtual address
    entry = struct.unpack("<Q", prog.read(pgd + ((addr >> 39) & 0x1FF) * 8, 8))[0]
    for shift in (30, 21, 12):
        if not entry & 1:
            raise SystemExit(f"damage.py: {addr:#x} is not mapped")
        table = entry & 0x000FFFFFFFFFF000
        entry = struct.unpack("<Q", prog.read(table + ((addr >> shift) & 0x1FF) * 8, 8, True))[0]
        if shift != 12 and entry & 0x80:  # a 1 GiB or 2 MiB page
            frame = entry & 0x000FFFFFFFFFF000 & ~((1 << shift) - 1)
            return frame + (addr & ((1 << shift) - 1))
    if not entry & 1:
        raise SystemExit(f"damage.py: {addr:#x} is not mapped")
    return (entry & 0x000FFFFFFFFFF000) + (addr & 0xFFF)


def makedumpfile(src, dst):
    if os.path.exists(dst):
        os.unlink(dst)
    subprocess.run(["makedumpfile", "--message-level", "4", "-c", "-d", "31", src, dst],
                   check=True, stdout=subprocess.DEVNULL)


# the memory counters of kstall's JSON (memory.counters) and the kernel's global each is read from
MEM_COUNTERS = {
    "free": "NR_FREE_PAGES", "file": "NR_FILE_PAGES", "shmem": "NR_SHMEM", "dirty": "NR_FILE_DIRTY",
    "writeback": "NR_WRITEBACK", "anon": "NR_ANON_MAPPED", "active_anon": "NR_ACTIVE_ANON",
    "inactive_anon": "NR_INACTIVE_ANON", "active_file": "NR_ACTIVE_FILE",
    "inactive_file": "NR_INACTIVE_FILE", "unevictable": "NR_UNEVICTABLE", "mlocked": "NR_MLOCK",
    "slab_reclaimable": "NR_SLAB_RECLAIMABLE_B", "slab_unreclaimable": "NR_SLAB_UNRECLAIMABLE_B",
    "kernel_stack": "NR_KERNEL_STACK_KB", "pagetables": "NR_PAGETABLE",
    "isolated_anon": "NR_ISOLATED_ANON", "isolated_file": "NR_ISOLATED_FILE",
}


def counter_address(prog, item):
    """Where the global counter of a node_stat_item or zone_stat_item lives."""
    for enum, array in (("enum node_stat_item", "vm_node_stat"), ("enum zone_stat_item", "vm_zone_stat")):
        for name, value in prog.type(enum).enumerators:
            if name == item:
                return prog[array].address_ + 8 * value
    return None


def readable_tasks(core, vmlinux):
    """What drgn can read of the tasks in a damaged copy: the threads on the task lists (None
    when a list cannot be walked to its end) and the idle tasks (rq->idle) of the online CPUs."""
    prog = drgn.Program()
    prog.set_core_dump(core)
    prog.load_debug_info([vmlinux])
    idle = 0
    for cpu in for_each_online_cpu(prog):
        try:
            per_cpu(prog["runqueues"], cpu).idle.value_()
            idle += 1
        except drgn.FaultError:
            pass
    threads = 0
    try:
        for t in for_each_task(prog):
            t.pid.value_()
            threads += 1
    except drgn.FaultError:
        threads = None
    return threads, idle


def find_task_pid(prog, task):
    """The pid of the task_struct at task, None if it is no task on the lists."""
    for t in for_each_task(prog):
        if t.value_() == task:
            return t.pid.value_()
    return None


def recompress(dd, out, name):
    """The edited uncompressed dump as OUT/NAME.vmcore, kdump-compressed as kdump saves dumps."""
    tmp = os.path.join(out, name + ".plain")
    write(tmp, dd.d)
    makedumpfile(tmp, os.path.join(out, name + ".vmcore"))
    os.unlink(tmp)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    fixture, vmlinux, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    vmcore = os.path.join(fixture, "vmcore")
    with open(vmcore, "rb") as f:
        orig = f.read()
    with lzma.open(os.path.join(fixture, "vmcore.kdump.xz")) as f:
        plain = f.read()

    prog = drgn.Program()
    prog.set_core_dump(vmcore)
    prog.load_debug_info([vmlinux])
    facts = {"fixture": fixture}

    # Truncated files: cut at half (page descriptors survive, much page data is lost),
    # and cut near the end (the last pages' data only).
    write(os.path.join(out, "half.vmcore"), orig[: len(orig) // 2])
    write(os.path.join(out, "tail.vmcore"), orig[: len(orig) - 65536])

    # Header fields that lie.
    def header(name, offset, fmt, value):
        d = bytearray(orig)
        struct.pack_into(fmt, d, offset, value)
        write(os.path.join(out, f"header-{name}.vmcore"), d)
        facts.setdefault("headers", []).append(name)

    sub = PAGE  # the sub header is block 1
    header("signature", 0, "8s", b"KDUMQ   ")
    header("block-size", H_BLOCK_SIZE, "<i", 12345)
    header("bitmap-blocks", H_BITMAP_BLOCKS, "<I", 0x7FFFFFF0)
    header("max-mapnr", sub + S_MAX_MAPNR_64, "<Q", 1 << 52)
    header("vmcoreinfo-offset", sub + S_OFF_VMCOREINFO, "<Q", len(orig) * 4)
    header("vmcoreinfo-size", sub + S_SIZE_VMCOREINFO, "<Q", 1 << 40)
    header("note-size", sub + S_SIZE_NOTE, "<Q", 1 << 40)
    header("zeroed", 0x1A8, f"{PAGE - 0x1A8}s", bytes(PAGE - 0x1A8))

    # VMCOREINFO's BUILD-ID with bytes that are no hex (an escape among them): never a path,
    # a debuginfod query or raw bytes on the terminal; with the vmlinux given, the banners decide.
    d = bytearray(orig)
    at = d.find(b"BUILD-ID=")
    d[at + 9:at + 12] = b"\x1b\xffz"
    write(os.path.join(out, "build-id.vmcore"), d)

    # Pick the task to damage: the first scenario task with a kernel stack of its own.
    victim = None
    for pid in (42, 43, 44, 3, 2):
        try:
            t = find_task(prog, pid)
        except Exception:
            continue
        if t:
            victim = t
            break
    if victim is None:
        raise SystemExit("damage.py: no task to damage")
    pid = victim.pid.value_()
    thread_size = 4 * PAGE  # x86_64 without KASAN
    stack = victim.stack.value_()
    facts["stack_task"] = {"pid": pid, "comm": victim.comm.string_().decode(),
                           "task": hex(victim.value_()), "stack": hex(stack)}

    # One task's stack pages all filtered out.
    dd = Diskdump(plain)
    for off in range(0, thread_size, PAGE):
        dd.filter_out(kvirt_to_phys(prog, stack + off) // PAGE)
    recompress(dd, out, "stack-filtered")

    # The same stack pages damaged in the compressed file itself: their descriptors
    # (as a corrupt or hostile file has them) or their zlib data.
    cd = Diskdump(orig)
    pfns = [kvirt_to_phys(prog, stack + off) // PAGE for off in range(0, thread_size, PAGE)]
    descs = {pfn: struct.unpack_from("<qIIQ", cd.d, cd.desc(pfn)) for pfn in pfns}
    zlib_pfns = [pfn for pfn, (_, size, flags, _) in descs.items() if flags == 1 and size > 16]
    if not zlib_pfns:
        raise SystemExit("damage.py: no zlib-compressed stack page to damage")
    for name in ("desc-oversize", "desc-flags", "page-zlib"):
        d = bytearray(orig)
        for pfn in zlib_pfns:
            off, size, flags, _ = descs[pfn]
            if name == "desc-oversize":
                struct.pack_into("<I", d, cd.desc(pfn) + 8, PAGE + 1)
            elif name == "desc-flags":
                struct.pack_into("<I", d, cd.desc(pfn) + 12, 0x40)
            else:
                d[off + size // 2] ^= 0x5A
        write(os.path.join(out, name + ".vmcore"), d)
    facts["desc_damage"] = {"pfns": [hex(p) for p in zlib_pfns], "first_pfn": hex(min(zlib_pfns))}

    # The task list loops: a later group leader's tasks.next points at an earlier one.
    head = prog["init_task"].tasks.address_of_()
    leaders = []
    pos = head.next
    while pos != head and len(leaders) < 10000:
        leaders.append(pos.value_())
        pos = pos.next
    src, dst = leaders[len(leaders) * 2 // 3], leaders[len(leaders) // 3]
    off = prog.type("struct task_struct").member("tasks").offset  # noqa: member offset
    dd = Diskdump(plain)
    dd.patch(kvirt_to_phys(prog, src), struct.pack("<Q", dst))
    facts["task_loop"] = {"from": hex(src - off), "to": hex(dst - off),
                          "leaders": len(leaders), "tasks_before_loop": len(leaders) * 2 // 3 + 1}
    recompress(dd, out, "task-loop")

    # Thread lists that loop: init's (pid 1) thread_node.next pointed at itself, and at
    # kthreadd's thread_node, whose own list then runs in a circle that never meets
    # init's list head again.
    init, kthreadd = find_task(prog, 1), find_task(prog, 2)
    node = init.thread_node.address_of_().value_()
    for name, target in (("thread-self-loop", node),
                         ("thread-loop", kthreadd.thread_node.address_of_().value_())):
        dd = Diskdump(plain)
        dd.patch(kvirt_to_phys(prog, node), struct.pack("<Q", target))
        recompress(dd, out, name)
    facts["thread_loop"] = {"pid": 1, "task": hex(init.value_()), "into": hex(kthreadd.value_())}

    # Honest verdicts: a cut that loses the per-CPU pages (the idle tasks, the run queue clocks),
    # and the global memory counters' page filtered out. What the kernel counts, and what drgn
    # can still read of each copy, for the coverage the report must give.
    online = len(list(for_each_online_cpu(prog)))
    facts["nr_threads"] = prog["nr_threads"].value_()
    facts["online_cpus"] = online
    cut = os.path.join(out, "cut90.vmcore")
    write(cut, orig[: len(orig) * 9 // 10])
    threads, idle = readable_tasks(cut, vmlinux)
    facts["cut90"] = {"threads_readable": threads, "idle_readable": idle}

    pages = sorted({prog[s].address_ & ~(PAGE - 1) for s in ("vm_zone_stat", "vm_node_stat")})
    dd = Diskdump(plain)
    for page in pages:
        dd.filter_out(kvirt_to_phys(prog, page) // PAGE)
    recompress(dd, out, "vmstat-filtered")
    lost = []
    for name, item in MEM_COUNTERS.items():
        addr = counter_address(prog, item)
        if addr is not None and (addr & ~(PAGE - 1)) in pages:
            lost.append(name)
    for name, sym in (("total", "_totalram_pages"), ("total", "totalram_pages"),
                      ("swap_total", "total_swap_pages"), ("swap_free", "nr_swap_pages")):
        try:
            addr = prog.variable(sym).address_
        except (KeyError, LookupError):
            continue
        if addr is not None and (addr & ~(PAGE - 1)) in pages and name not in lost:
            lost.append(name)
    threads, idle = readable_tasks(os.path.join(out, "vmstat-filtered.vmcore"), vmlinux)
    facts["vmstat_filtered"] = {"pages": [hex(p) for p in pages], "counters": lost,
                                "threads_readable": threads, "idle_readable": idle,
                                "nr_threads_lost": (prog["nr_threads"].address_ & ~(PAGE - 1)) in pages}

    # A lock of the cycle unreadable: the page of the mutex abba_t2 (pid 43) waits on, found as
    # the lock parameter of its __mutex_lock frame (the module's own symbols are not drgn's).
    waiter = find_task(prog, 43)
    lock = next(f["lock"].value_() for f in prog.stack_trace(waiter) if f.name == "__mutex_lock")
    owner = prog.read_u64(lock) & ~7  # mutex.owner is the first field; the low bits are flags
    page = lock & ~(PAGE - 1)
    dd = Diskdump(plain)
    dd.filter_out(kvirt_to_phys(prog, page) // PAGE)
    recompress(dd, out, "lock-filtered")
    waiters = []
    for t in for_each_task(prog):
        try:
            trace = prog.stack_trace(t)
        except (drgn.FaultError, ValueError):
            continue
        if any(f.name == "__mutex_lock" and f["lock"].value_() == lock for f in trace):
            waiters.append(t.pid.value_())
    facts["lock_filtered"] = {"lock": hex(lock), "page": hex(page), "waiter": 43, "waiters": sorted(waiters),
                              "owner": find_task_pid(prog, owner)}

    with open(os.path.join(out, "facts.json"), "w") as f:
        json.dump(facts, f, indent=1)
    print(f"damage.py: wrote {len(os.listdir(out))} files to {out}")


if __name__ == "__main__":
    main()
