#!/usr/bin/python3
"""The JSON of report, ps, bt, mod and sys on one fixture against the schemas in docs/.

Usage: check_schema.py KSTALL DOCS_DIR VMCORE VMLINUX
Every document validates; the schemas are valid Draft 2020-12; and the report
schema is not vacuous: copies of the report with a field of the wrong type, a
missing required field, an unknown field or an impossible combination are
refused.
"""
import copy
import json
import subprocess
import sys

import jsonschema

import kstall_report

kstall, docs, vmcore, vmlinux = sys.argv[1:5]
failures = []


def schema(name):
    s = json.load(open(f"{docs}/kstall-{name}.schema.json"))
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s)


def run(*args):
    if args == ("report", "--json"):
        p = kstall_report.run(kstall, vmcore, vmlinux)
    else:
        p = subprocess.run([kstall, *args, vmcore, vmlinux], capture_output=True, text=True)
    if p.returncode not in (0, 1) or "Sanitizer" in p.stderr:
        sys.exit(f"kstall {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return json.loads(p.stdout)


def validate(validator, doc, what):
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errors[:10]:
        failures.append(f"{what}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
    return not errors


report_v, ps_v, bt_v, mod_v = schema("report"), schema("ps"), schema("bt"), schema("mod")
sys_v = schema("sys")
report = run("report", "--json")
validate(report_v, report, "report")
ps = run("ps", "--json")
validate(ps_v, ps, "ps")
bt = run("bt", "-A", "--json")
validate(bt_v, bt, "bt -A")
validate(mod_v, run("mod", "--json"), "mod")
sysdoc = run("sys", "--json")
validate(sys_v, sysdoc, "sys")
if sysdoc["tasks"] != len(ps["tasks"]):
    failures.append(f"sys says {sysdoc['tasks']} tasks, ps lists {len(ps['tasks'])}")
# bt -v on a few tasks: the params arrays, known and unknown values alike.
pids = [str(t["pid"]) for t in ps["tasks"] if not t["idle"]][:4]
validate(bt_v, run("bt", "-v", "--json", *pids), "bt -v")

if len(bt["tasks"]) != len(ps["tasks"]):
    failures.append(f"bt -A has {len(bt['tasks'])} tasks, ps {len(ps['tasks'])}")
if [t["pid"] for t in report["tasks"]] != [t["pid"] for t in ps["tasks"]]:
    failures.append("report and ps list different tasks")

# The schema is not vacuous: each of these broken copies must be refused.
def zone(r):
    if not r["memory"]["zones"]:
        r["memory"]["zones"].append({"node": 0, "name": "Normal", "free": 1, "managed": 2,
                                     "min": 1, "low": 1, "high": 1})
    return r["memory"]["zones"][0]


def allocating(r):
    t = next((t for t in r["tasks"] if t["alloc"]), None) or r["tasks"][0]
    t["alloc"] = t["alloc"] or {"phase": "retry loop", "where": "__alloc_pages_slowpath", "context": "",
                                "throttle": "", "gfp": "0xcc0", "gfp_names": "GFP_KERNEL", "order": 0,
                                "may_oom": True, "nofail": False}
    return t["alloc"]


def event(r):
    if not r["events"]:
        r["events"].append({"kind": "hung_task", "pid": 1, "comm": "init", "task_found": True,
                            "seconds_before": 1.0, "seq": 1, "text": "INFO: task init:1 blocked"})
    return r["events"][0]


broken = {
    "an unknown task field": lambda r: r["tasks"][0].update(surprise=1),
    "an unknown verdict kind": lambda r: r["verdicts"][0].update(kind="made_up"),
    "no memory object": lambda r: r.pop("memory"),
    "memory.page_size as a string": lambda r: r["memory"].update(page_size="4096"),
    "memory.pages.free as a string": lambda r: r["memory"]["pages"].update(free="12"),
    "memory.pages without shmem": lambda r: r["memory"]["pages"].pop("shmem"),
    "an unknown memory counter": lambda r: r["memory"]["pages"].update(hugetlb=0),
    "an unknown memory field": lambda r: r["memory"].update(surprise=1),
    "a zone's free pages negative": lambda r: zone(r).update(free=-1),
    "a zone with min but no high": lambda r: zone(r).update(high=None),
    "oom without kills": lambda r: r["oom"].pop("kills"),
    "oom without lock_owner_pid": lambda r: r["oom"].pop("lock_owner_pid"),
    "oom.lock_waiters as a boolean": lambda r: r["oom"].update(lock_waiters=True),
    "an unknown oom field": lambda r: r["oom"].update(reaper={"state": "idle"}),
    "an owner of an unreadable oom_lock": lambda r: r["oom"].update(lock_readable=False, lock_owner_pid=1),
    "alloc without gfp": lambda r: allocating(r).pop("gfp"),
    "gfp_names without gfp": lambda r: allocating(r).update(gfp=None),
    "a throttle reason outside throttling": lambda r: allocating(r).update(phase="retry loop",
                                                                          throttle="congestion"),
    "an unknown throttle reason": lambda r: allocating(r).update(phase="throttled in reclaim",
                                                                 throttle="tired"),
    "an event found without a pid": lambda r: event(r).update(task_found=True, pid=None),
    "an event after the crash": lambda r: event(r).update(seconds_before=-1.0),
}
# On a few tasks and events: the rules do not depend on how many, and fork-storm has 9538 tasks.
small = dict(report, tasks=report["tasks"][:1] + [t for t in report["tasks"] if t["alloc"]][:1],
             events=report["events"][:2])
if not report_v.is_valid(small):
    failures.append("the report cut to a few tasks does not validate, so the checks below prove nothing")
for what, breaks in broken.items():
    bad = copy.deepcopy(small)
    breaks(bad)
    if report_v.is_valid(bad):
        failures.append(f"the report schema accepts {what}")

print(f"{vmcore}: report {len(report['tasks'])} tasks, {len(report['verdicts'])} verdicts; "
      f"ps {len(ps['tasks'])}; bt {len(bt['tasks'])} stacks, unwinder {bt['unwinder']}")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
