#!/usr/bin/python3
"""Cross-check kstall's ps, bt and log with drgn on one fixture vmcore.

Usage: check_core.py KSTALL VMCORE VMLINUX [MODULE.ko...]
Fails (exit 1) on the first kind of disagreement, printing every difference.
"""
import json
import os
import re
import subprocess
import sys

from term_text import escape

HERE = os.path.dirname(os.path.abspath(__file__))
SUFFIX = re.compile(r"(\.(constprop|isra|part|cold|llvm)(\.\d+)?)+$")


def norm(name):
    return SUFFIX.sub("", name)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if "Sanitizer" in p.stderr or "runtime error:" in p.stderr:
        sys.exit(f"{' '.join(cmd)}: sanitizer report:\n{p.stderr}")
    if p.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def main():
    kstall, vmcore, vmlinux, modules = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    oracle = json.loads(run(["/usr/bin/python3", os.path.join(HERE, "drgn_oracle.py"),
                             vmcore, vmlinux] + modules))
    ps = json.loads(run([kstall, "ps", "--json", vmcore, vmlinux] + modules))
    bt = json.loads(run([kstall, "bt", "-A", "--json", vmcore, vmlinux] + modules))
    log = run([kstall, "log", vmcore, vmlinux] + modules)
    failures = []

    # Tasks: the same set, by task address; the same pid, comm, state, on_cpu.
    want = {t["address"]: t for t in oracle["tasks"]}
    got = {t["task"]: t for t in ps["tasks"]}
    for addr in sorted(set(want) - set(got)):
        failures.append(f"task {addr} (pid {want[addr]['pid']}) missing from kstall ps")
    for addr in sorted(set(got) - set(want)):
        failures.append(f"task {addr} (pid {got[addr]['pid']}) not seen by drgn")
    for addr in sorted(set(want) & set(got)):
        w, g = want[addr], got[addr]
        for key, gkey in (("pid", "pid"), ("comm", "comm"), ("state", "state"),
                          ("on_cpu", "on_cpu"), ("idle", "idle")):
            if w[key] != g[gkey]:
                failures.append(f"task {addr} pid {w['pid']}: {key} drgn={w[key]!r} kstall={g[gkey]!r}")
    print(f"ps: {len(got)} tasks compared")

    # Coverage: a dump read in full says so, its tasks the kernel's count (nr_threads, and one
    # idle task per online CPU), which is drgn's count of them.
    cov = json.loads(run([kstall, "report", "--json", vmcore, vmlinux] + modules))["coverage"]
    expected = oracle["nr_threads"] + oracle["online_cpus"]
    if not cov["complete"] or cov["tasks_read"] != len(want) or cov["tasks_expected"] != expected or \
            len(want) != expected or cov["idle_read"] != oracle["online_cpus"] or cov["read_failures"] or \
            cov["incomplete_parts"] or cov["score_scale"] != 1:
        failures.append(f"coverage {cov}: want complete, {len(want)} tasks as drgn reads, nr_threads "
                        f"{oracle['nr_threads']} + {oracle['online_cpus']} idle")
    print(f"coverage: {cov['tasks_read']} of {cov['tasks_expected']} tasks")

    # Stacks: every blocked task's function names equal drgn's.
    stacks = {t["task"]: t for t in bt["tasks"]}
    compared = through_irq = beyond_module = 0
    for addr, w in sorted(want.items()):
        g = stacks.get(addr)
        if g is None:
            failures.append(f"task {addr} pid {w['pid']}: no stack from kstall bt -A")
            continue
        names = [norm(f["function"]) for f in g["frames"]]
        if g["active"]:
            if not names:
                failures.append(f"active task pid {w['pid']}: empty stack ({g.get('note')})")
            continue
        if w["frames"] is None:
            continue
        # kstall stops at the kernel's edge; drgn goes on into user space. Both read
        # the module's .ko given here: inline calls in module code are compared too.
        expected = [norm(f["name"]) for f in w["frames"]
                    if f["pc"] is not None and f["pc"] >= 0xffff800000000000]
        compared += 1
        # A child faulting in schedule_tail (its first put_user) returns into
        # ret_from_fork: kstall shows that frame, drgn 0.0.22 stops one short.
        if names == expected + ["ret_from_fork"] and expected and expected[-1] == "schedule_tail":
            continue
        # With frame pointers (the debug kernel), drgn 0.0.22 stops at an interrupt
        # entry (asm_sysvec_*); kstall goes on through the saved pt_regs into the
        # interrupted code. Every frame drgn has must still be kstall's.
        if (expected and expected[-1].startswith("asm_") and len(names) > len(expected)
                and names[:len(expected)] == expected):
            through_irq += 1
            continue
        # drgn 0.0.22 cannot list 6.4+ modules (drgn_compat): it stops at the first module
        # frame, nameless. Every frame before it must be kstall's, and kstall's next frame
        # must be at that pc; what kstall names beyond, truth and the module's kallsyms say.
        if not oracle["modules_loaded"] and expected and expected[-1] == "??":
            cut = len(expected) - 1
            dpc = [f["pc"] for f in w["frames"] if f["pc"] is not None
                   and f["pc"] >= 0xffff800000000000][cut]
            if names[:cut] == expected[:cut] and len(names) > cut and \
                    int(g["frames"][cut]["pc"], 16) == dpc:
                beyond_module += 1
                continue
        if names != expected:
            failures.append(f"pid {w['pid']} ({w['comm']}): stack differs\n"
                            f"    drgn:   {expected}\n    kstall: {names}  note={g.get('note')}")
    panic = [t for t in bt["tasks"] if t["active"]]
    print(f"bt: {compared} blocked stacks compared ({through_irq} where only kstall unwinds "
          f"past an interrupt entry, {beyond_module} up to a module frame drgn cannot name), "
          f"{len(panic)} active tasks")
    panic_tasks = [t for t in ps["tasks"] if t["panic"]]
    if len(panic_tasks) != 1:
        failures.append(f"expected one panic task, got {len(panic_tasks)}")
    else:
        pt = stacks[panic_tasks[0]["task"]]
        names = [norm(f["function"]) for f in pt["frames"]]
        for fn in ("__crash_kexec", "panic", "sysrq_handle_crash", "__handle_sysrq"):
            if fn not in names:
                failures.append(f"panic task stack lacks {fn}: {names}")

    # Log: the same text as drgn's dmesg, as kstall prints it for a terminal (term_text: a
    # record's newlines start lines of their own after its timestamp, controls escaped), but
    # where drgn 0.0.22 misreads a record whose data block wraps around the ring: it takes the
    # block's 8-byte id for text (NULs in the line) and loses as many bytes at the end.
    def records(text):
        """One entry per log record: a line that does not open with a timestamp is the record's
        own continuation (a record holding a newline, or a misread id holding a newline byte)."""
        out = []
        for line in text.split("\n"):
            if out and not line.startswith("["):
                out[-1] += "\n" + line
            else:
                out.append(line)
        return [r for r in out if r]

    ours = log.split("\n")
    if ours and ours[-1] == "":
        ours.pop()
    pos = wrapped = 0
    dmesg = oracle["dmesg"]
    # the newline that ends drgn's last line is no part of its record
    for y in records(dmesg[:-1] if dmesg.endswith("\n") else dmesg):
        stamp = y.split("] ", 1)[0] + "] "
        text = y[len(stamp):]
        want = [stamp + escape(line) for line in text.split("\n")]
        if "\x00" in text and pos < len(ours):
            x, tail = ours[pos], escape(text.split("\x00")[-1])
            # each lost byte is at most one escape (4 characters)
            if x.startswith(stamp + tail) and len(x) - len(stamp) - len(tail) <= 8 * 4:
                wrapped += 1
                pos += 1
                continue
        if ours[pos:pos + len(want)] != want:
            failures.append(f"log record differs:\n    drgn:   {want!r}\n"
                            f"    kstall: {ours[pos:pos + len(want)]!r}")
            break
        pos += len(want)
    else:
        if pos != len(ours):
            failures.append(f"log has {len(ours)} lines, drgn's dmesg {pos}")
    if wrapped:
        print(f"log: {wrapped} wrapped record(s) that drgn misreads, compared up to its loss")
    print(f"log: {len(ours)} lines compared")

    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


main()
