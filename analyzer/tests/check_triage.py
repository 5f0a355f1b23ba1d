#!/usr/bin/python3
"""kstall triage on a /var/crash tree built from real fixtures.

Usage: check_triage.py KSTALL TESTDATA DOCS_DIR

The tree has both layouts (kdump-tools /var/crash/<stamp>/dump.<stamp>,
kdumpctl /var/crash/<host-date>/vmcore) as symlinks to fixture dumps of two
kernels of the same release, a copy of one dump under a second stamp, a dump
cut in half, files that are not dumps (text, an ELF that is no core), a
symlink loop and a second path to one dump. Checked: each dump appears once,
matched with its own vmlinux by build-id; its verdict, signature and pids are
those of `kstall report --json` and its truth.json's root cause; the cut dump
and a non-dump named on the command line get failed rows with a reason; the
groups are right; a second run takes every good dump from the index and says
so; --similar lists exactly the dumps of a signature; every line validates
against docs/kstall-triage.schema.json; bad input gets exit 2 and one line.
"""
import json
import os
import shutil
import subprocess
import sys
import sqlite3
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import jsonschema

kstall, testdata, docs = map(os.path.abspath, sys.argv[1:4])
TIMEOUT = 300  # an ASan run of the whole batch takes well under a minute
SANITIZER = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
failures = []
env = dict(os.environ)
env.pop("DEBUGINFOD_URLS", None)  # the vmlinux must come from --vmlinux, by build-id


def fixture(name):
    return os.path.join(testdata, "vmcores", name)


def vmlinux(flavour):
    return os.path.join(testdata, "kernels", flavour, "vmlinux")


def run(args, expect_codes):
    p = subprocess.run([kstall] + args, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    what = "kstall " + " ".join(args)
    if p.returncode not in expect_codes:
        failures.append(f"{what}: exit {p.returncode}, want {expect_codes}; stderr {p.stderr[-2000:]!r}")
    if any(s in p.stderr for s in SANITIZER):
        failures.append(f"{what}: sanitizer report: {p.stderr[-3000:]}")
    return p


def build_tree(tmp):
    """The tree, and {path: fixture name or None for the cut dump} of the dumps in it."""
    crash = os.path.join(tmp, "root/var/crash")
    dumps = {}

    def place(sub, name, source, how="link"):
        d = os.path.join(crash, sub)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, name)
        if how == "link":
            os.symlink(os.path.join(fixture(source), "vmcore"), path)
        elif how == "copy":
            shutil.copyfile(os.path.join(fixture(source), "vmcore"), path)
        return path

    dumps[place("202401011200", "dump.202401011200", "lean/abba")] = "lean/abba"
    with open(os.path.join(crash, "202401011200/dmesg.202401011200"), "w") as f:
        f.write("[    0.000000] Linux version 6.1.192-kstall\n")
    dumps[place("202401021200", "dump.202401021200", "lean/oom-deadlock")] = "lean/oom-deadlock"
    dumps[place("127.0.0.1-2024-01-03-12:00:00", "vmcore", "debug/abba")] = "debug/abba"
    dumps[place("127.0.0.1-2024-01-04-12:00:00", "vmcore", "lean/baseline")] = "lean/baseline"
    # The same problem again under another stamp: a group of two.
    dumps[place("202401051200", "dump.202401051200", "lean/baseline", "copy")] = "lean/baseline"
    # The first half of a dump, as a disk that filled up leaves it.
    src = os.path.join(fixture("lean/abba"), "vmcore")
    cut = os.path.join(crash, "202401061200/dump.202401061200")
    os.makedirs(os.path.dirname(cut))
    with open(src, "rb") as f, open(cut, "wb") as g:
        g.write(f.read(os.path.getsize(src) // 2))
    dumps[cut] = None
    # Not dumps, whatever their names say: an ELF that is no core, text.
    os.makedirs(os.path.join(crash, "202401071200"))
    os.symlink(os.path.realpath(kstall), os.path.join(crash, "202401071200/vmcore"))
    with open(os.path.join(crash, "202401071200/vmcore-dmesg.txt"), "w") as f:
        f.write("not a dump\n")
    # A symlink loop, and a second path to a dump already there.
    os.symlink("..", os.path.join(crash, "loop"))
    os.symlink("202401011200", os.path.join(crash, "0-latest"))
    return os.path.join(tmp, "root"), dumps


def json_lines(p, validator, what):
    lines = []
    for n, text in enumerate(p.stdout.splitlines(), 1):
        try:
            obj = json.loads(text)
        except ValueError as e:
            failures.append(f"{what}: line {n} is not JSON ({e}): {text[:200]!r}")
            continue
        for e in list(validator.iter_errors(obj))[:5]:
            failures.append(f"{what}: line {n}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
        lines.append(obj)
    return lines


def report(name):
    flavour = name.split("/")[0]
    p = subprocess.run([kstall, "report", "--json", os.path.join(fixture(name), "vmcore"),
                        vmlinux(flavour)], capture_output=True, text=True, timeout=TIMEOUT, env=env)
    if p.returncode not in (0, 1):
        sys.exit(f"kstall report {name}: exit {p.returncode}: {p.stderr}")
    return json.loads(p.stdout)


def check_rows(rows, dumps, expected_reports, truths, notadump):
    by_path = {}
    for r in rows:
        if r["path"] in by_path:
            failures.append(f"{r['path']} appears twice")
        by_path[r["path"]] = r
    want = set(dumps) | {notadump}
    if set(by_path) != want:
        failures.append(f"rows for {sorted(set(by_path) - want)} too many, "
                        f"{sorted(want - set(by_path))} missing")
    for path, name in dumps.items():
        r = by_path.get(path)
        if r is None:
            continue
        if name is None:
            if r["status"] != "failed" or "cut short" not in (r["reason"] or ""):
                failures.append(f"cut dump {path}: status {r['status']}, reason {r['reason']!r}")
            continue
        rep, flavour = expected_reports[name], name.split("/")[0]
        top = rep["verdicts"][0]
        got = (r["status"], r["verdict"], r["signature"], r["pids"], r["release"], r["vmlinux"])
        want_row = ("ok", top["kind"], top["signature"], top["pids"], rep["kernel"]["release"],
                    vmlinux(flavour))
        if got != want_row:
            failures.append(f"{path} ({name}): triage says {got}, report {want_row}")
        if r["verdict"] != truths[name]:
            failures.append(f"{path} ({name}): verdict {r['verdict']}, truth {truths[name]}")
        if (r["host"], r["crash_time"]) != (rep["dump"]["host"], rep["dump"]["crash_time_epoch"]):
            failures.append(f"{path}: host, crash time {r['host']!r} {r['crash_time']}, report "
                            f"{rep['dump']['host']!r} {rep['dump']['crash_time_epoch']}")
        if abs((r["score"] or 0) - top["score"]) > 1e-6:
            failures.append(f"{path}: score {r['score']}, report {top['score']}")
    r = by_path.get(notadump)
    if r and (r["status"] != "failed" or "not a crash dump" not in (r["reason"] or "")):
        failures.append(f"{notadump}: status {r['status']}, reason {r['reason']!r}")
    return by_path


def check_groups(lines, by_path):
    groups = {g["signature"]: g for g in lines if g["type"] == "group"}
    want = {}
    for r in by_path.values():
        if r["status"] != "failed":
            want.setdefault(r["signature"], []).append(r["path"])
    got = {s: sorted(g["paths"]) for s, g in groups.items()}
    if got != {s: sorted(p) for s, p in want.items()}:
        failures.append(f"groups {got}, want {want}")
    for s, g in groups.items():
        if g["count"] != len(g["paths"]):
            failures.append(f"group {s}: count {g['count']}, {len(g['paths'])} paths")
    return groups


def main():
    validator = jsonschema.Draft202012Validator(
        json.load(open(os.path.join(docs, "kstall-triage.schema.json"))))
    validator.check_schema(validator.schema)
    tmp = tempfile.mkdtemp(prefix="kstall-triage-")
    try:
        root, dumps = build_tree(tmp)
        notadump = os.path.join(tmp, "notes.txt")
        with open(notadump, "w") as f:
            f.write("KDUMP is not enough: this is text\n")
        index = os.path.join(tmp, "idx.sqlite")
        names = sorted({n for n in dumps.values() if n})
        # The reports the triage rows must agree with, two at a time while nothing else runs.
        with ThreadPoolExecutor(2) as pool:
            reports = dict(zip(names, pool.map(report, names)))
        truths = {n: json.load(open(os.path.join(fixture(n), "truth.json")))["root_cause"]
                  for n in names}
        batch = ["triage", "-j", "2", "--json", "--index", index, "--vmlinux", vmlinux("lean"),
                 "--vmlinux", vmlinux("debug"), root, notadump]

        first = run(batch, {1})
        if "\r" in first.stderr:
            failures.append("a progress bar on stderr that is not a terminal")
        lines = json_lines(first, validator, "first run")
        rows = [l for l in lines if l["type"] == "dump"]
        by_path = check_rows(rows, dumps, reports, truths, notadump)
        groups = check_groups(lines, by_path)
        for name in ("lean/baseline", "lean/abba"):
            sig = reports[name]["verdicts"][0]["signature"]
            if groups.get(sig, {}).get("count") != 2:
                failures.append(f"group {sig}: {groups.get(sig)}, want 2 dumps")
        summary = [l for l in lines if l["type"] == "summary"]
        want_summary = {"dumps": 7, "analyzed": 5, "cached": 0, "failed": 2}
        if len(summary) != 1 or {k: summary[0][k] for k in want_summary} != want_summary:
            failures.append(f"first run summary {summary}, want {want_summary}")
        if any(r["cached"] for r in rows):
            failures.append("first run: rows from an empty index")

        # Again: every good dump from the index, the same rows otherwise.
        second = run(batch, {1})
        lines2 = json_lines(second, validator, "second run")
        rows2 = {l["path"]: l for l in lines2 if l["type"] == "dump"}
        for path, r in by_path.items():
            r2 = rows2.get(path)
            if r2 is None:
                failures.append(f"second run: no row for {path}")
                continue
            if r2["cached"] != (r["status"] != "failed"):
                failures.append(f"second run: {path} cached {r2['cached']}, status {r['status']}")
            if r["status"] != "failed":
                same = {k: r[k] for k in r if k != "cached"}
                if {k: r2[k] for k in same} != same:
                    failures.append(f"second run: {path} differs: {r2} vs {r}")
        summary2 = [l for l in lines2 if l["type"] == "summary"]
        if not summary2 or (summary2[0]["cached"], summary2[0]["analyzed"]) != (5, 0):
            failures.append(f"second run summary {summary2}, want 5 cached, 0 analyzed")

        # --similar: exactly the dumps with that signature, in JSON and in the table.
        for sig in {r["signature"] for r in rows if r["signature"]}:
            want = sorted(p for p, r in by_path.items() if r["signature"] == sig)
            p = run(["triage", "--similar", sig, "--json", "--index", index], {0})
            got = sorted(l["path"] for l in json_lines(p, validator, f"--similar {sig}"))
            if got != want:
                failures.append(f"--similar {sig}: {got}, want {want}")
            p = run(["triage", "--similar", sig, "--index", index], {0})
            if sorted(l.split()[0] for l in p.stdout.splitlines()[1:]) != want:
                failures.append(f"--similar {sig} (text): {p.stdout!r}")

        # The table: one row per dump, then the groups. Compact by default: the crash date and
        # host on the row, a failure's reason on the line under it, no signature column.
        p = run(batch[:3] + batch[4:], {1})
        table = p.stdout.splitlines()
        for path, r in by_path.items():
            at = [i for i, l in enumerate(table) if l.startswith(path + " ")]
            if len(at) != 1:
                failures.append(f"table: {path} not on exactly one row")
                continue
            row = table[at[0]]
            if r["crash_time"]:
                date = time.strftime("%Y-%m-%d %H:%M", time.gmtime(r["crash_time"]))
                if date not in row or (r["host"] or "-") not in row:
                    failures.append(f"table: {path}: no date {date} or host {r['host']}: {row!r}")
            if r["signature"] and r["signature"] != r["verdict"] and r["signature"] in row:
                failures.append(f"table: the compact row holds the signature: {row!r}")
            if r["status"] == "failed" and (at[0] + 1 >= len(table) or
                                            table[at[0] + 1] != f"    failed: {r['reason']}"):
                failures.append(f"table: {path}: its reason is not on the next line")
            if len(row) > max(map(len, by_path)) + 90:
                failures.append(f"table: a compact row of {len(row)} columns: {row!r}")
        if not any(l.strip().startswith("2 x ") for l in table):
            failures.append(f"table: no group of 2: {p.stdout[-1500:]!r}")
        wide = run(batch[:3] + batch[4:] + ["--wide"], {1}).stdout.splitlines()
        for path, r in by_path.items():
            last = r["reason"] if r["status"] == "failed" else r["signature"]
            if not any(l.startswith(path + " ") and l.endswith("  " + last) for l in wide):
                failures.append(f"wide table: {path} does not end with {last!r}")

        # An index of format 1 (before host and crash_time) is migrated and its rows kept.
        old = os.path.join(tmp, "format1.sqlite")
        db = sqlite3.connect(old)
        db.executescript(
            "CREATE TABLE dumps (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER "
            "NOT NULL, status TEXT NOT NULL, release TEXT, build_id TEXT, vmlinux TEXT, verdict "
            "TEXT, score REAL, signature TEXT, summary TEXT, pids TEXT NOT NULL, reason TEXT, "
            "analyzed_at INTEGER NOT NULL, kstall_version TEXT NOT NULL);"
            "CREATE INDEX dumps_by_signature ON dumps(signature);"
            "INSERT INTO dumps VALUES ('/old/vmcore', 1, 1, 'ok', '6.1.0', 'ab12', '/old/vmlinux',"
            " 'lock_cycle',"
            " 0.95, 'old:signature', 'old', '1,2', NULL, 1, 'old-kstall');"
            "PRAGMA user_version = 1;")
        db.close()
        p = run(["triage", "--similar", "old:signature", "--index", old], {2})
        if "format 1" not in p.stderr:
            failures.append(f"--similar on a format-1 index: {p.stderr!r}")
        run(["triage", "--json", "--index", old, "--vmlinux", vmlinux("lean"),
             os.path.join(fixture("lean/abba"), "vmcore")], {0})
        db = sqlite3.connect(old)
        version = db.execute("PRAGMA user_version").fetchone()[0]
        db.close()
        got = [l["path"] for l in json_lines(run(["triage", "--similar", "old:signature", "--json",
                                                  "--index", old], {0}), validator, "migrated")]
        if version != 2 or got != ["/old/vmcore"]:
            failures.append(f"format-1 index: now format {version}, old rows {got}")

        # The dump of one kernel with only the other kernel's vmlinux: no match, says which.
        lean = os.path.join(root, "var/crash/127.0.0.1-2024-01-04-12:00:00/vmcore")
        p = run(["triage", "--json", "--index", os.path.join(tmp, "other.sqlite"), "--vmlinux",
                 vmlinux("debug"), lean], {1})
        rows = [l for l in json_lines(p, validator, "wrong vmlinux") if l["type"] == "dump"]
        reason = rows[0]["reason"] if rows else ""
        if not rows or "no vmlinux" not in reason or vmlinux("debug") not in reason:
            failures.append(f"only the debug vmlinux for a lean dump: {rows}")

        # No place for an index (no HOME, no XDG_CACHE_HOME) or an index that cannot be written: the
        # batch runs anyway, analyses the dump and says nothing is kept.
        noenv = {k: v for k, v in env.items() if k not in ("HOME", "XDG_CACHE_HOME", "KSTALL_CACHE_DIR")}
        for extra, home in (([], os.path.join(tmp, "no-such-home")),
                            (["--index", "/proc/kstall-no-index/triage.sqlite"], None)):
            e = dict(noenv, **({"HOME": home} if home else {}))
            p = subprocess.run([kstall, "triage", "--json", *extra, "--vmlinux", vmlinux("lean"),
                                os.path.join(fixture("lean/abba"), "vmcore")],
                               capture_output=True, text=True, timeout=TIMEOUT, env=e)
            rows = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
            dumps_ok = [r for r in rows if r.get("type") == "dump" and r.get("status") in ("ok", "partial")]
            summary = [r for r in rows if r.get("type") == "summary"]
            if p.returncode != 0 or not dumps_ok or "nothing is kept" not in p.stderr or \
                    not summary or summary[0]["index"] is not None:
                failures.append(f"triage without an index ({extra or 'HOME=' + str(home)}): exit "
                                f"{p.returncode}, rows {rows}, stderr {p.stderr!r}")

        # Bad input: exit 2, one line that says what.
        for args, word in ((["triage"], "PATH"),
                           (["triage", "--index", index, os.path.join(tmp, "missing")], "missing"),
                           (["triage", "--index", notadump, lean], "notes.txt"),
                           (["triage", "-j", "0", lean], "-j"),
                           (["triage", "--vmlinux", os.path.join(tmp, "vmlinux-typo"), lean],
                            "vmlinux-typo"),
                           (["triage", "--similar", "x", "--index",
                             os.path.join(tmp, "none.sqlite")], "none.sqlite")):
            p = run(args, {2})
            lines = p.stderr.strip().splitlines()
            if len(lines) != 1 or word not in lines[0]:
                failures.append(f"kstall {' '.join(args)}: want one line naming {word}, got {p.stderr!r}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"triage: {len(dumps)} dumps in the tree, {len(by_path)} rows")
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


main()
