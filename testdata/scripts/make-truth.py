#!/usr/bin/env python3
"""Turn the TRUTH lines a scenario printed on the serial console into truth.json.

The first kernel's lines only count (the capture kernel prints none). A role is
keyed by (role, pid): a later line for the same role and pid replaces an
earlier one, because the module re-announces a stall when its start moves.
Scenarios built in user space print {"cause": ...} from init, after the
module's scenario line, and roles with only a pid and comm.
"""
import json
import re
import sys

log, flavour = sys.argv[1], sys.argv[2]
truth = {"scenario": None, "flavour": flavour, "root_cause": None, "hz": None,
         "tasks": None, "roles": [], "locks": []}
roles = {}
cause = None
with open(log, errors="replace") as f:
    for line in f:
        m = re.search(r"TRUTH (\{.*\})\s*$", line)
        if not m:
            continue
        rec = json.loads(m.group(1))
        if "scenario" in rec:
            truth.update(scenario=rec["scenario"], root_cause=rec["root_cause"], hz=rec["hz"])
        elif "cause" in rec:
            cause = rec["cause"]
        elif "tasks" in rec:
            truth["tasks"] = rec["tasks"]
        elif "lock" in rec:
            lock = {"name": rec["lock"], "type": rec["type"], "address": rec["address"]}
            # a lock of a file (folio, i_rwsem) names it, and a folio its page index
            lock.update({k: rec[k] for k in ("file", "index") if k in rec})
            truth["locks"].append(lock)
        elif "role" in rec:
            roles[(rec["role"], rec["pid"])] = rec
for rec in roles.values():
    role = {"task": None, "waits_on": None, "holds": [], "stall_start_jiffies": None}
    role.update({k: rec[k] for k in ("role", "pid", "comm", "task", "waits_on", "holds",
                                     "stall_start_jiffies") if k in rec})
    # locks held for read, where the kernel records no reader (percpu_rw_semaphore)
    if "reads" in rec:
        role["reads"] = rec["reads"]
    truth["roles"].append(role)
if cause:
    truth["root_cause"] = cause
if truth["scenario"] is None:
    sys.exit("no TRUTH scenario line in " + log)
json.dump(truth, sys.stdout, indent=1)
sys.stdout.write("\n")
