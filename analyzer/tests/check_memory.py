#!/usr/bin/python3
"""kstall's memory and OOM state against drgn on the same vmcore.

Usage: check_memory.py KSTALL VMCORE VMLINUX
drgn reads the same facts its own way (its helpers and the kernel's enums):
every global counter kstall shows, each populated zone's free pages and
watermarks, the oom_lock holder, the OOM victims, the reaper's queue, and the
number of OOM kills in the log.
"""
import json
import re
import struct
import subprocess

import kstall_report
import sys

import drgn
import drgn.helpers.linux.slab
import drgn_compat
from drgn import cast
from drgn.helpers.linux.cpumask import for_each_online_cpu, for_each_possible_cpu
from drgn.helpers.linux.list import list_for_each_entry
from drgn.helpers.linux.percpu import per_cpu, per_cpu_ptr
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.printk import get_dmesg

kstall, vmcore, vmlinux = sys.argv[1:4]
p = kstall_report.run(kstall, vmcore, vmlinux)
if p.returncode not in (0, 1):
    sys.exit(f"kstall exited {p.returncode}: {p.stderr}")
report = json.loads(p.stdout)
mem = report["memory"]
prog = drgn.Program()
prog.set_core_dump(vmcore)
prog.load_debug_info([vmlinux])
failures = []


def enum_value(enum_type, name):
    for n, v in prog.type(f"enum {enum_type}").enumerators:
        if n == name:
            return v
    return None


def global_counter(names):
    for name in names.split("|"):
        for array, enum_type in (("vm_node_stat", "node_stat_item"), ("vm_zone_stat", "zone_stat_item")):
            v = enum_value(enum_type, name)
            if v is not None:
                return max(0, prog[array][v].counter.value_())
    return None


COUNTERS = {"free": "NR_FREE_PAGES", "file": "NR_FILE_PAGES", "shmem": "NR_SHMEM",
            "dirty": "NR_FILE_DIRTY", "writeback": "NR_WRITEBACK", "anon": "NR_ANON_MAPPED",
            "mlocked": "NR_MLOCK", "unevictable": "NR_UNEVICTABLE",
            "slab_unreclaimable": "NR_SLAB_UNRECLAIMABLE_B", "pagetables": "NR_PAGETABLE"}
for key, names in COUNTERS.items():
    want = global_counter(names)
    if mem["pages"][key] != want:
        failures.append(f"{key}: kstall {mem['pages'][key]}, drgn {want}")
total = prog["_totalram_pages"].counter.value_()
if mem["pages"]["total"] != total:
    failures.append(f"total: kstall {mem['pages']['total']}, drgn {total}")

zones = []
pgdat = prog["contig_page_data"]
for z in range(len(pgdat.node_zones)):
    zone = pgdat.node_zones[z]
    if zone.managed_pages.counter.value_() == 0:
        continue
    boost = zone.watermark_boost.value_()
    wm = [zone._watermark[enum_value("zone_watermarks", n)].value_() + boost
          for n in ("WMARK_MIN", "WMARK_LOW", "WMARK_HIGH")]
    zones.append({"name": zone.name.string_().decode(), "free": max(0, zone.vm_stat[enum_value("zone_stat_item", "NR_FREE_PAGES")].counter.value_()),
                  "min": wm[0], "low": wm[1], "high": wm[2]})
got = [{k: z[k] for k in ("name", "free", "min", "low", "high")} for z in mem["zones"]]
if got != zones:
    failures.append(f"zones: kstall {got}, drgn {zones}")

pids = {t["task"]: t["pid"] for t in report["tasks"]}
rt = drgn_compat.rt_base(prog, "mutex", prog["oom_lock"].address_)
owner = (rt.owner.value_() if rt is not None else prog["oom_lock"].owner.counter.value_()) & ~7
want_owner = pids.get(hex(owner)) if owner else None
if report["oom"]["lock_owner_pid"] != want_owner:
    failures.append(f"oom_lock owner: kstall {report['oom']['lock_owner_pid']}, drgn {want_owner}")

victims = []
for t in report["tasks"]:
    if t["idle"] or t["pid"] != t["tgid"]:
        continue
    task = drgn.Object(prog, "struct task_struct *", int(t["task"], 16))
    if task.signal.oom_mm.value_():
        victims.append(t["pid"])
if sorted(report["oom"]["victims"]) != sorted(victims):
    failures.append(f"victims: kstall {report['oom']['victims']}, drgn {victims}")

queue = []
task = prog["oom_reaper_list"]
while task.value_() and len(queue) <= len(report["tasks"]):
    queue.append(task.pid.value_())
    task = task.oom_reaper_list
if report["oom"]["reaper_queue"] != queue:
    failures.append(f"reaper queue: kstall {report['oom']['reaper_queue']}, drgn {queue}")

dmesg = get_dmesg(prog).decode(errors="replace")
kills = len(re.findall(r"Killed process \d+ \(", dmesg))
if report["oom"]["kills"] != kills:
    failures.append(f"OOM kills: kstall {report['oom']['kills']}, drgn's log {kills}")
hung = len(re.findall(r"INFO: task .*:\d+ blocked for more than", dmesg))
if sum(e["kind"] == "hung_task" for e in report["events"]) != hung:
    failures.append(f"hung-task lines: kstall {sum(e['kind'] == 'hung_task' for e in report['events'])}, drgn's log {hung}")

# Pressure: psi_system's averages (fixed point, FIXED_1 = 2048) and total[PSI_AVGS] (ns), as drgn reads them.
pressure = mem["pressure"]
psi_lines = 0
if pressure is None or pressure["state"] != "read":
    failures.append(f"pressure: the fixture kernels have PSI on, kstall says {pressure}")
else:
    avgs = enum_value("psi_aggregators", "PSI_AVGS")

    def check_psi(label, got_group, g):
        global psi_lines
        got = {"memory": {"some": got_group["some"], "full": got_group["full"]}, "io": got_group["io"],
               "cpu": got_group["cpu"]}
        for res, name in (("memory", "MEM"), ("io", "IO"), ("cpu", "CPU")):
            for kind in ("some", "full"):
                state = enum_value("psi_states", f"PSI_{name}_{kind.upper()}")
                line = got[res][kind]
                if state is None:
                    if line is not None:
                        failures.append(f"{label} {res} {kind}: the kernel has no such line, kstall {line}")
                    continue
                want = {"avg10": g.avg[state][0].value_() / 2048, "avg60": g.avg[state][1].value_() / 2048,
                        "avg300": g.avg[state][2].value_() / 2048,
                        "total_seconds": g.total[avgs][state].value_() / 1e9}
                psi_lines += 1
                if line is None or any(abs(line[k] - v) > 1e-9 for k, v in want.items()):
                    failures.append(f"{label} {res} {kind}: kstall {line}, drgn {want}")

    check_psi("pressure", pressure, prog["psi_system"])
    # Each cgroup's PSI group: the root's is psi_system; below, cgroup.psi (a pointer on 6.1+,
    # NULL when cgroup PSI is off; embedded before), not read when its cgroup.pressure is 0.
    # Every cgroup kstall lists in memory.consumers.cgroups with a group is in pressure.cgroups.
    from drgn.helpers.linux.list import list_for_each_entry as each_css

    def cgroup_psi(cg, path, out):
        if path == "/":
            out[path] = prog["psi_system"]
        else:
            grp = cg.psi if cg.psi.type_.kind == drgn.TypeKind.POINTER else cg.psi.address_of_()
            if grp.value_() and (not grp.type_.type.has_member("enabled") or grp.enabled.value_()):
                out[path] = grp[0]
        for css in each_css("struct cgroup_subsys_state", cg.self.children.address_of_(), "sibling"):
            child = drgn.container_of(css, "struct cgroup", "self")
            cgroup_psi(child, path.rstrip("/") + "/" + child.kn.name.string_().decode(), out)

    want_psi = {}
    cgroup_psi(prog["cgrp_dfl_root"].cgrp, "/", want_psi)
    got_psi = {g["path"]: g for g in (pressure["cgroups"] or [])}
    listed = {g["path"] for g in (mem["consumers"]["cgroups"] or [])}
    if set(got_psi) != listed & set(want_psi):
        failures.append(f"cgroup pressure: kstall has {sorted(got_psi)}, drgn's groups of the listed cgroups "
                        f"{sorted(listed & set(want_psi))}")
    for path, got_group in got_psi.items():
        if path in want_psi:
            check_psi(f"cgroup {path} pressure", got_group, want_psi[path])

def kdump_vmcoreinfo(path):
    """The VMCOREINFO text a kdump-compressed file keeps in its sub-header (makedumpfile's
    disk_dump_header: block_size at 428; kdump_sub_header: offset_vmcoreinfo and size_vmcoreinfo
    at 32 and 40), read without kstall or drgn."""
    with open(path, "rb") as f:
        head = f.read(432)
        if head[:8] != b"KDUMP   ":
            return ""
        block_size, = struct.unpack_from("<i", head, 428)
        f.seek(block_size)
        offset, size = struct.unpack_from("<qQ", f.read(48), 32)
        f.seek(offset)
        return f.read(size).decode(errors="replace")


# The dump facts, read again with drgn: host and build string, CRASHTIME, the taint letters (the
# kernel's taint_flags[] table) and the modules that set taints (the modules list, walked directly:
# drgn 0.0.22 lists no modules on 6.4+).
facts = report["dump"]
uts = prog["init_uts_ns"].name
if facts["host"] != uts.nodename.string_().decode():
    failures.append(f"host kstall {facts['host']!r}, drgn {uts.nodename.string_().decode()!r}")
if facts["version"] != uts.version.string_().decode():
    failures.append(f"version kstall {facts['version']!r}, drgn {uts.version.string_().decode()!r}")
info = kdump_vmcoreinfo(vmcore)
crashtime = re.search(r"^CRASHTIME=(\d+)$", info, re.M)
if facts["crash_time_epoch"] != (int(crashtime.group(1)) if crashtime else None):
    failures.append(f"crash time kstall {facts['crash_time_epoch']}, vmcoreinfo {crashtime and crashtime.group(1)}")
flags = prog["taint_flags"]


def letters(mask):
    return "".join(chr(flags[b].c_true.value_()) for b in range(len(flags)) if mask >> b & 1)


if facts["taint"] != letters(prog["tainted_mask"].value_()):
    failures.append(f"taint kstall {facts['taint']!r}, drgn {letters(prog['tainted_mask'].value_())!r}")
want_mods = [f"{m.name.string_().decode()}({letters(m.taints.value_())})"
             for m in list_for_each_entry("struct module", prog["modules"].address_of_(), "list")
             if m.taints.value_()]
if sorted(facts["tainting_modules"]) != sorted(want_mods):
    failures.append(f"tainting modules kstall {facts['tainting_modules']}, drgn {want_mods}")
# kstall sys: load average from avenrun as /proc/loadavg rounds it, CPUs, RAM, tasks.
sysp = subprocess.run([kstall, "sys", "--json", vmcore, vmlinux], capture_output=True, text=True)
sysj = json.loads(sysp.stdout) if sysp.returncode in (0, 1) else {}
FSHIFT = 11
loads = []
for x in prog["avenrun"]:
    v = x.value_() + (1 << FSHIFT) // 200
    loads.append(f"{v >> FSHIFT}.{((v & ((1 << FSHIFT) - 1)) * 100) >> FSHIFT:02d}")
want_sys = {"load_average": loads, "nodename": uts.nodename.string_().decode(),
            "release": uts.release.string_().decode(),
            "cpus": prog["nr_cpu_ids"].value_(),
            # drgn lists no idle task; kstall one per online CPU, as ps
            "tasks": sum(1 for _ in for_each_task(prog)) + sum(1 for _ in for_each_online_cpu(prog)),
            "memory_bytes": mem["pages"]["total"] * mem["page_size"]}
got_sys = {k: sysj.get(k) for k in want_sys}
if got_sys != want_sys:
    failures.append(f"sys: kstall {got_sys}, drgn {want_sys}")
# The vmlinux was given on the command line; both sides have a build-id (the note drgn reads too).
if (facts["vmlinux_found"], facts["vmlinux_check"]) != ("given", "build_id" if info.find("BUILD-ID=") >= 0
                                                      else "banner"):
    failures.append(f"vmlinux found/check {facts['vmlinux_found']}/{facts['vmlinux_check']}")
if not facts["panic"] or "sysrq" not in facts["panic"]:
    failures.append(f"panic {facts['panic']!r}: every fixture was crashed with SysRq-c")

# Every process's resident memory, read again with drgn from the same mm counters: since 6.2 a
# percpu_counter each (count plus every CPU's delta), before an atomic count plus each thread's
# unfolded deltas (task_struct.rss_stat). The top processes and the sums over all must be equal.
cons = report["memory"]["consumers"]
page = report["memory"]["page_size"]
idx = {n: prog.constant(n).value_() for n in ("MM_ANONPAGES", "MM_FILEPAGES", "MM_SHMEMPAGES", "MM_SWAPENTS")}
percpu = not prog.type("struct mm_struct").member("rss_stat").type.type_name().startswith("struct mm_rss_stat")
mms = {}
for t in for_each_task(prog):
    mm = t.mm.value_()
    if not mm or t.pid.value_() == 0:
        continue
    if mm not in mms:
        m = t.mm
        vals = {}
        for n, i in idx.items():
            if percpu:
                c = m.rss_stat[i]
                v = c.count.value_() + sum(per_cpu_ptr(c.counters, cpu)[0].value_()
                                           for cpu in for_each_possible_cpu(prog))
            else:
                v = m.rss_stat.count[i].counter.value_()
            vals[n] = v
        mms[mm] = {"vals": vals, "threads": 0, "pid": None, "first": t.pid.value_(),
                   "pgtables": m.pgtables_bytes.counter.value_()}
    e = mms[mm]
    e["threads"] += 1
    if t.pid.value_() == t.tgid.value_():
        e["pid"] = t.pid.value_()
    if not percpu and prog.type("struct task_struct").has_member("rss_stat"):
        for n, i in idx.items():
            e["vals"][n] += t.rss_stat.count[i].value_()
want = {}
for mm, e in mms.items():
    v = {n: max(x, 0) for n, x in e["vals"].items()}
    want[e["pid"] or e["first"]] = (v, e)
got_pids = set()
for proc in cons["processes"] or []:
    got_pids.add(proc["pid"])
    if proc["pid"] not in want:
        failures.append(f"consumer pid {proc['pid']}: drgn finds no process")
        continue
    v, e = want[proc["pid"]]
    exp = {"anon_bytes": v["MM_ANONPAGES"] * page, "file_bytes": v["MM_FILEPAGES"] * page,
           "shmem_bytes": v["MM_SHMEMPAGES"] * page, "swap_bytes": v["MM_SWAPENTS"] * page,
           "threads": e["threads"], "pgtables_bytes": e["pgtables"]}
    bad = {k: (proc[k], x) for k, x in exp.items() if proc[k] != x}
    if bad:
        failures.append(f"consumer pid {proc['pid']} ({proc['comm']}): kstall vs drgn {bad}")
rss_sorted = sorted((sum(v[n] for n in ("MM_ANONPAGES", "MM_FILEPAGES", "MM_SHMEMPAGES")), pid)
                    for pid, (v, e) in want.items())
if cons["processes"] is not None and len(want) and \
        max(p["rss_bytes"] for p in cons["processes"]) != rss_sorted[-1][0] * page:
    failures.append(f"biggest process: kstall {cons['processes'][0]}, drgn {rss_sorted[-1]}")
# Kernel memory outside the page counters, as /proc/meminfo computes it, read again with drgn.
km = cons["kernel"]
try:
    vm = prog["nr_vmalloc_pages"].counter.value_()
except KeyError:
    try:
        vm = prog["vm_node_stat"][prog.constant("NR_VMALLOC").value_()].counter.value_()
    except (KeyError, LookupError):
        vm = None
pcpu = prog["pcpu_nr_populated"].value_() * prog["pcpu_nr_units"].value_()
try:
    hs = prog["hstates"]
    huge = [(hs[i].nr_huge_pages.value_() << hs[i].order.value_(),
             hs[i].free_huge_pages.value_() << hs[i].order.value_())
            for i in range(prog["hugetlb_max_hstate"].value_())]
    want_huge = (sum(h for h, _ in huge) * page, sum(f for _, f in huge) * page)
except KeyError:
    want_huge = (None, None)
want_km = (vm * page if vm is not None else None, pcpu * page) + want_huge + \
    tuple(prog[n].value_() for n in ("nr_threads", "max_threads", "total_forks"))
got_km = (km["vmalloc_bytes"], km["percpu_bytes"], km["hugetlb_bytes"], km["hugetlb_free_bytes"],
          km["threads"], km["max_threads"], km["total_forks"])
if got_km != want_km:
    failures.append(f"kernel memory (vmalloc, percpu, hugetlb, free): kstall {got_km}, drgn {want_km}")
# The kernel's own count of OOM kills (vm_event_states, OOM_KILL, over the online CPUs), and the
# log's first and last kill.
oomj = report["oom"]
try:
    item = prog.constant("OOM_KILL").value_()
    want_counter = sum(per_cpu(prog["vm_event_states"], cpu).event[item].value_()
                       for cpu in for_each_online_cpu(prog))
except (KeyError, LookupError):
    want_counter = None
kill_times = [e["seconds_before"] for e in report["events"] if e["kind"] == "oom_kill" and e["seconds_before"] is not None]
want_span = (max(kill_times), min(kill_times)) if kill_times else (None, None)
if oomj["oom_kill_counter"] != want_counter or (oomj["first_kill_seconds"], oomj["last_kill_seconds"]) != want_span:
    failures.append(f"oom: counter {oomj['oom_kill_counter']} (drgn {want_counter}), kills "
                    f"{oomj['first_kill_seconds']}..{oomj['last_kill_seconds']} (events {want_span})")
if want_counter is not None and want_counter < oomj["kills"]:
    failures.append(f"the kernel counted {want_counter} OOM kills, fewer than the log's {oomj['kills']}")
# The memory of a kill and what the reaper left, from drgn's own dmesg: every such line has it.
dmesg_lines = get_dmesg(prog).decode(errors="replace").splitlines()
rss_re = re.compile(r"anon-rss:(\d+)kB, file-rss:(\d+)kB, shmem-rss:(\d+)kB")
rss_checked = 0
for e in report["events"]:
    if e["kind"] not in ("oom_kill", "oom_reaped"):
        if e["rss"] is not None:
            failures.append(f"event {e['kind']} has rss {e['rss']}")
        continue
    line = next((l for l in dmesg_lines if l.endswith(e["text"])), None)
    rm = rss_re.search(line or "")
    want_rss = {"anon_bytes": int(rm[1]) * 1024, "file_bytes": int(rm[2]) * 1024,
                "shmem_bytes": int(rm[3]) * 1024} if rm else None
    if e["rss"] != want_rss:
        failures.append(f"event {e['text']!r}: rss {e['rss']}, the line says {want_rss}")
    rss_checked += 1
# Charging a memory cgroup: where drgn can unwind a task (0.0.22 cannot read 6.4+ ORC for some),
# its stack holds try_charge_memcg (try_charge before 5.16) exactly when kstall marks
# alloc.memcg. Every task so marked is in a cgroup at its limit (drgn: task->cgroups->dfl_cgrp,
# its memcg's page_counter usage against max), which the log's memcg OOM reports name, with
# that memory.max; and the memcg_limit verdict names it.
marked = {t["pid"] for t in report["tasks"] if t["alloc"] and t["alloc"]["memcg"]}
# the tasks kstall finds allocating, and (up to 300, drgn unwinds slowly) the others in R or D
candidates = {t["pid"] for t in report["tasks"] if t["alloc"]}
candidates |= set([t["pid"] for t in report["tasks"] if t["state"] in "RD" and not t["idle"]][:300])
unwound = 0
for t in for_each_task(prog):
    if t.pid.value_() not in candidates:
        continue
    try:
        names = [f.name for f in prog.stack_trace(t)]
    except Exception:
        continue
    unwound += 1
    charging = "try_charge_memcg" in names or "try_charge" in names
    if charging != (t.pid.value_() in marked):
        failures.append(f"pid {t.pid.value_()}: drgn's stack charges a memcg: {charging}, kstall says "
                        f"{t.pid.value_() in marked}")
reports = [e["memcg"] for e in report["events"] if e["kind"] == "memcg_oom"]
kinds = [v["kind"] for v in report["verdicts"]]
for pid in marked:
    t = next(x for x in for_each_task(prog) if x.pid.value_() == pid)
    cg = t.cgroups.dfl_cgrp
    path = "/" + cg.kn.name.string_().decode()
    memcg = cast("struct mem_cgroup *", cg.subsys[prog.constant("memory_cgrp_id").value_()])
    usage, limit = memcg.memory.usage.counter.value_() * page, memcg.memory.max.value_() * page
    if usage + 4 * page < limit:
        failures.append(f"pid {pid} charges {path}, which is not at its limit ({usage} of {limit})")
    if reports and not any(r["path"] == path and r["limit_bytes"] == limit for r in reports):
        failures.append(f"pid {pid} charges {path} (memory.max {limit}), the log's reports say {reports[-1]}")
    if "memcg_limit" not in kinds or pid not in report["verdicts"][kinds.index("memcg_limit")]["pids"]:
        failures.append(f"pid {pid} charges {path}: no memcg_limit verdict names it ({kinds})")
# The memory cgroups, walked again with drgn: each cgroup's memory.current, memory.max and
# memory.events, by path (the root and every child of the v2 tree).
from drgn.helpers.linux.list import list_for_each_entry as each


def cgroup_walk(cg, path, out):
    memcg = cast("struct mem_cgroup *", cg.subsys[prog.constant("memory_cgrp_id").value_()])
    if memcg.value_():
        ev = memcg.memory_events
        mx = memcg.memory.max.value_()
        hi = memcg.memory.high.value_() if memcg.memory.type_.has_member("high") else memcg.high.value_()
        out[path] = {"usage_bytes": memcg.memory.usage.counter.value_() * page,
                     "max_bytes": mx * page if mx < (2**63 - 1) // page else None,
                     "high_bytes": hi * page if hi < (2**63 - 1) // page else None,
                     "events": {"high": ev[prog.constant("MEMCG_HIGH").value_()].counter.value_(),
                                "max": ev[prog.constant("MEMCG_MAX").value_()].counter.value_(),
                                "oom": ev[prog.constant("MEMCG_OOM").value_()].counter.value_(),
                                "oom_kill": ev[prog.constant("MEMCG_OOM_KILL").value_()].counter.value_()}}
    for css in each("struct cgroup_subsys_state", cg.self.children.address_of_(), "sibling"):
        child = drgn.container_of(css, "struct cgroup", "self")
        name = child.kn.name.string_().decode()
        cgroup_walk(child, (path.rstrip("/") + "/" + name), out)


want_cg = {}
cgroup_walk(prog["cgrp_dfl_root"].cgrp, "/", want_cg)
got_cg = {g["path"]: {k: g[k] for k in ("usage_bytes", "max_bytes", "high_bytes", "events")}
          for g in (cons["cgroups"] or [])}
if cons["cgroups"] is None or any(want_cg.get(p) != v for p, v in got_cg.items()) or \
        len(got_cg) != min(16, len(want_cg)):
    failures.append(f"memory cgroups: kstall {got_cg}, drgn {want_cg}")
# Slab caches, counted again with drgn: every present section of the memory map (mem_section,
# SECTION_SIZE_BITS from VMCOREINFO), every head page that is a slab (the page type's top byte on
# 6.12+, PG_slab before), its cache and counters, and its pages from the folio order (not from
# the objects, as kstall derives them). SLOB and SLAB keep no cache in the page.
def slab_census():
    if not prog.type("struct kmem_cache").has_member("oo"):
        return "not_slub", None
    try:
        pgty = prog["PGTY_slab"].value_() & 0xff
    except KeyError:
        pgty = None
    bits = int(re.search(r"^NUMBER\(SECTION_SIZE_BITS\)=(\d+)$", info, re.M).group(1)) - (page.bit_length() - 1)
    stride = prog.type("struct page").size
    per_root = page // prog.type("struct mem_section").size
    maxpfn = prog["max_pfn"].value_()
    slab_type = "struct slab *" if prog.type("struct slab").has_member("slab_cache") else "struct page *"
    caches = {}
    for nr in range((maxpfn + (1 << bits) - 1) >> bits):
        root = prog["mem_section"][nr // per_root]
        if not root.value_():
            continue
        coded = root[nr % per_root].section_mem_map.value_()
        if not coded & 2:
            continue
        for pfn in range(nr << bits, min(maxpfn, (nr + 1) << bits)):
            pg = drgn.Object(prog, "struct page *", (coded & ~(page - 1)) + pfn * stride)
            if pgty is not None:
                if (pg.page_type.value_() >> 24) != pgty:
                    continue
            elif not drgn_compat.page_flags(pg[0]) & (1 << prog["PG_slab"].value_()):
                continue
            sl = cast(slab_type, pg)
            c = caches.setdefault(sl.slab_cache.value_(), {"slabs": 0, "pages": 0, "objects": 0, "inuse": 0})
            c["slabs"] += 1
            c["pages"] += 1 << drgn_compat.compound_order(pg)
            c["objects"] += sl.objects.value_()
            c["inuse"] += min(sl.inuse.value_(), sl.objects.value_())
    return "read", caches


slab_state, slab_want = slab_census()
slab_got = cons["slab"]
if slab_got is None or slab_got["state"] != slab_state:
    failures.append(f"slab: kstall {slab_got and slab_got['state']}, drgn {slab_state}")
elif slab_want is not None:
    names = {c.value_(): c.name.string_().decode() for c in drgn.helpers.linux.slab.for_each_slab_cache(prog)}
    order = sorted(((-v["pages"], names.get(a, "?"), a) for a, v in slab_want.items() if v["pages"]))[:12]
    want_rows = [{"name": n, "cache": hex(a), "slabs": slab_want[a]["slabs"], "bytes": -p * page,
                  "objects": slab_want[a]["objects"], "inuse": slab_want[a]["inuse"]} for p, n, a in order]
    got_rows = [{k: c[k] for k in ("name", "cache", "slabs", "bytes", "objects", "inuse")} for c in slab_got["caches"]]
    if got_rows != want_rows:
        failures.append(f"slab caches: kstall {got_rows}, drgn {want_rows}")
    tot = slab_got["totals"]
    want_tot = {"caches": len(names), "slabs": sum(v["slabs"] for v in slab_want.values()),
                "bytes": sum(v["pages"] for v in slab_want.values()) * page,
                "objects": sum(v["objects"] for v in slab_want.values()),
                "inuse": sum(v["inuse"] for v in slab_want.values())}
    if {k: tot[k] for k in want_tot} != want_tot or tot["unreadable_map_pages"] or tot["foreign_bytes"]:
        failures.append(f"slab totals: kstall {tot}, drgn {want_tot}")
# Each stalled task's cgroup: the path of its css_set's dfl_cgrp, walked up its css parents by drgn
# (the root's css has none); every task
# charging a memory cgroup has one.
def cgroup_path(cg):
    parts = []
    while cg.value_() and cg.self.parent.value_() and len(parts) < 64:
        parts.append(cg.kn.name.string_().decode())
        parent = cg.self.parent
        if not parent.value_():
            break
        cg = drgn.container_of(parent, "struct cgroup", "self")
    return "/" + "/".join(reversed(parts))


task_cgroups = 0
by_pid = {t.pid.value_(): t for t in for_each_task(prog)}
for t in report["tasks"]:
    if t["cgroup"] is not None:
        task_cgroups += 1
        want_path = cgroup_path(by_pid[t["pid"]].cgroups.dfl_cgrp)
        if t["cgroup"] != want_path:
            failures.append(f"pid {t['pid']}: cgroup {t['cgroup']}, drgn {want_path}")
    if t["alloc"] and t["alloc"]["memcg"] and t["cgroup"] is None:
        failures.append(f"pid {t['pid']} charges a memory cgroup, but kstall names none")
# Who holds each big tmpfs file open: drgn walks every user task's file table, by process.
open_checked = 0
holders_of = {}
for t in for_each_task(prog):
    if not t.mm.value_() or not t.files.value_():
        continue
    fdt = t.files.fdt
    for d in range(min(fdt.max_fds.value_(), 1 << 20)):
        fp = fdt.fd[d]
        if fp.value_():
            holders_of.setdefault(fp.f_inode.value_(), set()).add(t.tgid.value_())
for fm in cons["files"] or []:
    if not fm["file"] or fm["open_in"] is None:
        continue
    want_h = holders_of.get(int(fm["file"]["inode"], 16), set())
    got_h = {h["pid"] for h in fm["open_in"]}
    if fm["open_in_count"] != len(want_h) or not got_h <= want_h or len(got_h) != min(4, len(want_h)):
        failures.append(f"{fm['file']['path']} open in {fm['open_in']} ({fm['open_in_count']}), drgn {sorted(want_h)}")
    open_checked += 1
# kstall ps: every thread shows its process's RSS (drgn's sums above), a kernel thread none.
ps = subprocess.run([kstall, "ps", "--json", vmcore, vmlinux], capture_output=True, text=True)
rss_of_mm = {mm: sum(max(e["vals"][n], 0) for n in ("MM_ANONPAGES", "MM_FILEPAGES", "MM_SHMEMPAGES")) * page
             for mm, e in mms.items()}
ps_tasks = json.loads(ps.stdout)["tasks"] if ps.returncode in (0, 1) else []
if not ps_tasks:
    failures.append(f"kstall ps exited {ps.returncode}: {ps.stderr}")
drgn_mm = {t.value_(): t.mm.value_() for t in for_each_task(prog)}
ps_checked = 0
for t in ps_tasks:
    mm = drgn_mm.get(int(t["task"], 16))
    want_rss = rss_of_mm.get(mm) if mm and not t["idle"] else None
    if t["rss_bytes"] != want_rss:
        failures.append(f"ps pid {t['pid']} ({t['comm']}): rss {t['rss_bytes']}, drgn {want_rss}")
    ps_checked += want_rss is not None
# Exception frames in kstall bt -A: the registers it shows are drgn's struct pt_regs at the same
# address, and they are the frame's own pc and sp (the frame was resumed from them).
bta = subprocess.run([kstall, "bt", "-A", "--json", vmcore, vmlinux], capture_output=True, text=True)
exc_frames = 0
pt_names = {"RIP": "ip", "RSP": "sp", "RFLAGS": "flags", "RAX": "ax", "RBX": "bx", "RCX": "cx",
         "RDX": "dx", "RSI": "si", "RDI": "di", "RBP": "bp", "R8": "r8", "R9": "r9", "R10": "r10",
         "R11": "r11", "R12": "r12", "R13": "r13", "R14": "r14", "R15": "r15",
         "ORIG_RAX": "orig_ax", "CS": "cs", "SS": "ss"}
for bt_task in (json.loads(bta.stdout)["tasks"] if bta.returncode in (0, 1) else []):
    for fr in bt_task["frames"]:
        exc = fr.get("exception")
        if not exc:
            continue
        exc_frames += 1
        regs = drgn.Object(prog, "struct pt_regs", address=int(exc["regs_at"], 16))
        want_regs = {k: hex(regs.member_(m).value_()) for k, m in pt_names.items()
                if exc["full"] or k in ("RIP", "RSP", "RFLAGS", "CS", "SS")}
        if exc["registers"] != want_regs:
            failures.append(f"pid {bt_task['pid']} exception frame at {exc['regs_at']}: kstall "
                            f"{exc['registers']}, drgn pt_regs {want_regs}")
        if (exc["registers"].get("RIP"), exc["registers"].get("RSP")) != (fr["pc"], fr["sp"]):
            failures.append(f"pid {bt_task['pid']}: exception frame {fr['function']} at {fr['pc']}/{fr['sp']}, "
                            f"its registers say {exc['registers'].get('RIP')}/{exc['registers'].get('RSP')}")
# khungtaskd's last_switch_time dates a blocked task only while its last_switch_count is the task's
# current nvcsw + nivcsw (tasks the detector skips, TASK_KILLABLE ones say, keep a stale pair).
by_addr = {t.value_(): t for t in for_each_task(prog)}
hz, jiffies = report["kernel"]["hz"], report["kernel"]["jiffies"]
dated = stale = 0
for rt in report["tasks"]:
    st, dt = rt.get("stall"), by_addr.get(int(rt["task"], 16))
    if not st or dt is None or st["source"] not in ("sched_info", "hung_task") or \
            not dt.type_.type.has_member("last_switch_count"):
        continue
    lst = dt.last_switch_time.value_()
    current = lst and dt.last_switch_count.value_() == dt.nvcsw.value_() + dt.nivcsw.value_()
    stale += bool(lst and not current)
    if current and rt["state"] == "D":
        dated += 1
        want_min = ((jiffies - lst) & (2**64 - 1)) / hz
        if abs(st["min_seconds"] - want_min) > 1e-6 and want_min <= st["max_seconds"]:
            failures.append(f"pid {rt['pid']}: stuck at least {st['min_seconds']} s, khungtaskd says {want_min}")
    elif st["min_seconds"] > 0:
        failures.append(f"pid {rt['pid']}: a lower bound {st['min_seconds']} s from a stale last_switch_time")
# Tasks forked in the last minute: start_time against the newest runqueue clock, as kstall dates the crash.
now = max(per_cpu(prog["runqueues"], cpu).clock.value_() for cpu in for_each_possible_cpu(prog))
young = sum(1 for t in for_each_task(prog) if t.pid.value_() and
            0 <= now - t.start_time.value_() <= 60 * 10**9)
if cons["kernel"]["young_tasks"] != young:
    failures.append(f"young tasks: kstall {cons['kernel']['young_tasks']}, drgn {young}")
# tmpfs files by the pages they hold, walked again with drgn: every tmpfs superblock's inodes.
files = {}
for sb in list_for_each_entry("struct super_block", prog["super_blocks"].address_of_(), "s_list"):
    if sb.s_type.name.string_() != b"tmpfs":
        continue
    for inode in list_for_each_entry("struct inode", sb.s_inodes.address_of_(), "i_sb_list"):
        pages = inode.i_mapping.nrpages.value_()
        if pages:
            files[inode.value_()] = pages
if cons["files"] is not None:
    got = [(int(f["file"]["inode"], 16), f["bytes"]) for f in cons["files"]]
    want_files = sorted(files.items(), key=lambda x: -x[1])[:len(got)]
    if sorted(b for _, b in got) != sorted(p * page for _, p in want_files) or \
            any(files.get(i, -1) * page != b for i, b in got):
        failures.append(f"tmpfs files: kstall {got}, drgn {[(i, p * page) for i, p in want_files]}")
    if len(got) != min(10, len(files)):
        failures.append(f"tmpfs files: kstall shows {len(got)}, drgn finds {len(files)}")
# kstall mod against the modules list read with drgn: names, taint letters, sizes.
pm = subprocess.run([kstall, "mod", "--json", vmcore, vmlinux], capture_output=True, text=True)
kmods = {m["name"]: m for m in json.loads(pm.stdout)["modules"]} if pm.returncode in (0, 1) else {}
dmods = {}
for m in list_for_each_entry("struct module", prog["modules"].address_of_(), "list"):
    if m.state.value_() == prog.constant("MODULE_STATE_UNFORMED").value_():
        continue
    dmods[m.name.string_().decode()] = letters(m.taints.value_())
if set(kmods) != set(dmods):
    failures.append(f"mod: kstall {sorted(kmods)}, drgn {sorted(dmods)}")
for name, taint in dmods.items():
    if name in kmods and kmods[name]["taints"] != taint:
        failures.append(f"mod {name}: taints kstall {kmods[name]['taints']!r}, drgn {taint!r}")
tot = cons["totals"]
if tot is not None:
    for key, n in (("anon_bytes", "MM_ANONPAGES"), ("file_bytes", "MM_FILEPAGES"),
                   ("shmem_bytes", "MM_SHMEMPAGES"), ("swap_bytes", "MM_SWAPENTS")):
        exp = sum(v[n] for v, e in want.values()) * page
        if tot[key] != exp:
            failures.append(f"total {key}: kstall {tot[key]}, drgn {exp}")
    if tot["processes"] != len(want):
        failures.append(f"processes: kstall {tot['processes']}, drgn {len(want)}")

print(f"{task_cgroups} stalled tasks' cgroups, {open_checked} tmpfs files' holders compared")
print(f"slab: {slab_state}, {len(slab_want or {})} caches with slabs, "
      f"{sum(v['slabs'] for v in (slab_want or {}).values())} slabs compared")
print(f"consumers: {len(cons['processes'] or [])} top processes, {len(want)} in all, {young} young tasks, "
      f"{len(files)} tmpfs files, {ps_checked} ps RSS values, {exc_frames} exception frames, "
      f"{dated} tasks dated by khungtaskd ({stale} stale pairs refused), {rss_checked} OOM kill/reap lines, "
      f"{len(marked)} tasks charging a memory cgroup")
print(f"memory/oom: {len(COUNTERS) + 1} counters, {len(zones)} zones, {len(victims)} victims, "
      f"{kills} kills, {hung} hung-task lines, {psi_lines} PSI lines checked")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
