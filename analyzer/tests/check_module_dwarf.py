#!/usr/bin/python3
"""Module frames named from the module's own DWARF, against two oracles.

Usage: check_module_dwarf.py KSTALL VMCORE VMLINUX KO OTHER_KO
KO is the loaded module's .ko, OTHER_KO another build of the same module.

- kstall mod --json: with KO, the module's debuginfo is KO and its build_id is
  the one in the loaded module's .note.gnu.build-id section (read by drgn from
  the dump: module.sect_attrs, either layout) and KO's own (readelf -n);
  without KO, none ("no ... given or found"); with OTHER_KO, none and the
  reason names another build; not given, found under KSTALL_DEBUG_ROOT by its
  .build-id link (a debug-only copy, as distributions ship them, naming every
  frame as the whole .ko does), or by name under lib/modules/RELEASE past
  another build.
- kstall bt -A --json with KO: for every module frame, the chain of functions
  at its pc (inline calls first) is what elfutils' eu-addr2line -i -f says for
  the same pc, placed in its section by drgn's reading of the section
  addresses: an oracle of its own for the relocation and the inline chains.
- Where drgn lists the modules (before 6.4), drgn given KO unwinds every task
  and its function names over the module frames are kstall's.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import drgn
import drgn_compat
from drgn.helpers.linux.list import list_for_each_entry

kstall, vmcore, vmlinux, ko, other_ko = sys.argv[1:6]
failures = []


def run(*args, env=None):
    # nothing from the machine's own /usr/lib/debug unless a test asks for a root
    full = dict(os.environ, KSTALL_DEBUG_ROOT="")
    full.update(env or {})
    p = subprocess.run([kstall, *args], capture_output=True, text=True, env=full)
    if p.returncode not in (0, 1):
        sys.exit(f"kstall {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return json.loads(p.stdout)


prog = drgn.Program()
prog.set_core_dump(vmcore)
prog.load_debug_info([vmlinux])

# The loaded module's sections, read by drgn: grp.bin_attrs lists them; the address is beside
# each bin_attribute (struct module_sect_attr) or, since 6.14, in its private.
name = None
sections = {}
for mod in list_for_each_entry("struct module", prog["modules"].address_of_(), "list"):
    if mod.name.string_().decode() != "kstall_scenario":
        continue
    name = "kstall_scenario"
    attrs = mod.sect_attrs.grp.bin_attrs
    try:
        prog.type("struct module_sect_attr")
        old = True
    except LookupError:
        old = False
    i = 0
    while attrs[i].value_() and i < 512:
        battr = attrs[i]
        if old:
            addr = drgn.container_of(battr, "struct module_sect_attr", "battr").address.value_()
        else:
            addr = battr.private.value_()
        sections[battr.attr.name.string_().decode()] = addr
        i += 1
if not name or not sections:
    sys.exit("the dump has no kstall_scenario module with sections")
note = prog.read(sections[".note.gnu.build-id"], 64)
namesz, descsz, ntype = int.from_bytes(note[0:4], "little"), int.from_bytes(note[4:8], "little"), \
    int.from_bytes(note[8:12], "little")
loaded_id = note[16:16 + descsz].hex() if (namesz, ntype) == (4, 3) else None
ko_id = re.search(r"Build ID: ([0-9a-f]+)", subprocess.run(["readelf", "-n", ko], capture_output=True,
                                                           text=True).stdout).group(1)
if loaded_id != ko_id:
    failures.append(f"the fixture's .ko ({ko_id}) is not the loaded module ({loaded_id})")

# kstall mod
mods = {m["name"]: m for m in run("mod", "--json", vmcore, vmlinux, ko)["modules"]}
m = mods.get(name)
if not m or m["debuginfo"] != ko or m["build_id"] != loaded_id or m["debuginfo_missing"] is not None or \
        m["debuginfo_check"] != "build_id":
    failures.append(f"mod with {ko}: {m}")
m = {x["name"]: x for x in run("mod", "--json", vmcore, vmlinux)["modules"]}.get(name)
if not m or m["debuginfo"] is not None or "given or found" not in (m["debuginfo_missing"] or ""):
    failures.append(f"mod with no .ko: {m}")
m = {x["name"]: x for x in run("mod", "--json", vmcore, vmlinux, other_ko)["modules"]}.get(name)
if not m or m["debuginfo"] is not None or "another build" not in (m["debuginfo_missing"] or ""):
    failures.append(f"mod with another build ({other_ko}): {m}")

# Found without being given, as Debian's -dbg packages lay them out: by the build-id link, and by
# name (file names may use '-' for the module's '_') under lib/modules/RELEASE.
release = prog["init_uts_ns"].name.release.string_().decode()
with tempfile.TemporaryDirectory() as root:
    link = os.path.join(root, "by-id", ".build-id", loaded_id[:2], loaded_id[2:] + ".debug")
    tree = os.path.join(root, "tree", "lib", "modules", release, "updates", "kstall-scenario.ko")
    decoy = os.path.join(root, "tree", "lib", "modules", release, "extra", "kstall_scenario.ko")
    for path, src in ((link, ko), (tree, ko), (decoy, other_ko)):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copy(src, path)
    # what a distribution's debug package installs: the DWARF alone (code and .modinfo are NOBITS)
    subprocess.run(["objcopy", "--only-keep-debug", ko, link], check=True)
    for sub, want in (("by-id", link), ("tree", tree)):
        m = {x["name"]: x for x in run("mod", "--json", vmcore, vmlinux,
                                       env={"KSTALL_DEBUG_ROOT": os.path.join(root, sub)})["modules"]}.get(name)
        if not m or m["debuginfo"] != want:
            failures.append(f"mod with KSTALL_DEBUG_ROOT={sub}: {m}, want {want}")
    # the debug-only file names the frames as the whole .ko does
    bt_dbg = run("bt", "-A", "--json", vmcore, vmlinux, env={"KSTALL_DEBUG_ROOT": os.path.join(root, "by-id")})
    bt_ko = run("bt", "-A", "--json", vmcore, vmlinux, ko)
    fn = lambda b: {t["pid"]: [f["function"] for f in t["frames"]] for t in b["tasks"]}
    if fn(bt_dbg) != fn(bt_ko):
        failures.append("frames named from the debug-only .ko.debug differ from the whole .ko's")

# Module frames against eu-addr2line at the same place.
by_size = subprocess.run(["readelf", "-S", "-W", ko], capture_output=True, text=True).stdout
size_of = {}
for line in by_size.splitlines():
    f = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)", line)
    if f:
        size_of[f.group(1)] = int(f.group(2), 16)


def place(pc):
    for sec, addr in sections.items():
        if sec in size_of and addr <= pc < addr + size_of[sec]:
            return sec, pc - addr
    return None, None


bt = run("bt", "-A", "--json", vmcore, vmlinux, ko)
chains = checked = 0
kstall_names = {}
for t in bt["tasks"]:
    names = []
    frames = t["frames"]
    i = 0
    while i < len(frames):
        j = i
        while j + 1 < len(frames) and frames[j + 1]["pc"] == frames[i]["pc"] and \
                frames[j + 1]["sp"] == frames[i]["sp"]:
            j += 1
        group = frames[i:j + 1]
        names += [f["function"] for f in group]
        pc = int(group[0]["pc"], 16)
        # a caller's frame: the call is the byte before its return address
        lookup = pc if i == 0 else pc - 1
        sec, off = place(lookup)
        if sec:
            out = subprocess.run(["eu-addr2line", "-e", ko, "-j", sec, "-i", "-f", hex(off)],
                                 capture_output=True, text=True).stdout.splitlines()
            want = [line.split()[0] for line in out[0::2]]
            got = [f["function"] for f in group]
            chains += 1
            if got != want:
                failures.append(f"pid {t['pid']} module frame at {group[0]['pc']} ({sec}+{off:#x}): kstall {got}, "
                                f"eu-addr2line {want}")
        i = j + 1
    kstall_names[t["pid"]] = names
if not chains:
    failures.append("no module frame on any stack: nothing was checked")

# drgn with the .ko, where it lists modules.
# drgn 0.0.22 lists modules only where struct module has core_layout (before 6.4); on later
# kernels it is not given the .ko at all (it has crashed there, now and then).
drgn_mods = prog.type("struct module").has_member("core_layout")
if drgn_mods:
    prog2 = drgn.Program()
    prog2.set_core_dump(vmcore)
    drgn_mods = drgn_compat.load_debug_info(prog2, [vmlinux, ko])
if drgn_mods:
    from drgn.helpers.linux.pid import for_each_task
    for task in for_each_task(prog2):
        pid = task.pid.value_()
        if pid not in kstall_names:
            continue
        try:
            trace = prog2.stack_trace(task)
        except Exception:
            continue
        mod_frames = [f for f in trace if place(f.pc - (0 if f.interrupted else 1))[0]]
        if not mod_frames:
            continue
        want = [f.name for f in trace if f.name]
        got = [n for n in kstall_names[pid] if n != "??"]
        # compare the span drgn covers from the first module frame on
        first = want.index(mod_frames[0].name)
        if mod_frames[0].name not in got or got[got.index(mod_frames[0].name):][:len(want) - first] != want[first:]:
            failures.append(f"pid {pid}: kstall {got}, drgn with the .ko {want}")
        checked += 1
print(f"module frames: {chains} checked against eu-addr2line, {checked} stacks against drgn"
      f"{'' if drgn_mods else ' (drgn lists no modules on this kernel)'}")
for f in failures:
    print("FAIL:", f)
sys.stdout.flush()
# drgn 0.0.22 can crash collecting two Programs' objects at interpreter exit: leave without it
os._exit(1 if failures else 0)
