#!/usr/bin/python3
"""The JSON of report, ps and bt on one fixture against the schemas in docs/.

Usage: check_schema.py KSTALL DOCS_DIR VMCORE VMLINUX
Every document validates; the schemas are valid Draft 2020-12; and the report
schema is strict where the shape is settled, so a stray task field is refused
while the memory and oom objects may grow.
"""
import copy
import json
import subprocess
import sys

import jsonschema

kstall, docs, vmcore, vmlinux = sys.argv[1:5]
failures = []


def schema(name):
    s = json.load(open(f"{docs}/kstall-{name}.schema.json"))
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s)


def run(*args):
    p = subprocess.run([kstall, *args, vmcore, vmlinux], capture_output=True, text=True)
    if p.returncode not in (0, 1) or "Sanitizer" in p.stderr:
        sys.exit(f"kstall {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return json.loads(p.stdout)


def validate(validator, doc, what):
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errors[:10]:
        failures.append(f"{what}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
    return not errors


report_v, ps_v, bt_v = schema("report"), schema("ps"), schema("bt")
report = run("report", "--json")
validate(report_v, report, "report")
ps = run("ps", "--json")
validate(ps_v, ps, "ps")
bt = run("bt", "-a", "--json")
validate(bt_v, bt, "bt -a")
# bt -v on a few tasks: the params arrays, known and unknown values alike.
pids = [str(t["pid"]) for t in ps["tasks"] if not t["idle"]][:4]
validate(bt_v, run("bt", "-v", "--json", *pids), "bt -v")

if len(bt["tasks"]) != len(ps["tasks"]):
    failures.append(f"bt -a has {len(bt['tasks'])} tasks, ps {len(ps['tasks'])}")
if [t["pid"] for t in report["tasks"]] != [t["pid"] for t in ps["tasks"]]:
    failures.append("report and ps list different tasks")

# Strict where settled, open where another pass is still adding fields.
bad = copy.deepcopy(report)
bad["tasks"][0]["surprise"] = 1
if report_v.is_valid(bad):
    failures.append("the report schema accepts an unknown task field")
bad = copy.deepcopy(report)
bad["verdicts"][0]["kind"] = "made_up"
if report_v.is_valid(bad):
    failures.append("the report schema accepts an unknown verdict kind")
grown = copy.deepcopy(report)
grown["oom"]["reaper"] = {"state": "idle"}
grown["memory"] = {"zones": [{"name": "Normal", "free": 1, "min": 2}]}
if not report_v.is_valid(grown):
    failures.append("the report schema refuses new oom or memory fields")

print(f"{vmcore}: report {len(report['tasks'])} tasks, {len(report['verdicts'])} verdicts; "
      f"ps {len(ps['tasks'])}; bt {len(bt['tasks'])} stacks, unwinder {bt['unwinder']}")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
