#!/usr/bin/python3
"""The CLI's input errors: each exits 2 with a one-line message that says what; crash's habits
(bt and ps by pid, address or comm; bt -a the task on each CPU, -A every task); --version and help.

Usage: check_cli.py KSTALL TESTDATA
"""
import glob
import gzip
import json
import os
import subprocess
import sys
import tempfile

kstall, testdata = sys.argv[1], sys.argv[2]
lean_core = os.path.join(testdata, "vmcores/lean/baseline/vmcore")
lean_vmlinux = os.path.join(testdata, "kernels/lean/vmlinux")
debug_vmlinux = os.path.join(testdata, "kernels/debug/vmlinux")
failures = []


def expect(args, code, words):
    p = subprocess.run([kstall] + args, capture_output=True, text=True)
    lines = p.stderr.strip().splitlines()
    if code is None:
        if p.returncode < 0 or p.returncode > 2:
            failures.append(f"{args}: exit {p.returncode}")
        return
    if p.returncode != code:
        failures.append(f"{args}: exit {p.returncode}, want {code}; stderr {p.stderr!r}")
    elif code == 2 and (len(lines) != 1 or not all(w in lines[0] for w in words)):
        failures.append(f"{args}: want one line naming {words}, got {p.stderr!r}")


expect(["ps"], 2, ["usage"])
expect(["ps", "/nonexistent/vmcore"], 2, ["/nonexistent/vmcore"])
expect(["frobnicate", lean_core, lean_vmlinux], 2, ["frobnicate"])
expect(["ps", lean_vmlinux], 2, ["no vmcore"])
if os.path.exists(debug_vmlinux):
    expect(["ps", lean_core, debug_vmlinux], 2, [debug_vmlinux, "does not match"])
    expect(["ps", "--force", lean_core, debug_vmlinux], None, [])
expect(["ps", lean_core, lean_vmlinux], 0, [])
# vmlinux and vmcore in either order, as crash takes them
expect(["ps", lean_vmlinux, lean_core], 0, [])
# Files kstall cannot take say why, each in its own words.
with tempfile.TemporaryDirectory() as tmp:
    def put(name, data):
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path
    expect(["report", tmp], 2, [tmp, "directory"])
    expect(["report", put("vmlinux.xz", b"\xfd7zXZ\x00" + b"\x00" * 32)], 2, ["xz-compressed", "no vmlinux"])
    expect(["report", put("vmlinux.gz", b"\x1f\x8b" + b"\x00" * 32)], 2, ["gzip-compressed", "no vmlinux"])
    # A real vmlinux compressed is read as it comes: the same report as from the plain file, with no
    # cache directory (an unnamed temporary file) and with one (kept, and taken from it the next time).
    plain = subprocess.run([kstall, "report", "--json", lean_core, lean_vmlinux], capture_output=True,
                           text=True)
    gz = os.path.join(tmp, "vmlinux.gz")
    # two gzip members, as cat a.gz b.gz or bgzip make them: gzip -d reads both, so must kstall
    with open(lean_vmlinux, "rb") as src, open(gz, "wb") as out:
        half = os.path.getsize(lean_vmlinux) // 2
        out.write(gzip.compress(src.read(half), compresslevel=1))
        out.write(gzip.compress(src.read(), compresslevel=1))
    for cache in ("", os.path.join(tmp, "cache"), os.path.join(tmp, "cache")):
        env = dict(os.environ, KSTALL_CACHE_DIR=cache) if cache else \
            {k: v for k, v in os.environ.items() if k not in ("HOME", "XDG_CACHE_HOME", "KSTALL_CACHE_DIR")}
        p = subprocess.run([kstall, "report", "--json", lean_core, gz], capture_output=True, text=True,
                           env=env)
        doc = json.loads(p.stdout) if p.returncode in (0, 1) else {}
        want = json.loads(plain.stdout)
        if doc.get("verdicts") != want["verdicts"] or doc.get("dump", {}).get("vmlinux") != gz:
            failures.append(f"vmlinux.gz (cache {cache or 'none'}): exit {p.returncode} {p.stderr[:200]}")
    if len(glob.glob(os.path.join(tmp, "cache", "vmlinux-*.elf"))) != 1:
        failures.append(f"vmlinux.gz: not kept once in the cache: {os.listdir(os.path.join(tmp, 'cache'))}")
    expect(["report", put("System.map", b"ffffffff81000000 T _stext\n")], 2, ["System.map", "vmlinux"])
    expect(["report", put("empty", b"")], 2, ["empty"])
    expect(["report", put("flat", b"makedumpfile" + b"\x00" * 4096)], 2, ["flattened", "makedumpfile -R"])
    noread = put("noread", b"KDUMP   ")
    os.chmod(noread, 0)
    if os.geteuid() != 0:  # root reads it anyway
        expect(["report", noread], 2, ["cannot read", "ermission"])

# crash's habits on a real dump: tasks by pid, address and comm; bt -a is the task on each CPU.
abba = os.path.join(testdata, "vmcores/lean/abba/vmcore")
if os.path.exists(abba):
    def out(args):
        p = subprocess.run([kstall] + args + [abba, lean_vmlinux], capture_output=True, text=True)
        return p.returncode, p.stdout, p.stderr
    ps = json.loads(out(["ps", "--json"])[1])["tasks"]
    t1 = next(t for t in ps if t["comm"] == "abba_t1")
    for sel in (str(t1["pid"]), t1["task"], "abba_t1"):
        code, o, e = out(["bt", "--json", sel])
        got = [t["pid"] for t in json.loads(o)["tasks"]] if code == 0 else e
        if got != [t1["pid"]]:
            failures.append(f"bt {sel}: {got}, want [{t1['pid']}]")
        code, o, e = out(["ps", "--json", sel])
        got = [t["pid"] for t in json.loads(o)["tasks"]] if code == 0 else e
        if got != [t1["pid"]]:
            failures.append(f"ps {sel}: {got}, want [{t1['pid']}]")
    code, o, e = out(["bt", "-a", "--json"])
    if code not in (0, 1) or sorted(t["pid"] for t in json.loads(o)["tasks"]) != \
            sorted(t["pid"] for t in ps if t["active"]):
        failures.append(f"bt -a: not the task on each CPU ({e.strip()})")
    # Exception frames: the text shows what the JSON holds, as crash shows it. The CPU that took
    # SysRq-c was interrupted in kernel code (the idle loop) on this dump: there is one.
    excs = [f for t in json.loads(o)["tasks"] for f in t["frames"] if f.get("exception")]
    text = out(["bt", "-a"])[1]
    if not excs:
        failures.append("bt -a: no exception frame on the panic CPU's stack")
    for f in excs:
        regs = f["exception"]["registers"]
        head = f"    [exception RIP: {f['symbol']}+{f['offset']}]\n    RIP: {int(regs['RIP'], 16):016x}"
        if head not in text or f"RFLAGS: {int(regs['RFLAGS'], 16):08x}" not in text:
            failures.append(f"bt -a text: no {head!r}")
    code, o, e = out(["bt", "-A", "--json"])
    if code not in (0, 1) or len(json.loads(o)["tasks"]) != len(ps):
        failures.append(f"bt -A: not every task ({e.strip()})")
    d = json.loads(out(["ps", "--json", "--state", "D"])[1])["tasks"]
    if not d or any(t["state"] != "D" for t in d) or len(d) != sum(t["state"] == "D" for t in ps):
        failures.append(f"ps --state D: {[(t['pid'], t['state']) for t in d]}")
    for sel, words in (("99999", ["pid", "99999"]), ("0xdeadbeef", ["address", "0xdeadbeef"]),
                       ("nosuchcomm", ["named", "nosuchcomm"])):
        expect(["bt", sel, abba, lean_vmlinux], 2, words)
        expect(["ps", sel, abba, lean_vmlinux], 2, words)
    expect(["log", "abba_t1", abba, lean_vmlinux], 2, ["abba_t1"])

# --version, and each command's own help
p = subprocess.run([kstall, "--version"], capture_output=True, text=True)
if p.returncode != 0 or not p.stdout.startswith("kstall "):
    failures.append(f"--version: {p.returncode} {p.stdout!r}")
for cmd, word in (("bt", "-v"), ("ps", "--state"), ("report", "--html"), ("log", "log")):
    p = subprocess.run([kstall, cmd, "--help"], capture_output=True, text=True)
    if p.returncode != 0 or not p.stdout.startswith("usage: kstall") or cmd not in p.stdout \
            or word not in p.stdout:
        failures.append(f"{cmd} --help: {p.returncode} {p.stdout[:80]!r}")

for f in failures:
    print("FAIL:", f)
print(f"{'ok' if not failures else 'failed'}")
sys.exit(1 if failures else 0)
