#!/usr/bin/python3
"""A seeded mutation campaign: kstall on damaged copies of real fixture vmcores.

Usage: check_campaign.py KSTALL TESTDATA WORKDIR [--full] [--seed N] [--record]

From a seed, testdata/scripts/mutate.py damages copies of real fixtures, in the
kdump-compressed format (zlib as captured, and LZO) and written as an ELF vmcore,
over every region of the
file (headers, notes and VMCOREINFO, bitmaps, page descriptors, page data, cuts).
KSTALL (the ASan+UBSan build, or the plain one: ctest runs both) runs
`report --json` on each, and on every fourth also `report`, `ps` and `bt -A`.
For every input:

  - no sanitizer report, no signal, exit status 0, 1 or 2, an answer in TIMEOUT s;
  - exit 0 or 1: the output is JSON;
  - never "none" below full coverage: when the report is partial (coverage.complete
    false where the report has a coverage object; else a problem listed or a task of
    the undamaged dump missing), the top verdict is not `none` with score 1;
  - a named problem for every damaged region kstall can see (headers, notes,
    bitmaps, page descriptors, zlib-compressed page data, cuts): when the JSON differs
    from the undamaged dump's, the exit status is not 0 and a line says what (a
    `problems` entry on exit 1, a line on stderr on exit 2); on exit 1 or 2 stderr
    names the region (NAMES: "cut short" for a cut, "bitmap" for a bitmap, ...).
    Damage kstall cannot see (page bytes stored raw, register values, the header's
    text fields) only has to pass the rules above.

The default is the CI slice (a fixed seed, lean/abba and lean-6.12/abba, 50 inputs
per fixture in kdump and ELF, 20 in LZO); --full or KSTALL_CAMPAIGN=full runs the
whole campaign (three fixtures, 150 inputs each in kdump and ELF, 75 in LZO;
KSTALL_CAMPAIGN_SEED picks the seed).
Every run also replays campaign_corpus.json: the recipes of inputs that once
failed. A failure matching KNOWN (a cause being fixed) is listed but does not fail
the test. New failures are written to WORKDIR/campaign-failures.json; --record
adds them to the corpus.
"""
import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "testdata", "scripts"))
import mutate  # noqa: E402

CORPUS = os.path.join(HERE, "campaign_corpus.json")
TIMEOUT = 60  # an ASan run takes under a second here; a hang is what this catches
SANITIZER = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "SUMMARY: ",
             "AddressSanitizer:", "UndefinedBehaviorSanitizer")
SLICE_SEED = 1
# Inputs per fixture and format. LZO pages are read by libkdumpfile alone (kstall's own page
# reader knows zlib), the same paths as zlib's but for the decompressor: fewer of them.
SLICE_COUNT = {"kdump": 50, "elf": 50, "lzo": 20}
FULL_COUNT = {"kdump": 150, "elf": 150, "lzo": 75}
FORMATS = ("kdump", "elf", "lzo")
SLICE_FIXTURES = ["lean/abba", "lean-6.12/abba"]
FULL_FIXTURES = SLICE_FIXTURES + ["debug/abba"]
TEXT_EVERY = 4  # report, ps and bt -A as text on every fourth input


# What a line naming the damage of each region says (stderr and problems[]): the file
# cut short, a header field, a note, a bitmap, a page descriptor, a page that does not
# decompress. A region not listed needs no name (its damage cannot be seen).
NAMES = {
    "truncate": r"cut short|cut file|truncated|shorter than|past the end|beyond the end|end of the file",
    "kdump.header": r"header|not a (readable )?vmcore|neither a vmcore",
    "kdump.subheader": r"header|not a (readable )?vmcore",
    "notes.header": r"note|VMCOREINFO|vmcoreinfo|not a (readable )?vmcore",
    "notes.vmcoreinfo": r"VMCOREINFO|vmcoreinfo|does not match|not a (readable )?vmcore",
    "kdump.bitmap1": r"bitmap",
    "kdump.bitmap2": r"bitmap",
    "kdump.pd.offset": r"descriptor|page table|page data|cut short|past the end|beyond the end|[Dd]ecompres",
    "kdump.pd.size": r"descriptor|page table|[Pp]age size|[Cc]ompressed size|[Dd]ecompres",
    "kdump.pd.flags": r"descriptor|compression|[Pp]age size|[Dd]ecompres",
    "kdump.data.zlib": r"[Dd]ecompres|zlib|compressed",
    "elf.header": r"ELF|header|not a (readable )?vmcore|neither a vmcore",
    "elf.phdr": r"program header|segment|PT_LOAD|PT_NOTE|ELF|cut short|not a (readable )?vmcore",
}


def _size_over_page(m):
    g = re.search(r"size := (\d+)$", m["what"])
    return m["region"] == "kdump.pd.size" and g and int(g.group(1)) > 4096


CRASH = ("sanitizer", "signal", "exit", "timeout")
SILENT = ("named-problem", "named-problem:memory", "unnamed-damage", "none-verdict")

# THE KNOWN FAILURES: causes being fixed, as (name, cause, matches(recipe, check, message)).
# A failure that matches one is listed as KNOWN and does not fail the test. Remove an entry
# when its fix lands; campaign_corpus.json keeps a recipe of each (its "known" field), and a
# corpus entry that passes is printed as NOW PASSES.
KNOWN = [
    # What no check can tell from a real layout. The other causes this campaign found are fixed
    # (docs/robustness.md, "What was found and fixed"); their recipes stay in the corpus.
    ("elf-phdr-consistent",
     "an ELF PT_LOAD whose p_paddr, p_memsz or p_filesz changed but stays self-consistent (no overlap "
     "in part, file no larger than memory) maps memory onto other data: the reads that go wrong are "
     "problems, but nothing in the file says the program header is to blame",
     lambda m, check, msg: m["region"] == "elf.phdr" and check == "unnamed-damage"
     and re.search(r"p_(paddr|memsz|filesz) ", m["what"]) is not None),
]
PAGE_BLOCK = 4096
# Causes only one build shows: ASan's allocator hides the use after free in kdump_free(),
# the plain build does not see a heap overflow or a huge allocation. Elsewhere a corpus
# entry of theirs passing says nothing.
KNOWN_BUILD = {}


def known_cause(m, check, msg=""):
    for name, _, match in KNOWN:
        if match(m, check, msg):
            return name
    return None


def diff_paths(a, b, path="", out=None, limit=8):
    """Where two JSON values differ: a few paths, for the failure message."""
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                diff_paths(a.get(k), b.get(k), f"{path}.{k}" if path else k, out, limit)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                diff_paths(x, y, f"{path}[{i}]", out, limit)
    else:
        out.append(path or "(top)")
    return out


class Campaign:
    def __init__(self, kstall, testdata, work):
        self.kstall, self.testdata, self.work = kstall, testdata, work
        os.makedirs(work, exist_ok=True)
        self.env = dict(os.environ)
        self.env.pop("DEBUGINFOD_URLS", None)
        supp = os.path.join(HERE, "lsan.supp")
        # Distinct exit codes for the sanitizers (their default, 1, is kstall's "partial").
        self.env["ASAN_OPTIONS"] = ":".join(filter(None, [self.env.get("ASAN_OPTIONS"), "exitcode=86"]))
        self.env["UBSAN_OPTIONS"] = ":".join(filter(None, [self.env.get("UBSAN_OPTIONS"), "exitcode=87",
                                                           "print_stacktrace=1"]))
        self.env["LSAN_OPTIONS"] = ":".join(filter(None, [self.env.get("LSAN_OPTIONS"), f"suppressions={supp}",
                                                          "print_suppressions=0"]))
        ldd = subprocess.run(["ldd", kstall], capture_output=True, text=True).stdout
        self.sanitized = "libasan" in ldd
        self.bases = {}  # (fixture, format) -> (bytes, baseline JSON)
        self.lock = threading.Lock()
        self.results = []
        self.log = []  # every input's outcome, for WORKDIR/campaign-log.json

    def vmcore(self, fixture):
        return os.path.join(self.testdata, "vmcores", fixture, "vmcore")

    def vmlinux(self, fixture):
        return os.path.join(self.testdata, "kernels", fixture.split("/")[0], "vmlinux")

    def run(self, args):
        t = time.monotonic()
        try:
            p = subprocess.run([self.kstall] + args, capture_output=True, timeout=TIMEOUT,
                               env=self.env)
        except subprocess.TimeoutExpired:
            return None, time.monotonic() - t
        p.stdout = p.stdout.decode("utf-8", "replace")
        p.stderr = p.stderr.decode("utf-8", "replace")
        return p, time.monotonic() - t

    def prepare(self, fixture):
        """The fixture in each format, each with its undamaged report."""
        for fmt in FORMATS:
            data = mutate.base(self.vmcore(fixture), fmt)
            path = os.path.join(self.work, f"base-{fixture.replace('/', '-')}.{fmt}")
            with open(path, "wb") as f:
                f.write(data)
            p, _ = self.run(["report", "--json", path, self.vmlinux(fixture)])
            if p is None or p.returncode != 0:
                sys.exit(f"{fixture} {fmt}: the undamaged dump does not give exit 0: "
                         f"{p and p.returncode} {p and p.stderr[-2000:]}")
            self.bases[fixture, fmt] = (data, json.loads(p.stdout))
            os.unlink(path)
        a = self.bases[fixture, "kdump"][1]
        for fmt in FORMATS[1:]:
            b = self.bases[fixture, fmt][1]
            if a != b:
                sys.exit(f"{fixture}: the {fmt} copy's report differs from the kdump file's: {diff_paths(a, b)}")

    def check(self, fixture, m, n, text):
        """Run kstall on the damaged copy m describes; the failures, as (check, message)."""
        data, baseline = self.bases[fixture, m["format"]]
        path = os.path.join(self.work, f"in-{n}.vmcore")
        with open(path, "wb") as f:
            f.write(mutate.apply(data, m))
        fails = []
        outcome, said = "no answer", []
        try:
            cmds = [["report", "--json"]] + ([["report"], ["ps"], ["bt", "-A"]] if text else [])
            for cmd in cmds:
                p, secs = self.run(cmd + [path, self.vmlinux(fixture)])
                what = " ".join(cmd)
                first = cmd == ["report", "--json"]
                if p is None:
                    fails.append(("timeout", f"{what}: no answer in {TIMEOUT} s"))
                    outcome = "timeout" if first else outcome
                    continue
                tail = p.stderr[-3000:]
                bad = None
                if any(s in p.stderr for s in SANITIZER):
                    bad = ("sanitizer", f"{what}: sanitizer report (exit {p.returncode}): {tail}")
                elif p.returncode < 0:
                    bad = ("signal", f"{what}: killed by signal {-p.returncode}: {tail}")
                elif p.returncode not in (0, 1, 2):
                    bad = ("exit", f"{what}: exit {p.returncode}: {tail}")
                if bad:
                    fails.append(bad)
                    if first:
                        outcome, said = bad[0], [ln for ln in p.stderr.splitlines() if "ERROR:" in ln][:1]
                    continue
                if first:
                    found = self.check_json(m, p, baseline)
                    fails += found
                    outcome = f"exit {p.returncode}"
                    said = p.stderr.strip().splitlines()[:3]
                    if p.returncode == 0 and not any(f[0] == "json" for f in found):
                        outcome += " same" if json.loads(p.stdout) == baseline else " differs"
        finally:
            os.unlink(path)
        return fails, outcome, said

    def check_json(self, m, p, baseline):
        fails = []
        named = NAMES.get(m["region"])
        if m["detect"] and named and p.returncode != 0 and not re.search(named, p.stderr):
            fails.append(("unnamed-damage", f"exit {p.returncode}, but no line says /{named}/: "
                          f"{p.stderr[-700:]!r}"))
        if p.returncode == 2:
            if m["detect"] and not p.stderr.strip():
                fails.append(("named-problem", "exit 2 without a line on stderr"))
            return fails
        try:
            j = json.loads(p.stdout)
        except ValueError as e:
            return [("json", f"exit {p.returncode}, output is not JSON: {e}: {p.stdout[:300]!r}")]
        problems = j.get("problems") or []
        pids = {t.get("pid") for t in j.get("tasks") or []}
        missing = {t["pid"] for t in baseline["tasks"]} - pids
        cov = j.get("coverage")
        if isinstance(cov, dict) and "complete" in cov:
            partial = not cov["complete"]
        else:
            partial = bool(problems) or bool(missing)
        top = (j.get("verdicts") or [{}])[0]
        if partial and top.get("kind") == "none" and top.get("score") == 1.0:
            fails.append(("none-verdict", f"verdict none (score 1.0) on a partial report: {len(problems)} "
                          f"problems, {len(missing)} tasks missing; exit {p.returncode}"))
        if not m["detect"] or j == baseline:
            return fails
        where = diff_paths(baseline, j)
        if p.returncode == 0:
            check = "named-problem"
            if all(w == "memory" or w.startswith("memory.") for w in where):
                check = "named-problem:memory"
            fails.append((check, f"exit 0, report differs from the undamaged dump's at {where}; "
                          f"stderr {p.stderr[-500:]!r}"))
        elif not problems and not (j.get("kernel_support")):
            fails.append(("named-problem", f"exit 1 without a problem; differs at {where}; "
                          f"stderr {p.stderr[-500:]!r}"))
        return fails

    def one(self, job):
        fixture, m, n, text, origin = job
        t = time.monotonic()
        fails, outcome, said = self.check(fixture, m, n, text)
        with self.lock:
            self.results.append((fixture, m, fails, origin, outcome))
            self.log.append({"id": m["id"], "region": m["region"], "what": m["what"], "outcome": outcome,
                             "stderr": said, "failed": [f[0] for f in fails],
                             "seconds": round(time.monotonic() - t, 2)})


def main():
    args = sys.argv[1:]
    full = "--full" in args or os.environ.get("KSTALL_CAMPAIGN") == "full"
    record = "--record" in args
    seed = SLICE_SEED
    if "--seed" in args:
        seed = int(args[args.index("--seed") + 1])
    elif full and os.environ.get("KSTALL_CAMPAIGN_SEED"):
        seed = int(os.environ["KSTALL_CAMPAIGN_SEED"])
    pos = [a for i, a in enumerate(args) if not a.startswith("--") and (i == 0 or args[i - 1] != "--seed")]
    kstall, testdata, work = pos[:3]
    c = Campaign(kstall, testdata, work)
    start = time.monotonic()

    seeded = [f for f in (FULL_FIXTURES if full else SLICE_FIXTURES) if os.path.exists(c.vmcore(f))]
    corpus = json.load(open(CORPUS)) if os.path.exists(CORPUS) else []
    fixtures = list(seeded)
    for e in corpus:
        if e["fixture"] not in fixtures and os.path.exists(c.vmcore(e["fixture"])):
            fixtures.append(e["fixture"])
    if not fixtures:
        sys.exit("no fixture vmcore found")
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(c.prepare, fixtures))
    jobs = []
    count = FULL_COUNT if full else SLICE_COUNT
    for fixture in seeded:
        hot = mutate.hot_pfns(c.vmcore(fixture), c.vmlinux(fixture))
        for fmt in FORMATS:
            gen = mutate.Generator(fmt, c.bases[fixture, fmt][0], hot, seed, fixture)
            for m in gen.generate(count[fmt]):
                jobs.append((fixture, m, len(jobs), len(jobs) % TEXT_EVERY == 0, "seed"))
    for e in corpus:
        if e["fixture"] in fixtures:
            jobs.append((e["fixture"], e["recipe"], len(jobs), True, "corpus"))
    gen_secs = time.monotonic() - start
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(c.one, jobs))

    with open(os.path.join(work, "campaign-log.json"), "w") as f:
        json.dump(sorted(c.log, key=lambda r: r["id"]), f, indent=1)
    new, expected, fixed = [], [], []
    by_region = {}
    for fixture, m, fails, origin, outcome in sorted(c.results, key=lambda r: r[1]["id"]):
        r = by_region.setdefault((m["format"], m["region"]), {"inputs": 0, "failing": 0})
        r["inputs"] += 1
        r["failing"] += bool(fails)
        r[outcome] = r.get(outcome, 0) + 1
        causes = [(chk, msg, known_cause(m, chk, msg)) for chk, msg in fails]
        for chk, msg, cause in causes:
            (expected if cause else new).append((fixture, m, chk, msg, cause, origin))
        if origin == "corpus" and not fails:
            entry = next(e for e in corpus if e["recipe"]["id"] == m["id"])
            build = KNOWN_BUILD.get(entry.get("known"))
            if entry.get("known") and build in (None, "asan" if c.sanitized else "plain"):
                fixed.append((m, entry["known"]))

    print(f"campaign: {'ASan+UBSan' if c.sanitized else 'plain'} build, seed {seed}, "
          f"{'full' if full else 'CI slice'}, fixtures {', '.join(fixtures)}; "
          f"{len(jobs)} inputs ({sum(1 for j in jobs if j[4] == 'corpus')} from the corpus), "
          f"{sum(4 if j[3] else 1 for j in jobs)} kstall runs in {time.monotonic() - start:.0f} s "
          f"(set-up {gen_secs:.0f} s)")
    for (fmt, region), r in sorted(by_region.items()):
        rest = ", ".join(f"{k} {v}" for k, v in sorted(r.items()) if k not in ("inputs", "failing"))
        print(f"  {fmt:5} {region:22} {r['inputs']:4} inputs, {r['failing']} failing ({rest})")
    for fixture, m, chk, msg, cause, origin in expected:
        print(f"KNOWN ({cause}) {fixture} {m['id']} [{m['region']}] {m['what']}: {chk}: {msg[:300]}")
    for m, cause in fixed:
        print(f"NOW PASSES: corpus {m['id']} (known: {cause}): remove it from KNOWN when all its entries pass")
    for fixture, m, chk, msg, cause, origin in new:
        print(f"FAIL {fixture} {m['id']} [{m['region']}] {m['what']}: {chk}: {msg}")
        print(f"  recipe: {json.dumps(m)}")
    if new:
        print(f"{len(new)} new failures")
    # The recipes worth keeping: each new failure's, and two of each known cause's, that the
    # corpus does not hold yet. --record adds them to it.
    have = {e["recipe"]["id"] for e in corpus}
    recs, per_group = [], {}
    for e in corpus:
        group = e.get("known") or (e["recipe"]["region"], e["found"].split(":")[0])
        per_group[group] = per_group.get(group, 0) + 1
    for fixture, m, chk, msg, cause, origin in new + expected:
        group = cause or (m["region"], chk)
        if origin != "seed" or m["id"] in have or per_group.get(group, 0) >= (2 if cause else 1):
            continue
        have.add(m["id"])
        per_group[group] = per_group.get(group, 0) + 1
        recs.append({"fixture": fixture, "found": f"{chk}: {msg[:160]}", "known": cause, "recipe": m})
    if recs:
        out = os.path.join(work, "campaign-failures.json")
        with open(out, "w") as f:
            json.dump(recs, f, indent=1)
        print(f"{len(recs)} failing recipes not in the corpus yet: {out}")
        if record:
            save_corpus(corpus + recs)
            print(f"added them to {CORPUS}")
    print(f"{len(jobs)} inputs, {len(new)} new failures, {len(expected)} known")
    sys.exit(1 if new else 0)


def save_corpus(entries):
    with open(CORPUS, "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e, sort_keys=True) for e in entries) + "\n]\n")


if __name__ == "__main__":
    main()
