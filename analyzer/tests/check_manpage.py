#!/usr/bin/python3
"""The man page and the bash completion say what the help says.

Usage: check_manpage.py KSTALL MAN_PAGE COMPLETION
- every command of `kstall --help` has its SYNOPSIS and its `.SS` under COMMANDS;
- every option `kstall CMD --help` prints is an entry (`.TP`) of that command's `.SS` or of OPTIONS,
  every option of `kstall --help`'s options block is an entry of OPTIONS;
- every entry of a command's `.SS` is in that command's help, every entry of OPTIONS in `kstall --help`;
- each command's SYNOPSIS has the options of its usage line, no more and no fewer;
- the page's footer names the version `kstall --version` prints, and groff reads it without a warning;
- the completion offers every command, and for each command every option of its help and no option
  the help does not print.
"""
import os
import re
import shutil
import subprocess
import sys

kstall, page, completion = sys.argv[1:4]
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][A-Za-z0-9-]*)")
failures = []


def run(*args):
    p = subprocess.run([kstall, *args], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        sys.exit(f"kstall {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p.stdout


def options(text):
    return set(OPTION.findall(text))


main_help = run("--help")
commands = []
block = None
main_options = set()
for line in main_help.splitlines():
    if not line.startswith(" "):
        block = line.rstrip(":") if line.endswith(":") else None
        continue
    if block == "commands":
        m = re.match(r"  ([a-z]+)\b", line)
        if m:
            commands.append(m.group(1))
    elif block == "options":
        main_options |= options(line)
if not commands or not main_options:
    sys.exit(f"cannot find the commands and options in kstall --help:\n{main_help}")
helps = {c: run(c, "--help") for c in commands}
usages = {c: "\n".join(l for l in helps[c].splitlines() if re.match(r"\s*(usage: )?kstall ", l))
          for c in commands}


def plain(line):
    """A roff line as text: no macro name, escapes, or quotes."""
    line = re.sub(r"^\.[A-Za-z]+\s*", "", line)
    line = line.replace("\\-", "-").replace("\\&", "").replace("\\%", "")
    line = re.sub(r"\\f(\[[^\]]*\]|\(..|.)", "", line)
    return line.replace('"', "")


src = open(page).read().splitlines()
subsections = set()              # the .SS names under COMMANDS
entries = {}                     # (section, subsection) -> options of its .TP tags
synopsis = {}                    # command or "" -> options of its .SY blocks
section = sub = None
in_sy = False
sy_lines = []
i = 0
while i < len(src):
    line = src[i]
    if line.startswith(".SH"):
        section, sub = plain(line).strip(), None
    elif line.startswith(".SS"):
        sub = plain(line).strip()
        if section == "COMMANDS":
            subsections.add(sub)
    elif line.startswith(".TP") and i + 1 < len(src):
        entries.setdefault((section, sub), set()).update(options(plain(src[i + 1])))
    elif section == "SYNOPSIS" and line.startswith(".SY"):
        in_sy, sy_lines = True, []
    elif section == "SYNOPSIS" and line.startswith(".YS"):
        in_sy = False
        text = " ".join(plain(l) for l in sy_lines)
        words = set(re.findall(r"[a-z]+", text))
        named = [c for c in commands if c in words]
        synopsis.setdefault(named[0] if named else "", set()).update(options(text))
    elif in_sy:
        sy_lines.append(line)
    i += 1

global_entries = entries.get(("OPTIONS", None), set())
for c in commands:
    if c not in subsections:
        failures.append(f"command {c} has no .SS under COMMANDS")
    if c not in synopsis and not (c == "report" and "report" in synopsis):
        failures.append(f"command {c} has no SYNOPSIS")
    own = entries.get(("COMMANDS", c), set())
    for o in sorted(options(helps[c]) - own - global_entries):
        failures.append(f"kstall {c} --help prints {o}, which is no entry of the page's {c} or OPTIONS")
    for o in sorted(own - options(helps[c])):
        failures.append(f"the page's {c} has an entry {o}, which kstall {c} --help does not print")
    want, got = options(usages[c]) - {"--help"}, synopsis.get(c, set())
    if want != got:
        failures.append(f"SYNOPSIS of {c}: {sorted(got)}, but its usage line has {sorted(want)}")
for o in sorted(main_options - global_entries):
    failures.append(f"kstall --help prints option {o}, which is no entry of OPTIONS")
for o in sorted(global_entries - options(main_help)):
    failures.append(f"OPTIONS has an entry {o}, which kstall --help does not print")
for sub in sorted(subsections - set(commands)):
    failures.append(f"COMMANDS has {sub}, which is no command of kstall --help")

version = run("--version").split()[-1]
th = next((l for l in src if l.startswith(".TH")), "")
if f'"kstall {version}"' not in th:
    failures.append(f"the page's .TH line does not name kstall {version}: {th}")
if shutil.which("groff"):
    g = subprocess.run(["groff", "-man", "-ww", "-z", page], capture_output=True, text=True)
    if g.returncode != 0 or g.stderr:
        failures.append(f"groff warns about the page: {g.stderr.strip()}")

# The completion, in bash as bash-completion loads it (with _init_completion and _filedir when installed).
loader = "/usr/share/bash-completion/bash_completion"
script = f"""
[ -r {loader} ] && source {loader}
source '{completion}'
ask() {{
	COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${{#COMP_LINE}}
	COMPREPLY=()
	_kstall kstall "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD - 1]}}"
	echo "$*: ${{COMPREPLY[*]}}"
}}
cd "$(mktemp -d)"
ask kstall ''
ask kstall -
{"".join(f"ask kstall {c} -{chr(10)}" for c in commands)}
"""
b = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
if b.returncode != 0:
    failures.append(f"the completion fails in bash: {b.stderr.strip()}")
offered = {}
for line in b.stdout.splitlines():
    asked, _, reply = line.partition(": ")
    offered[asked.strip()] = reply.split()
for c in commands:
    if c not in offered.get("kstall", []):
        failures.append(f"the completion does not offer the command {c}")
for o in sorted(main_options - set(offered.get("kstall -", []))):
    failures.append(f"the completion does not offer {o} after kstall")
for c in commands:
    got = set(offered.get(f"kstall {c} -", []))
    for o in sorted(options(helps[c]) - got):
        failures.append(f"the completion does not offer {o} after kstall {c}")
    for o in sorted(got - options(helps[c]) - options(main_help)):
        failures.append(f"the completion offers {o} after kstall {c}, which no help prints")

for f in failures:
    print(f"FAIL {f}")
if failures:
    sys.exit(1)
print(f"man page and completion agree with the help: {len(commands)} commands, "
      f"{sum(len(options(h)) for h in helps.values())} command options, {len(main_options)} global options")
