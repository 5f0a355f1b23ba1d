#!/usr/bin/python3
"""kstall against drgn and crash on the same dumps: wall time, peak RSS, ratios.

Usage: bench/bench.py [KSTALL] [FIXTURE_DIR...]
Defaults: build/kstall and every lean fixture, smallest task count first, so the
growth with the number of tasks shows. Each tool runs from a cold process, start-up
included, best of REPEAT runs (environment: REPEAT=3).
  kstall: `kstall report` (the whole analysis and the text report), twice: "cold" with an empty
          cache directory each run (the first run on a kernel: the DWARF name index is built), and
          "warm" with the memo of index answers an earlier run on the same kernel left (KSTALL_CACHE_DIR)
  drgn:   load the vmlinux, walk every task, unwind every stack
  crash:  start-up plus `foreach bt`, with --no_kmem_cache (crash 8.0.2 cannot read SLOB
          caches, which the tinyconfig fixture kernels use) (Debian 12's crash 8.0.2 sees only the idle
          tasks of 6.1.1xx kernels, so its number is start-up plus 2 stacks; it is
          printed with the task count crash itself saw)
Not a test: numbers depend on the machine. docs/performance.md keeps the results.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPEAT = int(os.environ.get("REPEAT", "3"))
DRGN = r"""
import sys, drgn
from drgn.helpers.linux.pid import for_each_task
prog = drgn.Program()
prog.set_core_dump(sys.argv[1])
prog.load_debug_info([sys.argv[2]])
n = frames = 0
for t in for_each_task(prog):
    n += 1
    try:
        frames += len(prog.stack_trace(t))
    except Exception:
        pass
print(n, frames)
"""


def timed(cmd, stdin=None, cache=None):
    """Best wall time (s), peak RSS (MB) and stdout of REPEAT runs.

    cache: "cold" (a fresh, empty KSTALL_CACHE_DIR each run) or a directory to keep."""
    best = None
    for _ in range(REPEAT):
        env = dict(os.environ)
        with tempfile.TemporaryDirectory() as fresh:
            if cache:
                env["KSTALL_CACHE_DIR"] = fresh if cache == "cold" else cache
            with tempfile.NamedTemporaryFile("r") as tf:
                p = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", tf.name] + cmd, input=stdin,
                                   capture_output=True, text=True, env=env)
                wall, rss = tf.read().split()[-2:]
        run = (float(wall), int(rss) / 1024, p.stdout, p.returncode)
        if best is None or run[0] < best[0]:
            best = run
    return best


def fixture_tasks(d):
    try:
        return json.load(open(os.path.join(d, "truth.json")))["tasks"] or 0
    except (OSError, ValueError, KeyError):
        return 0


def main():
    kstall = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "kstall")
    dirs = sys.argv[2:] or [os.path.join(ROOT, "testdata", "vmcores", "lean", d)
                            for d in os.listdir(os.path.join(ROOT, "testdata", "vmcores", "lean"))]
    dirs = sorted((d for d in dirs if os.path.exists(os.path.join(d, "vmcore"))), key=fixture_tasks)
    crash = shutil.which("crash")
    print(f"{'':<25} | {'kstall cold':>15} | {'kstall warm':>15} | {'drgn':>14} {'x faster':>11} "
          f"{'RSS <= 1/3':>10} | {'crash':>14} {'seen':>5} {'x faster':>11}")
    print(f"{'fixture':<18} {'tasks':>6} | {'s':>8} {'MB':>6} | {'s':>8} {'MB':>6} | {'s':>7} {'MB':>6} "
          f"{'cold':>5} {'warm':>5} {'cold':>4} {'warm':>5} | {'s':>7} {'MB':>6} {'tasks':>5} "
          f"{'cold':>5} {'warm':>5}")
    for d in dirs:
        flavour = os.path.basename(os.path.dirname(d))
        vmcore = os.path.join(d, "vmcore")
        vmlinux = os.path.join(ROOT, "testdata", "kernels", flavour, "vmlinux")
        with tempfile.TemporaryDirectory() as warm_dir:
            cold = timed([kstall, "report", vmcore, vmlinux], cache="cold")
            subprocess.run([kstall, "report", vmcore, vmlinux], capture_output=True,
                           env=dict(os.environ, KSTALL_CACHE_DIR=warm_dir))
            warm = timed([kstall, "report", vmcore, vmlinux], cache=warm_dir)
        dr = timed(["/usr/bin/python3", "-c", DRGN, vmcore, vmlinux])
        ntasks = dr[2].split()[0] if dr[3] == 0 else "?"
        line = (f"{os.path.basename(d):<18} {ntasks:>6} | {cold[0]:8.2f} {cold[1]:6.0f} | "
                f"{warm[0]:8.2f} {warm[1]:6.0f} | {dr[0]:7.2f} {dr[1]:6.0f} "
                f"{dr[0] / max(cold[0], 0.01):5.1f} {dr[0] / max(warm[0], 0.01):5.1f} "
                f"{'yes' if cold[1] * 3 <= dr[1] else 'no':>4} {'yes' if warm[1] * 3 <= dr[1] else 'no':>5} |")
        if crash:
            cr = timed([crash, "-s", "--no_crashrc", "--no_kmem_cache", vmlinux, vmcore], stdin="foreach bt\nps\nquit\n")
            seen = sum(1 for l in cr[2].splitlines() if l.startswith("PID:"))
            line += (f" {cr[0]:7.2f} {cr[1]:6.0f} {seen:>5} {cr[0] / max(cold[0], 0.01):5.1f} "
                     f"{cr[0] / max(warm[0], 0.01):5.1f}")
        print(line, flush=True)


main()
