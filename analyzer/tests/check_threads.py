#!/usr/bin/python3
"""The second CPU changes when kstall's answers are ready, never what they are.

Usage: check_threads.py KSTALL VMCORE VMLINUX

The JSON report with KSTALL_THREADS=1 (one thread: no stack read-ahead, the DWARF name
index built in the main thread) and with the default (the index pass started on a second
thread at open, the stacks read ahead on a second thread) must be byte-identical, cold
and warm. On a machine with two CPUs the default run must really have served pages from
the read-ahead and read index units on the second thread (KSTALL_STATS, cold), and the
one-thread run neither, so that this test cannot pass by never starting the threads.
Run under ThreadSanitizer too (build-tsan): a data race is an error there.
"""
import os
import re
import subprocess
import sys
import tempfile

kstall, vmcore, vmlinux = sys.argv[1:4]
failures = []


def run(cache, threads):
    env = dict(os.environ, KSTALL_CACHE_DIR=cache, KSTALL_STATS="1")
    env.pop("KSTALL_THREADS", None)
    if threads:
        env["KSTALL_THREADS"] = threads
    p = subprocess.run([kstall, "report", "--json", vmcore, vmlinux], capture_output=True,
                       env=env, timeout=600)
    m = re.search(rb"from the dump \((\d+) of them read ahead\)", p.stderr)
    if p.returncode not in (0, 1) or not m:
        sys.exit(f"kstall failed ({p.returncode}): {p.stderr.decode(errors='replace')[-2000:]}")
    if b"ThreadSanitizer" in p.stderr:
        failures.append("ThreadSanitizer: " + p.stderr.decode(errors="replace")[-3000:])
    ix = re.search(rb"index built \((\d+) units, \d+ by libdw, (\d+) on a second thread", p.stderr)
    return p.stdout, int(m.group(1)), (int(ix.group(1)), int(ix.group(2))) if ix else None


with tempfile.TemporaryDirectory() as cold_one, tempfile.TemporaryDirectory() as cold_two:
    one, one_ahead, one_index = run(cold_one, "1")
    two, two_ahead, two_index = run(cold_two, None)
    warm, warm_ahead, _ = run(cold_two, None)
    # The worker is a race by design: on a loaded machine a small dump can end before it has
    # served a page. It must serve some within three runs, or it never started.
    for _ in range(2):
        if warm_ahead or (os.cpu_count() or 1) < 2:
            break
        warm, warm_ahead, _ = run(cold_two, None)
if not one.strip():
    failures.append("empty report")
if one != two:
    failures.append("the report differs between one thread and two (cold cache)")
if one != warm:
    failures.append("the report differs between one thread and two (warm cache)")
if one_ahead:
    failures.append(f"KSTALL_THREADS=1 still read {one_ahead} pages ahead")
if (os.cpu_count() or 1) >= 2 and not (two_ahead and warm_ahead):
    failures.append(f"two CPUs, yet no page was read ahead ({two_ahead}, {warm_ahead})")
if not one_index or not two_index:
    failures.append(f"a cold run built no index ({one_index}, {two_index})")
elif one_index[1]:
    failures.append(f"KSTALL_THREADS=1 still read {one_index[1]} index units on a second thread")
elif (os.cpu_count() or 1) >= 2 and not two_index[1]:
    failures.append(f"two CPUs, yet no index unit was read on the second thread {two_index}")
print(f"one thread and two agree; pages read ahead: {two_ahead} cold, {warm_ahead} warm; "
      f"index units on the second thread: {two_index[1] if two_index else None} "
      f"of {two_index[0] if two_index else None}")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
