"""`kstall report --json` of a fixture, made once per build and shared by the checks that read it.

The checks of one fixture (truth, memory, schema, locks against drgn, allocator locals, HTML,
the crash plugin) all read the same report; each used to run kstall for it. The first asks,
the others read the kept answer: the key is the kstall binary (path, size, mtime), every input
file (path, size, mtime), the arguments and the KSTALL_* environment, so a rebuilt kstall or a
changed fixture is run again. Kept beside the binary (KSTALL_TEST_REPORTS to move it), written
atomically, so checks running in parallel never read half a file.
"""
import hashlib
import json
import os
import subprocess
import tempfile


def _stamp(path):
    st = os.stat(path)
    return f"{os.path.realpath(path)}:{st.st_size}:{st.st_mtime_ns}"


def run(kstall, *args):
    """`kstall report --json ARGS` as subprocess.run gives it, from the kept answer when there is one."""
    files = [a for a in args if os.path.exists(a)]
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith("KSTALL_") and k != "KSTALL_TEST_REPORTS")
    key = hashlib.sha256(json.dumps([_stamp(kstall), [_stamp(f) for f in files], list(args), env]).encode())
    cache = os.environ.get("KSTALL_TEST_REPORTS") or os.path.join(os.path.dirname(os.path.realpath(kstall)),
                                                                  "test-reports")
    path = os.path.join(cache, key.hexdigest()[:32] + ".json")
    try:
        with open(path) as f:
            kept = json.load(f)
        return subprocess.CompletedProcess(kept["args"], kept["returncode"], kept["stdout"], kept["stderr"])
    except (OSError, ValueError, KeyError):
        pass
    cmd = [kstall, "report", "--json", *args]
    p = subprocess.run(cmd, capture_output=True, text=True)
    os.makedirs(cache, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump({"args": cmd, "stdout": p.stdout, "stderr": p.stderr, "returncode": p.returncode}, f)
    os.replace(tmp, path)
    return p
