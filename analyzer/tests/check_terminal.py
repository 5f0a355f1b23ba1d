#!/usr/bin/python3
"""kstall's text output on a dump whose task names and log hold terminal escapes (made by
testdata/scripts/hostile_names.py): nothing in it can drive the reader's terminal.

Usage: check_terminal.py KSTALL HOSTILE_DIR VMLINUX [PLUGIN.so]

For report, ps, bt -A, log, sys, mod and triage (text), stdout and stderr:
- no byte below 0x20 but the newline, no DEL, no C1 control (0xc2 0x80-0x9f), valid UTF-8;
- each hostile comm shows in its escaped form (term_text.escape, as analyzer/base/term.h
  documents it) where the command names that task, and the hostile log line in the log.
For report --json and ps --json: the same bytes rule (JSON escapes controls), the JSON
parses, and each comm is the original bytes (a byte that is no UTF-8 as U+FFFD).
With PLUGIN.so and crash installed: the crash extension's report and JSON views the same.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from term_text import escape, unsafe

SANITIZER = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
kstall, hostile, vmlinux = (os.path.abspath(a) for a in sys.argv[1:4])
plugin = os.path.abspath(sys.argv[4]) if len(sys.argv) > 4 else None
vmcore = os.path.join(hostile, "hostile-names.vmcore")
facts = json.load(open(os.path.join(hostile, "hostile.json")))
comms = {int(pid): bytes.fromhex(c["after"]) for pid, c in facts["comms"].items()}
log_line = bytes.fromhex(facts["log"]["after"]) if facts["log"] else None
failures = []
env = dict(os.environ)
env.pop("DEBUGINFOD_URLS", None)


def run(args):
    p = subprocess.run([kstall] + args, capture_output=True, timeout=300, env=env)
    what = " ".join(args[:2])
    err = p.stderr.decode(errors="replace")
    if p.returncode not in (0, 1) or any(s in err for s in SANITIZER):
        failures.append(f"{what}: exit {p.returncode}: {err[-1500:]}")
    for name, data in (("stdout", p.stdout), ("stderr", p.stderr)):
        at = unsafe(data)
        if at is not None:
            failures.append(f"{what}: {name} byte {at} can drive a terminal: {data[max(0, at - 40):at + 20]!r}")
    return p.stdout.decode(errors="replace"), err


def want(what, text, needle):
    if needle not in text:
        failures.append(f"{what}: no {needle!r}")


# The commands that name tasks: each hostile comm escaped, as the docs say.
ps, _ = run(["ps", vmcore, vmlinux])
rows = {int(line[1:7]): line for line in ps.split("\n")[1:] if re.match(r"[> ] *\d+ ", line)}
# where kthreadd's name starts: every comm starts there, escaped or not
col = rows[2].index("[kthreadd]")
for pid, comm in comms.items():
    row = rows.get(pid, "")
    if row[col:] not in (escape(comm), f"[{escape(comm)}]"):
        failures.append(f"ps: pid {pid} row {row!r}: want {escape(comm)!r} at column {col}")

bt, _ = run(["bt", "-A", vmcore, vmlinux])
for pid, comm in comms.items():
    want("bt -A", bt, f'PID: {pid:<6} TASK: ')
    if not re.search(rf'PID: {pid} +TASK: [0-9a-f]+  CPU: \d+ +COMMAND: "{re.escape(escape(comm))}"', bt):
        failures.append(f"bt -A: no COMMAND \"{escape(comm)}\" for pid {pid}")

report, _ = run(["report", vmcore, vmlinux])
report_json_raw = subprocess.run([kstall, "report", "--json", vmcore, vmlinux], capture_output=True, env=env).stdout
report_json = json.loads(report_json_raw)
stalled = {pid for g in report_json["groups"] if g["stalled"] for pid in g["pids"]}
for pid, comm in comms.items():
    # every stalled task is in STALLED TASKS (its own group here) with its comm
    if pid in stalled:
        want("report", report, f"  {escape(comm)}")
        want("report", report, f"{escape(comm)} (pid {pid}")
if log_line:
    want("report", report, escape(log_line))

log, _ = run(["log", vmcore, vmlinux])
if log_line:
    want("log", log, escape(log_line))
for line in log.split("\n")[:-1]:
    if not re.match(r"\[ *\d+\.\d{6}\] ", line):
        failures.append(f"log: a line without its record's timestamp: {line!r}")
        break

sys_text, _ = run(["sys", vmcore, vmlinux])
want("sys", sys_text, "PANIC:")
run(["mod", vmcore, vmlinux])

with tempfile.TemporaryDirectory() as tmp:
    triage, _ = run(["triage", "--index", os.path.join(tmp, "index.sqlite"), "--vmlinux", vmlinux,
                     "--wide", vmcore])
    want("triage", triage, "hostile-names.vmcore")

# JSON: it parses, keeps controls as escapes, and holds the original bytes.
for args in (["report", "--json"], ["ps", "--json"]):
    out, _ = run(args + [vmcore, vmlinux])
    try:
        doc = json.loads(out)
    except ValueError as e:
        failures.append(f"{' '.join(args)}: not JSON ({e})")
        continue
    got = {t["pid"]: t["comm"] for t in doc["tasks"]}
    for pid, comm in comms.items():
        if got.get(pid) != comm.decode("utf-8", "replace"):
            failures.append(f"{' '.join(args)}: pid {pid} comm {got.get(pid)!r}, want {comm!r}")
if log_line and not any(e.get("text", "").find(log_line.decode()) >= 0 for e in report_json.get("events", [])):
    failures.append(f"report --json: no event with the text {log_line!r}")

# The crash extension prints the same renderers into crash's output.
crash = shutil.which("crash")
if plugin and crash and os.path.exists(plugin):
    with tempfile.TemporaryDirectory() as tmp:
        text_out, json_out = os.path.join(tmp, "report"), os.path.join(tmp, "json")
        cmdfile = os.path.join(tmp, "cmds")
        with open(cmdfile, "w") as f:
            f.write(f"extend {plugin}\nkstall > {text_out}\nkstall -j > {json_out}\nquit\n")
        p = subprocess.run([crash, "-s", "--no_crashrc", "--no_kmem_cache", vmlinux, vmcore, "-i", cmdfile],
                           capture_output=True, timeout=600, cwd=tmp, stdin=subprocess.DEVNULL)
        for name, path in (("report", text_out), ("json", json_out)):
            data = open(path, "rb").read() if os.path.exists(path) else b""
            at = unsafe(data)
            if not data:
                failures.append(f"crash kstall {name}: nothing written ({p.stderr[-500:]!r})")
            elif at is not None:
                failures.append(f"crash kstall {name}: byte {at} can drive a terminal: {data[max(0, at - 40):at + 20]!r}")
        if os.path.exists(text_out):
            text = open(text_out, encoding="utf-8", errors="replace").read()
            for pid, comm in comms.items():
                if pid in stalled:
                    want("crash kstall", text, f"{escape(comm)} (pid {pid}")
    print("crash extension: checked")
elif plugin:
    print("crash extension: crash not installed, not checked")

if failures:
    sys.exit("\n".join(failures))
print(f"{len(comms)} hostile comms{' and a log line' if log_line else ''}: every text output terminal-safe, "
      f"escaped as documented; JSON holds the original bytes")
