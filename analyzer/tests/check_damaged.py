#!/usr/bin/python3
"""kstall on damaged copies of a real fixture (made by testdata/scripts/damage.py):
each run ends in bounded time with exit 2 and one line saying what, or exit 1 with
a report that says what it could not read. Never a signal, a sanitizer report or
a hang.

Usage: check_damaged.py KSTALL DAMAGED_DIR TESTDATA
"""
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

kstall, damaged, testdata = sys.argv[1:4]
facts = json.load(open(os.path.join(damaged, "facts.json")))
lean_vmlinux = os.path.join(testdata, "kernels/lean/vmlinux")
debug_vmlinux = os.path.join(testdata, "kernels/debug/vmlinux")
TIMEOUT = 120  # an ASan run of the slowest command takes a few seconds
SANITIZER = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "SUMMARY: ")
COMMANDS = [["report"], ["report", "--json"], ["ps"], ["ps", "--json"], ["bt", "-A"],
            ["bt", "-A", "--json"], ["log"]]
failures = []
env = dict(os.environ)
env.pop("DEBUGINFOD_URLS", None)
# A known leak inside libaddrxlat on a cut dump (see lsan.supp); kstall's own are all reported.
supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan.supp")
env["LSAN_OPTIONS"] = ":".join(filter(None, [env.get("LSAN_OPTIONS"), f"suppressions={supp}",
                                            "print_suppressions=0"]))


def core(name):
    return os.path.join(damaged, name + ".vmcore")


def run(args):
    try:
        p = subprocess.run([kstall] + args, capture_output=True, text=True, timeout=TIMEOUT,
                           env=env,
                           errors="replace")
    except subprocess.TimeoutExpired:
        return None
    return p


def check(args, codes, stderr_words=(), stdout_words=(), one_line=None):
    """Run kstall; exit code in codes; stderr (and stdout) name what went wrong."""
    p = run(args)
    what = " ".join(os.path.basename(a) for a in args)
    if p is None:
        failures.append(f"{what}: no answer in {TIMEOUT} s (a hang)")
        return None
    if p.returncode < 0 or p.returncode not in codes:
        failures.append(f"{what}: exit {p.returncode}, want {codes}; stderr {p.stderr[-2000:]!r}")
        return p
    if any(s in p.stderr for s in SANITIZER):
        failures.append(f"{what}: sanitizer report: {p.stderr[-3000:]}")
    lines = p.stderr.strip().splitlines()
    if (one_line if one_line is not None else p.returncode == 2) and len(lines) != 1:
        failures.append(f"{what}: want one line on stderr, got {p.stderr!r}")
    for w in stderr_words:
        if w not in p.stderr:
            failures.append(f"{what}: stderr does not say {w!r}: {p.stderr[-1500:]!r}")
    for w in stdout_words:
        if w not in p.stdout:
            failures.append(f"{what}: output does not show {w!r}")
    if "--json" in args and p.stdout.strip():
        try:
            json.loads(p.stdout)
        except ValueError as e:
            failures.append(f"{what}: output is not JSON: {e}")
    return p


jobs = []


def every_command(name, codes, **kw):
    for c in COMMANDS:
        jobs.append((c + [core(name), lean_vmlinux], codes, kw))


# A vmcore cut at half: page data is gone, even the kernel's own page tables.
every_command("half", {2}, stderr_words=["cut short"])
# Cut near the end: a partial report that says the file is cut.
for c in COMMANDS[:6]:
    jobs.append((c + [core("tail"), lean_vmlinux], {1}, {"stderr_words": ["cut short"]}))
# Damaged headers: exit 2, one line naming the file and the field. Offsets of fields
# libkdumpfile does not use (VMCOREINFO in a version 6 header) may leave it usable.
for h in facts["headers"]:
    words = ["neither a vmcore"] if h == "signature" else [core("header-" + h)]
    codes = {0, 1} if h.startswith("vmcoreinfo") else {2}
    for c in (["report"], ["ps", "--json"]):
        jobs.append((c + [core("header-" + h), lean_vmlinux], codes,
                     {"stderr_words": words if codes == {2} else []}))

# A BUILD-ID that is no hex: said so (no raw byte), and with the vmlinux given the banners match.
jobs.append((["report", core("build-id")], {2}, {"stderr_words": ["build-id damaged in VMCOREINFO"]}))
jobs.append((["report", core("build-id"), lean_vmlinux], {0}, {"stdout_words": ["VERDICT"]}))

# One task's stack pages all filtered out: everything else is still analysed.
st = facts["stack_task"]
missing = f"stack of pid {st['pid']} ({st['comm']}) incomplete"
jobs.append((["report", core("stack-filtered"), lean_vmlinux], {1},
             {"stderr_words": [missing, "not in the dump"],
              "stdout_words": ["COULD NOT READ", missing, "abba_t2", "waiting for mutex stall_mutex_a"]}))
jobs.append((["report", "--json", core("stack-filtered"), lean_vmlinux], {1},
             {"stderr_words": [missing], "stdout_words": [missing]}))
jobs.append((["bt", "-A", core("stack-filtered"), lean_vmlinux], {1},
             {"stderr_words": [missing], "stdout_words": ["__mutex_lock", "abba_t2"]}))
jobs.append((["bt", "-A", "--json", core("stack-filtered"), lean_vmlinux], {1},
             {"stderr_words": [missing]}))
jobs.append((["ps", core("stack-filtered"), lean_vmlinux], {0}, {"stdout_words": ["abba_t1"]}))

# The stack's page descriptors corrupt, or its zlib data: the page is damaged, said so, and
# never handed to libkdumpfile (before 0.5.4 a compressed size over a page overflows its
# heap: the dump is refused with the reason); everything else still analysed.
dmg = facts["desc_damage"]
for c in (["report"], ["ps", "--json"], ["bt", "-A"]):
    jobs.append((c + [core("desc-oversize"), lean_vmlinux], {1, 2},
                 {"stderr_words": ["compressed data of 4097 bytes"], "one_line": None}))
for name, why in (("desc-flags", "unknown compression flags 0x40"), ("page-zlib", "does not decompress")):
    jobs.append((["report", core(name), lean_vmlinux], {1},
                 {"stderr_words": [missing, "is damaged in the dump", why],
                  "stdout_words": ["COULD NOT READ", "abba_t2", "waiting for mutex stall_mutex_a"]}))
    jobs.append((["bt", "-A", "--json", core(name), lean_vmlinux], {1}, {"stderr_words": [missing, why]}))
    # ps reads no stack; a corrupt descriptor is seen at open, corrupt data only when read
    jobs.append((["ps", core(name), lean_vmlinux], {1} if name.startswith("desc") else {0},
                 {"stdout_words": ["abba_t1"],
                  "stderr_words": ["page descriptors of the file are corrupt"] if name.startswith("desc") else []}))

# Lists that loop.
loop = facts["task_loop"]
for c in COMMANDS[:6]:
    jobs.append((c + [core("task-loop"), lean_vmlinux], {1},
                 {"stderr_words": ["task list", f"task {loop['to']} listed twice"]}))
    jobs.append((c + [core("thread-self-loop"), lean_vmlinux], {1},
                 {"stderr_words": ["thread list: loops back"]}))
    jobs.append((c + [core("thread-loop"), lean_vmlinux], {1},
                 {"stderr_words": ["thread list: loops back",
                                   "on another process's thread list"]}))

# The vmlinux: missing, or the other flavour's.
good = os.path.join(testdata, "vmcores/lean/abba/vmcore")
jobs.append((["report", good], {2}, {"stderr_words": ["no vmlinux for kernel"]}))
jobs.append((["report", good, "/nonexistent/vmlinux"], {2}, {"stderr_words": ["/nonexistent/vmlinux"]}))
jobs.append((["report", good, debug_vmlinux], {2}, {"stderr_words": ["does not match"]}))
debug_core = os.path.join(testdata, "vmcores/debug/abba/vmcore")
if os.path.exists(debug_core):
    jobs.append((["report", debug_core, lean_vmlinux], {2}, {"stderr_words": ["does not match"]}))
    jobs.append((["bt", "-A", "--force", debug_core, lean_vmlinux], {0, 1, 2}, {"one_line": False}))
    jobs.append((["report", "--force", good, debug_vmlinux], {0, 1, 2}, {"one_line": False}))

# A damaged vmlinux is named, never blamed on the dump: its section headers zeroed (exit 2, no
# sanitizer report: qsort(NULL, 0) was one), or its ORC table out of order (the dump is still read,
# unwound without ORC, and a KERNEL SUPPORT line says why). Made here and removed after: 100 MB each.
def vmlinux_copies():
    import struct as st
    d = bytearray(open(lean_vmlinux, "rb").read())
    shoff = st.unpack_from("<Q", d, 0x28)[0]
    shentsize, shnum, shstrndx = st.unpack_from("<HHH", d, 0x3A)
    names = st.unpack_from("<Q", d, shoff + shstrndx * shentsize + 24)[0]
    zeroed = bytearray(d)
    zeroed[shoff:shoff + shentsize * shnum] = bytes(shentsize * shnum)
    out = {"vmlinux-shdr-zeroed": zeroed}
    for i in range(shnum):
        name, _, _, _, off, size = st.unpack_from("<IIQQQQ", d, shoff + i * shentsize)
        if d[names + name:d.index(b"\0", names + name)] == b".orc_unwind_ip" and size >= 4 * 801:
            a, b = off + 4 * 400, off + 4 * 800
            d[a:a + 4], d[b:b + 4] = d[b:b + 4], d[a:a + 4]
            out["vmlinux-orc-unsorted"] = d
    paths = {}
    for name, data in out.items():
        paths[name] = os.path.join(damaged, name)
        with open(paths[name], "wb") as f:
            f.write(data)
    return paths


bad_vmlinux = vmlinux_copies()
jobs.append((["report", good, bad_vmlinux["vmlinux-shdr-zeroed"]], {2},
             {"stderr_words": [bad_vmlinux["vmlinux-shdr-zeroed"]]}))
if "vmlinux-orc-unsorted" in bad_vmlinux:
    jobs.append((["report", good, bad_vmlinux["vmlinux-orc-unsorted"]], {1},
                 {"one_line": False, "stdout_words": ["KERNEL SUPPORT", ".orc_unwind_ip is not sorted",
                                                      "the file is damaged", "lock_cycle"]}))

with ThreadPoolExecutor(max_workers=2) as pool:
    results = list(pool.map(lambda j: check(j[0], j[1], **j[2]), jobs))
for path in bad_vmlinux.values():
    os.unlink(path)

# Facts on the partial results: the tasks read before the damage are all there.
ps = run(["ps", "--json", core("task-loop"), lean_vmlinux])
if ps and ps.stdout:
    tasks = json.loads(ps.stdout)["tasks"]
    addrs = [t["task"] for t in tasks]
    if len(addrs) != len(set(addrs)):
        failures.append("task-loop: a task listed twice in ps")
    if len(tasks) < loop["tasks_before_loop"]:
        failures.append(f"task-loop: {len(tasks)} tasks, want at least {loop['tasks_before_loop']}")
ps = run(["ps", "--json", core("thread-loop"), lean_vmlinux])
if ps and ps.stdout:
    pids = {t["pid"] for t in json.loads(ps.stdout)["tasks"]}
    if not {1, 2, 42, 43} <= pids:
        failures.append(f"thread-loop: the walk lost tasks after the damaged thread list: {sorted(pids)}")

# Each problem says why: a stack page filtered out of the dump is nodata (partial, not damaged),
# naming the task; a task list that loops is bad_data.
rep = run(["report", "--json", core("stack-filtered"), lean_vmlinux])
if rep and rep.stdout:
    probs = json.loads(rep.stdout)["problems"]
    mine = [p for p in probs if p["message"].startswith(missing)]
    if not mine or mine[0]["code"] != "nodata" or mine[0]["pid"] != st["pid"] or not mine[0]["task"]:
        failures.append(f"stack-filtered: want a nodata problem for pid {st['pid']}, got {probs}")
rep = run(["report", "--json", core("task-loop"), lean_vmlinux])
if rep and rep.stdout:
    probs = json.loads(rep.stdout)["problems"]
    if not any(p["code"] == "bad_data" and f"task {loop['to']} listed twice" in p["message"] for p in probs):
        failures.append(f"task-loop: want a bad_data problem for the loop, got {probs}")

# Honest verdicts: a copy that lost tasks or counters says how much it read (coverage), is never
# "none", names each counter it could not read, and triage keeps it apart from complete dumps.
EXPECTED = facts["nr_threads"] + facts["online_cpus"]
honest = 0


def coverage_of(name):
    p = run(["report", "--json", core(name), lean_vmlinux])
    if not p or not p.stdout:
        failures.append(f"{name}: no JSON report")
        return None
    # what could not be read is said: exit 1 and a line on stderr, never a quiet 0
    if p.returncode != 1 or not p.stderr.strip():
        failures.append(f"{name}: exit {p.returncode}, stderr {p.stderr[-300:]!r}: want 1 and the problems")
    return json.loads(p.stdout)


for name in ("cut90", "vmstat-filtered", "tail", "stack-filtered", "task-loop", "thread-loop", "lock-filtered"):
    honest += 1
    r = coverage_of(name)
    if not r:
        continue
    cov, kinds = r["coverage"], [v["kind"] for v in r["verdicts"]]
    if cov["complete"] or "none" in kinds or "inconclusive" not in kinds:
        failures.append(f"{name}: coverage {cov}, verdicts {kinds}: want incomplete, an inconclusive, no none")
    if cov["tasks_expected"] != EXPECTED or cov["nr_threads"] != facts["nr_threads"]:
        failures.append(f"{name}: tasks_expected {cov['tasks_expected']}, want nr_threads "
                        f"{facts['nr_threads']} + {facts['online_cpus']} idle = {EXPECTED}")
    if cov["read_failures"] < 1 or cov["read_failures"] > len(r["problems"]):
        failures.append(f"{name}: read_failures {cov['read_failures']} of {len(r['problems'])} problems")

# cut at 90%: the per-CPU pages are gone: the idle tasks and the clocks with them
cut = facts["cut90"]
r = coverage_of("cut90")
if r:
    cov = r["coverage"]
    want = cut["threads_readable"] + cut["idle_readable"]
    if cut["threads_readable"] is None or cov["tasks_read"] != want or cov["idle_read"] != cut["idle_readable"]:
        failures.append(f"cut90: {cov['tasks_read']} tasks read ({cov['idle_read']} idle), drgn reads {cut}")
    if "tasks" not in cov["incomplete_parts"]:
        failures.append(f"cut90: incomplete_parts {cov['incomplete_parts']} does not name the tasks")
    top = r["verdicts"][0]
    scale = cov["tasks_read"] / EXPECTED
    if top["kind"] != "lock_cycle" or abs(top["score"] - 0.95 * scale) > 1e-6 or abs(cov["score_scale"] - scale) > 1e-9:
        failures.append(f"cut90: top verdict {top['kind']} {top['score']}, want lock_cycle at 0.95 x {scale:.4f}")
    if cut["idle_readable"] == 0 and r["kernel"]["uptime_seconds"] is not None:
        failures.append(f"cut90: no run queue read, yet uptime {r['kernel']['uptime_seconds']}")
    p = run(["report", core("cut90"), lean_vmlinux])
    words = f"coverage incomplete: {want} of {EXPECTED} tasks read"
    if not p or words not in p.stdout or "up 0 s" in p.stdout or "uptime unknown" not in p.stdout:
        failures.append(f"cut90: the text report does not say {words!r} and 'uptime unknown'")

# the global memory counters' page filtered out: each of them unknown (null), each a nodata problem
vf = facts["vmstat_filtered"]
r = coverage_of("vmstat-filtered")
if r:
    cov, pages, probs = r["coverage"], r["memory"]["pages"], r["problems"]
    if not vf["counters"]:
        failures.append("vmstat-filtered: damage.py found no counter on the filtered page")
    for c in vf["counters"]:
        if pages.get(c) is not None:
            failures.append(f"vmstat-filtered: counter {c} reads {pages[c]}, want null")
        if not any(p["code"] == "nodata" and f"memory counter {c} " in p["message"] for p in probs):
            failures.append(f"vmstat-filtered: no nodata problem names the counter {c}")
    if "memory" not in cov["incomplete_parts"]:
        failures.append(f"vmstat-filtered: incomplete_parts {cov['incomplete_parts']} does not name memory")
    if cov["tasks_read"] != vf["threads_readable"] + vf["idle_readable"]:
        failures.append(f"vmstat-filtered: {cov['tasks_read']} tasks read, drgn reads {vf}")

# the page of the mutex abba_t2 waits on filtered out (stall_mutex_a, one of the lock cycle's): its
# wait list is a nodata problem naming the lock and the task drgn finds waiting there; the locks and the
# module on that page are lost, so the cycle cannot be stated in full confidence
lf = facts["lock_filtered"]
r = coverage_of("lock-filtered")
if r:
    cov, probs = r["coverage"], r["problems"]
    lock = int(lf["lock"], 16)
    named = [p for p in probs if p["code"] == "nodata" and f"{lock:#x}" in p["message"] and "wait list" in p["message"]]
    if len(named) != 1 or named[0]["pid"] not in lf["waiters"]:
        failures.append(f"lock-filtered: want one nodata problem naming the wait list of {lock:#x} and one of its "
                        f"waiters {lf['waiters']}, got {[p['message'] for p in named]}")
    if "locks" not in cov["incomplete_parts"] or cov["tasks_read"] != EXPECTED:
        failures.append(f"lock-filtered: coverage {cov}: want every task read and 'locks' not read in full")
    full = [v for v in r["verdicts"] if v["kind"] == "lock_cycle" and v["score"] >= 0.95]
    if full:
        failures.append(f"lock-filtered: a lock cycle stated in full confidence: {full}")
    if any(l["address"] == lf["lock"] for l in r["locks"]):
        failures.append(f"lock-filtered: the unreadable lock {lf['lock']} is listed as read: {r['locks']}")

# the task list looping early loses the scenario's tasks: the log's hung-task reports still name them
g = run(["report", "--json", good, lean_vmlinux])
r = coverage_of("task-loop")
honest += 1
if g and g.stdout and r:
    hung = {e["pid"] for e in json.loads(g.stdout)["events"] if e["kind"] == "hung_task"}
    lost = hung - {t["pid"] for t in r["tasks"]}
    v = next((v for v in r["verdicts"] if v["kind"] == "hung_tasks"), None)
    if not lost:
        failures.append(f"task-loop: no hung task reported in the log is lost ({sorted(hung)}): the copy tests nothing")
    elif not v or not lost <= set(v["pids"]) or "The kernel log reports" not in v["summary"]:
        failures.append(f"task-loop: the log reports {sorted(lost)} hung and unread, verdict {v}")
    elif r["verdicts"][0]["kind"] != "hung_tasks" or v["score"] != 0.45:
        failures.append(f"task-loop: top verdict {r['verdicts'][0]['kind']}, want hung_tasks at 0.45 from the log")

# triage: the damaged copies apart from a dump read in full, in their own group
tri = os.path.join(damaged, "triage")
os.makedirs(tri, exist_ok=True)
for name, src in (("good.vmcore", good), ("cut90.vmcore", core("cut90")),
                  ("vmstat-filtered.vmcore", core("vmstat-filtered"))):
    dst = os.path.join(tri, name)
    if os.path.lexists(dst):
        os.unlink(dst)
    os.symlink(os.path.abspath(src), dst)
p = run(["triage", "--json", "--index", os.path.join(damaged, "triage.sqlite"), "--vmlinux", lean_vmlinux, tri])
honest += 1
if not p or p.returncode not in (0, 1):
    failures.append(f"triage of the damaged copies: {p and p.returncode}, {p and p.stderr[-800:]}")
else:
    rows = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    status = {os.path.basename(x["path"]): x["status"] for x in rows if x["type"] == "dump"}
    groups = {x["signature"]: sorted(os.path.basename(q) for q in x["paths"]) for x in rows if x["type"] == "group"}
    if status != {"good.vmcore": "ok", "cut90.vmcore": "inconclusive", "vmstat-filtered.vmcore": "inconclusive"}:
        failures.append(f"triage: statuses {status}")
    if groups.get("inconclusive") != ["cut90.vmcore", "vmstat-filtered.vmcore"] or \
            groups.get("lock_cycle:stall_mutex_a:stall_mutex_b") != ["good.vmcore"]:
        failures.append(f"triage: groups {groups}, want the damaged copies apart from the good dump")
    p = run(["triage", "--index", os.path.join(damaged, "triage.sqlite"), "--vmlinux", lean_vmlinux, tri])
    if not p or "inconclusive: coverage incomplete" not in p.stdout or "  2 x inconclusive\n" not in p.stdout:
        failures.append(f"triage text: no inconclusive row and group: {p and p.stdout}")

for f in failures:
    print("FAIL:", f)
print(f"{len(jobs) + 4 + honest + 3 - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
