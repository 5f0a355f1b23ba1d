#!/usr/bin/python3
"""The crash extension in Debian's real crash, on a fixture dump.

Usage: check_crash_plugin.py KSTALL PLUGIN.so VMCORE VMLINUX TRUTH.json

One crash session loads the plugin, saves `kstall -j`, unloads it, loads it
again, saves `kstall -j` and the text views, asks for help and gives a bad
option; then it must still answer `echo`. Checks:
- both JSON documents equal `kstall report --json` of the CLI, whole. Nothing
  is left out: every number in the report, stall ages included, comes from the
  dump's own clocks (rq->clock, jiffies, sched_info, memalloc.start), never from
  the wall clock, so the two backends must agree to the byte;
- the truth's root cause is the verdict in the text report;
- each view, the help and the usage line say what they should.
Views go to files through crash's own `>` redirection, so nothing crash prints
around them can get in the way. Exit 77 (skip) only when crash is not installed.
"""
import json
import os
import shutil
import subprocess

import kstall_report
import sys
import tempfile
import time

SKIP = 77

kstall, plugin, vmcore, vmlinux, truth_path = sys.argv[1:6]
crash = shutil.which("crash")
if not crash:
    print("crash is not installed: skipped")
    sys.exit(SKIP)
truth = json.load(open(truth_path))

cli = kstall_report.run(kstall, vmcore, vmlinux)
if cli.returncode not in (0, 1):
    sys.exit(f"kstall report exited {cli.returncode}: {cli.stderr}")
cli_json = json.loads(cli.stdout)

views = ["json1", "json2", "report", "locks", "alloc", "memory", "help", "hflag", "usage", "sys"]
with tempfile.TemporaryDirectory() as tmp:
    out = {v: os.path.join(tmp, v) for v in views}
    cmds = [
        f"extend {plugin}",
        f"kstall -j > {out['json1']}",
        f"extend -u {plugin}",
        f"extend {plugin}",
        f"kstall -j > {out['json2']}",
        f"kstall > {out['report']}",
        f"kstall -l > {out['locks']}",
        f"kstall -a > {out['alloc']}",
        f"kstall -m > {out['memory']}",
        f"help kstall > {out['help']}",
        f"kstall -h > {out['hflag']}",
        f"sys > {out['sys']}",
        f"kstall -x > {out['usage']}",
        "echo kstall-plugin-still-alive",
        "quit",
    ]
    cmdfile = os.path.join(tmp, "cmds")
    with open(cmdfile, "w") as f:
        f.write("\n".join(cmds) + "\n")
    # --no_kmem_cache: the fixture kernels are tinyconfig builds with SLOB, whose kmem caches
    # crash 8.0.2 cannot read; that is crash's own start-up, not the plugin.
    start = time.monotonic()
    p = subprocess.run([crash, "-s", "--no_crashrc", "--no_kmem_cache", vmlinux, vmcore,
                        "-i", cmdfile], capture_output=True, text=True, cwd=tmp, timeout=600,
                       stdin=subprocess.DEVNULL)
    took = time.monotonic() - start
    got = {}
    for v in views:
        try:
            got[v] = open(out[v]).read()
        except OSError:
            got[v] = None

failures = []
log = p.stdout + p.stderr
if p.returncode != 0:
    failures.append(f"crash exited {p.returncode}")
if "kstall-plugin-still-alive" not in p.stdout:
    failures.append("crash did not reach the last command")
if log.count("shared object loaded") != 2 or log.count("shared object unloaded") != 1:
    failures.append("extend, extend -u, extend: not two loads and one unload")

def without_messages(doc):
    """The report with each problem's message left out: the backends word a failed read in their own
    way (libkdumpfile gives its reason, crash none), while code, task and address must agree."""
    doc = dict(doc)
    doc["problems"] = [{k: p[k] for k in p if k != "message"} for p in doc.get("problems", [])]
    return doc


for v in ("json1", "json2"):
    if not got[v]:
        failures.append(f"{v}: kstall -j wrote nothing")
        continue
    try:
        doc = json.loads(got[v])
    except ValueError as e:
        failures.append(f"{v}: not JSON ({e}): {got[v][:200]!r}")
        continue
    if without_messages(doc) != without_messages(cli_json):
        diff = [k for k in sorted(set(doc) | set(cli_json))
                if without_messages(doc).get(k) != without_messages(cli_json).get(k)]
        failures.append(f"{v}: differs from the CLI's JSON in {diff}")

report = got["report"] or ""
if f"VERDICT  {truth['root_cause']} " not in report:
    failures.append(f"report does not give the verdict {truth['root_cause']}: {report[:300]!r}")
for v, want in (("locks", "LOCK CHAINS"), ("locks", "\nLOCKS\n"), ("alloc", "ALLOCATOR STATES"),
                ("memory", "MEMORY"), ("memory", "\nOOM\n"), ("help", "SYNOPSIS"),
                ("help", "kstall [-l | -a | -m | -j | -h]"), ("hflag", "SYNOPSIS"),
                ("hflag", "kstall [-l | -a | -m | -j | -h]"), ("hflag", "-h  this help"),
                ("usage", "Usage:")):
    if want not in (got[v] or ""):
        failures.append(f"kstall {v}: no {want.strip()!r} in {(got[v] or '')[:200]!r}")
if "VERDICT" in (got["locks"] or ""):
    failures.append("kstall -l prints the whole report")
# kstall sys against crash's own sys on the same dump: the keys both print.
ks = subprocess.run([kstall, "sys", "--json", vmcore, vmlinux], capture_output=True, text=True)
sysj = json.loads(ks.stdout) if ks.returncode in (0, 1) else {}
crash_sys = {}
for line in (got["sys"] or "").splitlines():
    key, sep, value = line.partition(":")
    if sep and key.strip().isupper():
        crash_sys[key.strip()] = value.strip()
if not sysj or not crash_sys:
    failures.append(f"sys: kstall exit {ks.returncode}, crash printed {got['sys']!r}")
else:
    want = {"CPUS": str(sysj["cpus"]), "NODENAME": sysj["nodename"], "RELEASE": sysj["release"],
            "VERSION": sysj["version"], "PANIC": f'"{sysj["panic"]}"',
            "LOAD AVERAGE": ", ".join(sysj["load_average"])}
    for key, value in want.items():
        if crash_sys.get(key) != value:
            failures.append(f"sys {key}: crash {crash_sys.get(key)!r}, kstall {value!r}")
    # crash prints ctime in UTC; uptime from jiffies, kstall from the runqueue clock
    when = time.strftime("%a %b %e %H:%M:%S UTC %Y",
                         time.strptime(sysj["date"], "%Y-%m-%d %H:%M:%S UTC")).replace("  ", " ")
    if crash_sys.get("DATE", "").replace("  ", " ") != when:
        failures.append(f"sys DATE: crash {crash_sys.get('DATE')!r}, kstall {sysj['date']!r}")
    # UPTIME is not compared: crash counts jiffies, kstall the runqueue clock (the report's), and
    # jiffies lose ticks on a loaded guest (the fork storm: crash 00:01:06, the clock 248 s)
    if sysj["uptime_seconds"] != cli_json["kernel"]["uptime_seconds"]:
        failures.append(f"sys uptime {sysj['uptime_seconds']}, the report's {cli_json['kernel']['uptime_seconds']}")
for role in truth["roles"]:
    if role["waits_on"] and f"(pid {role['pid']}" not in (got["locks"] or ""):
        failures.append(f"kstall -l: role {role['role']} (pid {role['pid']}) not in a lock chain")
for t in cli_json["tasks"]:
    if t["alloc"] and f"pid {t['pid']} " not in (got["alloc"] or ""):
        failures.append(f"kstall -a: pid {t['pid']} is in the allocator but not listed")

if failures:
    print(log[-3000:])
    sys.exit("\n".join(failures))
print(f"crash session with the plugin: {took:.1f} s; JSON equal to the CLI's, before and after "
      f"extend -u; verdict {truth['root_cause']}")
