#!/usr/bin/python3
"""The examples in the docs and in `help kstall` are real output of kstall on the fixtures.

Usage: check_examples.py KSTALL REPO_ROOT

An example in a Markdown file is an indented block right after a marker:

    <!-- example: report {lean/abba} -->
    <!-- example: report {lean/abba} | LOCK CHAINS, LOCKS -->

The marker gives kstall's arguments; {FLAVOUR/SCENARIO} stands for that fixture's
vmcore and vmlinux. After '|', only those sections of the output (a section runs
from its heading to the next blank line) are compared. In the block, a first line
starting with '$ ' or 'crash> ' is the prompt the reader sees; a line '...'
skips any output. Every other word must be the output's, in order: a block may wrap
long lines, but no word may differ. Commands run in REPO_ROOT, as a reader would
run them. The example of `help kstall` (the crash extension's help, a C array in
plugins/crash/crash_glue.c) is checked the same way against lean/abba.
"""
import glob
import os
import re
import subprocess
import sys

kstall, root = sys.argv[1:3]
MARK = re.compile(r"<!--\s*example:\s*(.*?)\s*-->")
failures = []
checked = 0


def expand(args):
    out = []
    for word in args.split():
        m = re.fullmatch(r"\{([\w.-]+)/([\w.-]+)\}", word)
        if m:
            out += [f"testdata/vmcores/{m[1]}/{m[2]}/vmcore", f"testdata/kernels/{m[1]}/vmlinux"]
        else:
            out.append(word)
    return out


def sections(text, names):
    """The named sections of a text report, each from its heading to the next blank line."""
    keep, on = [], False
    for line in text.splitlines():
        if not line.strip():
            on = False
            continue
        if not line.startswith(" "):
            on = any(line == n or line.startswith(n + " ") for n in names)
        if on:
            keep.append(line)
    return "\n".join(keep)


def matches(block, output):
    """Each run of block lines between '...' lines is a contiguous run of the output's words, in order."""
    words = output.split()
    at = 0
    runs, run = [], []
    for line in block:
        if line.strip() == "...":
            runs.append(run)
            run = []
        else:
            run += line.split()
    runs.append(run)
    for i, run in enumerate(runs):
        if not run:
            continue
        found = -1
        # the first run starts the output unless the block opens with '...'
        for start in range(at, len(words) - len(run) + 1):
            if words[start:start + len(run)] == run:
                found = start
                break
            if i == 0 and block and block[0].strip() != "...":
                break
        if found < 0:
            near = " ".join(run[:12])
            return f"no '{near} ...' in the output at word {at}"
        at = found + len(run)
    return None


def run(args):
    p = subprocess.run([kstall] + expand(args), capture_output=True, text=True, cwd=root,
                       timeout=300)
    if p.returncode not in (0, 1):
        return None, f"kstall {args}: exit {p.returncode}: {p.stderr.strip()}"
    return p.stdout, None


def check(where, spec, block):
    global checked
    args, _, secs = spec.partition("|")
    out, err = run(args)
    if err:
        failures.append(f"{where}: {err}")
        return
    if secs.strip():
        out = sections(out, [s.strip() for s in secs.split(",")])
    if block and (block[0].lstrip().startswith("$ ") or block[0].lstrip().startswith("crash> ")):
        block = block[1:]
    if not block:
        failures.append(f"{where}: an example marker with no block under it")
        return
    why = matches(block, out)
    if why:
        failures.append(f"{where}: the example differs from `kstall {args.strip()}`"
                        f"{' (' + secs.strip() + ')' if secs.strip() else ''}: {why}")
    checked += 1


docs = sorted(glob.glob(os.path.join(root, "docs", "*.md"))) + [os.path.join(root, "README.md")]
for path in docs:
    lines = open(path).read().splitlines()
    for n, line in enumerate(lines):
        m = MARK.search(line)
        if not m:
            continue
        i = n + 1
        while i < len(lines) and not lines[i].strip():
            i += 1
        block = []
        while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
            block.append(lines[i][4:])
            i += 1
        while block and not block[-1].strip():
            block.pop()
        check(f"{os.path.relpath(path, root)}:{n + 1}", m[1], [b for b in block if b.strip()])

# help kstall: the lines of the C array from the example's prompt to its '...'.
glue = open(os.path.join(root, "plugins", "crash", "crash_glue.c")).read()
help_lines = re.findall(r'^\s*"((?:[^"\\]|\\.)*)",?\s*$', glue.split("help_kstall[]")[1].split("NULL")[0],
                        re.M)
text = "\n".join(help_lines).replace("\\n", "\n").split("\n")
try:
    start = next(i for i, l in enumerate(text) if l.strip() == "crash> kstall -l")
    end = next(i for i in range(start, len(text)) if text[i].strip() == "...")
    check("plugins/crash/crash_glue.c help_kstall", "report {lean/abba} | LOCK CHAINS",
          [l for l in text[start:end + 1] if l.strip()])
except StopIteration:
    failures.append("help kstall has no 'crash> kstall -l' example ending in '...'")

print(f"{checked} examples checked against the fixtures' output")
if checked < 5:
    failures.append(f"only {checked} examples found: the markers are gone?")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
